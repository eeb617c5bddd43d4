/* The step forms: a campaign's steps as a list of forms that fit each type of step, over
   the "steps" JSON field. The field stays what the form submits (the server checks it as it
   checks the API's), so every change here rewrites it; "Edit as JSON" shows it again for
   those who would rather type. Errors the server found (steps[2].days: ...) are shown
   next to the step, and the field, they are about. */
(function () {
  "use strict";

  const optionsNode = document.getElementById("step-options");
  const textarea = document.getElementById("id_steps");
  if (!optionsNode || !textarea) return;
  const options = JSON.parse(optionsNode.textContent);
  const NAMES = Object.fromEntries(options.types);
  const KEY = /^[a-z0-9][a-z0-9_-]{0,63}$/;
  const UNITS = ["days", "hours", "minutes"];
  const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
  const DATE_PATHS = [
    ["touchpoint.occurred_at", "when the touchpoint that brought them in happened"],
    ["contact.created_at", "when the contact was created"],
    ["contact.updated_at", "when the contact last changed"],
  ];
  const EXITS = {
    branch: [["yes", "If yes, go to"], ["no", "If no, go to"]],
    wait_for_event: [["yes", "When it comes, go to"], ["no", "If the time runs out, go to"]],
  };
  const CATEGORY = {
    wait: "wait", wait_until_time: "wait", wait_until_date: "wait", wait_for_event: "wait",
    branch: "branch", random_split: "branch", send_email: "message", send_sms: "message",
    webhook: "message", exit: "exit",
  };
  const BELOW = "@below";  // no "next": the step listed after it

  const row = textarea.closest(".form-row") || textarea.parentElement;
  const help = row.querySelector(".help");
  const serverErrors = Array.from(row.querySelectorAll(".errorlist li")).map((item) => item.textContent);
  const editor = el("div", { class: "se", id: "step-editor" });
  textarea.insertAdjacentElement("afterend", editor);

  let steps = parse(textarea.value);
  let jsonMode = steps === null;
  const stepErrors = new WeakMap();  // a step's errors from the server, until it is edited
  let generalErrors = [];
  if (steps !== null) placeServerErrors();
  if (steps === null) steps = [];

  // --- small DOM helpers ------------------------------------------------------------------
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([key, value]) => {
      if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (value === true) node.setAttribute(key, "");
      else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value);
    });
    (children || []).forEach((child) => child && node.appendChild(typeof child === "string" ? document.createTextNode(child) : child));
    return node;
  }
  function select(choices, value, onchange, attrs) {
    const node = el("select", { ...(attrs || {}), onchange: (event) => onchange(event.target.value) });
    choices.forEach(([key, text]) => node.appendChild(el("option", { value: String(key), text: text })));
    if (value !== undefined && value !== null && value !== "" && !choices.some(([key]) => String(key) === String(value))) {
      node.appendChild(el("option", { value: String(value), text: `${value} (not found)` }));
    }
    node.value = value === undefined || value === null ? "" : String(value);
    return node;
  }
  function input(type, value, oninput, attrs) {
    return el("input", { type: type, value: value === undefined || value === null ? "" : value,
                         oninput: (event) => oninput(event.target.value), ...(attrs || {}) });
  }
  // A labelled control; data-field is where the server's errors about that field go.
  function field(text, control, name, extra) {
    return el("label", { class: "se-field" + (extra ? " " + extra : ""), "data-field": name }, [
      el("span", { class: "se-field-label", text: text }), control]);
  }
  function whole(text) {
    if (String(text).trim() === "") return undefined;
    const number = Number(text);
    return Number.isInteger(number) ? number : text;  // the server names what is wrong with it
  }

  // --- the steps as JSON ----------------------------------------------------------------------
  function parse(text) {
    if (!text.trim() || text.trim() === "null") return [];
    try {
      const value = JSON.parse(text);
      return Array.isArray(value) && value.every((step) => step && typeof step === "object" && !Array.isArray(step)) ? value : null;
    } catch (error) {
      return null;
    }
  }
  function write() { textarea.value = JSON.stringify(steps, null, 2); }
  function edited(step) {
    if (stepErrors.has(step)) {
      stepErrors.delete(step);
      const card = editor.querySelector(`.se-step[data-index="${steps.indexOf(step)}"]`);
      if (card) card.querySelectorAll(".se-error").forEach((node) => node.remove());
      if (card) card.classList.remove("se-invalid");
    }
    write();
  }
  function setField(step, name, value) {
    if (value === undefined) delete step[name]; else step[name] = value;
    edited(step);
  }

  function placeServerErrors() {
    serverErrors.forEach((text) => {
      const match = /^steps\[(\d+)\](?:\.(\S+?))?: ([\s\S]*)$/.exec(text);
      const step = match ? steps[Number(match[1])] : null;
      if (!step) { generalErrors.push(text); return; }
      if (!stepErrors.has(step)) stepErrors.set(step, []);
      stepErrors.get(step).push({ path: match[2] || "", message: match[3] });
    });
  }

  // --- keys, and where steps go -----------------------------------------------------------------
  function keys() { return steps.map((step) => step.key).filter((key) => typeof key === "string" && key); }
  function freshKey(type) {
    const base = { send_email: "email", send_sms: "sms", wait_for_event: "wait-event", random_split: "split",
                   wait_until_time: "wait-time", wait_until_date: "wait-date" }[type] || type.replace(/_/g, "-");
    const taken = new Set(keys());
    if (!taken.has(base)) return base;
    let number = 2;
    while (taken.has(`${base}-${number}`)) number += 1;
    return `${base}-${number}`;
  }
  function renameKey(old, renamed) {
    // Whatever went to the old key goes to the new one: a rename keeps the journey's shape.
    steps.forEach((step) => {
      ["next", "yes", "no"].forEach((name) => { if (step[name] === old) step[name] = renamed; });
      (Array.isArray(step.paths) ? step.paths : []).forEach((path) => { if (path && path.next === old) path.next = renamed; });
    });
  }
  function targetChoices(own) {
    return [["", "the end: the journey ends"], ...keys().map((key) => [key, key === own ? `${key} (this step, again)` : key])];
  }
  function targetSelect(step, value, onchange, label) {
    return select(targetChoices(step.key), value || "", onchange, { "aria-label": label, class: "se-target" });
  }

  function defaults(type) {
    const first = (list) => (list.length ? list[0][0] : "");
    switch (type) {
      case "wait": return { days: 1 };
      case "wait_until_time": return { time: "09:00" };
      case "wait_until_date": return { date: "touchpoint.occurred_at", days: -1 };
      case "wait_for_event": return { kinds: options.rules.kinds.length ? [options.rules.kinds[0][0]] : [], days: 3, yes: "", no: "" };
      case "branch": return { conditions: { all: [] }, yes: "", no: "" };
      case "random_split": return { paths: [{ percent: 50, next: "" }, { percent: 50, next: "" }] };
      case "send_email": return options.templates.length ? { template: first(options.templates) } : { subject: "", body: "" };
      case "send_sms": return { body: "" };
      case "webhook": return { url: "https://" };
      case "create_task": return { title: "" };
      case "add_to_list": case "remove_from_list": return { list: first(options.lists) };
      case "enroll_campaign": return { campaign: options.campaigns.length ? options.campaigns[0][0] : null };
      case "add_tag": case "remove_tag": return { tags: [] };
      case "set_field": return { field: options.fields[0], value: "" };
      case "adjust_score": return { by: 10 };
      case "set_lifecycle_stage": return { stage: first(options.stages) };
      default: return {};
    }
  }
  function retyped(step, type) {
    const kept = { key: step.key, type: type };
    if (step.label) kept.label = step.label;
    const fresh = defaults(type);
    if (CATEGORY[type] === "wait" && CATEGORY[step.type] === "wait" && type !== "wait_until_time") {
      UNITS.forEach((unit) => { if (unit in step && (type !== "wait_until_date" || unit !== "minutes")) fresh[unit] = step[unit]; });
    }
    Object.assign(kept, fresh);
    if ("next" in step && !EXITS[type] && type !== "random_split" && type !== "exit") kept.next = step.next;
    return kept;
  }

  // --- drawing ------------------------------------------------------------------------------
  // Suggestions the fields share: the date paths, the tags in use.
  const suggestions = el("div", { hidden: true }, [
    el("datalist", { id: "se-date-paths" }, DATE_PATHS.map(([path, text]) => el("option", { value: path, text: text }))),
    el("datalist", { id: "se-tags" }, options.rules.tags.map((tag) => el("option", { value: tag }))),
  ]);
  editor.insertAdjacentElement("afterend", suggestions);
  const errorList = row.querySelector(".errorlist");

  function render() {
    textarea.hidden = !jsonMode;
    if (help) help.hidden = !jsonMode;
    if (errorList) errorList.hidden = !jsonMode;  // in the forms each error is at its step
    const toggle = el("button", { type: "button", class: "button se-json-toggle",
                                  text: jsonMode ? "Back to the step forms" : "Edit as JSON", onclick: switchMode });
    if (jsonMode) {
      editor.replaceChildren(el("p", { class: "se-json-note", text:
        "The steps as JSON, as the API takes them. Back to the forms when you are done." }), toggle);
      return;
    }
    const list = el("ol", { class: "se-steps", "aria-label": "Steps of the journey" });
    steps.forEach((step, index) => list.appendChild(el("li", {}, [card(step, index)])));
    const typeChoice = select(options.types, "send_email", () => {}, { "aria-label": "Type of the new step", class: "se-add-type" });
    const adder = el("div", { class: "se-add" }, [
      typeChoice,
      el("button", { type: "button", class: "button se-add-button", text: "Add this step", onclick: () => {
        const type = typeChoice.value;
        steps.push({ key: freshKey(type), type: type, ...defaults(type) });
        write();
        render();
        const cards = editor.querySelectorAll(".se-step");
        const added = cards[cards.length - 1];
        if (added) added.querySelector(".se-key").focus();
      } }),
    ]);
    const general = generalErrors.map((text) => el("p", { class: "se-error", role: "alert", text: text }));
    editor.replaceChildren(...general,
      steps.length ? list : el("p", { class: "se-empty", text: "No steps yet: add the first one below." }),
      adder, el("p", { class: "se-json" }, [toggle]));
    showStepErrors();
  }

  function switchMode() {
    if (jsonMode) {
      const parsed = parse(textarea.value);
      if (parsed === null) {
        const note = editor.querySelector(".se-json-note");
        note.textContent = "This JSON does not read as a list of steps yet; fix it to go back to the forms.";
        note.classList.add("se-error");
        return;
      }
      steps = parsed;
      generalErrors = [];
      jsonMode = false;
    } else {
      write();
      jsonMode = true;
    }
    render();
  }

  function card(step, index) {
    const number = index + 1;
    const type = step.type;
    const box = el("section", { class: `se-step se-${CATEGORY[type] || "action"}`, "data-index": index,
                                "data-key": step.key || "", "aria-label": `Step ${number}` });
    const keyInput = input("text", step.key, (value) => {
      keyInput.setCustomValidity(KEY.test(value) ? "" : "lower-case letters, digits, - or _");
    }, { class: "se-key", "aria-label": `Key of step ${number}`, spellcheck: "false" });
    keyInput.addEventListener("change", () => {
      const old = step.key;
      const renamed = keyInput.value.trim();
      if (renamed === old) return;
      step.key = renamed;
      if (old) renameKey(old, renamed);
      edited(step);
      render();
    });
    const tools = el("span", { class: "se-tools" }, [
      el("button", { type: "button", class: "button se-up", text: "↑", title: "Move up", "aria-label": `Move step ${number} up`,
                     disabled: index === 0, onclick: () => move(index, -1) }),
      el("button", { type: "button", class: "button se-down", text: "↓", title: "Move down", "aria-label": `Move step ${number} down`,
                     disabled: index === steps.length - 1, onclick: () => move(index, 1) }),
      el("button", { type: "button", class: "button se-remove", text: "Remove", "aria-label": `Remove step ${number}`,
                     onclick: () => { steps.splice(index, 1); write(); render(); } }),
    ]);
    const head = el("header", { class: "se-head" }, [
      el("span", { class: "se-number", text: String(number) }),
      field("Type", select(options.types, type, (value) => {
        steps[index] = retyped(step, value);
        write();
        render();
      }, { class: "se-type", "aria-label": `Type of step ${number}` }), "type"),
      field("Key", keyInput, "key"),
      field("Name", input("text", step.label, (value) => setField(step, "label", value.trim() ? value : undefined),
                          { class: "se-label", "aria-label": `Name of step ${number}`, placeholder: "optional" }), "label"),
      tools,
    ]);
    box.append(head, el("div", { class: "se-body" }, body(step, number)), exits(step, index, number));
    return box;
  }

  function move(index, by) {
    const [step] = steps.splice(index, 1);
    steps.splice(index + by, 0, step);
    write();
    render();
    const moved = editor.querySelectorAll(".se-step")[index + by];
    if (moved) (moved.querySelector(by < 0 ? ".se-up" : ".se-down") || moved.querySelector(".se-remove")).focus();
  }

  // --- each type's fields ---------------------------------------------------------------------
  function duration(step, number, units) {
    return (units || UNITS).map((unit) => field(unit, input("number", step[unit], (value) => setField(step, unit, whole(value)),
      { min: unit === "days" && step.type === "wait_until_date" ? undefined : 0, step: 1, class: "se-number-input",
        "aria-label": `${unit} (step ${number})` }), unit));
  }

  function body(step, number) {
    const on = (name) => (value) => setField(step, name, value);
    const text = (name, label, attrs) => field(label, input("text", step[name], on(name), { "aria-label": `${label} (step ${number})`, ...(attrs || {}) }), name, "se-wide");
    switch (step.type) {
      case "wait":
        return [el("span", { class: "se-word", text: "Wait for" }), ...duration(step, number)];
      case "wait_until_time":
        return [
          field("Until", input("time", step.time, on("time"), { "aria-label": `Time of day (step ${number})` }), "time"),
          el("span", { class: "se-word", text: "in the contact's time zone, on" }),
          weekdays(step, number),
        ];
      case "wait_until_date":
        return [
          field("Until the date", input("text", step.date, on("date"), { list: "se-date-paths", size: 30, spellcheck: "false",
            "aria-label": `Date (step ${number})` }), "date"),
          ...duration(step, number, ["days", "hours"]),
          field("at", input("time", step.time, (value) => setField(step, "time", value || undefined), { "aria-label": `At (step ${number})` }), "time"),
          el("span", { class: "se-word", text: "(negative days: before the date)" }),
        ];
      case "wait_for_event":
        return [kinds(step, number), el("span", { class: "se-word", text: "waiting at most" }), ...duration(step, number), properties(step, number)];
      case "branch":
        return [conditions(step, number)];
      case "random_split":
        return [el("span", { class: "se-word", text: "Each contact takes one path, the same one every time." })];
      case "send_email":
        return email(step, number);
      case "send_sms":
        return [field("Message", el("textarea", { rows: 2, cols: 60, "aria-label": `Message (step ${number})`,
          oninput: (event) => setField(step, "body", event.target.value) }, [step.body || ""]), "body", "se-wide")];
      case "webhook":
        return [text("url", "POST to", { type: "url", placeholder: "https://…" }), webhookBody(step, number)];
      case "assign_owner":
        return [field("Team", select([["", "by the routing rules"], ...options.teams], step.team || "",
          (value) => setField(step, "team", value || undefined), { "aria-label": `Team (step ${number})` }), "team")];
      case "create_task":
        return [
          text("title", "Task"),
          field("For", input("text", step.assignee, (value) => setField(step, "assignee", value.trim() || undefined),
            { placeholder: "owner", size: 12, "aria-label": `Assignee (step ${number})` }), "assignee"),
          field("Due in (hours)", input("number", step.due_hours, (value) => setField(step, "due_hours", whole(value)),
            { min: 0, placeholder: "24", class: "se-number-input", "aria-label": `Due in hours (step ${number})` }), "due_hours"),
        ];
      case "add_to_list": case "remove_from_list":
        return [field("Static list", select(options.lists.length ? options.lists : [["", "(no static list yet)"]], step.list,
          on("list"), { "aria-label": `List (step ${number})` }), "list")];
      case "enroll_campaign":
        return [field("Campaign", select(options.campaigns.length ? options.campaigns : [["", "(no other campaign)"]], step.campaign,
          (value) => setField(step, "campaign", value === "" ? null : Number(value)), { "aria-label": `Campaign (step ${number})` }), "campaign")];
      case "add_tag": case "remove_tag":
        return [
          field("Tags", input("text", (step.tags || []).join(", "), (value) => setField(step, "tags",
            value.split(",").map((tag) => tag.trim()).filter(Boolean)), { list: "se-tags", size: 40,
            placeholder: "one, or several separated by commas", "aria-label": `Tags (step ${number})` }), "tags", "se-wide"),
        ];
      case "set_field":
        return [
          field("Field", select(options.fields.map((name) => [name, name.replace(/_/g, " ")]), step.field, on("field"),
            { "aria-label": `Field (step ${number})` }), "field"),
          field("becomes", input("text", step.value, on("value"), { "aria-label": `Value (step ${number})` }), "value"),
        ];
      case "adjust_score":
        return [field("Score by", input("number", step.by, (value) => setField(step, "by", whole(value)),
          { step: 1, class: "se-number-input", "aria-label": `Score points (step ${number})` }), "by"),
          el("span", { class: "se-word", text: "points (negative to lower it)" })];
      case "set_lifecycle_stage":
        return [field("Stage", select(options.stages, step.stage, on("stage"), { "aria-label": `Stage (step ${number})` }), "stage")];
      case "exit":
        return [el("span", { class: "se-word", text: "The contact leaves the journey here." })];
      default:
        return [el("span", { class: "se-word", text: `Unknown type “${step.type}”: edit it as JSON, or pick a type.` })];
    }
  }

  function weekdays(step, number) {
    const chosen = new Set(Array.isArray(step.weekdays) ? step.weekdays : [0, 1, 2, 3, 4, 5, 6]);
    const box = el("span", { class: "se-days", role: "group", "aria-label": `Weekdays (step ${number})`, "data-field": "weekdays" });
    WEEKDAYS.forEach((name, day) => {
      const check = el("input", { type: "checkbox", checked: chosen.has(day), onchange: (event) => {
        if (event.target.checked) chosen.add(day); else chosen.delete(day);
        const days = Array.from(chosen).sort();
        setField(step, "weekdays", days.length === 7 ? undefined : days);
      } });
      box.appendChild(el("label", { class: "se-day" }, [check, name]));
    });
    return box;
  }

  function kinds(step, number) {
    const chosen = new Set(Array.isArray(step.kinds) ? step.kinds : []);
    const box = el("div", { class: "se-kinds", role: "group", "aria-label": `Touchpoints to wait for (step ${number})`, "data-field": "kinds" },
      [el("span", { class: "se-field-label", text: "Wait for one of" })]);
    const known = options.rules.kinds.slice();
    chosen.forEach((kind) => { if (!known.some(([key]) => key === kind)) known.push([kind, kind]); });
    known.forEach(([kind, name]) => {
      const check = el("input", { type: "checkbox", value: kind, checked: chosen.has(kind), onchange: (event) => {
        if (event.target.checked) chosen.add(kind); else chosen.delete(kind);
        setField(step, "kinds", known.map(([key]) => key).filter((key) => chosen.has(key)));
      } });
      box.appendChild(el("label", { class: "se-kind" }, [check, name]));
    });
    return box;
  }

  function properties(step, number) {
    // The touchpoint must have each of these properties with this exact value.
    const pairs = Object.entries(step.properties || {});
    const box = el("div", { class: "se-properties", "data-field": "properties" });
    const save = () => {
      const kept = pairs.filter(([name]) => name.trim());
      setField(step, "properties", kept.length ? Object.fromEntries(kept.map(([name, value]) => [name.trim(), value])) : undefined);
    };
    const draw = () => {
      box.replaceChildren(el("span", { class: "se-field-label", text: "with the properties" }));
      pairs.forEach((pair, index) => box.appendChild(el("span", { class: "se-property" }, [
        input("text", pair[0], (value) => { pair[0] = value; save(); }, { placeholder: "name", size: 14, "aria-label": `Property name (step ${number})` }),
        " = ",
        input("text", pair[1], (value) => { pair[1] = value; save(); }, { placeholder: "value", size: 14, "aria-label": `Property value (step ${number})` }),
        el("button", { type: "button", class: "button", text: "×", "aria-label": "remove this property",
                       onclick: () => { pairs.splice(index, 1); save(); draw(); } }),
      ])));
      box.appendChild(el("button", { type: "button", class: "button se-add-property", text: "+ property",
                                     onclick: () => { pairs.push(["", ""]); draw(); } }));
    };
    draw();
    return box;
  }

  function conditions(step, number) {
    const holder = el("div", { class: "se-conditions rb", "data-field": "conditions", "aria-label": `Conditions of step ${number}` });
    const wrap = el("div", { class: "se-field se-wide" }, [el("span", { class: "se-field-label", text: "If the contact matches" }), holder]);
    if (window.MopsRuleBuilder) {
      let drawn = false;  // the builder's first drawing is not an edit
      holder.builder = window.MopsRuleBuilder.mount(holder, {
        catalog: options.rules,
        value: step.conditions,
        onChange: (tree) => {
          step.conditions = tree;
          if (drawn) edited(step);
        },
      });
      drawn = true;
    } else {
      holder.textContent = JSON.stringify(step.conditions);
    }
    return wrap;
  }

  function email(step, number) {
    const inline = !("template" in step);
    const choices = [...options.templates, ["", "Write this e-mail here…"]];
    const parts = [field("E-mail", select(choices, inline ? "" : step.template, (value) => {
      if (value) { delete step.subject; delete step.body; step.template = value; } else { delete step.template; step.subject = step.subject || ""; step.body = step.body || ""; }
      edited(step);
      render();
    }, { "aria-label": `E-mail template (step ${number})` }), "template")];
    if (inline) {
      parts.push(
        field("Subject", input("text", step.subject, (value) => setField(step, "subject", value), { size: 50, "aria-label": `Subject (step ${number})` }), "subject", "se-wide"),
        field("Body", el("textarea", { rows: 3, cols: 60, "aria-label": `Body (step ${number})`,
          oninput: (event) => setField(step, "body", event.target.value) }, [step.body || ""]), "body", "se-wide"),
      );
    }
    return parts;
  }

  function webhookBody(step, number) {
    const area = el("textarea", { rows: 2, cols: 60, spellcheck: "false", placeholder: '{"list": "webinar"}',
                                  "aria-label": `JSON to send (step ${number})` },
                    [step.body && Object.keys(step.body).length ? JSON.stringify(step.body) : ""]);
    const note = el("span", { class: "se-hint" });
    area.addEventListener("input", () => {
      const text = area.value.trim();
      if (!text) { note.textContent = ""; setField(step, "body", undefined); return; }
      try {
        setField(step, "body", JSON.parse(text));
        note.textContent = "";
      } catch (error) {
        note.textContent = "not JSON yet";
      }
    });
    return field("and send (JSON)", el("span", {}, [area, note]), "body", "se-wide");
  }

  // --- exits ----------------------------------------------------------------------------------
  function exits(step, index, number) {
    const box = el("div", { class: "se-exits" });
    if (step.type === "exit") return box;
    if (EXITS[step.type]) {
      EXITS[step.type].forEach(([name, text]) => box.appendChild(field(text,
        targetSelect(step, step[name], (value) => setField(step, name, value), `${text} (step ${number})`), name, `se-exit-${name}`)));
      return box;
    }
    if (step.type === "random_split") return split(step, number, box);
    const below = steps[index + 1];
    const belowText = below ? `the next step below (${below.key})` : "the end (it is the last step)";
    const choices = [[BELOW, belowText], ...targetChoices(step.key)];
    box.appendChild(field("Then go to", select(choices, "next" in step ? step.next || "" : BELOW, (value) => {
      setField(step, "next", value === BELOW ? undefined : value);
    }, { class: "se-target", "aria-label": `Then go to (step ${number})` }), "next"));
    return box;
  }

  function split(step, number, box) {
    const paths = Array.isArray(step.paths) ? step.paths : (step.paths = []);
    const total = el("span", { class: "se-hint", "aria-live": "polite" });
    const sum = () => {
      const added = paths.reduce((all, path) => all + (Number(path.percent) || 0), 0);
      total.textContent = added === 100 ? "together 100%" : `together ${added}%: they must add up to 100%`;
      total.classList.toggle("se-warning", added !== 100);
    };
    paths.forEach((path, index) => box.appendChild(el("div", { class: "se-path", "data-field": `paths[${index}]` }, [
      input("number", path.percent, (value) => { path.percent = whole(value); sum(); edited(step); },
            { min: 0, max: 100, class: "se-number-input", "aria-label": `Percent of path ${index + 1} (step ${number})` }),
      el("span", { class: "se-word", text: "% go to" }),
      targetSelect(step, path.next, (value) => { path.next = value; edited(step); }, `Path ${index + 1} goes to (step ${number})`),
      paths.length > 2 ? el("button", { type: "button", class: "button", text: "×", "aria-label": `Remove path ${index + 1}`,
                                        onclick: () => { paths.splice(index, 1); edited(step); render(); } }) : null,
    ])));
    box.appendChild(el("div", { class: "se-path", "data-field": "paths" }, [
      el("button", { type: "button", class: "button se-add-path", text: "+ path",
                     onclick: () => { paths.push({ percent: 0, next: "" }); edited(step); render(); } }), total]));
    sum();
    return box;
  }

  // --- the server's errors, next to what they are about ------------------------------------------
  function showStepErrors() {
    steps.forEach((step, index) => {
      const errors = stepErrors.get(step);
      if (!errors) return;
      const box = editor.querySelector(`.se-step[data-index="${index}"]`);
      box.classList.add("se-invalid");
      errors.forEach(({ path, message }) => {
        if (path.startsWith("conditions")) {
          const holder = box.querySelector(".se-conditions");
          if (holder && holder.builder) {
            holder.builder.showError(path.replace(/^conditions\.?/, ""), message);
            return;
          }
        }
        // the deepest field whose name starts the error's path, else the step itself
        let best = null;
        box.querySelectorAll("[data-field]").forEach((node) => {
          const own = node.getAttribute("data-field");
          const fits = path === own || path.startsWith(own + ".") || path.startsWith(own + "[");
          if (fits && (!best || own.length > best.getAttribute("data-field").length)) best = node;
        });
        const note = el("p", { class: "se-error", role: "alert", text: path ? `${path}: ${message}` : message });
        if (best) best.appendChild(note); else box.querySelector(".se-body").prepend(note);
      });
    });
  }

  if (!jsonMode) write();
  render();
})();
