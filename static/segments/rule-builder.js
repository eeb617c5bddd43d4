/* The rule builder: conditions as nested groups of rules, for people who never see JSON.
   MopsRuleBuilder.mount(root, {catalog, value, onChange, currentSlug}) draws one builder
   into root and calls onChange with the tree after every change; segments use it for their
   conditions (the JSON, the stored form, stays in the "conditions" field below, and a moment
   after a change the API gives the live count and a sample), campaigns for their branches. */
(function () {
  "use strict";

  function mount(root, options) {
    const catalog = options.catalog;
    const currentSlug = options.currentSlug || (() => "");
    const PRESENCE = [["is_set", "is set"], ["is_not_set", "is not set"]];
    const CHOICE_OPS = [["eq", "is"], ["neq", "is not"], ["in", "is one of"], ["not_in", "is none of"], ...PRESENCE];
    const OPS = {
      text: [["eq", "is"], ["neq", "is not"], ["contains", "contains"], ["not_contains", "does not contain"],
             ["starts_with", "starts with"], ["ends_with", "ends with"], ["in", "is one of"],
             ["not_in", "is none of"], ...PRESENCE],
      country: CHOICE_OPS, stage: CHOICE_OPS, consent: CHOICE_OPS,
      number: [["eq", "="], ["neq", "≠"], ["gt", ">"], ["gte", "≥"], ["lt", "<"], ["lte", "≤"],
               ["between", "between"], ...PRESENCE],
      date: [["within_last", "in the last"], ["older_than", "more than … ago"], ["gt", "after"],
             ["lt", "before"], ["between", "between"], ...PRESENCE],
      json: [["eq", "is"], ["neq", "is not"], ["contains", "contains"], ["gt", ">"], ["gte", "≥"],
             ["lt", "<"], ["lte", "≤"], ["within_last", "in the last"], ...PRESENCE],
    };
    const COUNT_OPS = [["gte", "at least"], ["gt", "more than"], ["eq", "exactly"], ["lte", "at most"], ["lt", "fewer than"]];
    const UNITS = [["d", "days"], ["w", "weeks"], ["h", "hours"], ["m", "minutes"]];
    const GROUP_MODES = [["all", "All of"], ["any", "Any of"], ["none", "None of"], ["notall", "Not all of"]];

    const fieldTypes = {};
    catalog.groups.forEach((group) => group.fields.forEach(([path, , type]) => { fieldTypes[path] = type; }));
    const touchpointTypes = {};
    catalog.touchpoint_fields.forEach(([path, , type]) => { touchpointTypes[path] = type; });

    function typeOf(path, scope) {
      const known = scope === "touchpoint" ? touchpointTypes : fieldTypes;
      if (known[path]) return known[path];
      return /^(account\.attributes|attributes|properties)\./.test(path) ? "json" : "text";
    }

    // --- small DOM helpers ----------------------------------------------------------------
    function el(tag, attrs, children) {
      const node = document.createElement(tag);
      Object.entries(attrs || {}).forEach(([key, value]) => {
        if (key === "text") node.textContent = value;
        else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
        else if (value !== undefined && value !== null) node.setAttribute(key, value);
      });
      (children || []).forEach((child) => child && node.appendChild(child));
      return node;
    }
    function select(options, value, onchange, label) {
      const node = el("select", { "aria-label": label, onchange: (event) => onchange(event.target.value) });
      options.forEach(([key, text]) => node.appendChild(el("option", { value: key, text: text })));
      node.value = value;
      return node;
    }
    function input(type, value, onchange, attrs) {
      return el("input", { type: type, value: value === undefined || value === null ? "" : value,
                           oninput: (event) => onchange(event.target.value), ...(attrs || {}) });
    }
    function word(text) { return el("span", { class: "rb-word", text: text }); }

    // --- the tree as groups ---------------------------------------------------------------
    function groupOf(node) {
      if (node && Array.isArray(node.all)) return { mode: "all", children: node.all, base: "all" };
      if (node && Array.isArray(node.any)) return { mode: "any", children: node.any, base: "any" };
      if (node && node.not && Array.isArray(node.not.any)) return { mode: "none", children: node.not.any, base: "not.any" };
      if (node && node.not && Array.isArray(node.not.all)) return { mode: "notall", children: node.not.all, base: "not.all" };
      if (node && node.not) return { mode: "none", children: [node.not], base: "not", single: true };
      return null;
    }
    function makeGroup(mode, children) {
      if (mode === "all") return { all: children };
      if (mode === "any") return { any: children };
      if (mode === "none") return { not: { any: children } };
      return { not: { all: children } };
    }
    function join(path, key) { return path ? path + "." + key : key; }

    let state = null;
    function setValue(tree) {
      state = tree && typeof tree === "object" && Object.keys(tree).length ? tree : { all: [] };  // a new one
      if (!groupOf(state)) state = { all: [state] };
    }
    setValue(options.value);

    // A slot is where a node lives: replacing the node keeps its parent's list in order.
    function slot(holder, key) { return { get: () => holder[key], set: (value) => { holder[key] = value; } }; }

    function render() {
      root.replaceChildren(renderGroup(slot({ tree: state }, "tree"), "", true, (value) => { state = value; }));
      changed();
    }

    function renderGroup(where, path, isRoot, setRoot) {
      const group = groupOf(where.get());
      const children = group.children;
      const childPath = (index) => group.single ? join(path, "not") : `${join(path, group.base)}[${index}]`;
      const box = el("div", { class: "rb-group", "data-path": path, role: "group" });
      const head = el("div", { class: "rb-group-head" }, [
        select(GROUP_MODES, group.mode, (mode) => {
          const replaced = makeGroup(mode, children.slice());
          if (isRoot) setRoot(replaced); else where.set(replaced);
          render();
        }, "combine the rules"),
        word("these rules"),
        isRoot ? null : el("button", { type: "button", class: "button rb-remove", text: "Remove group",
                                       onclick: () => { where.remove(); render(); } }),
      ]);
      const list = el("div", { class: "rb-children" });
      children.forEach((child, index) => {
        let childSlot;
        if (group.single) {  // {"not": rule}: the rule lives under "not", not in a list
          const negation = where.get();
          childSlot = slot(negation, "not");
          childSlot.remove = () => { if (isRoot) setRoot({ all: [] }); else where.set({ all: [] }); };
        } else {
          childSlot = slot(children, index);
          childSlot.remove = () => children.splice(index, 1);
        }
        list.appendChild(groupOf(child) ? renderGroup(childSlot, childPath(index), false)
                                        : renderLeaf(childSlot, childPath(index)));
      });
      const add = (node) => () => {
        if (group.single) {  // a lone negated rule becomes a "none of" group that can grow
          const replaced = makeGroup("none", [children[0], node]);
          if (isRoot) setRoot(replaced); else where.set(replaced);
        } else {
          children.push(node);
        }
        render();
      };
      const actions = el("div", { class: "rb-actions" }, [
        el("button", { type: "button", class: "button rb-add-rule", text: "+ Rule",
                       onclick: add({ field: "country", op: "eq", value: "" }) }),
        el("button", { type: "button", class: "button rb-add-group", text: "+ Group",
                       onclick: add({ any: [] }) }),
      ]);
      box.append(head, list, actions);
      return box;
    }

    // --- rules ------------------------------------------------------------------------------
    function whatOf(node) {
      if ("field" in node) return "field:" + node.field;
      if ("touchpoint" in node) return "touchpoint";
      if ("account_touchpoint" in node) return "account_touchpoint";
      if ("tag" in node) return "tag";
      if ("segment" in node) return "segment";
      if ("intent" in node) return "intent";
      return "";
    }
    function whatSelect(node, onchange) {
      const box = el("select", { "aria-label": "what the rule looks at", class: "rb-what",
                                 onchange: (event) => onchange(event.target.value) });
      catalog.groups.forEach((group) => {
        const optgroup = el("optgroup", { label: group.label });
        group.fields.forEach(([path, label]) => optgroup.appendChild(el("option", { value: "field:" + path, text: label })));
        if (group.label === "Attributes") optgroup.appendChild(el("option", { value: "attribute:new", text: "Other attribute…" }));
        box.appendChild(optgroup);
      });
      box.appendChild(el("optgroup", { label: "Activity" }, [
        el("option", { value: "touchpoint", text: "Did something (touchpoints)" }),
        el("option", { value: "account_touchpoint", text: "Someone at the company did something" }),
      ]));
      box.appendChild(el("optgroup", { label: "Tags, segments, intents" }, [
        el("option", { value: "tag", text: "Has the tag" }),
        el("option", { value: "segment", text: "Is in the segment" }),
        el("option", { value: "intent", text: "Shows the intent" }),
      ]));
      const current = whatOf(node);
      if (current && !box.querySelector(`option[value="${CSS.escape(current)}"]`)) {
        box.appendChild(el("option", { value: current, text: current.replace(/^field:/, "") }));
      }
      box.value = current;
      return box;
    }
    function fresh(what) {
      if (what === "touchpoint" || what === "account_touchpoint") return { [what]: { kind: catalog.kinds[0][0] } };
      if (what === "tag") return { tag: catalog.tags[0] || "" };
      if (what === "segment") return { segment: (catalog.segments.find(([slug]) => slug !== currentSlug()) || [""])[0] };
      if (what === "intent") return { intent: "", min_score: 0.5 };
      if (what === "attribute:new") {
        const key = (window.prompt("Attribute name") || "").trim();
        return key ? { field: "attributes." + key, op: "eq", value: "" } : null;
      }
      const path = what.replace(/^field:/, "");
      const type = typeOf(path, "contact");
      return { field: path, op: OPS[type][0][0], value: type === "date" ? "30d" : "" };
    }

    function renderLeaf(where, path) {
      const node = where.get();
      const row = el("div", { class: "rb-node", "data-path": path });
      row.appendChild(whatSelect(node, (what) => {
        const replaced = fresh(what);
        if (replaced) where.set(replaced);
        render();
      }));
      if ("field" in node) renderField(row, node, "contact");
      else if ("touchpoint" in node || "account_touchpoint" in node) renderTouchpoint(row, node, path);
      else if ("tag" in node) {
        const list = el("datalist", { id: "rb-tags" }, catalog.tags.map((name) => el("option", { value: name })));
        row.append(input("text", node.tag, (value) => { node.tag = value; changed(); }, { list: "rb-tags", "aria-label": "tag" }), list);
      } else if ("segment" in node) {
        const others = catalog.segments.filter(([slug]) => slug !== currentSlug());
        row.appendChild(select(others.length ? others : [["", "(no other segment)"]], node.segment,
                               (value) => { node.segment = value; changed(); }, "segment"));
      } else if ("intent" in node) {
        row.append(input("text", node.intent, (value) => { node.intent = value; changed(); }, { "aria-label": "intent", placeholder: "e.g. compare" }),
                   word("score at least"),
                   input("number", node.min_score === undefined ? 0.5 : node.min_score,
                         (value) => { node.min_score = Number(value); changed(); }, { min: 0, max: 1, step: 0.05, "aria-label": "minimum score" }));
      }
      row.appendChild(el("button", { type: "button", class: "button rb-remove", text: "Remove",
                                     onclick: () => { where.remove ? where.remove() : where.set({ all: [] }); render(); } }));
      return row;
    }

    function renderField(row, node, scope) {
      const type = typeOf(node.field, scope);
      row.appendChild(select(OPS[type].map(([op, text]) => [op, text]), node.op, (op) => {
        node.op = op;
        if (op === "is_set" || op === "is_not_set") delete node.value;
        else if (op === "in" || op === "not_in") node.value = [].concat(node.value || []).filter((item) => item !== "");
        else if (op === "between") node.value = ["", ""];
        else if (op === "within_last" || op === "older_than") node.value = "30d";
        else node.value = Array.isArray(node.value) ? node.value[0] || "" : node.value === undefined ? "" : node.value;
        render();
      }, "operator"));
      valueInputs(type, node).forEach((part) => row.appendChild(part));
    }

    function typed(type, op, text) {
      if (type === "number") return text === "" ? "" : Number(text);
      if (type === "json" && !["contains", "not_contains"].includes(op) && /^-?\d+(\.\d+)?$/.test(text.trim())) return Number(text);
      return text;
    }

    function valueInputs(type, node) {
      const op = node.op;
      const set = (value) => { node.value = value; changed(); };
      if (op === "is_set" || op === "is_not_set") return [];
      if (op === "within_last" || op === "older_than") {
        const match = /^(\d+)([mhdw])$/.exec(node.value || "") || [null, "30", "d"];
        let amount = match[1], unit = match[2];
        const update = () => set(`${amount}${unit}`);
        return [input("number", amount, (value) => { amount = value; update(); }, { min: 1, "aria-label": "amount" }),
                select(UNITS, unit, (value) => { unit = value; update(); }, "unit"),
                op === "older_than" ? word("ago") : null].filter(Boolean);
      }
      if (op === "between") {
        const pair = Array.isArray(node.value) ? node.value : ["", ""];
        const kind = type === "number" ? "number" : "text";
        return [input(kind, pair[0], (value) => { pair[0] = typed(type, op, value); set(pair); }, { "aria-label": "from", placeholder: type === "date" ? "2026-01-01 or now-30d" : "" }),
                word("and"),
                input(kind, pair[1], (value) => { pair[1] = typed(type, op, value); set(pair); }, { "aria-label": "to", placeholder: type === "date" ? "now" : "" })];
      }
      const choices = catalog.choices[type];
      if (op === "in" || op === "not_in") {
        const text = [].concat(node.value || []).join(", ");
        return [input("text", text, (value) => set(value.split(",").map((item) => typed(type, "eq", item.trim())).filter((item) => item !== "")),
                      { "aria-label": "values", placeholder: choices ? choices.slice(0, 2).map(([key]) => key).join(", ") : "one, two" })];
      }
      if (choices && (op === "eq" || op === "neq")) {
        return [select([["", "—"], ...choices], node.value || "", set, "value")];
      }
      if (type === "number") return [input("number", node.value, (value) => set(typed(type, op, value)), { "aria-label": "value" })];
      return [input("text", node.value, (value) => set(typed(type, op, value)),
                    { "aria-label": "value", placeholder: type === "date" ? "2026-11-23 or now-7d" : "" })];
    }

    function renderTouchpoint(row, node, path) {
      const key = "touchpoint" in node ? "touchpoint" : "account_touchpoint";
      const spec = node[key];
      const kinds = [].concat(spec.kind || []);
      row.appendChild(select([["", "anything"], ...catalog.kinds], kinds.length === 1 ? kinds[0] : kinds.length ? kinds.join(",") : "", (value) => {
        if (value) spec.kind = value; else delete spec.kind;
        changed();
      }, "touchpoint kind"));
      const count = node.count || { op: "gte", value: 1 };
      row.append(
        select(COUNT_OPS, count.op, (value) => { node.count = { ...count, op: value }; count.op = value; changed(); }, "how many"),
        input("number", count.value, (value) => { count.value = Number(value); node.count = { ...count }; changed(); }, { min: 0, "aria-label": "times" }),
        word("times"),
      );
      const windowMatch = /^(\d+)([mhdw])$/.exec(node.within || "");
      let amount = windowMatch ? windowMatch[1] : "30", unit = windowMatch ? windowMatch[2] : "d";
      const windowInputs = [
        input("number", amount, (value) => { amount = value; node.within = `${amount}${unit}`; changed(); }, { min: 1, "aria-label": "window" }),
        select(UNITS, unit, (value) => { unit = value; node.within = `${amount}${unit}`; changed(); }, "window unit"),
      ];
      row.appendChild(select([["ever", "ever"], ["last", "in the last"]], node.within ? "last" : "ever", (value) => {
        if (value === "ever") delete node.within; else node.within = `${amount}${unit}`;
        render();
      }, "when"));
      if (node.within) windowInputs.forEach((part) => row.appendChild(part));
      (spec.where || []).forEach((leaf, index) => {
        const line = el("div", { class: "rb-where", "data-path": `${join(path, key)}.where[${index}]` }, [word("where")]);
        line.appendChild(select(catalog.touchpoint_fields.map(([field, label]) => [field, label]).concat(
          catalog.touchpoint_fields.some(([field]) => field === leaf.field) ? [] : [[leaf.field, leaf.field]]), leaf.field, (value) => {
          leaf.field = value; leaf.op = OPS[typeOf(value, "touchpoint")][0][0]; leaf.value = ""; render();
        }, "touchpoint field"));
        renderField(line, leaf, "touchpoint");
        line.appendChild(el("button", { type: "button", class: "button", text: "×", "aria-label": "remove this filter",
                                        onclick: () => { spec.where.splice(index, 1); if (!spec.where.length) delete spec.where; render(); } }));
        row.appendChild(line);
      });
      row.appendChild(el("button", { type: "button", class: "button rb-add-where", text: "+ where",
        onclick: () => {
          const first = catalog.touchpoint_fields.find(([field]) => field.startsWith("properties.")) || catalog.touchpoint_fields[0];
          spec.where = (spec.where || []).concat([{ field: first[0], op: "eq", value: "" }]);
          render();
        } }));
    }

    function changed() { options.onChange(state); }

    function clearErrors() {
      root.querySelectorAll(".rb-error").forEach((node) => node.remove());
      root.querySelectorAll(".rb-invalid").forEach((node) => node.classList.remove("rb-invalid"));
    }

    function showError(path, message) {
      // The node at fault is the deepest one whose path starts the error's path.
      let best = null;
      root.querySelectorAll("[data-path]").forEach((node) => {
        const own = node.getAttribute("data-path");
        const fits = own === "" || path === own || path.startsWith(own + ".") || path.startsWith(own + "[");
        if (fits && (!best || own.length > best.getAttribute("data-path").length)) best = node;
      });
      const target = best || root;
      target.classList.add("rb-invalid");
      target.appendChild(el("div", { class: "rb-error", role: "alert", text: message }));
    }

    render();
    return {
      setValue: (tree) => { setValue(tree); render(); },
      value: () => state,
      showError: showError,
      clearErrors: clearErrors,
    };
  }

  window.MopsRuleBuilder = { mount: mount };

  // --- the segment page: the JSON, the live count and the errors ---------------------------
  const catalogNode = document.getElementById("builder-catalog");
  const textarea = document.getElementById("id_conditions");
  const root = document.getElementById("rule-builder");
  if (!catalogNode || !textarea || !root) return;
  const kindSelect = document.getElementById("id_kind");
  const slugInput = document.getElementById("id_slug");
  const jsonRow = textarea.closest(".form-row") || textarea.parentElement;
  const csrf = (document.querySelector("[name=csrfmiddlewaretoken]") || {}).value || "";
  let timer = null;
  let asked = 0;
  let state = null;

  function parseTextarea() {
    const text = textarea.value.trim();
    if (!text) return null;
    try { return JSON.parse(text); } catch (error) { return null; }
  }
  function el(tag, text) {
    const node = document.createElement(tag);
    node.textContent = text;
    return node;
  }

  const builder = mount(root, {
    catalog: JSON.parse(catalogNode.textContent),
    value: parseTextarea(),
    currentSlug: () => (slugInput ? slugInput.value : ""),
    onChange: (tree) => {
      state = tree;
      textarea.value = JSON.stringify(tree, null, 2);
      clearTimeout(timer);
      timer = setTimeout(preview, 300);
    },
  });

  async function preview() {
    const ticket = ++asked;
    const status = document.getElementById("rb-status");
    status.textContent = "Counting…";
    let response;
    try {
      response = await fetch("/api/v1/segments/preview/", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ conditions: state }),
      });
    } catch (error) {
      status.textContent = "The count is not available right now.";
      return;
    }
    if (ticket !== asked) return;  // a newer question is on its way
    const body = await response.json().catch(() => ({}));
    builder.clearErrors();
    if (response.ok) {
      document.getElementById("rb-count").textContent = body.count.toLocaleString();
      document.getElementById("rb-explanation").textContent = body.explanation;
      const sample = document.getElementById("rb-sample");
      sample.replaceChildren(...body.sample.map((contact) => el("li",
        [contact.first_name, contact.last_name].filter(Boolean).join(" ") + " <" + contact.email + ">")));
      status.textContent = "";
      return;
    }
    document.getElementById("rb-count").textContent = "–";
    status.textContent = "Some rules need fixing.";
    (body.errors || []).forEach((error) => builder.showError(error.path.replace(/^conditions\.?/, ""), error.message));
  }

  // --- the JSON view, and static lists ------------------------------------------------------
  const jsonButton = document.getElementById("rb-json-button");
  jsonRow.hidden = true;
  jsonButton.addEventListener("click", () => {
    jsonRow.hidden = !jsonRow.hidden;
    jsonButton.textContent = jsonRow.hidden ? "Show the JSON" : "Hide the JSON";
  });
  textarea.addEventListener("change", () => {
    const pasted = parseTextarea();
    if (pasted && typeof pasted === "object") builder.setValue(pasted);
  });
  function showForKind() {
    const module = document.getElementById("rule-builder-module");
    module.hidden = kindSelect && kindSelect.value === "static";
  }
  if (kindSelect) kindSelect.addEventListener("change", showForKind);
  showForKind();
})();
