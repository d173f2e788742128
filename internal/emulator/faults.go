package emulator

import (
	"context"
	"sync"
	"time"
)

// faults are the injected failures and latency.
type faults struct {
	mu         sync.Mutex
	status     int
	count      int
	retryAfter time.Duration
	latency    time.Duration
}

// FailNext makes the next count operation requests (token requests are
// not counted) answer status, typically 429 or a 5xx, with the vendor's
// error body and, when retryAfter > 0, a Retry-After header in whole
// seconds. A later call replaces an earlier one; count 0 clears it.
func (e *Emulator) FailNext(status, count int, retryAfter time.Duration) {
	f := &e.faults
	f.mu.Lock()
	defer f.mu.Unlock()
	if status < 400 || status > 599 || count < 0 {
		count = 0
	}
	f.status, f.count, f.retryAfter = status, count, retryAfter
}

// SetLatency makes every answer wait d first; a request whose context
// ends while waiting gets no answer.
func (e *Emulator) SetLatency(d time.Duration) {
	f := &e.faults
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency = max(d, 0)
}

// take consumes one injected failure, if any.
func (f *faults) take() (*apiError, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.count == 0 {
		return nil, 0
	}
	f.count--
	return errInjected(f.status), f.retryAfter
}

// wait sleeps the latency; false when ctx ended first.
func (f *faults) wait(ctx context.Context) bool {
	f.mu.Lock()
	d := f.latency
	f.mu.Unlock()
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
