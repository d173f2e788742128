package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/imbridge/imbridge/gateway"
)

// The API reference page is served by imbridge itself: the page, its
// script, and Swagger UI from the npm package, on /openapi.json, with the
// bearer scheme the document declares (Authorize uses it).
func TestAPIReferencePage(t *testing.T) {
	s := startStack(t, gateway.Options{})
	page := s.get(t, "/docs")
	if page.code != http.StatusOK || !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") ||
		!strings.Contains(page.body, "/docs/swagger-ui-bundle.js") || !strings.Contains(page.body, "/docs/init.js") {
		t.Fatalf("GET /docs: %d %s\n%s", page.code, page.header.Get("Content-Type"), page.body)
	}
	// It holds the API key: no other site may frame it.
	if csp, xfo := page.header.Get("Content-Security-Policy"), page.header.Get("X-Frame-Options"); csp != "frame-ancestors 'none'" || xfo != "DENY" {
		t.Errorf("GET /docs: Content-Security-Policy %q, X-Frame-Options %q", csp, xfo)
	}
	if init := s.get(t, "/docs/init.js"); init.code != http.StatusOK || !strings.Contains(init.body, `url: "/openapi.json"`) ||
		!strings.Contains(init.body, "persistAuthorization: true") {
		t.Errorf("GET /docs/init.js: %d\n%s", init.code, init.body)
	}
	for path, want := range map[string]string{
		"/docs/swagger-ui-bundle.js": "text/javascript",
		"/docs/swagger-ui.css":       "text/css",
		"/docs/LICENSE":              "text/plain",
	} {
		a := s.get(t, path)
		if a.code != http.StatusOK || !strings.HasPrefix(a.header.Get("Content-Type"), want) || len(a.body) == 0 {
			t.Errorf("GET %s: %d %s, %d bytes", path, a.code, a.header.Get("Content-Type"), len(a.body))
		}
	}
	if a := s.get(t, "/docs/swagger-ui-bundle.js"); !strings.Contains(a.body, "SwaggerUIBundle") {
		t.Error("the bundle does not define SwaggerUIBundle")
	}
	wantError(t, "GET /docs/nothing.js", s.get(t, "/docs/nothing.js"), http.StatusNotFound, 5, gateway.ReasonNotFound, map[string]string{"path": "/docs/nothing.js"})
	if doc := loadOpenAPI(t); doc.SecurityDefinitions["bearer"].Name != "Authorization" {
		t.Errorf("the document's bearer scheme: %+v", doc.SecurityDefinitions)
	}
}
