package emulator

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestFailNext(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.e.FailNext(http.StatusTooManyRequests, 2, 1500*time.Millisecond)
	// Token requests neither fail nor count.
	f.token = f.getToken(testAppkey, testID, testSecret)
	for i := 0; i < 2; i++ {
		r := f.do("GET", "/chatrooms", nil)
		wantErr(t, r, 429, "reach_limit", "This request has reached api limit")
		if got := r.header.Get("Retry-After"); got != "2" {
			t.Errorf("Retry-After = %q, want 2 (seconds, rounded up)", got)
		}
	}
	f.ok("GET", "/chatrooms", nil)

	f.e.FailNext(http.StatusServiceUnavailable, 1, 0)
	r := f.do("POST", "/chatrooms", map[string]any{"name": "n", "description": "d", "owner": "owner"})
	wantErr(t, r, 503, "service_unavailable", "Service Unavailable")
	if r.header.Get("Retry-After") != "" {
		t.Errorf("Retry-After sent with retryAfter 0")
	}
	// The failed create changed nothing.
	if n := len(f.ok("GET", "/chatrooms", nil).dataList()); n != 0 {
		t.Errorf("%d rooms after a failed create", n)
	}
	// A failure is injected before authentication, as a rate limit is.
	f.e.FailNext(http.StatusInternalServerError, 1, 0)
	wantErr(t, f.send("GET", "/acme/chat/chatrooms", "", nil), 500, "internal_server_error", "Internal Server Error")
	f.e.FailNext(http.StatusBadGateway, 5, 0)
	f.e.FailNext(http.StatusBadGateway, 0, 0)
	f.ok("GET", "/chatrooms", nil)
}

func TestSetLatency(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.e.SetLatency(150 * time.Millisecond)
	start := time.Now()
	f.ok("GET", "/chatrooms", nil)
	if took := time.Since(start); took < 150*time.Millisecond {
		t.Errorf("answer took %v, want at least 150ms", took)
	}
	// A request whose context ends while waiting is abandoned.
	f.e.SetLatency(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", f.srv.URL+"/acme/chat/chatrooms", nil)
	req.Header.Set("Authorization", "Bearer "+f.token)
	resp, err := f.srv.Client().Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("request with a one-hour latency answered")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the deadline", err)
	}
	f.e.SetLatency(0)
	f.ok("GET", "/chatrooms", nil)
}

// Each API answers 429 past its documented calls a second per app key
// (limitationapi.md: 100, list and create rooms 50), counted on the
// emulator's clock, API by API and app by app.
func TestDocumentedRateLimits(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.createRoom() // one create of the 50 this second
	for range 49 {
		f.ok("POST", "/chatrooms", map[string]any{"name": "n", "description": "d", "owner": "owner"})
	}
	wantErr(t, f.do("POST", "/chatrooms", map[string]any{"name": "n", "description": "d", "owner": "owner"}), 429, "reach_limit", "This request has reached api limit")
	for range 50 {
		f.ok("GET", "/chatrooms", nil)
	}
	wantErr(t, f.do("GET", "/chatrooms", nil), 429, "reach_limit", "This request has reached api limit")
	for range 100 {
		f.ok("GET", "/chatrooms/"+id, nil)
	}
	wantErr(t, f.do("GET", "/chatrooms/"+id, nil), 429, "reach_limit", "This request has reached api limit")
	// Another app has its own budget.
	other := f.getToken("other#app", "o", "o")
	if r := f.send("GET", "/other/app/chatrooms", "Bearer "+other, nil); r.status != http.StatusOK {
		t.Errorf("another app's list rooms: %d %s", r.status, r.raw)
	}
	f.clock.Advance(time.Second)
	f.ok("GET", "/chatrooms", nil)
	f.ok("GET", "/chatrooms/"+id, nil)
}
