package gateway_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
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
// newWebhook serves the webhook alone, for the app acme#chat (secret s)
// with drop's rules, onto a real event log.
func newWebhook(t *testing.T, drop []string) (*httptest.Server, *eventlog.Log) {
	t.Helper()
	events, err := eventlog.Open(t.Context(), eventlog.Config{DataDir: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = events.Close() })
	rules, err := selector.ParseAll(drop)
	if err != nil {
		t.Fatal(err)
	}
	in, err := ingest.New([]ingest.App{{Appkey: "acme#chat", Secrets: []string{"s"}, Drop: rules}}, events,
		ingest.Options{AppendTimeout: time.Minute, Logger: quiet, Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	handler := gateway.Webhook(in, gateway.WebhookOptions{MaxBodyBytes: 4 << 10, BodyReadTimeout: time.Minute})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler(w, r, nil) }))
	t.Cleanup(srv.Close)
	return srv, events
}

func TestWebhookAnswers(t *testing.T) {
	srv, events := newWebhook(t, []string{"roster"})

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

// A body that cannot be read whole (a broken chunked encoding, or fewer
// bytes than announced from a sender that half-closes and waits for the
// answer) was not stored: it is answered 400 malformed, never the
// implicit 200 of a handler that writes nothing, which the vendor would
// take for delivered and never retry.
func TestUnreadableBodyIsRefused(t *testing.T) {
	srv, events := newWebhook(t, nil)
	for name, req := range map[string]string{
		"bad chunk size": "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\nzz\r\n",
		"short body":     "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"appkey\":\"acme#chat\"",
	} {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(conn, req); err != nil {
			t.Fatal(err)
		}
		_ = conn.(*net.TCPConn).CloseWrite()
		_ = conn.SetReadDeadline(time.Now().Add(time.Minute)) // only turns a hang into a failure
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: no answer: %v", name, err)
		}
		answer, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusBadRequest || !bytes.Contains(answer, []byte(`"result":"malformed"`)) {
			t.Errorf("%s: %s %s, want 400 malformed", name, res.Status, answer)
		}
		_ = conn.Close()
	}
	if head, err := events.Head(t.Context()); err != nil || head != 0 {
		t.Errorf("log head %d (%v), want nothing stored", head, err)
	}
}

// A request that announces a body of the whole limit and sends next to
// nothing does not make the webhook hold the limit: a few hundred such
// requests, each a line of headers, would hold gigabytes for
// body_read_timeout before anything is authenticated.
func TestAnnouncedLengthIsNotTrustedForMemory(t *testing.T) {
	const limit = 4 << 20
	b, err := gateway.ReadBody(strings.NewReader("{}"), limit, limit)
	if err != nil || string(b) != "{}" {
		t.Fatalf("read %q, %v", b, err)
	}
	if cap(b) > limit/16 {
		t.Errorf("a 2-byte body announced as %d bytes holds %d bytes", limit, cap(b))
	}
	// A body of the length announced still comes in whole.
	body := strings.Repeat("x", limit)
	if b, err := gateway.ReadBody(strings.NewReader(body), limit, limit); err != nil || string(b) != body {
		t.Errorf("a %d-byte body read as %d bytes, %v", limit, len(b), err)
	}
}

// A body announced over the limit is refused before it is read: a sender
// that waits for 100 Continue is answered 413 at once, and sends nothing.
func TestAnnouncedOversizeBodyIsRefusedUnread(t *testing.T) {
	srv, _ := newWebhook(t, nil)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(time.Minute)) // only turns a hang into a failure
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	answer, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusRequestEntityTooLarge || !bytes.Contains(answer, []byte(`"result":"too_large"`)) {
		t.Errorf("a body announced over the limit, waiting for 100 Continue: %s %s, want 413 too_large at once", res.Status, answer)
	}
}
