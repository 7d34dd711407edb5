// Starts Swagger UI on the document named by #swagger-ui's data-spec-url. Kept out of the page so
// that the page needs no inline script (a strict Content-Security-Policy can forbid them).
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  var element = document.getElementById("swagger-ui");
  if (!element || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.ui = window.SwaggerUIBundle({
    url: element.dataset.specUrl,
    domNode: element,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    // No validator badge: it would send the document to an outside service.
    validatorUrl: null,
    oauth2RedirectUrl: new URL(element.dataset.oauth2RedirectUrl, window.location.href).href
  });
});
