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
	srv := serveEmulator(t)
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

// A fault switch that the emulator cannot honour must be refused, not
// answered 204 while nothing was switched on: a person or a test that
// POSTs it believes the next requests will fail.
func TestControlRefusesFaultsItCannotHonour(t *testing.T) {
	srv := serveEmulator(t)
	for _, body := range []string{
		`{"status":200,"count":3}`,                             // not an error status: nothing fails
		`{"status":302,"count":3}`,                             // idem
		`{"count":3}`,                                          // no status: nothing fails
		`{"status":429,"count":-1}`,                            // negative count
		`{"status":429,"count":3,"retryAfter":"2s"}`,           // misspelt field: no Retry-After
		`{"status":503,"count":3,"retry_after":"2s"} trailing`, // not one JSON object
		`{"latency":"-1s"}`,                                    // negative latency
	} {
		res, err := http.Post(srv.URL+"/_emulator/faults", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("POST /_emulator/faults %s = %d, want 400", body, res.StatusCode)
		}
	}
}

// {"count":0} clears the injected failures, as the switch's documentation
// says ("Count 0 clears it").
func TestControlCountZeroClears(t *testing.T) {
	srv := serveEmulator(t)
	for _, body := range []string{`{"status":503,"count":5}`, `{"count":0}`} {
		res, err := http.Post(srv.URL+"/_emulator/faults", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNoContent {
			t.Fatalf("POST %s = %d", body, res.StatusCode)
		}
	}
	res, err := http.Get(srv.URL + "/org/app/chatrooms")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode == http.StatusServiceUnavailable {
		t.Errorf(`after {"count":0} the next request still answers 503`)
	}
}

// A retry_after with no count switches nothing on, so it is refused: a
// caller meaning to add a Retry-After to the current fault must not
// believe it did.
func TestControlRefusesRetryAfterAlone(t *testing.T) {
	srv := serveEmulator(t)
	for _, body := range []string{`{"retry_after":"2s"}`, `{"latency":"0s","retry_after":"2s"}`} {
		res, err := http.Post(srv.URL+"/_emulator/faults", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("POST /_emulator/faults %s = %d, want 400 (nothing was switched on)", body, res.StatusCode)
		}
	}
}

// serveEmulator serves an emulator of the app org#app and its switches,
// as imbridge emulate does.
func serveEmulator(t *testing.T) *httptest.Server {
	t.Helper()
	e, err := emulator.New(emulator.Options{Apps: []emulator.App{{Appkey: "org#app", ClientID: "id", ClientSecret: "secret"}}, AutoCreateUsers: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	mux := http.NewServeMux()
	mux.Handle(emulator.ControlPath, e.Control())
	mux.Handle("/", e)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}
