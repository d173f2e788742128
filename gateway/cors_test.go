package gateway_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/imbridge/imbridge/gateway"
	"github.com/imbridge/imbridge/server"
)

// A page of an allowed origin may call the REST API; a page of any other
// origin gets no CORS header, so its browser keeps the answer from it.
func TestCORS(t *testing.T) {
	s := startStack(t, gateway.Options{CORSAllowedOrigins: []string{"https://console.example.com"}})
	do := func(method, origin string, preflight bool) *http.Response {
		req, _ := http.NewRequestWithContext(t.Context(), method, s.base+"/v1/orgs/-/apps/-/events", nil)
		req.Header.Set("Origin", origin)
		if preflight {
			req.Header.Set("Access-Control-Request-Method", "GET")
			req.Header.Set("Access-Control-Request-Headers", "authorization")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	res := do(http.MethodOptions, "https://console.example.com", true)
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "https://console.example.com" ||
		res.Header.Get("Access-Control-Allow-Headers") == "" {
		t.Errorf("preflight from the allowed origin: %d %v", res.StatusCode, res.Header)
	}
	res = do(http.MethodGet, "https://console.example.com", false)
	if res.StatusCode != http.StatusOK || res.Header.Get("Access-Control-Allow-Origin") != "https://console.example.com" {
		t.Errorf("GET from the allowed origin: %d %v", res.StatusCode, res.Header)
	}
	for _, method := range []string{http.MethodOptions, http.MethodGet} {
		if res := do(method, "https://evil.example.com", method == http.MethodOptions); res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s from another origin got CORS headers: %v", method, res.Header)
		}
	}
}

// Without API keys imbridge answers only its own machine's programs: a
// request for another Host (a page that renamed its host to 127.0.0.1) or
// from another page's Origin (a cross-site POST, which needs no preflight
// as text/plain) is refused; its own pages and CORS origins are not, nor
// the signed webhook, which a proxy may bring under any name.
func TestLocalOnly(t *testing.T) {
	t.Parallel()
	s := startStack(t, gateway.Options{LocalOnly: true, CORSAllowedOrigins: []string{"https://console.example.com"}})
	call := func(host, origin string) answer {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.base+"/v1/orgs/demo/apps/app/subscriptions?subscriptionId=planted", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "text/plain")
		if host != "" {
			req.Host = host
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return answer{code: res.StatusCode, header: res.Header, body: string(b)}
	}
	own := strings.TrimPrefix(s.base, "http://")
	wantError(t, "another host", call("evil.example:80", ""), 403, 7, server.ReasonPermissionDenied, map[string]string{"host": "evil.example:80"})
	wantError(t, "another page", call("", "https://evil.example"), 403, 7, server.ReasonPermissionDenied, map[string]string{"origin": "https://evil.example"})
	for _, c := range []struct{ host, origin string }{
		{"", ""}, {"", "http://" + own}, {"", "https://console.example.com"}, {"localhost:" + strings.Split(own, ":")[1], ""}, {"[::1]:80", ""},
	} {
		if a := call(c.host, c.origin); a.code == http.StatusForbidden {
			t.Errorf("Host %q Origin %q: refused: %s", c.host, c.origin, a.body)
		}
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.base+gateway.WebhookPath, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "bridge.example.com"
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode == http.StatusForbidden {
		t.Error("the webhook under a public name: refused")
	}
	// From a page (an Origin), the webhook is not the vendor's: an app may
	// take unsigned_selectors unsigned.
	req, err = http.NewRequestWithContext(t.Context(), http.MethodPost, s.base+gateway.WebhookPath, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", "https://evil.example")
	res, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("the webhook from another page: %d, want 403", res.StatusCode)
	}
}

// Running open, a page that renamed its host to 127.0.0.1 (DNS rebinding)
// posting to the webhook as its own origin (Origin and Host
// evil.example:8080) is refused for its Host, as any request from a page
// is: it could store forged events of an app's unsigned_selectors.
func TestLocalOnlyWebhookFromAPageChecksHost(t *testing.T) {
	t.Parallel()
	s := startStack(t, gateway.Options{LocalOnly: true})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.base+gateway.WebhookPath, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "evil.example:8080"
	req.Header.Set("Origin", "http://evil.example:8080")
	req.Header.Set("Content-Type", "text/plain")
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("the webhook from a rebinding page (Host = Origin = evil.example:8080): %d, want 403", res.StatusCode)
	}
}
