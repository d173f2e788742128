package app_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/imbridge/imbridge/internal/config"
)

// A client that sends its body one byte a second cannot hold the webhook:
// past the body read deadline it gets 408 and the connection is closed,
// and the refusal is counted.
func TestSlowBodyGets408(t *testing.T) {
	r, answer := postSlowly(t, "/v1/callbacks/easemob", strings.Repeat("{", 60))
	if !strings.HasPrefix(answer, "HTTP/1.1 408") || !strings.Contains(answer, `"timeout"`) {
		t.Fatalf("slow body answered %q, want 408 timeout", answer)
	}
	metrics := httpGet(t, "http://"+r.app.HTTPAddr().String()+"/metrics", "").body
	if !strings.Contains(metrics, `imbridge_callbacks_rejected_total{family="none",reason="timeout"} 1`) {
		t.Errorf("the timeout is not counted:\n%s", grepLines(metrics, "rejected_total"))
	}
	if !strings.Contains(metrics, "imbridge_http_header_reads_cut_total 0") {
		t.Errorf("a request whose headers arrived counts as a cut header read:\n%s", grepLines(metrics, "header_reads_cut"))
	}
}

// The REST routes share the webhook's listener, and a REST body is read
// whole before its API key is checked: a client that trickles one is cut
// off at body_read_timeout as a slow callback is, with a 400 naming the
// body, so that nobody who reaches the listener holds connections (and up
// to 4 MiB each) for as long as it likes.
func TestSlowRESTBodyIsCut(t *testing.T) {
	_, answer := postSlowly(t, "/v1/orgs/acme/apps/chat/chatrooms", strings.Repeat(" ", 15))
	if !strings.HasPrefix(answer, "HTTP/1.1 400") || !strings.Contains(answer, "body: not received in time") || !strings.Contains(answer, `"field":"body"`) {
		t.Fatalf("slow REST body answered %q, want 400 naming the body", answer)
	}
}

// Headers sent one byte a second are cut off at the header deadline.
func TestSlowHeadersAreCut(t *testing.T) {
	cfg := ingestConfig(t)
	cfg.HTTPReadHeaderTimeout = config.Duration(time.Second)
	r := start(t, cfg)
	conn := dial(t, r)
	answer := trickle(t, conn, "POST /v1/callbacks/easemob HTTP/1.1\r\nHost: x\r\nX-Slow: "+strings.Repeat("a", 20))
	// Go's server closes the connection, saying 400 or nothing at all.
	if answer != "" && !strings.HasPrefix(answer, "HTTP/1.1 4") {
		t.Fatalf("slow headers answered %q, want the connection closed", answer)
	}
	// The server counts the cut once it has closed its side, which may
	// come a moment after the client sees it: poll, bounded.
	want := "imbridge_http_header_reads_cut_total 1"
	var metrics string
	for range 600 {
		if metrics = httpGet(t, "http://"+r.app.HTTPAddr().String()+"/metrics", "").body; strings.Contains(metrics, want) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("the cut is not counted after 60s:\n%s", grepLines(metrics, "header_reads_cut"))
}

func dial(t *testing.T, r *running) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", r.app.HTTPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// postSlowly starts imbridge with a body_read_timeout of 1s and POSTs body
// to path, announced whole and sent a byte a second; it returns imbridge
// and the answer, as trickle reads it.
func postSlowly(t *testing.T, path, body string) (*running, string) {
	t.Helper()
	cfg := ingestConfig(t)
	cfg.Webhook.BodyReadTimeout = config.Duration(time.Second)
	r := start(t, cfg)
	conn := dial(t, r)
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, len(body))
	return r, trickle(t, conn, body)
}

// trickle writes data one byte a second until the server answers or
// closes, and returns what it answered. It fails the test if all of data
// was sent without the server cutting in: the deadline did not work.
func trickle(t *testing.T, conn net.Conn, data string) string {
	t.Helper()
	answered := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(bufio.NewReader(conn))
		answered <- string(b)
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for i := 0; i < len(data); i++ {
		select {
		case a := <-answered:
			return a
		case <-tick.C:
			if _, err := conn.Write([]byte{data[i]}); err != nil {
				return <-answered // the server closed the connection
			}
		}
	}
	t.Fatalf("the server let a client trickle %d bytes over %d seconds", len(data), len(data))
	return ""
}

func grepLines(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// A CORS preflight answered in full (204), on a connection the client
// closes after it, had its headers read whole: it is no cut header read.
func TestPreflightIsNoCutHeaderRead(t *testing.T) {
	cfg := ingestConfig(t)
	cfg.CORSAllowedOrigins = []string{"https://ops.example"}
	r := start(t, cfg)
	conn := dial(t, r)
	if _, err := io.WriteString(conn, "OPTIONS /v1/status HTTP/1.1\r\nHost: x\r\nOrigin: https://ops.example\r\n"+
		"Access-Control-Request-Method: GET\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(conn)
	if !strings.HasPrefix(string(answer), "HTTP/1.1 204") {
		t.Fatalf("preflight answered %q, want 204", answer)
	}
	time.Sleep(500 * time.Millisecond) // the server counts once it closed its side
	metrics := httpGet(t, "http://"+r.app.HTTPAddr().String()+"/metrics", "").body
	if !strings.Contains(metrics, "imbridge_http_header_reads_cut_total 0") {
		t.Errorf("an answered preflight counts as a cut header read:\n%s", grepLines(metrics, "header_reads_cut"))
	}
}

// Without api_keys, a request for another Host is answered 403 in full:
// its headers were read, and it is no cut header read either.
func TestLocalOnlyRefusalIsNoCutHeaderRead(t *testing.T) {
	cfg := ingestConfig(t)
	cfg.APIKeys = nil
	r := start(t, cfg)
	conn := dial(t, r)
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: rebound.example\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(conn)
	if !strings.HasPrefix(string(answer), "HTTP/1.1 403") {
		t.Fatalf("foreign Host answered %q, want 403", answer)
	}
	time.Sleep(500 * time.Millisecond)
	metrics := httpGet(t, "http://"+r.app.HTTPAddr().String()+"/metrics", "").body
	if !strings.Contains(metrics, "imbridge_http_header_reads_cut_total 0") {
		t.Errorf("a refused foreign Host counts as a cut header read:\n%s", grepLines(metrics, "header_reads_cut"))
	}
}
