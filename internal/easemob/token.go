package easemob

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// maxTokenMargin bounds how long before expires_in a cached token is dropped
// (10% of its life or this, whichever is smaller).
const maxTokenMargin = 5 * time.Minute

// tokenFailHold is how long a failed token fetch answers the calls that
// follow, so that a refused secret or a token endpoint that is down does
// not make every call ask again (the vendor bans apps that request tokens
// too often).
const tokenFailHold = time.Second

// tokenCache holds an app's token. One caller at a time fetches it; the
// others wait for that fetch (or their own context).
type tokenCache struct {
	app *App
	sf  singleflight.Group

	mu      sync.Mutex
	token   string
	gen     uint64    // bumped on every fetch; names the token a call used
	expires time.Time // zero: never expires
	valid   bool

	failErr error // the last fetch's error, until failAt+tokenFailHold
	failAt  time.Time

	refusedAt time.Time // when a 401 last made invalidate drop the token
}

// issued is a token as a fetch stored it.
type issued struct {
	token   string
	gen     uint64
	expires time.Time // zero: never
}

// get returns a valid token and its generation, fetching one if needed.
func (t *tokenCache) get(ctx context.Context) (string, uint64, error) {
	if tok, gen, ok := t.cached(); ok {
		return tok, gen, nil
	}
	if err := t.recentFailure(); err != nil {
		return "", 0, err
	}
	ch := t.sf.DoChan("token", func() (any, error) {
		if tok, gen, ok := t.cached(); ok { // a fetch just ended
			return issued{token: tok, gen: gen}, nil
		}
		if err := t.recentFailure(); err != nil {
			return nil, err
		}
		// The fetch outlives the caller that started it: the others wait
		// on it. It is bounded by its own timeouts and attempts.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.app.c.tokenBudget())
		defer cancel()
		is, err := t.fetch(fctx)
		if err != nil {
			t.mu.Lock()
			t.failErr, t.failAt = err, time.Now()
			t.mu.Unlock()
			return nil, err
		}
		return is, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return "", 0, r.Err
		}
		// The token the fetch got, even if another caller's call was
		// refused with it meanwhile: reading the cache again would fail
		// every caller that waited on the fetch. A call refused with it
		// refreshes it as any call does.
		is := r.Val.(issued)
		if !is.expires.IsZero() && !time.Now().Before(is.expires) {
			return "", 0, fmt.Errorf("easemob: %s: %s: the token expired as it was fetched", t.app.key, OpToken)
		}
		return is.token, is.gen, nil
	case <-ctx.Done():
		return "", 0, ctx.Err()
	}
}

// recentFailure is the last fetch's error while it is held.
func (t *tokenCache) recentFailure() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.failErr != nil && time.Since(t.failAt) < tokenFailHold {
		return t.failErr
	}
	return nil
}

func (t *tokenCache) cached() (string, uint64, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.valid && (t.expires.IsZero() || time.Now().Before(t.expires)) {
		return t.token, t.gen, true
	}
	return "", 0, false
}

// current is the cached token, valid or not, for scrubbing.
func (t *tokenCache) current() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.token
}

// invalidate drops the token of generation gen after the vendor refused it,
// and reports whether a replay may help. A newer token (fetched meanwhile
// by another caller) is kept, and replaying with it may help. A token
// refused within tokenFailHold of the last refusal is kept and not
// replaced: fetching another at once would not help, and would ask the
// token endpoint once a call while the vendor refuses every token.
func (t *tokenCache) invalidate(gen uint64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.gen != gen || !t.valid {
		return true // a newer token, or a refusal another call already acted on
	}
	if !t.refusedAt.IsZero() && time.Since(t.refusedAt) < tokenFailHold {
		return false
	}
	t.valid, t.refusedAt = false, time.Now()
	return true
}

type tokenRequest struct {
	GrantType    string `json:"grant_type"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

type tokenResponse struct {
	AccessToken string  `json:"access_token"`
	ExpiresIn   flexInt `json:"expires_in"`
	Application string  `json:"application"`
}

// fetch asks the vendor for a token and caches it.
func (t *tokenCache) fetch(ctx context.Context) (issued, error) {
	a := t.app
	start := time.Now()
	body, err := a.do(ctx, &request{
		op:         OpToken,
		method:     http.MethodPost,
		path:       "/token",
		body:       tokenRequest{GrantType: "client_credentials", ClientID: a.cfg.ClientID, ClientSecret: a.cfg.ClientSecret},
		idempotent: true, // asking for a token changes nothing
	})
	if err == nil {
		var tr tokenResponse
		if jerr := json.Unmarshal(body, &tr); jerr != nil || tr.AccessToken == "" {
			err = fmt.Errorf("%w: %s: %s: no access_token in the answer", ErrUnexpectedResponse, a.key, OpToken)
		} else {
			is := t.store(tr.AccessToken, time.Duration(tr.ExpiresIn)*time.Second, start)
			a.c.m.tokenFetches.WithLabelValues(a.key, "ok").Inc()
			a.c.log.Info("easemob: fetched app token", "app", a.key, "expires_in_s", int64(tr.ExpiresIn))
			return is, nil
		}
	}
	a.c.m.tokenFetches.WithLabelValues(a.key, "error").Inc()
	return issued{}, err
}

// store caches tok, granted at start for ttl, until a safety margin before
// it ends. A ttl of 0 means the token never expires (a negative one, which no
// page documents, is taken the same way: a 401 still replaces it).
func (t *tokenCache) store(tok string, ttl time.Duration, start time.Time) issued {
	var expires time.Time
	if ttl > 0 {
		expires = start.Add(ttl - min(ttl/10, maxTokenMargin))
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.token, t.expires, t.valid = tok, expires, true
	t.failErr = nil
	t.gen++
	return issued{token: tok, gen: t.gen, expires: expires}
}

// tokenBudget bounds one token fetch, retries included.
func (c *Client) tokenBudget() time.Duration {
	return c.reqTimeout*time.Duration(c.maxAttempts) + c.backoffMax*time.Duration(c.maxAttempts-1)
}
