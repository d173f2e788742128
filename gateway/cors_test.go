package gateway_test

import (
	"net/http"
	"testing"

	"github.com/imbridge/imbridge/gateway"
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
