package gateway

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"google.golang.org/grpc/codes"

	"github.com/imbridge/imbridge/server"
)

// localOnly keeps an imbridge without API keys, which listens on loopback
// only, for the programs of its machine, and out of reach of the web pages
// its browsers open. Such a page can send a POST that needs no preflight
// (a text/plain body, which the gateway reads as JSON), and, renaming its
// own host to 127.0.0.1 (DNS rebinding), read the answers. So a request is
// answered only when its Host is a loopback name, and, when it carries an
// Origin, that origin is imbridge's own or one of corsAllowed. A webhook
// request without an Origin, as the vendor's servers send it, is left
// alone: a proxy may bring it under any name. With one it comes from a
// page, and an app may take unsigned_selectors unsigned.
func (g *Gateway) localOnly(corsAllowed []string, next http.Handler) http.Handler {
	anyOrigin := slices.Contains(corsAllowed, "*")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		webhook := r.URL.Path == WebhookPath
		if webhook && r.Header.Get("Origin") == "" {
			next.ServeHTTP(w, r)
			return
		}
		// A webhook request with an Origin comes from a page: it is checked
		// like the rest, Host included (a rebinding page's Origin is its Host).
		if !loopbackHost(r.Host) {
			g.refuse(w, r, fmt.Sprintf("Host %.100q is not a loopback name: imbridge without api_keys answers only to localhost, 127.0.0.1 and [::1]; configure api_keys to serve other names", r.Host),
				map[string]string{"host": r.Host})
			return
		}
		if o := r.Header.Get("Origin"); o != "" && !sameOrigin(o, r.Host) && !anyOrigin && !slices.Contains(corsAllowed, o) {
			g.refuse(w, r, fmt.Sprintf("Origin %.100q is not imbridge's own or in cors_allowed_origins: without api_keys, only those pages may call imbridge", o),
				map[string]string{"origin": o})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (g *Gateway) refuse(w http.ResponseWriter, r *http.Request, msg string, metadata map[string]string) {
	g.httpError(w, r, newStatus(codes.PermissionDenied, msg, server.ReasonPermissionDenied, metadata).Err())
}

// loopbackHost reports whether a Host header names this machine's loopback
// interface.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sameOrigin reports whether a browser's Origin is the page imbridge
// itself serves at host (the console, the reference page).
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && strings.EqualFold(u.Host, host)
}
