package easemob

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/imbridge/imbridge/internal/testlog"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	testAppkey = "org1#app1"
	testID     = "client-id-1"
	testSecret = "S3CRET-client-secret-do-not-leak"
)

// rec is one request the scripted vendor received.
type rec struct {
	Method string
	URI    string // raw request URI, relative to /org1/app1
	Header http.Header
	Body   []byte
	At     time.Time
}

// fakeVendor scripts the vendor: it answers the token endpoint itself
// (tokens "tok-1", "tok-2"…, each valid ttl seconds) and hands every other
// request to handle, recording them all.
type fakeVendor struct {
	srv *httptest.Server

	mu          sync.Mutex
	reqs        []rec
	tokenFetch  int
	tokenTTL    int
	tokenDelay  time.Duration
	tokenStatus int    // 0: 200
	tokenBody   string // with tokenStatus
	handle      func(w http.ResponseWriter, r *http.Request, body []byte)
}

func newVendor(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, body []byte)) *fakeVendor {
	t.Helper()
	v := &fakeVendor{handle: handle, tokenTTL: 7200}
	v.srv = httptest.NewServer(http.HandlerFunc(v.serve))
	t.Cleanup(v.srv.Close)
	return v
}

func (v *fakeVendor) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	uri := strings.TrimPrefix(r.RequestURI, "/org1/app1")
	v.mu.Lock()
	if uri == "/token" {
		v.tokenFetch++
		n, ttl, delay, status, tbody := v.tokenFetch, v.tokenTTL, v.tokenDelay, v.tokenStatus, v.tokenBody
		v.mu.Unlock()
		if delay > 0 {
			time.Sleep(delay) // the scripted server is slow; callers pile up
		}
		if status != 0 {
			w.WriteHeader(status)
			io.WriteString(w, tbody)
			return
		}
		var in tokenRequest
		if json.Unmarshal(body, &in) != nil || in.GrantType != "client_credentials" || in.ClientID != testID || in.ClientSecret != testSecret ||
			r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			writeJSON(w, 400, `{"error":"invalid_grant","error_description":"client_secret does not match"}`)
			return
		}
		writeJSON(w, 200, fmt.Sprintf(`{"access_token":"tok-%d","expires_in":%d,"application":"uuid"}`, n, ttl))
		return
	}
	v.reqs = append(v.reqs, rec{Method: r.Method, URI: uri, Header: r.Header.Clone(), Body: body, At: time.Now()})
	h := v.handle
	v.mu.Unlock()
	if h == nil {
		if r.Method == http.MethodGet {
			writeJSON(w, 200, `{"data":[]}`)
		} else {
			writeJSON(w, 200, `{"data":{}}`)
		}
		return
	}
	h(w, r, body)
}

func (v *fakeVendor) requests() []rec {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]rec(nil), v.reqs...)
}

func (v *fakeVendor) fetches() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.tokenFetch
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// noLimits lifts every client-side rate limit, for tests about other things.
func noLimits() map[string]float64 {
	m := DefaultRateLimits()
	for k := range m {
		m[k] = math.Inf(1)
	}
	return m
}

// testEnv is an App talking to a fakeVendor, with its logs and metrics.
type testEnv struct {
	app  *App
	v    *fakeVendor
	logs *testlog.Buffer
	reg  *prometheus.Registry
}

// newEnv builds an App on v. Unless opts sets them, backoff is 1–5ms and
// there are no client-side rate limits.
func newEnv(t *testing.T, v *fakeVendor, opts Options) *testEnv {
	t.Helper()
	e := &testEnv{v: v, logs: &testlog.Buffer{}, reg: prometheus.NewRegistry()}
	if opts.BackoffInitial == 0 {
		opts.BackoffInitial, opts.BackoffMax = time.Millisecond, 5*time.Millisecond
	}
	if opts.RateLimits == nil {
		opts.RateLimits = noLimits()
	}
	opts.Logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts.Registerer = e.reg
	c, err := New([]AppConfig{{Appkey: testAppkey, BaseURL: v.srv.URL, ClientID: testID, ClientSecret: testSecret}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	a, ok := c.App(testAppkey)
	if !ok {
		t.Fatal("app missing")
	}
	e.app = a
	t.Cleanup(func() { e.assertNoSecrets(t) })
	return e
}

// assertNoSecrets checks the logs and metrics for the secret and any token.
func (e *testEnv) assertNoSecrets(t *testing.T) {
	t.Helper()
	var sb strings.Builder
	sb.WriteString(e.logs.String())
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		sb.WriteString(mf.String())
	}
	all := sb.String()
	if strings.Contains(all, testSecret) || strings.Contains(all, "tok-") {
		t.Errorf("a secret or token leaked into logs or metrics:\n%s", all)
	}
}

// assertClean fails if err's text holds the secret or a token.
func assertClean(t *testing.T, err error) {
	t.Helper()
	if err != nil && (strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), "tok-")) {
		t.Errorf("error leaks a secret or token: %v", err)
	}
}

// ctxT is a context bounded well beyond what any test needs.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
