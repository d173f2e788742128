package eventlog_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/types/known/timestamppb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/eventlog"
)

// waitEvent bounds a wait for a stream item: long enough that a busy
// machine never breaks a test, it only turns a hang into a failure.
const waitEvent = time.Minute

// nextEvent returns the follower's next event, skipping heartbeats.
func nextEvent(t testing.TB, next func(context.Context, time.Duration) (eventlog.Item, error)) eventlog.Item {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitEvent)
	defer cancel()
	for {
		it, err := next(ctx, time.Second)
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if !it.Heartbeat {
			return it
		}
	}
}

// takeCursors reads n events and returns their cursors.
func takeCursors(t testing.TB, next func(context.Context, time.Duration) (eventlog.Item, error), n int) []uint64 {
	t.Helper()
	var out []uint64
	for range n {
		out = append(out, nextEvent(t, next).Cursor)
	}
	return out
}

// idle checks that nothing but heartbeats comes for a while, and returns
// the last heartbeat.
func idle(t testing.TB, next func(context.Context, time.Duration) (eventlog.Item, error)) eventlog.Item {
	t.Helper()
	for range 2 {
		it, err := next(t.Context(), 50*time.Millisecond)
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if !it.Heartbeat {
			t.Fatalf("want only heartbeats, got event %d", it.Cursor)
		}
		if it.Heartbeat && it.Scanned > it.Head {
			t.Fatalf("heartbeat scanned %d past head %d", it.Scanned, it.Head)
		}
	}
	it, _ := next(t.Context(), 50*time.Millisecond)
	return it
}

func appendN(t testing.TB, l *eventlog.Log, prefix string, n int, mod func(i int, ev *imbridgev1.Event)) []*imbridgev1.Event {
	t.Helper()
	var out []*imbridgev1.Event
	for i := range n {
		ev := newEvent(fmt.Sprintf("org#app_%s%d", prefix, i), "org#app", "chat:txt")
		if mod != nil {
			mod(i, ev)
		}
		out = append(out, withCursor(ev, mustAppend(t, l, ev)))
	}
	return out
}

func cursorsOf(evs []*imbridgev1.Event, keep func(*imbridgev1.Event) bool) []uint64 {
	var out []uint64
	for _, ev := range evs {
		if keep == nil || keep(ev) {
			out = append(out, ev.Cursor)
		}
	}
	return out
}

func sameCursors(t testing.TB, what string, got, want []uint64) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: cursors %v, want %v", what, got, want)
	}
}

func TestFollowHistoryThenLiveWithFilters(t *testing.T) {
	l := openLog(t, embedded(t))
	mod := func(i int, ev *imbridgev1.Event) {
		ev.Appkey = []string{"org#app", "org#other"}[i%2]
		ev.Selector = []string{"chat:txt", "muc:kick", "chat:img"}[i%3]
		ev.SenderUsername = []string{"alice", "bob"}[(i/2)%2]
		ev.Sender = "org#app_" + ev.SenderUsername + "@easemob.com/ios_1"
	}
	before := appendN(t, l, "h", 24, mod)
	f := eventlog.Filter{Appkey: "org#app", Selectors: mustSelectors(t, "chat"), Sender: "alice"}
	keep := func(ev *imbridgev1.Event) bool {
		return ev.Appkey == "org#app" && strings.HasPrefix(ev.Selector, "chat:") && ev.SenderUsername == "alice"
	}
	fl, err := l.Follow(t.Context(), f, eventlog.Start{Earliest: true})
	if err != nil {
		t.Fatal(err)
	}
	want := cursorsOf(before, keep)
	sameCursors(t, "history", takeCursors(t, fl.Next, len(want)), want)
	hb := idle(t, fl.Next)
	if hb.Scanned != before[len(before)-1].Cursor || hb.Head != hb.Scanned {
		t.Errorf("idle heartbeat: head %d scanned %d, want both %d", hb.Head, hb.Scanned, before[len(before)-1].Cursor)
	}
	after := appendN(t, l, "l", 24, mod)
	want = cursorsOf(after, keep)
	got := takeCursors(t, fl.Next, len(want))
	sameCursors(t, "live", got, want)
	it := nextEvent(t, func(ctx context.Context, d time.Duration) (eventlog.Item, error) {
		// Nothing more matches: the next "event" must be the next append.
		ev := newEvent("org#app_last", "org#app", "chat:txt")
		ev.SenderUsername = "alice"
		mustAppend(t, l, ev)
		return fl.Next(ctx, d)
	})
	ev, err := it.Event(false)
	if err != nil || ev.GetCallId() != "org#app_last" || ev.GetRawBody() != nil {
		t.Fatalf("last event: %v (raw body %d bytes), %v", ev.GetCallId(), len(ev.GetRawBody()), err)
	}
	if full, _ := it.Event(true); len(full.GetRawBody()) == 0 || full.GetCursor() != it.Cursor {
		t.Fatalf("full view: raw body %d bytes, cursor %d", len(full.GetRawBody()), full.GetCursor())
	}
}

func TestFollowStarts(t *testing.T) {
	l := openLog(t, embedded(t))
	old := appendN(t, l, "o", 5, nil)
	mid := time.Now()
	// The stream's clock and ours agree to well under this.
	time.Sleep(20 * time.Millisecond)
	newer := appendN(t, l, "n", 3, nil)

	latest, err := l.Follow(t.Context(), eventlog.Filter{}, eventlog.Start{})
	if err != nil {
		t.Fatal(err)
	}
	byTime, err := l.Follow(t.Context(), eventlog.Filter{}, eventlog.Start{Time: mid.Add(10 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	resumed, err := l.Follow(t.Context(), eventlog.Filter{}, eventlog.Start{Resume: true, After: old[2].Cursor, Epoch: l.Epoch()})
	if err != nil {
		t.Fatal(err)
	}
	last := appendN(t, l, "x", 2, nil)
	sameCursors(t, "latest", takeCursors(t, latest.Next, 2), cursorsOf(last, nil))
	sameCursors(t, "by time", takeCursors(t, byTime.Next, 5), append(cursorsOf(newer, nil), cursorsOf(last, nil)...))
	sameCursors(t, "resumed", takeCursors(t, resumed.Next, 7), append(append(cursorsOf(old[3:], nil), cursorsOf(newer, nil)...), cursorsOf(last, nil)...))
}

func TestFollowResumesAcrossRestart(t *testing.T) {
	cfg := embedded(t)
	cfg.Logger = quiet
	ctx := t.Context()
	l1, err := eventlog.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	first := appendN(t, l1, "a", 6, nil)
	fl, err := l1.Follow(ctx, eventlog.Filter{}, eventlog.Start{Earliest: true})
	if err != nil {
		t.Fatal(err)
	}
	got := takeCursors(t, fl.Next, 4)
	epoch := l1.Epoch()
	if err := l1.Close(); err != nil {
		t.Fatal(err)
	}

	l2 := openLog(t, cfg)
	if l2.Epoch() != epoch {
		t.Fatalf("epoch changed across a restart: %q → %q", epoch, l2.Epoch())
	}
	more := appendN(t, l2, "b", 3, nil)
	fl2, err := l2.Follow(ctx, eventlog.Filter{}, eventlog.Start{Resume: true, After: got[len(got)-1], Epoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, takeCursors(t, fl2.Next, 5)...)
	sameCursors(t, "across the restart", got, append(cursorsOf(first, nil), cursorsOf(more, nil)...))
	idle(t, fl2.Next)
}

func TestFollowRefusesForeignAndExpiredCursors(t *testing.T) {
	l := openLog(t, embedded(t))
	evs := appendN(t, l, "e", 3, nil)
	head := evs[2].Cursor
	var mismatch *eventlog.EpochMismatchError
	if _, err := l.Follow(t.Context(), eventlog.Filter{}, eventlog.Start{Resume: true, After: 1, Epoch: "another"}); !errors.As(err, &mismatch) || mismatch.Epoch != l.Epoch() {
		t.Errorf("another epoch: %v", err)
	}
	if _, err := l.Follow(t.Context(), eventlog.Filter{}, eventlog.Start{Resume: true, After: head + 1}); !errors.As(err, &mismatch) || mismatch.Head != head {
		t.Errorf("a cursor past the head: %v", err)
	}
	if _, err := l.Follow(t.Context(), eventlog.Filter{}, eventlog.Start{Resume: true, After: head, Epoch: l.Epoch()}); err != nil {
		t.Errorf("resuming at the head: %v", err)
	}

	cfg := embedded(t)
	cfg.MaxBytes = 8 << 10
	small := openLog(t, cfg)
	stored := appendN(t, small, "r", 40, func(_ int, ev *imbridgev1.Event) { ev.RawBody = incompressible(1000) })
	var oldest uint64
	checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		for _, ev := range stored {
			if _, err := small.Get(t.Context(), ev.Cursor); err == nil {
				oldest = ev.Cursor
				break
			}
		}
		if oldest <= stored[1].Cursor {
			return fmt.Errorf("retention has not dropped events yet (oldest %d)", oldest)
		}
		return nil
	})
	var expired *eventlog.CursorExpiredError
	_, err := small.Follow(t.Context(), eventlog.Filter{}, eventlog.Start{Resume: true, After: stored[0].Cursor})
	if !errors.As(err, &expired) || expired.Oldest != oldest {
		t.Fatalf("resuming before retention: %v, want oldest %d", err, oldest)
	}
	for name, start := range map[string]eventlog.Start{
		"resuming right before the oldest":    {Resume: true, After: oldest - 1},
		"the earliest start":                  {Earliest: true},
		"resuming at 0, the same as earliest": {Resume: true, After: 0},
	} {
		fl, err := small.Follow(t.Context(), eventlog.Filter{}, start)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if it := nextEvent(t, fl.Next); it.Cursor != oldest {
			t.Fatalf("%s: first event %d, want the oldest kept, %d", name, it.Cursor, oldest)
		}
	}
}

// A start time later than every stored event sends only the events
// received from that time on, though some are stored before it.
func TestFollowFromAStartTimeAhead(t *testing.T) {
	l := openLog(t, embedded(t))
	appendN(t, l, "before", 2, nil)
	at := time.Now().Add(time.Hour)
	fl, err := l.Follow(t.Context(), eventlog.Filter{}, eventlog.Start{Time: at})
	if err != nil {
		t.Fatal(err)
	}
	early := appendN(t, l, "early", 2, nil) // after the call, before its start time
	late := appendN(t, l, "late", 2, func(_ int, ev *imbridgev1.Event) { ev.ReceiveTime = timestamppb.New(at.Add(time.Second)) })
	if it := nextEvent(t, fl.Next); it.Cursor != late[0].Cursor {
		t.Fatalf("first event %d, want %d (received after the start time), not %d (before it)", it.Cursor, late[0].Cursor, early[0].Cursor)
	}
	if it := nextEvent(t, fl.Next); it.Cursor != late[1].Cursor {
		t.Fatalf("second event %d, want %d", it.Cursor, late[1].Cursor)
	}
}

// A follower that does not read while the tail moves on past it loses
// nothing: it reads the rest from history.
func TestFollowerBehindTheTailReadsHistory(t *testing.T) {
	eventlog.SetTailMaxEntries(t, 8)
	l := openLog(t, embedded(t))
	fast, err := l.Follow(t.Context(), eventlog.Filter{}, eventlog.Start{})
	if err != nil {
		t.Fatal(err)
	}
	slow, err := l.Follow(t.Context(), eventlog.Filter{Selectors: mustSelectors(t, "chat:img")}, eventlog.Start{})
	if err != nil {
		t.Fatal(err)
	}
	evs := appendN(t, l, "t", 150, func(i int, ev *imbridgev1.Event) {
		if i%3 == 0 {
			ev.Selector = "chat:img"
		}
	})
	sameCursors(t, "fast", takeCursors(t, fast.Next, 150), cursorsOf(evs, nil))
	want := cursorsOf(evs, func(ev *imbridgev1.Event) bool { return ev.Selector == "chat:img" })
	sameCursors(t, "slow", takeCursors(t, slow.Next, len(want)), want)
	if hb := idle(t, slow.Next); hb.Scanned != evs[len(evs)-1].Cursor {
		t.Errorf("heartbeat scanned %d, want %d", hb.Scanned, evs[len(evs)-1].Cursor)
	}
}

func TestManyFollowersShareOneTail(t *testing.T) {
	l := openLog(t, embedded(t))
	var fls []*eventlog.Follower
	for range 50 {
		fl, err := l.Follow(t.Context(), eventlog.Filter{}, eventlog.Start{})
		if err != nil {
			t.Fatal(err)
		}
		fls = append(fls, fl)
	}
	evs := appendN(t, l, "m", 20, nil)
	for i, fl := range fls {
		sameCursors(t, "follower "+strconv.Itoa(i), takeCursors(t, fl.Next, 20), cursorsOf(evs, nil))
	}
}

// The tail starts with the newest stored events: a stream from the start
// of a log longer than the tail reads history, then the tail, seamlessly.
func TestTailStartsWithTheNewestEvents(t *testing.T) {
	eventlog.SetTailMaxEntries(t, 8)
	l := openLog(t, embedded(t))
	evs := appendN(t, l, "n", 30, func(i int, ev *imbridgev1.Event) {
		if i%2 == 0 {
			ev.Selector = "muc:kick"
		}
	})
	fl, err := l.Follow(t.Context(), eventlog.Filter{Selectors: mustSelectors(t, "muc")}, eventlog.Start{Earliest: true})
	if err != nil {
		t.Fatal(err)
	}
	want := cursorsOf(evs, func(ev *imbridgev1.Event) bool { return ev.Selector == "muc:kick" })
	sameCursors(t, "from the start", takeCursors(t, fl.Next, len(want)), want)
	more := appendN(t, l, "m", 3, func(_ int, ev *imbridgev1.Event) { ev.Selector = "muc:kick" })
	sameCursors(t, "live", takeCursors(t, fl.Next, 3), cursorsOf(more, nil))
}

// retainingLittle opens a log that keeps about 8 KiB, with a tail of 2
// events, and returns raw, which gives an event an incompressible body of
// 1000 bytes: a few dozen such events push the first ones out.
func retainingLittle(t *testing.T) (*eventlog.Log, func(int, *imbridgev1.Event)) {
	t.Helper()
	eventlog.SetTailMaxEntries(t, 2)
	cfg := embedded(t)
	cfg.MaxBytes = 8 << 10
	return openLog(t, cfg), func(_ int, ev *imbridgev1.Event) { ev.RawBody = incompressible(1000) }
}

// A follower reading history that retention overtakes stops with a
// *CursorExpiredError instead of passing over the dropped events.
func TestFollowerOvertakenByRetentionStops(t *testing.T) {
	l, raw := retainingLittle(t)
	appendN(t, l, "a", 3, raw)
	fl, err := l.Follow(t.Context(), eventlog.Filter{Selectors: mustSelectors(t, "chat:img")}, eventlog.Start{Earliest: true})
	if err != nil {
		t.Fatal(err)
	}
	idle(t, fl.Next) // nothing matches: the follower is at the head, 3
	// While it is not reading, 40 more events push the first ones out,
	// and the tail (2 entries) moves past it.
	// The one chat:img among them is dropped too.
	appendN(t, l, "b", 40, func(i int, ev *imbridgev1.Event) {
		raw(i, ev)
		if i == 0 {
			ev.Selector = "chat:img"
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), waitEvent)
	defer cancel()
	for {
		it, err := fl.Next(ctx, time.Second)
		var expired *eventlog.CursorExpiredError
		if errors.As(err, &expired) {
			if expired.After != 3 || expired.Oldest <= 4 {
				t.Errorf("expired after %d, oldest %d: want after 3, oldest past 4", expired.After, expired.Oldest)
			}
			return
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if !it.Heartbeat {
			t.Fatalf("event %d delivered across a gap retention made", it.Cursor)
		}
	}
}

// laggingMirror makes a mirror of the events stream that holds only the
// n events of appkey stored so far, and waits until it does: from then on
// it answers the stream's direct gets, in turn with the stream, and lags
// ever after, as a replica that falls behind would. It returns a
// connection to the server.
func laggingMirror(t *testing.T, url, appkey string, n uint64) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	mirror, err := js.CreateStream(t.Context(), jetstream.StreamConfig{Name: "LAGGING", Mirror: &jetstream.StreamSource{
		Name:          eventlog.StreamName,
		FilterSubject: eventlog.SubjectPrefix + "." + eventlog.AppToken(appkey) + ".>",
	}})
	if err != nil {
		t.Fatal(err)
	}
	checkFor(t, waitEvent, 10*time.Millisecond, func() error {
		info, err := mirror.Info(t.Context())
		if err != nil || info.State.Msgs != n {
			return fmt.Errorf("the mirror does not hold the %d events of %s: %v, %v", n, appkey, info, err)
		}
		return nil
	})
	return nc
}

// A direct get may be answered by a copy of the stream that lags: a
// follower replica on a cluster, or a mirror (mirror_direct), as here. It
// sends only what it holds, and its "nothing more" covers only that: a
// follower must not pass over the events it lacks, whether it starts from
// the earliest event, with a filter, or from a time, nor may the tail; Get
// must find them, and a new process's call id index must record them.
func TestReadersPassOverNothingALaggingCopyLacks(t *testing.T) {
	s := startServer(t)
	eventlog.SetTailMaxEntries(t, 2) // followers from the earliest read history
	l := openLog(t, eventlog.Config{NATSURL: s.ClientURL(), DataDir: t.TempDir(), Replicas: 1})
	first := mustAppend(t, l, newEvent("org#lag_first", "org#lag", "chat:txt"))
	nc := laggingMirror(t, s.ClientURL(), "org#lag", 1)
	since := time.Now()
	evs := appendN(t, l, "lag", 6, nil)
	all := append([]uint64{first}, cursorsOf(evs, nil)...)
	last := all[len(all)-1]

	// The test shows something only if the mirror answers: it answers 404
	// for the second event, which it lacks.
	lagged := 0
	for range 64 {
		m, err := nc.Request("$JS.API.DIRECT.GET."+eventlog.StreamName, []byte(`{"seq":2}`), waitEvent)
		if err != nil {
			t.Fatalf("direct get: %v", err)
		}
		if m.Header.Get("Status") == "404" {
			lagged++
		}
	}
	if lagged == 0 {
		t.Fatal("the mirror never answered a direct get: this test cannot show anything")
	}

	// drain reads until the follower has examined the whole log.
	drain := func(fl *eventlog.Follower) []uint64 {
		ctx, cancel := context.WithTimeout(t.Context(), waitEvent)
		defer cancel()
		var got []uint64
		for {
			it, err := fl.Next(ctx, 20*time.Millisecond)
			if err != nil {
				t.Fatalf("Next: %v (events so far %v)", err, got)
			}
			if !it.Heartbeat {
				got = append(got, it.Cursor)
			} else if it.Scanned >= last {
				return got
			}
		}
	}
	for i := range 16 { // each direct get goes to the stream or the mirror
		// A new process each time: its tail starts with a direct get too.
		l := openLog(t, eventlog.Config{NATSURL: s.ClientURL(), DataDir: t.TempDir(), Replicas: 1})
		for _, c := range []struct {
			name   string
			filter eventlog.Filter
			start  eventlog.Start
			want   []uint64
		}{
			{"from the earliest", eventlog.Filter{}, eventlog.Start{Earliest: true}, all},
			{"one application from the earliest", eventlog.Filter{Appkey: "org#app"}, eventlog.Start{Earliest: true}, all[1:]},
			{"from a time", eventlog.Filter{}, eventlog.Start{Time: since}, all[1:]},
		} {
			fl, err := l.Follow(t.Context(), c.filter, c.start)
			if err != nil {
				t.Fatal(err)
			}
			sameCursors(t, fmt.Sprintf("%s, follower %d", c.name, i), drain(fl), c.want)
		}
		for _, ev := range evs {
			if got, err := l.Get(t.Context(), ev.GetCursor()); err != nil || got.GetCallId() != ev.GetCallId() {
				t.Fatalf("process %d: Get(%d): %v, %v; want %s", i, ev.GetCursor(), got.GetCallId(), err, ev.GetCallId())
			}
			if got, err := getByCallID(t, l, ev.GetCallId()); err != nil || got.GetCursor() != ev.GetCursor() {
				t.Fatalf("process %d: GetByCallID(%s): %v, %v; want cursor %d", i, ev.GetCallId(), got.GetCursor(), err, ev.GetCursor())
			}
		}
	}
}

// A lagging copy may still hold events that retention dropped from the
// stream: a follower that reads them from it must still stop at the gap
// after them, not go on past it in silence.
func TestFollowerStopsAtAGapBehindALaggingCopy(t *testing.T) {
	s := startServer(t)
	eventlog.SetTailMaxEntries(t, 2)
	l := openLog(t, eventlog.Config{NATSURL: s.ClientURL(), DataDir: t.TempDir(), Replicas: 1, MaxBytes: 8 << 10})
	raw := func(_ int, ev *imbridgev1.Event) { ev.RawBody = incompressible(1000) }
	for i := range 3 {
		ev := newEvent(fmt.Sprintf("org#lag_%d", i), "org#lag", "chat:txt")
		raw(i, ev)
		mustAppend(t, l, ev)
	}
	laggingMirror(t, s.ClientURL(), "org#lag", 3)
	var fls []*eventlog.Follower
	for range 16 { // each direct get goes to the stream or the mirror
		// After 1 rather than the earliest start, which moves on to the
		// oldest event kept while it has read none.
		fl, err := l.Follow(t.Context(), eventlog.Filter{}, eventlog.Start{Resume: true, After: 1})
		if err != nil {
			t.Fatal(err)
		}
		fls = append(fls, fl)
	}
	// While they are not reading, 40 more events push the first ones out
	// of the stream (not of the mirror).
	appendN(t, l, "b", 40, raw)
	for i, fl := range fls {
		if got := untilExpired(t, fl); slices.ContainsFunc(got, func(c uint64) bool { return c > 3 }) {
			t.Fatalf("follower %d: events %v, delivered across the gap retention made after 3", i, got)
		}
	}
}

// untilExpired returns the events fl delivers until it stops with a
// *CursorExpiredError, which it must within waitEvent.
func untilExpired(t *testing.T, fl *eventlog.Follower) []uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitEvent)
	defer cancel()
	var got []uint64
	for {
		it, err := fl.Next(ctx, time.Second)
		var expired *eventlog.CursorExpiredError
		switch {
		case errors.As(err, &expired):
			return got
		case err != nil:
			t.Fatalf("Next: %v (events so far %v), want a *CursorExpiredError", err, got)
		case !it.Heartbeat:
			got = append(got, it.Cursor)
		}
	}
}

// Only an earliest follower's first read moves its start past what
// retention dropped. One whose first read found nothing for it, and told
// its client so (a heartbeat scanned to the head), reports a later gap
// like any other follower.
func TestEarliestFollowerReportsAGapAfterItsFirstScan(t *testing.T) {
	l, raw := retainingLittle(t)
	for i := range 3 {
		ev := newEvent(fmt.Sprintf("org#other_%d", i), "org#other", "chat:txt")
		raw(i, ev)
		mustAppend(t, l, ev)
	}
	fl, err := l.Follow(t.Context(), eventlog.Filter{Appkey: "org#app"}, eventlog.Start{Earliest: true})
	if err != nil {
		t.Fatal(err)
	}
	if it, err := fl.Next(t.Context(), time.Nanosecond); err != nil || !it.Heartbeat || it.Scanned != 3 {
		t.Fatalf("first Next: %+v, %v; want a heartbeat that scanned to 3", it, err)
	}
	// While it does not read, 40 events of its app push the first of them
	// out of the stream (and past the tail).
	evs := appendN(t, l, "b", 40, raw)
	checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if _, err := l.Get(t.Context(), evs[0].Cursor); err == nil {
			return fmt.Errorf("retention has not dropped %d yet", evs[0].Cursor)
		}
		return nil
	})
	if got := untilExpired(t, fl); len(got) > 0 {
		t.Fatalf("events %v delivered after a heartbeat that scanned to 3, though events from %d were dropped unseen; want a *CursorExpiredError first", got, evs[0].Cursor)
	}
}
