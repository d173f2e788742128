package eventlog

import (
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// dupWindow is how far back JetStream's duplicate window surely reaches,
// which is not always the window configured. The stream has one window,
// set by the process that opened it last, so another process may have set
// another. And a raised window reaches back only as time passes: the
// server remembers no id it received under the old window and has already
// forgotten, nor, after a restart, any older than the window it rebuilds
// its ids under. A lowered window forgets at once.
//
// The process that changes the window records in the stream's metadata
// when it did and how far back the old one reached then (record), so that
// every process, whenever it opens, knows how far the new one has filled
// (windowOf). Append trusts the window (Log.withinWindow) only as far as
// reach says. Open reads the stream's record before and after it sets the
// window; the call id index's feeder reads it once a second, so a change
// by another process counts within about a second.
type dupWindow struct {
	mu    sync.Mutex
	cur   time.Duration // the stream's window, as last seen
	from  time.Duration // how far back it reached when cur was set
	since time.Time     // when cur was set; zero: long enough ago
}

// The stream metadata keys of the record of the window's last change.
const (
	metaWindowSince = "imbridge_duplicates_since" // Unix milliseconds
	metaWindowFrom  = "imbridge_duplicates_from"  // a Go duration
)

// newDupWindow is the window of a stream that has had window w long enough
// for it to reach back all of w.
func newDupWindow(w time.Duration) *dupWindow {
	return &dupWindow{cur: w, from: w}
}

// windowOf is the window of a stream of config c: as its record says it
// was set, or, without a record (a stream made with its window, or set by
// an earlier version), reaching back all of it.
func windowOf(c jetstream.StreamConfig) *dupWindow {
	w := newDupWindow(c.Duplicates)
	ms, err1 := strconv.ParseInt(c.Metadata[metaWindowSince], 10, 64)
	from, err2 := time.ParseDuration(c.Metadata[metaWindowFrom])
	if err1 == nil && err2 == nil {
		w.from, w.since = from, time.UnixMilli(ms)
	}
	return w
}

// set records that the stream's window is d from now on.
func (w *dupWindow) set(d time.Duration, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if d != w.cur {
		w.from, w.cur, w.since = w.reachLocked(now), d, now
	}
}

// adopt takes the window of the stream as its config c now says: another
// process's record of its change, or, without one, a change seen now.
func (w *dupWindow) adopt(c jetstream.StreamConfig, now time.Time) {
	o := windowOf(c)
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case !o.since.IsZero() && (o.cur != w.cur || !o.since.Equal(w.since)):
		w.cur, w.from, w.since = o.cur, o.from, o.since
	case o.cur != w.cur:
		w.from, w.cur, w.since = w.reachLocked(now), o.cur, now
	}
}

// metadata is meta, without the server's own keys, with the record of the
// window's last change.
func (w *dupWindow) metadata(meta map[string]string) map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]string, len(meta)+2)
	maps.Copy(out, meta)
	maps.DeleteFunc(out, func(k, _ string) bool { return strings.HasPrefix(k, "_nats.") })
	if !w.since.IsZero() {
		out[metaWindowSince] = strconv.FormatInt(w.since.UnixMilli(), 10)
		out[metaWindowFrom] = w.from.String()
	}
	return out
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
