package gateway

import (
	"embed"
	"io/fs"
	"mime"
	"net/http"
	"path"

	"github.com/imbridge/imbridge/gen/docs"
)

// The API reference page, /docs: Swagger UI (gen/docs, from the npm
// package swagger-ui-dist) on /openapi.json. Like /openapi.json it needs
// no key; the API calls made from it do, through Swagger UI's Authorize.

//go:embed docs/index.html docs/init.js
var page embed.FS

// docsFile serves /docs (the page) and /docs/{file}: the page's own
// files, then Swagger UI's.
func (g *Gateway) docsFile(w http.ResponseWriter, r *http.Request, params map[string]string) {
	name := params["file"]
	if name == "" {
		name = "index.html"
	}
	b, err := fs.ReadFile(page, "docs/"+name)
	if err != nil {
		b, err = fs.ReadFile(docs.FS, name)
	}
	if err != nil {
		g.routingError(w, r, http.StatusNotFound)
		return
	}
	// The page keeps the API key it was given (persistAuthorization) and
	// sends calls with it ("Try it out"): no other site may frame it to
	// steer those clicks.
	w.Header().Set("Content-Security-Policy", "frame-ancestors 'none'")
	w.Header().Set("X-Frame-Options", "DENY")
	writeFile(w, name, b)
}

// writeFile answers with an embedded file: its type by its extension
// (text/plain without one, such as LICENSE), never sniffed.
func writeFile(w http.ResponseWriter, name string, b []byte) {
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		w.Header().Set("Content-Type", t)
	} else {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b)
}
