// The admin console's automation forms: add and remove condition/action rows, and rebuild a row's inputs when
// its field, test or action type changes, without a round trip. Every button also works without this script:
// it then sends the form, which comes back with the row added, removed or updated.
"use strict";

(() => {
  const metaElement = document.getElementById("automation-meta");
  const meta = metaElement ? JSON.parse(metaElement.textContent) : { fields: {}, operators: {}, valueless: [], listOps: [] };

  function fromTemplate(id, index, number) {
    const template = document.getElementById(id);
    if (!template) return null;
    const holder = document.createElement("template");
    holder.innerHTML = template.innerHTML.replaceAll("__i__", String(index)).replaceAll("__n__", String(number));
    return holder.content;
  }

  function rowsOf(section) {
    return document.querySelector(`[data-rows="${section}"]`);
  }

  function renumber(section) {
    const container = rowsOf(section);
    if (!container) return;
    const rows = Array.from(container.querySelectorAll(":scope > .automation-row"));
    rows.forEach((row, i) => {
      const legend = row.querySelector("legend[data-row-label]");
      const label = legend ? legend.dataset.rowLabel : "Row";
      if (legend) legend.textContent = `${label} ${i + 1}`;
      const remove = row.querySelector("[data-remove-row]");
      if (remove) remove.setAttribute("aria-label", `Remove ${label.toLowerCase()} ${i + 1}`);
    });
    const hint = document.querySelector(`[data-empty-hint="${section}"]`);
    if (hint) hint.hidden = rows.length > 0;
  }

  function addRow(section) {
    const container = rowsOf(section);
    if (!container) return;
    const rows = Array.from(container.querySelectorAll(":scope > .automation-row"));
    const next = rows.reduce((max, row) => Math.max(max, Number(row.dataset.index) + 1), 0);
    const content = fromTemplate(section === "conditions" ? "condition-row-template" : "action-row-template", next, rows.length + 1);
    if (!content) return;
    container.appendChild(content);
    const row = container.lastElementChild;
    hideFallbacks(row);
    renumber(section);
    const first = row.querySelector("select");
    if (first) first.focus();
  }

  function removeRow(button) {
    const row = button.closest(".automation-row");
    if (!row) return;
    const section = row.dataset.row;
    const following = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    renumber(section);
    const target = following ? following.querySelector("select") : document.querySelector(`[data-add-row="${section}"]`);
    if (target) target.focus();
  }

  // Condition rows: the tests a field allows, and the shape of its value.

  function operatorsFor(field) {
    const info = meta.fields[field];
    return Object.entries(meta.operators).filter(([, op]) => !info || op.kinds.includes(info.kind));
  }

  function valueShape(field, op) {
    const info = meta.fields[field];
    if (meta.valueless.includes(op)) return "none";
    if (meta.listOps.includes(op)) return "list";
    if (!info) return "text";
    if (info.kind === "number" || info.kind === "boolean") return info.kind;
    return info.choices.length ? "select" : "text";
  }

  function option(value, label, selected) {
    const element = document.createElement("option");
    element.value = value;
    element.textContent = label;
    element.selected = selected;
    return element;
  }

  function rebuildOperators(row) {
    const field = row.querySelector('[data-role="field"]').value;
    const select = row.querySelector('[data-role="op"]');
    const current = select.value;
    const allowed = operatorsFor(field);
    const keep = allowed.some(([name]) => name === current);
    select.replaceChildren(...allowed.map(([name, op], i) => option(name, op.label, keep ? name === current : i === 0)));
  }

  function rebuildValue(row) {
    const field = row.querySelector('[data-role="field"]').value;
    const op = row.querySelector('[data-role="op"]').value;
    const cell = row.querySelector('[data-role="value"]');
    const index = row.dataset.index;
    const id = `conditions-${index}-value`;
    const old = cell.querySelector(`#${CSS.escape(id)}`);
    const previous = old ? old.value : "";
    const shape = valueShape(field, op);
    const parts = [];
    if (shape === "none") {
      const note = document.createElement("p");
      note.className = "form-text mb-0";
      note.textContent = "No value needed.";
      parts.push(note);
    } else {
      const label = document.createElement("label");
      label.className = "form-label small mb-1";
      label.htmlFor = id;
      label.textContent = "Value";
      parts.push(label);
      let input;
      if (shape === "select" || shape === "boolean") {
        input = document.createElement("select");
        input.className = "form-select";
        const choices = shape === "boolean" ? ["true", "false"] : meta.fields[field].choices;
        if (shape === "select") input.appendChild(option("", "Choose…", !choices.includes(previous)));
        choices.forEach((choice) => input.appendChild(option(choice, choice, choice === previous)));
      } else {
        input = document.createElement("input");
        input.className = "form-control";
        input.type = shape === "number" ? "number" : "text";
        if (shape === "number") input.step = "any";
        input.value = shape === "number" && Number.isNaN(Number(previous)) ? "" : previous;
      }
      input.id = id;
      input.name = id;
      parts.push(input);
      if (shape === "list") {
        const hint = document.createElement("div");
        hint.className = "form-text";
        hint.id = `${id}-hint`;
        hint.textContent = "Several values, comma-separated.";
        input.setAttribute("aria-describedby", hint.id);
        parts.push(hint);
      }
    }
    cell.replaceChildren(...parts);
  }

  // Action rows: the settings of the chosen type, from the page's templates.

  function rebuildParams(row) {
    const type = row.querySelector('[data-role="type"]').value;
    const cell = row.querySelector('[data-role="params"]');
    const content = type ? fromTemplate(`action-params-${type}`, row.dataset.index, 0) : null;
    if (content) cell.replaceChildren(content);
    else cell.replaceChildren();
  }

  function followField(select) {
    document.querySelectorAll(`[data-follows="${CSS.escape(select.id)}"]`).forEach((input) => {
      input.setAttribute("list", `choices-${select.value}`);
    });
  }

  function hideFallbacks(root) {
    root.querySelectorAll("[data-no-script]").forEach((button) => {
      button.hidden = true;
    });
  }

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target || !target.closest(".automation-form")) return;
    const add = target.closest("[data-add-row]");
    if (add) {
      event.preventDefault();
      addRow(add.dataset.addRow);
      return;
    }
    const remove = target.closest("[data-remove-row]");
    if (remove) {
      event.preventDefault();
      removeRow(remove);
    }
  });

  document.addEventListener("change", (event) => {
    const target = event.target;
    if (!(target instanceof HTMLSelectElement) || !target.closest(".automation-form")) return;
    const row = target.closest(".automation-row");
    if (!row) return;
    if (target.dataset.role === "field") {
      rebuildOperators(row);
      rebuildValue(row);
    } else if (target.dataset.role === "op") {
      rebuildValue(row);
    } else if (target.dataset.role === "type") {
      rebuildParams(row);
    }
    followField(target);
  });

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll(".automation-form").forEach(hideFallbacks);
    const results = document.getElementById("dry-run");
    if (results) results.focus();
  });
})();
