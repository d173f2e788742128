package easemob

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
)

const (
	// maxBody bounds a response body read into memory.
	maxBody = 16 << 20
	// maxRetryAfter is the longest Retry-After this client waits for; a
	// longer one ends the call at once with the vendor's answer.
	maxRetryAfter = time.Minute
	// typeMetadataException is the error type of attribute calls whose 401
	// means "user is not in chatroom", not a refused token.
	typeMetadataException = "MetadataException"
)

// request is one vendor operation.
type request struct {
	op     string
	method string
	path   string // escaped, relative to /{org}/{app}, starting with "/"
	query  url.Values
	body   any // nil: no body
	// idempotent: safe to send again after an unknown outcome (GETs and
	// the POST that reads attributes; the token fetch).
	idempotent bool
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do runs rq: rate limit, token, attempts with backoff, one token refresh on
// 401. It returns the body of a 2xx answer.
func (a *App) do(ctx context.Context, rq *request) (_ []byte, err error) {
	start := time.Now()
	defer func() { a.c.m.done(a.key, rq.op, err, time.Since(start)) }()
	auth := rq.op != OpToken
	var payload []byte
	if rq.body != nil {
		if payload, err = json.Marshal(rq.body); err != nil {
			return nil, fmt.Errorf("easemob: %s: %s: encode request: %w", a.key, rq.op, err)
		}
	}
	u := a.prefix + rq.path
	if len(rq.query) > 0 {
		u += "?" + rq.query.Encode()
	}
	if _, err := url.Parse(u); err != nil {
		return nil, fmt.Errorf("%w: %s: %s: bad URL: %w", ErrInvalidArgument, a.key, rq.op, err)
	}
	bo := &backoff.ExponentialBackOff{
		InitialInterval: a.c.backoffInitial, RandomizationFactor: 0.5, Multiplier: 2, MaxInterval: a.c.backoffMax,
	}
	bo.Reset()
	refreshed := false
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, a.ctxErr(rq.op, err)
		}
		if err := a.waitLimit(ctx, rq.op); err != nil {
			return nil, err
		}
		var tok string
		var gen uint64
		if auth {
			if tok, gen, err = a.tok.get(ctx); err != nil {
				if cerr := ctx.Err(); cerr != nil {
					return nil, a.ctxErr(rq.op, cerr)
				}
				return nil, fmt.Errorf("%w: %s: %s: %w", ErrTokenFetch, a.key, rq.op, err)
			}
		}
		res, sent, terr := a.attempt(ctx, rq.method, u, payload, tok)
		var (
			last   error // what to return if this was the last attempt
			wait   time.Duration
			reason string
		)
		if terr != nil {
			if cerr := ctx.Err(); cerr != nil {
				return nil, a.ctxErr(rq.op, cerr)
			}
			if sent && !rq.idempotent {
				return nil, fmt.Errorf("%w, %w (the request was sent, then the exchange failed; not retried): %s: %s: %w",
					ErrUnavailable, ErrOutcomeUnknown, a.key, rq.op, terr)
			}
			last, reason = fmt.Errorf("%w: %s: %s: %w", ErrUnavailable, a.key, rq.op, terr), "transport"
		} else {
			if res.status >= 200 && res.status < 300 {
				return res.body, nil
			}
			verr := a.vendorError(rq.op, res.status, res.body)
			ra, hasRA := retryAfter(res.header, time.Now())
			switch {
			case res.status == http.StatusUnauthorized && auth && !refreshed && verr.Type != typeMetadataException:
				// The token was refused: the call was not processed. Fetch
				// a new token and replay once; the replay is not an attempt.
				refreshed = true
				if !a.tok.invalidate(gen) {
					return nil, verr // a token fetched just now was refused too
				}
				a.c.m.retries.WithLabelValues(a.key, rq.op, "token_refresh").Inc()
				a.c.log.Debug("easemob: token refused, refreshing", "app", a.key, "op", rq.op)
				attempt--
				continue
			case res.status == http.StatusTooManyRequests:
				// Refused before processing: safe to repeat for any call.
				last, wait, reason = fmt.Errorf("%w: %w", ErrRateLimited, verr), ra, "status_429"
			case res.status >= 500:
				if !rq.idempotent && !(res.status == http.StatusServiceUnavailable && hasRA) {
					return nil, fmt.Errorf("%w, %w (not retried): %w", ErrUnavailable, ErrOutcomeUnknown, verr)
				}
				last, wait, reason = fmt.Errorf("%w: %w", ErrUnavailable, verr), ra, "status_5xx"
			default:
				return nil, verr
			}
		}
		if attempt >= a.c.maxAttempts {
			return nil, fmt.Errorf("%w (gave up after %d attempts)", last, attempt)
		}
		if wait > maxRetryAfter {
			return nil, fmt.Errorf("%w (not retried: Retry-After %s is too long)", last, wait)
		}
		if b := bo.NextBackOff(); b > wait {
			wait = b
		}
		if dl, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(dl) {
			return nil, fmt.Errorf("%w (not retried: the next attempt, in %s, would pass the deadline)", last, wait.Round(time.Millisecond))
		}
		a.c.m.retries.WithLabelValues(a.key, rq.op, reason).Inc()
		a.c.log.Debug("easemob: retrying", "app", a.key, "op", rq.op, "attempt", attempt, "reason", reason,
			"wait", wait, "err", last)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, a.ctxErr(rq.op, ctx.Err())
		}
	}
}

// attempt sends one request under the per-attempt timeout. sent reports
// whether any of the request may have reached the vendor: false only when
// the failure came before the request headers were written (dial errors,
// connection refused, TLS handshake).
func (a *App) attempt(ctx context.Context, method, u string, payload []byte, tok string) (res *response, sent bool, err error) {
	actx, cancel := context.WithTimeout(ctx, a.c.reqTimeout)
	defer cancel()
	var wrote atomic.Bool
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{WroteHeaders: func() { wrote.Store(true) }})
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(actx, method, u, body)
	if err != nil {
		return nil, false, err
	}
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := a.c.hc.Do(req)
	if err != nil {
		return nil, wrote.Load(), err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, true, fmt.Errorf("status %d, reading the body: %w", resp.StatusCode, err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}, true, nil
}

// waitLimit waits for the client-side rate limit of op. A wait that would
// pass ctx's deadline fails at once with context.DeadlineExceeded.
func (a *App) waitLimit(ctx context.Context, op string) error {
	r := a.limiter(op).Reserve()
	d := r.Delay()
	if d == 0 {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok && time.Now().Add(d).After(dl) {
		r.Cancel()
		return fmt.Errorf("easemob: %s: %s: the client-side rate limit wait (%s) would pass the deadline: %w",
			a.key, op, d.Round(time.Millisecond), context.DeadlineExceeded)
	}
	a.c.m.limitWaits.WithLabelValues(a.key, op).Inc()
	// The time waited, not the time reserved: a call cancelled early
	// waited only until then.
	start := time.Now()
	defer func() { a.c.m.limitWaitSecs.WithLabelValues(a.key, op).Add(time.Since(start).Seconds()) }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		r.Cancel()
		return a.ctxErr(op, ctx.Err())
	}
}

func (a *App) ctxErr(op string, err error) error {
	return fmt.Errorf("easemob: %s: %s: %w", a.key, op, err)
}

// retryAfter reads Retry-After: delay-seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(min(n, 1<<20)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
