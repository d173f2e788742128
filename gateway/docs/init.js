// The API reference page: Swagger UI on imbridge's own OpenAPI document.
// "Authorize" takes an API key as `Bearer <key>`; it is kept in this
// browser's storage so that a reload keeps it.
window.addEventListener("load", () => {
  window.SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#reference",
    deepLinking: true,
    persistAuthorization: true,
    tryItOutEnabled: true,
  });
});
