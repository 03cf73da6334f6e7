// Frontdesk page behaviour. No inline scripts anywhere: the Content-Security-Policy forbids them.
"use strict";

// Every htmx request carries the CSRF token of the page.
document.addEventListener("htmx:configRequest", (event) => {
  const token = document.querySelector('meta[name="csrf-token"]');
  if (token) {
    event.detail.headers["X-CSRFToken"] = token.content;
  }
});
