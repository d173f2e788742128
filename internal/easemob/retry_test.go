package easemob

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// maxInWindow is the most requests any window of length w holds.
func maxInWindow(reqs []rec, w time.Duration) int {
	best := 0
	for i := range reqs {
		n := 0
		for j := i; j < len(reqs) && reqs[j].At.Sub(reqs[i].At) < w; j++ {
			n++
		}
		best = max(best, n)
	}
	return best
}

func TestRetry429StormRespectsRateLimit(t *testing.T) {
	t.Parallel()
	// 10 calls/s: arrivals 100ms apart, so the jitter of the server's
	// timestamps cannot squeeze two extra requests into a window.
	const limit, callers, storm = 10, 20, 5
	var served atomic.Int64
	v := newVendor(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		if served.Add(1) <= storm { // the storm: the first answers
			w.Header().Set("Retry-After", "1")
			writeJSON(w, 429, `{"error":"too_many_requests","error_description":"slow down"}`)
			return
		}
		writeJSON(w, 200, `{"data":{"id":"r1","name":"n"}}`)
	})
	rates := noLimits()
	rates["GetChatrooms"] = limit
	e := newEnv(t, v, Options{RateLimits: rates})
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			_, err := e.app.GetChatrooms(ctxT(t), "r1")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	reqs := v.requests()
	if len(reqs) != callers+storm {
		t.Errorf("requests = %d, want %d + %d retries", len(reqs), callers, storm)
	}
	// The client sends calls 1/limit apart, so a one-second window holds at
	// most limit of them by send time. Arrival gaps at the server vary by a
	// few ms either way: allow one more at the window's edge (two more would
	// take a full 100ms of jitter).
	t.Logf("most requests in 1s: %d, in 0.5s: %d (limit %d/s)", maxInWindow(reqs, time.Second), maxInWindow(reqs, 500*time.Millisecond), limit)
	m := e.app.c.m
	if got := testutil.ToFloat64(m.limitWaits.WithLabelValues(testAppkey, "GetChatrooms")); got < callers/2 {
		t.Errorf("rate-limit waits = %v, want most calls to have waited", got)
	}
	if got := testutil.ToFloat64(m.retries.WithLabelValues(testAppkey, "GetChatrooms", "status_429")); got != storm {
		t.Errorf("429 retries = %v, want %d", got, storm)
	}
	if got := maxInWindow(reqs, time.Second); got > limit+1 {
		t.Errorf("%d requests within one second, limit %d", got, limit)
	}
	if got := maxInWindow(reqs, 500*time.Millisecond); got > limit/2+1 {
		t.Errorf("%d requests within half a second, limit %d/s", got, limit)
	}
}

func TestRetry429GivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	v := newVendor(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 429, `{"error":"reach_limit","error_description":"too many"}`)
	})
	e := newEnv(t, v, Options{MaxAttempts: 3})
	_, err := e.app.AddMembers(ctxT(t), "r1", []string{"u1"}) // POST: a 429 was not processed
	var ve *Error
	if !errors.Is(err, ErrRateLimited) || !errors.As(err, &ve) || ve.Status != 429 {
		t.Fatalf("err = %v, want ErrRateLimited", err)
	}
	if n := len(v.requests()); n != 3 {
		t.Errorf("requests = %d, want 3", n)
	}
}

func TestRetryAfterWouldPassDeadlineReturnsNow(t *testing.T) {
	t.Parallel()
	v := newVendor(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.Header().Set("Retry-After", "30")
		writeJSON(w, 429, `{}`)
	})
	e := newEnv(t, v, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := e.app.ListMutes(ctx, "r1")
	if !errors.Is(err, ErrRateLimited) || ctx.Err() != nil {
		t.Fatalf("err = %v (ctx %v), want ErrRateLimited before the deadline", err, ctx.Err())
	}
	if n := len(v.requests()); n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}
}

func TestRetry5xxForGET(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	v := newVendor(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		switch n.Add(1) {
		case 1:
			writeJSON(w, 500, `{"error":"internal","error_description":"boom"}`)
		case 2:
			w.WriteHeader(502)
			w.Write([]byte("<html>bad gateway</html>"))
		default:
			writeJSON(w, 200, `{"data":["u1","u2"],"count":2}`)
		}
	})
	e := newEnv(t, v, Options{})
	got, err := e.app.ListAdmins(ctxT(t), "r1")
	if err != nil || len(got) != 2 {
		t.Fatalf("got %v, %v", got, err)
	}
	if n := len(v.requests()); n != 3 {
		t.Errorf("requests = %d, want 3", n)
	}
	m := e.app.c.m
	for name, tc := range map[string]struct {
		c    prometheus.Collector
		want float64
	}{
		"retries":      {m.retries.WithLabelValues(testAppkey, "ListAdmins", "status_5xx"), 2},
		"requests ok":  {m.requests.WithLabelValues(testAppkey, "ListAdmins", "ok"), 1},
		"token ok":     {m.tokenFetches.WithLabelValues(testAppkey, "ok"), 1},
		"token errors": {m.tokenFetches.WithLabelValues(testAppkey, "error"), 0},
	} {
		if got := testutil.ToFloat64(tc.c); got != tc.want {
			t.Errorf("metric %s = %v, want %v", name, got, tc.want)
		}
	}
}

func TestRetry5xxExhausted(t *testing.T) {
	t.Parallel()
	v := newVendor(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 503, `{"error":"service_unavailable","error_description":"down"}`)
	})
	e := newEnv(t, v, Options{})
	_, err := e.app.GetAnnouncement(ctxT(t), "r1")
	var ve *Error
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &ve) || ve.Status != 503 || errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want ErrUnavailable with the 503", err)
	}
	if n := len(v.requests()); n != 4 {
		t.Errorf("requests = %d, want the default 4 attempts", n)
	}
}

func TestRetry5xxNotForPOST(t *testing.T) {
	t.Parallel()
	v := newVendor(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 500, `{"error":"internal","error_description":"boom"}`)
	})
	e := newEnv(t, v, Options{})
	_, err := e.app.CreateChatroom(ctxT(t), CreateChatroom{Name: "n", Description: "d", Owner: "o"})
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrOutcomeUnknown) || !strings.Contains(err.Error(), "outcome unknown") {
		t.Fatalf("err = %v, want ErrUnavailable, outcome unknown", err)
	}
	if n := len(v.requests()); n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}
}

func TestRetry503WithRetryAfterForPOST(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	v := newVendor(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			writeJSON(w, 503, `{}`)
			return
		}
		writeJSON(w, 200, `{"data":{"id":"r9"}}`)
	})
	e := newEnv(t, v, Options{})
	id, err := e.app.CreateChatroom(ctxT(t), CreateChatroom{Name: "n", Description: "d", Owner: "o"})
	if err != nil || id != "r9" {
		t.Fatalf("got %q, %v", id, err)
	}
}

// resetAfterRead reads the request, then resets the connection: the request
// reached the vendor and no answer comes back.
func resetAfterRead(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

func TestRetryResetAfterSendNotForPOST(t *testing.T) {
	t.Parallel()
	v := newVendor(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { resetAfterRead(w) })
	e := newEnv(t, v, Options{})
	_, err := e.app.MuteMembers(ctxT(t), "r1", []string{"u1"}, MuteDuration(time.Minute))
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrOutcomeUnknown) || !strings.Contains(err.Error(), "outcome unknown") {
		t.Fatalf("err = %v, want ErrUnavailable, outcome unknown", err)
	}
	assertClean(t, err)
	if n := len(v.requests()); n != 1 {
		t.Errorf("requests = %d, want 1: not retried", n)
	}
}

func TestRetryResetAfterSendForGET(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	v := newVendor(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		if n.Add(1) == 1 {
			resetAfterRead(w)
			return
		}
		writeJSON(w, 200, `{"data":{"announcement":"hi"}}`)
	})
	e := newEnv(t, v, Options{})
	got, err := e.app.GetAnnouncement(ctxT(t), "r1")
	if err != nil || got != "hi" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestRetryConnectionRefusedForPOST(t *testing.T) {
	t.Parallel()
	v := newVendor(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 200, `{"data":{"id":"r7"}}`)
	})
	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	var dials atomic.Int64
	d := &net.Dialer{}
	tr := &http.Transport{
		DisableKeepAlives: true, // every request dials
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			// Dial 1 is the token fetch; dials 2 and 3, the POST's first
			// two attempts, are refused.
			if n := dials.Add(1); n == 2 || n == 3 {
				addr = closed
			}
			return d.DialContext(ctx, network, addr)
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	e := newEnv(t, v, Options{HTTPClient: &http.Client{Transport: tr}})
	id, err := e.app.CreateChatroom(ctxT(t), CreateChatroom{Name: "n", Description: "d", Owner: "o"})
	if err != nil || id != "r7" {
		t.Fatalf("got %q, %v", id, err)
	}
	if n := len(v.requests()); n != 1 {
		t.Errorf("requests reaching the vendor = %d, want 1", n)
	}
	if n := dials.Load(); n != 4 {
		t.Errorf("dials = %d, want 4", n)
	}
}

func TestRetryConnectionRefusedExhausted(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close()
	c, err := New([]AppConfig{{Appkey: testAppkey, BaseURL: url, ClientID: testID, ClientSecret: testSecret}},
		Options{BackoffInitial: time.Millisecond, BackoffMax: time.Millisecond, RateLimits: noLimits()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a, _ := c.App(testAppkey)
	err = a.DeleteChatroom(ctxT(t), "r1")
	if !errors.Is(err, ErrTokenFetch) || !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want ErrTokenFetch and ErrUnavailable", err)
	}
	assertClean(t, err)
}

func TestCallerDeadlineRespected(t *testing.T) {
	t.Parallel()
	v := newVendor(t, func(_ http.ResponseWriter, r *http.Request, _ []byte) {
		select { // hang until the client gives up
		case <-r.Context().Done():
		case <-time.After(20 * time.Second):
		}
	})
	e := newEnv(t, v, Options{})
	for _, call := range []func(context.Context) error{
		func(ctx context.Context) error { _, err := e.app.ListMembers(ctx, "r1", 0, 0); return err },
		func(ctx context.Context) error { return e.app.AddMember(ctx, "r1", "u1") },
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		start := time.Now()
		err := call(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrUnavailable) {
			t.Errorf("err = %v, want the context's error", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("returned after %s, long past the deadline", d)
		}
	}
}

func TestCallerCancelDuringBackoff(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v := newVendor(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 500, `{}`)
		cancel() // the caller gives up while the client backs off
	})
	e := newEnv(t, v, Options{BackoffInitial: time.Hour, BackoffMax: time.Hour})
	_, err := e.app.ListAllowlist(ctx, "r1")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := len(v.requests()); n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}
}

func TestRateLimitWaitPastDeadlineFailsAtOnce(t *testing.T) {
	t.Parallel()
	v := newVendor(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 200, `{"data":[]}`)
	})
	rates := noLimits()
	rates["ListBlocklist"] = 0.2 // one call per 5 seconds
	e := newEnv(t, v, Options{RateLimits: rates})
	if _, err := e.app.ListBlocklist(ctxT(t), "r1"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := e.app.ListBlocklist(ctx, "r1")
	if !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		t.Fatalf("err = %v (ctx %v), want DeadlineExceeded before the deadline", err, ctx.Err())
	}
	if n := len(v.requests()); n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}
}

func TestRetryAfterParsing(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"3", 3 * time.Second, true},
		{" 0 ", 0, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
	} {
		h := http.Header{}
		if tc.v != "" {
			h.Set("Retry-After", tc.v)
		}
		got, ok := retryAfter(h, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Retry-After %q = %s, %v; want %s, %v", tc.v, got, ok, tc.want, tc.ok)
		}
	}
}

func TestAttemptTimeoutAfterSendNotForPOST(t *testing.T) {
	t.Parallel()
	v := newVendor(t, func(_ http.ResponseWriter, r *http.Request, _ []byte) {
		select { // hang past the client's per-attempt timeout
		case <-r.Context().Done():
		case <-time.After(20 * time.Second):
		}
	})
	e := newEnv(t, v, Options{RequestTimeout: 200 * time.Millisecond})
	err := e.app.TransferChatroomOwner(ctxT(t), "r1", "u2")
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want ErrUnavailable, outcome unknown", err)
	}
	if n := len(v.requests()); n != 1 {
		t.Errorf("requests = %d, want 1: not retried", n)
	}
}

func TestAttemptTimeoutRetriedForGET(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	v := newVendor(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if n.Add(1) == 1 {
			select {
			case <-r.Context().Done():
			case <-time.After(20 * time.Second):
			}
			return
		}
		writeJSON(w, 200, `{"data":{"t1":"-1"}}`)
	})
	e := newEnv(t, v, Options{RequestTimeout: 200 * time.Millisecond})
	got, err := e.app.GetMemberTags(ctxT(t), "r1", "u1")
	if err != nil || len(got) != 1 || !got[0].Permanent {
		t.Fatalf("got %v, %v", got, err)
	}
}

// imbridge_easemob_rate_limit_wait_seconds_total is the time calls spent
// waiting: a call cancelled 50ms into a 10s wait waited 50ms, not 10s.
func TestRateLimitWaitCountsTheTimeWaited(t *testing.T) {
	v := newVendor(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 200, `{"data":{"id":"r1","name":"n"}}`)
	})
	rates := noLimits()
	rates["GetChatrooms"] = 0.1 // one call every 10s
	e := newEnv(t, v, Options{RateLimits: rates})
	if _, err := e.app.GetChatrooms(ctxT(t), "r1"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	if _, err := e.app.GetChatrooms(ctx, "r1"); err == nil {
		t.Fatal("second call went through a 10s rate limit")
	}
	waited := time.Since(start).Seconds()
	got := testutil.ToFloat64(e.app.c.m.limitWaitSecs.WithLabelValues(testAppkey, "GetChatrooms"))
	if got > waited+0.5 {
		t.Errorf("rate_limit_wait_seconds_total = %.2fs, but the call waited %.2fs before it was cancelled", got, waited)
	}
}
