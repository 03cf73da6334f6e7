// The agent workspace's keyboard shortcuts and small conveniences (loaded only on agent pages).
// j/k move through a list, o or Enter opens, / searches, r replies, n writes a note,
// a assigns to me, s picks a status, ? shows the help. Keys are ignored while typing.
"use strict";

(() => {
  const rows = () => Array.from(document.querySelectorAll("#ticket-list tbody tr.ticket-row"));
  let current = -1;

  function typing(target) {
    if (!(target instanceof HTMLElement)) return false;
    return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
  }

  function highlight(index) {
    const list = rows();
    if (list.length === 0) return;
    current = Math.max(0, Math.min(index, list.length - 1));
    list.forEach((row, i) => {
      row.classList.toggle("is-highlighted", i === current);
      if (i === current) row.setAttribute("aria-current", "true");
      else row.removeAttribute("aria-current");
    });
    const link = list[current].querySelector(".ticket-link");
    if (link) link.focus({ preventScroll: true });
    list[current].scrollIntoView({ block: "nearest" });
  }

  function openHighlighted() {
    const row = rows()[current];
    if (row && row.dataset.href) window.location.assign(row.dataset.href);
  }

  function focusComposer(kind) {
    const radio = document.getElementById(kind === "note" ? "visibility-internal" : "visibility-public");
    const body = document.getElementById("composer-body");
    if (!body || body.disabled) return false;
    if (radio) radio.checked = true;
    body.focus();
    return true;
  }

  function assignToMe() {
    const form = document.getElementById("assign-me-form");
    if (form) {
      form.requestSubmit();
      return true;
    }
    const button = document.getElementById("bulk-assign-me");
    if (!button) return false;
    const ticked = document.querySelectorAll("#ticket-list .row-check:checked");
    if (ticked.length === 0) {
      const row = rows()[current];
      const box = row && row.querySelector(".row-check");
      if (!box) return false;
      box.checked = true;
    }
    button.form.requestSubmit(button);
    return true;
  }

  function toggleHelp() {
    const dialog = document.getElementById("shortcuts-help");
    if (dialog && window.bootstrap) window.bootstrap.Modal.getOrCreateInstance(dialog).toggle();
  }

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) return;
    if (document.querySelector(".modal.show") && event.key !== "?") return;
    let handled = true;
    switch (event.key) {
      case "j": highlight(current + 1); break;
      case "k": highlight(current < 0 ? 0 : current - 1); break;
      case "o": if (current >= 0) openHighlighted(); else handled = false; break;
      case "Enter":
        // On a focused link or button Enter keeps its own meaning.
        if (current >= 0 && !(event.target instanceof HTMLElement && event.target.closest("a, button"))) openHighlighted();
        else handled = false;
        break;
      case "/": {
        const search = document.getElementById("search-q");
        if (search) { search.focus(); search.select(); } else handled = false;
        break;
      }
      case "r": handled = focusComposer("reply"); break;
      case "n": handled = focusComposer("note"); break;
      case "a": handled = assignToMe(); break;
      case "s": {
        const status = document.getElementById("prop-status") || document.getElementById("bulk-status");
        if (status && !status.disabled) status.focus(); else handled = false;
        break;
      }
      case "m": {
        const macro = document.getElementById("macro-select");
        if (macro) macro.focus(); else handled = false;
        break;
      }
      case "?": toggleHelp(); break;
      default: handled = false;
    }
    if (handled) event.preventDefault();
  });

  // Clicking a row (not its controls) highlights it, so o and a act on it.
  document.addEventListener("click", (event) => {
    const row = event.target instanceof Element && event.target.closest("#ticket-list tr.ticket-row");
    if (row) {
      current = rows().indexOf(row);
      rows().forEach((other) => other.classList.toggle("is-highlighted", other === row));
    }
  });

  // "Tick every ticket on this page".
  const all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", () => {
      document.querySelectorAll("#ticket-list .row-check").forEach((box) => { box.checked = all.checked; });
    });
  }

  // Enter in a bulk field presses its own button, not the first action of the form.
  document.querySelectorAll("[data-submit-with]").forEach((input) => {
    input.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      const button = document.getElementById(input.dataset.submitWith);
      if (button) button.form.requestSubmit(button);
    });
  });

  // Forms that change the ticket carry the unsent composer text, so a refused change loses nothing.
  document.querySelectorAll("form.carries-draft").forEach((form) => {
    form.addEventListener("submit", () => {
      const body = document.getElementById("composer-body");
      const note = document.getElementById("visibility-internal");
      if (body && form.elements.draft_body) form.elements.draft_body.value = body.value;
      if (note && form.elements.draft_visibility) form.elements.draft_visibility.value = note.checked ? "internal" : "public";
    });
  });

  // Open the tab named in the address (#history).
  if (window.location.hash === "#history") {
    const tab = document.getElementById("history-tab");
    if (tab && window.bootstrap) window.bootstrap.Tab.getOrCreateInstance(tab).show();
  }
})();
