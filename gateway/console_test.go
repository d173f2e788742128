package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/imbridge/imbridge/gateway"
)

// The console is served by imbridge itself, without a key (its API calls
// need one): the page, its bundled script and style, with a policy that
// keeps the page to its own origin. internal/app's browser test uses it.
func TestConsolePage(t *testing.T) {
	s := startStack(t, gateway.Options{})
	page := s.get(t, "/console")
	if page.code != http.StatusOK || !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") ||
		!strings.Contains(page.body, "/console/app.js") || !strings.Contains(page.body, "/console/app.css") {
		t.Fatalf("GET /console: %d %s\n%s", page.code, page.header.Get("Content-Type"), page.body)
	}
	if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self'") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("GET /console: Content-Security-Policy %q", csp)
	}
	for path, want := range map[string]string{
		"/console/app.js":     "text/javascript",
		"/console/app.css":    "text/css",
		"/console/index.html": "text/html",
	} {
		a := s.get(t, path)
		if a.code != http.StatusOK || !strings.HasPrefix(a.header.Get("Content-Type"), want) || len(a.body) == 0 ||
			a.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: %d %s, %d bytes", path, a.code, a.header.Get("Content-Type"), len(a.body))
		}
	}
	if a := s.get(t, "/console/app.js"); !strings.Contains(a.body, "events:subscribe") {
		t.Error("the bundle does not call events:subscribe")
	}
	for _, path := range []string{"/console/console.go", "/console/nothing.js"} {
		// The documented error shape, as for any path no route has.
		wantError(t, "GET "+path, s.get(t, path), http.StatusNotFound, 5, gateway.ReasonNotFound, map[string]string{"path": path})
	}
}
