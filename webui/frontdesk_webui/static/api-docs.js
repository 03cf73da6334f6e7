// Starts Swagger UI on the API document named by the page (no inline script: the CSP forbids it).
window.addEventListener("DOMContentLoaded", () => {
  const target = document.getElementById("swagger");
  window.SwaggerUIBundle({ url: target.dataset.spec, domNode: target, deepLinking: true });
});
