package eventlog

import (
	"sync"
	"time"
)

// dupWindow is how far back JetStream's duplicate window surely reaches,
// which is not always the window configured. The stream has one window,
// set by the process that opened it last, so another process may have set
// another. And a raised window reaches back only as time passes: the
// server remembers no id it received under the old window and has already
// forgotten, nor, after a restart, any older than the old window (it
// rebuilds them from the stored messages under the window it had saved).
// A lowered window forgets at once.
//
// Append trusts the window (Log.withinWindow) only as far as reach says.
// Open sees the stream's window before and after it sets it; the call id
// index's feeder sees the stream's state once a second, so a change by
// another process counts within about a second.
type dupWindow struct {
	mu    sync.Mutex
	cur   time.Duration // the stream's window, as last seen
	from  time.Duration // how far back it reached when cur was first seen
	since time.Time     // when cur was first seen
}

// newDupWindow is the window of a stream that has had window w long enough
// for it to reach back all of w.
func newDupWindow(w time.Duration) *dupWindow {
	return &dupWindow{cur: w, from: w}
}

// observe records the stream's window as seen at now.
func (w *dupWindow) observe(d time.Duration, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if d == w.cur {
		return
	}
	w.from, w.cur, w.since = w.reachLocked(now), d, now
}

// reach is how far back, at now, the window surely holds every id.
func (w *dupWindow) reach(now time.Time) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.reachLocked(now)
}

func (w *dupWindow) reachLocked(now time.Time) time.Duration {
	if w.from >= w.cur {
		return w.cur
	}
	return min(w.cur, w.from+max(now.Sub(w.since), 0))
}
