package emulator_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/imbridge/imbridge/internal/emulator"
)

// The switches work over HTTP too, for an emulator run as a process.
func TestControlOverHTTP(t *testing.T) {
	e, err := emulator.New(emulator.Options{Apps: []emulator.App{{Appkey: "org#app", ClientID: "id", ClientSecret: "secret"}}, AutoCreateUsers: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	mux := http.NewServeMux()
	mux.Handle(emulator.ControlPath, e.Control())
	mux.Handle("/", e)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	post := func(path, body string) int {
		res, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := post("/_emulator/faults", `{"status":429,"count":1,"retry_after":"2s"}`); code != http.StatusNoContent {
		t.Fatalf("POST faults = %d", code)
	}
	res, err := http.Get(srv.URL + "/org/app/chatrooms")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "2" {
		t.Errorf("after the switch: %d Retry-After %q, want 429 and 2", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if code := post("/_emulator/faults", `{"latency":"soon"}`); code != http.StatusBadRequest {
		t.Errorf("a bad latency = %d, want 400", code)
	}
	if code := post("/_emulator/expire-tokens", ``); code != http.StatusNoContent {
		t.Errorf("POST expire-tokens = %d", code)
	}
}
