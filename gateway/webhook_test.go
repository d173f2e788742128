package gateway_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imbridge/imbridge/gateway"
	"github.com/imbridge/imbridge/internal/eventlog"
	"github.com/imbridge/imbridge/internal/ingest"
	"github.com/imbridge/imbridge/internal/selector"
	"github.com/imbridge/imbridge/internal/trigger"
)

// The webhook's HTTP contract: each outcome of ingest gets its status and
// a small JSON answer; only what retrying can fix is a 5xx.
func TestWebhookAnswers(t *testing.T) {
	events, err := eventlog.Open(t.Context(), eventlog.Config{DataDir: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer events.Close()
	drop, _ := selector.ParseAll([]string{"roster"})
	in, err := ingest.New([]ingest.App{{Appkey: "acme#chat", Secrets: []string{"s"}, Drop: drop}}, events,
		ingest.Options{AppendTimeout: time.Minute, Logger: quiet, Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	handler := gateway.Webhook(in, gateway.WebhookOptions{MaxBodyBytes: 4 << 10, BodyReadTimeout: time.Minute})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler(w, r, nil) }))
	defer srv.Close()

	build := func(sel string, o trigger.Options) []byte {
		o.Appkey, o.Secret, o.Now = "acme#chat", "s", time.Now()
		b, err := trigger.Build(sel, o)
		if err != nil {
			t.Fatal(err)
		}
		return b[len(b)-1]
	}
	msg := build("chat:txt", trigger.Options{})
	type answer struct {
		Result, Cursor, Error string
	}
	// post sends a body with its length announced; postChunked without,
	// as a sender that streams its body does.
	send := func(body io.Reader) (int, answer) {
		res, err := http.Post(srv.URL, "application/json", body)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var a answer
		if err := json.NewDecoder(res.Body).Decode(&a); err != nil {
			t.Fatalf("answer is not JSON: %v", err)
		}
		return res.StatusCode, a
	}
	post := func(body []byte) (int, answer) { return send(bytes.NewReader(body)) }
	postChunked := func(body []byte) (int, answer) { return send(io.MultiReader(bytes.NewReader(body))) }
	code, first := post(msg)
	if code != 200 || first.Result != "stored" || first.Cursor == "" {
		t.Fatalf("stored: %d %+v", code, first)
	}
	for _, tc := range []struct {
		name   string
		body   []byte
		code   int
		result string
	}{
		{"duplicate", msg, 200, "duplicate"},
		{"dropped by a rule", build("roster:add", trigger.Options{}), 200, "dropped"},
		{"not an object", []byte(`"x"`), 400, "malformed"},
		{"unknown app", []byte(`{"appkey":"x#y"}`), 401, "unknown_app"},
		{"unsigned", build("chat:txt", trigger.Options{Unsigned: true}), 401, "unsigned"},
		{"bad signature", build("chat:txt", trigger.Options{Tamper: true}), 401, "bad_signature"},
		{"over the limit", bytes.Repeat([]byte(" "), 5<<10), 413, "too_large"},
	} {
		code, a := post(tc.body)
		if code != tc.code || a.Result != tc.result {
			t.Errorf("%s: %d %+v, want %d %s", tc.name, code, a, tc.code, tc.result)
		}
		if tc.name == "duplicate" && a.Cursor != first.Cursor {
			t.Errorf("duplicate: cursor %s, want the original %s", a.Cursor, first.Cursor)
		}
		if tc.code != 200 && a.Error == "" {
			t.Errorf("%s: no error text", tc.name)
		}
	}
	// Whether its length is announced or not, a body is stored byte for
	// byte, and one over the limit is refused.
	for name, p := range map[string]func([]byte) (int, answer){"announced": post, "unannounced": postChunked} {
		body := build("chat:txt", trigger.Options{})
		code, a := p(body)
		cursor, err := strconv.ParseUint(a.Cursor, 10, 64)
		if code != 200 || a.Result != "stored" || err != nil {
			t.Fatalf("%s length: %d %+v", name, code, a)
		}
		ev, err := events.Get(t.Context(), cursor)
		if err != nil || !bytes.Equal(ev.GetRawBody(), body) {
			t.Errorf("%s length: stored raw body %q (%v), want the %d bytes sent", name, ev.GetRawBody(), err, len(body))
		}
		if code, a := p(bytes.Repeat([]byte(" "), 5<<10)); code != 413 || a.Result != "too_large" {
			t.Errorf("%s length over the limit: %d %+v, want 413 too_large", name, code, a)
		}
	}
	if err := events.Close(); err != nil {
		t.Fatal(err)
	}
	if code, a := post(build("chat:txt", trigger.Options{})); code != 503 || a.Result != "store_unavailable" {
		t.Errorf("event log closed: %d %+v, want 503 so that the vendor retries", code, a)
	}
}
