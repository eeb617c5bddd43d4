/* The step forms: a campaign's steps as a list of forms that fit each type of step, over
   the "steps" JSON field. The field stays what the form submits (the server checks it as it
   checks the API's), so every change here rewrites it; "Edit as JSON" shows it again for
   those who would rather type. Errors the server found (steps[2].days: ...) are shown
   next to the step, and the field, they are about.

   Each type's form comes from the server (options.schemas: its fields, each with the kind
   of control that draws it, its exits, its defaults): this file knows controls, never a
   type of step, so a new type appears here without a change. */
(function () {
  "use strict";

  const optionsNode = document.getElementById("step-options");
  const textarea = document.getElementById("id_steps");
  if (!optionsNode || !textarea) return;
  const options = JSON.parse(optionsNode.textContent);
  const SCHEMAS = options.schemas;
  const KEY = /^[a-z0-9][a-z0-9_-]{0,63}$/;
  const UNITS = ["days", "hours", "minutes"];
  const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
  const DATE_PATHS = [
    ["touchpoint.occurred_at", "when the touchpoint that brought them in happened"],
    ["contact.created_at", "when the contact was created"],
    ["contact.updated_at", "when the contact last changed"],
  ];
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
  function schema(type) { return SCHEMAS[type] || { fields: [], exits: "next", category: "action", defaults: {} }; }
  function namedExits(type) { const exits = schema(type).exits; return Array.isArray(exits) ? exits : null; }
  function freshKey(type) {
    const base = schema(type).key_base || type.replace(/_/g, "-");
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

  function defaults(type) { return JSON.parse(JSON.stringify(schema(type).defaults || {})); }
  // The names a type's fields write: a duration writes its units, an e-mail its template or text.
  function fieldNames(type) {
    const names = new Set();
    schema(type).fields.forEach((f) => {
      if (f.widget === "duration") (f.units || UNITS).forEach((unit) => names.add(unit));
      else if (f.widget === "email") ["template", "subject", "body"].forEach((name) => names.add(name));
      else if (f.widget !== "words") names.add(f.name);
    });
    return names;
  }
  function retyped(step, type) {
    // What the new type shares with the old one by name (a wait's duration) is kept.
    const kept = { key: step.key, type: type };
    if (step.label) kept.label = step.label;
    const fresh = defaults(type);
    const before = fieldNames(step.type);
    fieldNames(type).forEach((name) => { if (before.has(name) && name in step && !(name in fresh && typeof fresh[name] === "object")) fresh[name] = step[name]; });
    Object.assign(kept, fresh);
    if ("next" in step && schema(type).exits === "next") kept.next = step.next;
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
    const firstMessage = options.types.find(([type]) => schema(type).category === "message");
    const typeChoice = select(options.types, (firstMessage || options.types[0])[0], () => {},
                              { "aria-label": "Type of the new step", class: "se-add-type" });
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
    const box = el("section", { class: `se-step se-${schema(type).category}`, "data-index": index,
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

  // --- the controls a type's fields are drawn with ----------------------------------------------
  function duration(step, number, units, signed) {
    return (units || UNITS).map((unit) => field(unit, input("number", step[unit], (value) => setField(step, unit, whole(value)),
      { min: signed && unit === "days" ? undefined : 0, step: 1, class: "se-number-input",
        "aria-label": `${unit} (step ${number})` }), unit));
  }

  function choicesOf(f) {
    const listed = options[f.choices] || [];
    if (!f.required && f.empty) return [["", f.empty], ...listed];
    return listed.length ? listed : [["", f.empty || "(none yet)"]];
  }

  function control(step, number, f) {
    const aria = `${f.aria || f.label} (step ${number})`;
    const on = (value) => setField(step, f.name, value);
    const wide = f.wide ? "se-wide" : undefined;
    switch (f.widget) {
      case "words":
        return el("span", { class: "se-word", text: f.label });
      case "duration":
        return duration(step, number, f.units, f.signed);
      case "time":
        return field(f.label, input("time", step[f.name], (value) => setField(step, f.name, value || (f.required ? value : undefined)),
          { "aria-label": aria }), f.name);
      case "weekdays":
        return weekdays(step, number);
      case "date_path":
        return field(f.label, input("text", step[f.name], on, { list: "se-date-paths", size: 30, spellcheck: "false", "aria-label": aria }), f.name);
      case "kinds":
        return kinds(step, number, f);
      case "properties":
        return properties(step, number, f);
      case "conditions":
        return conditions(step, number, f);
      case "email":
        return email(step, number, f);
      case "textarea":
        return field(f.label, el("textarea", { rows: 2, cols: 60, "aria-label": aria,
          oninput: (event) => on(event.target.value) }, [step[f.name] || ""]), f.name, wide);
      case "url":
        return field(f.label, input("text", step[f.name], on, { type: "url", placeholder: f.placeholder, "aria-label": aria }), f.name, wide);
      case "json":
        return jsonField(step, number, f);
      case "number":
        return field(f.label, input("number", step[f.name], (value) => setField(step, f.name, whole(value)),
          { step: 1, min: f.signed ? undefined : 0, placeholder: f.placeholder, class: "se-number-input", "aria-label": aria }), f.name);
      case "user":
        return field(f.label, input("text", step[f.name], (value) => setField(step, f.name, value.trim() || undefined),
          { placeholder: f.placeholder, size: 12, "aria-label": aria }), f.name);
      case "tags":
        return field(f.label, input("text", (step[f.name] || []).join(", "), (value) => setField(step, f.name,
          value.split(",").map((tag) => tag.trim()).filter(Boolean)), { list: "se-tags", size: 40,
          placeholder: f.placeholder, "aria-label": aria }), f.name, wide);
      case "select": {
        const choices = choicesOf(f);
        const numeric = choices.some(([key]) => typeof key === "number");
        return field(f.label, select(choices, step[f.name] === undefined ? "" : step[f.name], (value) => {
          if (value === "") setField(step, f.name, f.required ? (numeric ? null : "") : undefined);
          else setField(step, f.name, numeric ? Number(value) : value);
        }, { "aria-label": aria }), f.name);
      }
      default:  // a text field, and any control this page does not know yet
        return field(f.label, input("text", step[f.name], on, { placeholder: f.placeholder, "aria-label": aria }), f.name, wide);
    }
  }

  function body(step, number) {
    if (!SCHEMAS[step.type]) {
      return [el("span", { class: "se-word", text: `Unknown type “${step.type}”: edit it as JSON, or pick a type.` })];
    }
    return schema(step.type).fields.flatMap((f) => { const drawn = control(step, number, f); return Array.isArray(drawn) ? drawn : [drawn]; });
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

  function kinds(step, number, f) {
    const chosen = new Set(Array.isArray(step[f.name]) ? step[f.name] : []);
    const box = el("div", { class: "se-kinds", role: "group", "aria-label": `${f.aria || f.label} (step ${number})`, "data-field": f.name },
      [el("span", { class: "se-field-label", text: f.label })]);
    const known = options.rules.kinds.slice();
    chosen.forEach((kind) => { if (!known.some(([key]) => key === kind)) known.push([kind, kind]); });
    known.forEach(([kind, name]) => {
      const check = el("input", { type: "checkbox", value: kind, checked: chosen.has(kind), onchange: (event) => {
        if (event.target.checked) chosen.add(kind); else chosen.delete(kind);
        setField(step, f.name, known.map(([key]) => key).filter((key) => chosen.has(key)));
      } });
      box.appendChild(el("label", { class: "se-kind" }, [check, name]));
    });
    return box;
  }

  function properties(step, number, f) {
    // Each of these properties with this exact value.
    const pairs = Object.entries(step[f.name] || {});
    const box = el("div", { class: "se-properties", "data-field": f.name });
    const save = () => {
      const kept = pairs.filter(([name]) => name.trim());
      setField(step, f.name, kept.length ? Object.fromEntries(kept.map(([name, value]) => [name.trim(), value])) : undefined);
    };
    const draw = () => {
      box.replaceChildren(el("span", { class: "se-field-label", text: f.label }));
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

  function conditions(step, number, f) {
    const holder = el("div", { class: "se-conditions rb", "data-field": f.name, "aria-label": `${f.aria || f.label} of step ${number}` });
    const wrap = el("div", { class: "se-field se-wide" }, [el("span", { class: "se-field-label", text: f.label }), holder]);
    if (window.MopsRuleBuilder) {
      let drawn = false;  // the builder's first drawing is not an edit
      holder.builder = window.MopsRuleBuilder.mount(holder, {
        catalog: options.rules,
        value: step[f.name],
        onChange: (tree) => {
          step[f.name] = tree;
          if (drawn) edited(step);
        },
      });
      drawn = true;
    } else {
      holder.textContent = JSON.stringify(step[f.name]);
    }
    return wrap;
  }

  function email(step, number, f) {
    // A stored template, or a subject and a body written here.
    const inline = !("template" in step);
    const choices = [...(options[f.choices] || []), ["", "Write this e-mail here…"]];
    const parts = [field(f.label, select(choices, inline ? "" : step.template, (value) => {
      if (value) { delete step.subject; delete step.body; step.template = value; } else { delete step.template; step.subject = step.subject || ""; step.body = step.body || ""; }
      edited(step);
      render();
    }, { "aria-label": `${f.aria || f.label} (step ${number})` }), "template")];
    if (inline) {
      parts.push(
        field("Subject", input("text", step.subject, (value) => setField(step, "subject", value), { size: 50, "aria-label": `Subject (step ${number})` }), "subject", "se-wide"),
        field("Body", el("textarea", { rows: 3, cols: 60, "aria-label": `Body (step ${number})`,
          oninput: (event) => setField(step, "body", event.target.value) }, [step.body || ""]), "body", "se-wide"),
      );
    }
    return parts;
  }

  function jsonField(step, number, f) {
    const value = step[f.name];
    const area = el("textarea", { rows: 2, cols: 60, spellcheck: "false", placeholder: f.placeholder,
                                  "aria-label": `${f.aria || f.label} (step ${number})` },
                    [value && Object.keys(value).length ? JSON.stringify(value) : ""]);
    const note = el("span", { class: "se-hint" });
    area.addEventListener("input", () => {
      const text = area.value.trim();
      if (!text) { note.textContent = ""; setField(step, f.name, undefined); return; }
      try {
        setField(step, f.name, JSON.parse(text));
        note.textContent = "";
      } catch (error) {
        note.textContent = "not JSON yet";
      }
    });
    return field(f.label, el("span", {}, [area, note]), f.name, f.wide ? "se-wide" : undefined);
  }

  // --- exits ----------------------------------------------------------------------------------
  function exits(step, index, number) {
    const box = el("div", { class: "se-exits" });
    const exits = schema(step.type).exits;
    if (exits === "none") return box;
    if (namedExits(step.type)) {
      namedExits(step.type).forEach(({ name, label: text }) => box.appendChild(field(text,
        targetSelect(step, step[name], (value) => setField(step, name, value), `${text} (step ${number})`), name, `se-exit-${name}`)));
      return box;
    }
    if (exits === "paths") return split(step, number, box);
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
