package easemob

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestTokenCachedAndReused(t *testing.T) {
	t.Parallel()
	v := newVendor(t, nil)
	e := newEnv(t, v, Options{})
	for range 3 {
		if err := e.app.MuteAll(ctxT(t), "r1"); err != nil {
			t.Fatal(err)
		}
	}
	if got := v.fetches(); got != 1 {
		t.Errorf("token fetches = %d, want 1", got)
	}
	for _, r := range v.requests() {
		if got := r.Header.Get("Authorization"); got != "Bearer tok-1" {
			t.Errorf("Authorization = %q, want the cached token", got)
		}
	}
}

func TestTokenConcurrentCallersFetchOnce(t *testing.T) {
	t.Parallel()
	v := newVendor(t, nil)
	v.tokenDelay = 100 * time.Millisecond // callers arrive while the fetch runs
	for _, err := range listAdminsAtOnce(t, newEnv(t, v, Options{}), 20) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := v.fetches(); got != 1 {
		t.Errorf("token fetches = %d, want 1", got)
	}
	if got := len(v.requests()); got != 20 {
		t.Errorf("requests = %d, want 20", got)
	}
}

func TestToken401RefetchesAndReplaysOnce(t *testing.T) {
	t.Parallel()
	expired := `{"error":"unauthorized","error_description":"Unable to authenticate due to expired access token"}`
	v := newVendor(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if r.Header.Get("Authorization") == "Bearer tok-1" {
			writeJSON(w, 401, expired)
			return
		}
		writeJSON(w, 200, `{"data":{"id":"r1","result":true}}`)
	})
	e := newEnv(t, v, Options{})
	// A non-idempotent call: a 401 means it was not processed, so the
	// replay is safe.
	if err := e.app.UpdateAnnouncement(ctxT(t), "r1", "hello"); err != nil {
		t.Fatal(err)
	}
	if got := v.fetches(); got != 2 {
		t.Errorf("token fetches = %d, want 2", got)
	}
	reqs := v.requests()
	if len(reqs) != 2 || reqs[1].Header.Get("Authorization") != "Bearer tok-2" {
		t.Errorf("requests = %d (want 2), the replay must carry the new token", len(reqs))
	}
}

func TestToken401NotMoreThanOnce(t *testing.T) {
	t.Parallel()
	v := newVendor(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 401, `{"error":"auth_bad_access_token","error_description":"Unable to authenticate"}`)
	})
	e := newEnv(t, v, Options{})
	_, err := e.app.GetChatrooms(ctxT(t), "r1")
	var ve *Error
	if !errors.As(err, &ve) || ve.Status != 401 || ve.Type != "auth_bad_access_token" || ve.Op != "GetChatrooms" {
		t.Fatalf("err = %v, want the vendor's 401", err)
	}
	assertClean(t, err)
	if f, n := v.fetches(), len(v.requests()); f != 2 || n != 2 {
		t.Errorf("token fetches = %d, requests = %d; want 2 and 2", f, n)
	}
}

func TestToken401MetadataExceptionIsNotATokenError(t *testing.T) {
	t.Parallel()
	v := newVendor(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 401, `{"error":"MetadataException","error_description":"user is not in chatroom"}`)
	})
	e := newEnv(t, v, Options{})
	_, err := e.app.SetAttributes(ctxT(t), "r1", "u1", map[string]string{"k": "v"}, true, false)
	var ve *Error
	if !errors.As(err, &ve) || ve.Status != 401 || ve.Type != "MetadataException" {
		t.Fatalf("err = %v", err)
	}
	if f, n := v.fetches(), len(v.requests()); f != 1 || n != 1 {
		t.Errorf("token fetches = %d, requests = %d; want 1 and 1", f, n)
	}
}

func TestTokenExpiryMargin(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		ttl  time.Duration
		want time.Time // zero: never expires
	}{
		{2 * time.Hour, start.Add(2*time.Hour - 5*time.Minute)}, // 10% = 12 min > 5 min
		{10 * time.Minute, start.Add(9 * time.Minute)},          // 10% = 1 min
		{0, time.Time{}},
	} {
		var c tokenCache
		c.store("x", tc.ttl, start)
		if !c.expires.Equal(tc.want) {
			t.Errorf("ttl %s: expires %v, want %v", tc.ttl, c.expires, tc.want)
		}
	}
}

func TestTokenRefetchedWhenExpired(t *testing.T) {
	t.Parallel()
	v := newVendor(t, nil)
	e := newEnv(t, v, Options{})
	if _, err := e.app.ListAllowlist(ctxT(t), "r1"); err != nil {
		t.Fatal(err)
	}
	e.app.tok.mu.Lock()
	e.app.tok.expires = time.Now().Add(-time.Second) // past the margin
	e.app.tok.mu.Unlock()
	if _, err := e.app.ListAllowlist(ctxT(t), "r1"); err != nil {
		t.Fatal(err)
	}
	reqs := v.requests()
	if v.fetches() != 2 || reqs[1].Header.Get("Authorization") != "Bearer tok-2" {
		t.Errorf("fetches = %d; the second call must use a new token", v.fetches())
	}
}

func TestTokenFetchErrorIsCleanAndNamed(t *testing.T) {
	t.Parallel()
	v := newVendor(t, nil)
	v.tokenStatus = 400
	// A vendor that echoes the secret must not get it into our errors.
	v.tokenBody = `{"error":"invalid_grant","error_description":"client_secret does not match: ` + testSecret + `"}`
	e := newEnv(t, v, Options{})
	_, err := e.app.ListAdmins(ctxT(t), "r1")
	var ve *Error
	if !errors.Is(err, ErrTokenFetch) || !errors.As(err, &ve) || ve.Op != OpToken || ve.Status != 400 {
		t.Fatalf("err = %v, want ErrTokenFetch around the token endpoint's 400", err)
	}
	assertClean(t, err)
	if !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("err = %v, want the echoed secret redacted", err)
	}
	if n := len(v.requests()); n != 0 {
		t.Errorf("the operation was sent %d times without a token", n)
	}
}

// The vendor bans apps that request tokens too often (chatroom-api.md §2):
// while it refuses the credentials, or refuses every token it hands out,
// a burst of calls asks for a token about once a second (tokenFailHold),
// not once a call. The bound counts the seconds the burst took, so that
// a slow machine cannot break it.
func TestRefusedTokensAreNotFetchedPerCall(t *testing.T) {
	t.Parallel()
	refusedSecret := newVendor(t, nil)
	refusedSecret.tokenStatus = 400
	refusedSecret.tokenBody = `{"error":"invalid_grant","error_description":"client_secret does not match"}`
	refusedToken := newVendor(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 401, `{"error":"auth_bad_access_token","error_description":"Unable to authenticate"}`)
	})
	for name, tc := range map[string]struct {
		v    *fakeVendor
		want func(error) bool
	}{
		"secret refused": {refusedSecret, func(err error) bool { return errors.Is(err, ErrTokenFetch) }},
		"every token refused": {refusedToken, func(err error) bool {
			var ve *Error
			return errors.As(err, &ve) && ve.Status == 401
		}},
	} {
		e := newEnv(t, tc.v, Options{RateLimits: DefaultRateLimits()})
		start := time.Now()
		for range 50 {
			if _, err := e.app.ListAdmins(ctxT(t), "r1"); !tc.want(err) {
				t.Fatalf("%s: err = %v", name, err)
			}
		}
		if f, most := tc.v.fetches(), 2+int(time.Since(start)/tokenFailHold); f > most {
			t.Errorf("%s: 50 calls made %d token requests, want at most %d", name, f, most)
		}
	}
}

// Calls refused together with the same expired token share the one
// refresh, and every one of them succeeds with the new token.
func TestConcurrent401sShareOneRefresh(t *testing.T) {
	t.Parallel()
	v := newVendor(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if r.Header.Get("Authorization") == "Bearer tok-1" {
			writeJSON(w, 401, `{"error":"unauthorized","error_description":"Unable to authenticate due to expired access token"}`)
			return
		}
		writeJSON(w, 200, `{"data":[]}`)
	})
	for _, err := range listAdminsAtOnce(t, newEnv(t, v, Options{}), 20) {
		if err != nil {
			t.Errorf("err = %v", err)
		}
	}
	if f := v.fetches(); f != 2 {
		t.Errorf("token fetches = %d, want 2", f)
	}
}

// listAdminsAtOnce makes n ListAdmins calls at once, and returns their
// errors.
func listAdminsAtOnce(t *testing.T, e *testEnv, n int) []error {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = e.app.ListAdmins(ctxT(t), "r1") })
	}
	wg.Wait()
	return errs
}
