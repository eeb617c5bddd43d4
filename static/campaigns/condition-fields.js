/* Who enters and the goal, in the rule builder: each JSON field ("entry_filter", "goal")
   gets a switch (none, or these conditions) and a builder; the field stays what is
   submitted, "null" when switched off, so the server checks it as before. Its errors
   (goal.all[0].value: ...) show at the rule they are about. */
(function () {
  "use strict";

  const optionsNode = document.getElementById("step-options");
  if (!optionsNode || !window.MopsRuleBuilder) return;
  const catalog = JSON.parse(optionsNode.textContent).rules;
  const FIELDS = [
    ["entry_filter", "Only contacts matching these conditions enter", "Every contact may enter"],
    ["goal", "Contacts matching these conditions have reached the goal and leave", "No goal"],
  ];

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([key, value]) => {
      if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach((child) => child && node.appendChild(typeof child === "string" ? document.createTextNode(child) : child));
    return node;
  }

  FIELDS.forEach(([name, onText, offText]) => {
    const textarea = document.getElementById(`id_${name}`);
    if (!textarea) return;
    const row = textarea.closest(".form-row") || textarea.parentElement;
    let tree;
    try {
      tree = textarea.value.trim() ? JSON.parse(textarea.value) : null;
    } catch (error) {
      return;  // not JSON: the field stays as it is, with the server's error
    }
    if (tree !== null && (typeof tree !== "object" || Array.isArray(tree))) return;
    const errors = Array.from(row.querySelectorAll(".errorlist li")).map((item) => item.textContent);

    const box = el("div", { class: "cf", id: `cf-${name}` });
    const holder = el("div", { class: "rb cf-builder", "aria-label": `Conditions: ${name.replace("_", " ")}` });
    const on = el("input", { type: "radio", name: `cf-${name}-mode`, value: "on", checked: tree !== null });
    const off = el("input", { type: "radio", name: `cf-${name}-mode`, value: "off", checked: tree === null });
    const jsonButton = el("button", { type: "button", class: "button cf-json", text: "Edit as JSON" });
    box.append(
      el("div", { class: "cf-modes", role: "radiogroup", "aria-label": name.replace("_", " ") }, [
        el("label", { class: "cf-mode" }, [off, offText]),
        el("label", { class: "cf-mode" }, [on, onText]),
      ]),
      holder,
      el("p", { class: "cf-json-row" }, [jsonButton]),
    );
    textarea.insertAdjacentElement("afterend", box);
    textarea.hidden = true;

    let builder = null;
    let current = tree;
    // An empty "all of" is every contact: as a goal it would take everyone out at once, so
    // until it has a rule it is written as no condition at all.
    const empty = (value) => value && Array.isArray(value.all) && !value.all.length && Object.keys(value).length === 1;
    function write() { textarea.value = current === null || empty(current) ? "null" : JSON.stringify(current, null, 2); }
    function draw() {
      holder.hidden = current === null;
      if (current === null) return;
      if (!builder) {
        builder = window.MopsRuleBuilder.mount(holder, { catalog: catalog, value: current, onChange: (value) => { current = value; write(); } });
      }
    }
    const switched = () => {
      if (off.checked) {
        current = null;
      } else {
        current = (builder && builder.value()) || { all: [] };
        if (builder) builder.setValue(current);
      }
      write();
      draw();
    };
    on.addEventListener("change", switched);
    off.addEventListener("change", switched);
    jsonButton.addEventListener("click", () => {
      if (textarea.hidden) {
        textarea.hidden = false;
        jsonButton.textContent = "Back to the rules";
        box.querySelector(".cf-modes").hidden = true;
        holder.hidden = true;
        return;
      }
      let pasted;
      try {
        pasted = textarea.value.trim() ? JSON.parse(textarea.value) : null;
      } catch (error) {
        jsonButton.textContent = "Back to the rules (fix the JSON first)";
        return;
      }
      current = pasted && typeof pasted === "object" && !Array.isArray(pasted) ? pasted : null;
      on.checked = current !== null;
      off.checked = current === null;
      if (builder && current !== null) builder.setValue(current);
      textarea.hidden = true;
      jsonButton.textContent = "Edit as JSON";
      box.querySelector(".cf-modes").hidden = false;
      draw();
    });
    draw();

    // The server's errors, at the rule they are about; the rest stay where Django put them.
    if (builder) {
      errors.forEach((text) => {
        const match = new RegExp(`^${name}(?:\\.(\\S+?))?: ([\\s\\S]*)$`).exec(text);
        if (match) builder.showError(match[1] || "", match[2]);
      });
    }
  });
})();
