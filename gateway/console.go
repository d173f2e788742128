package gateway

import (
	"io/fs"
	"net/http"

	"github.com/imbridge/imbridge/gen/console"
)

// The browser console, /console: a page, its script and its style, bundled
// from console/ into gen/console and embedded in the binary, so that it
// needs nothing from the network. Like /docs the page itself needs no key;
// every API call it makes does (it sends the key the operator types).

// consoleCSP lets the page load only its own script and style and call
// only the API of its own origin.
const consoleCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// consoleFile serves /console (the page) and /console/{file}.
func (g *Gateway) consoleFile(w http.ResponseWriter, r *http.Request, params map[string]string) {
	name := params["file"]
	if name == "" {
		name = "index.html"
	}
	b, err := fs.ReadFile(console.FS, name)
	if err != nil || name == "console.go" {
		g.routingError(w, r, http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", consoleCSP)
	h.Set("Referrer-Policy", "no-referrer")
	// The files change with the binary: revalidate rather than keep a copy.
	h.Set("Cache-Control", "no-cache")
	writeFile(w, name, b)
}
