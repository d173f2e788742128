package eventlog_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/eventlog"
)

func TestAppendGet(t *testing.T) {
	l := openLog(t, embedded(t))
	ctx := t.Context()
	var prev uint64
	var stored []*imbridgev1.Event
	for i, sel := range []string{"chat:txt", "groupchat:img", "muc:kick", "roster:add", "userStatus:login", "recall", "unknown"} {
		ev := newEvent(fmt.Sprintf("org#app_%d", i), "org#app", sel)
		c := mustAppend(t, l, ev)
		if c <= prev {
			t.Fatalf("cursor %d after %d: want increasing", c, prev)
		}
		prev = c
		stored = append(stored, withCursor(ev, c))
	}
	for _, want := range stored {
		got, err := l.Get(ctx, want.Cursor)
		if err != nil {
			t.Fatal(err)
		}
		checkEvent(t, got, want)
		got, err = l.GetByCallID(ctx, want.CallId)
		if err != nil {
			t.Fatal(err)
		}
		checkEvent(t, got, want)
	}
	for _, c := range []uint64{0, prev + 1, 1 << 40} {
		if _, err := l.Get(ctx, c); !errors.Is(err, eventlog.ErrNotFound) {
			t.Errorf("Get(%d) = %v, want ErrNotFound", c, err)
		}
	}
	for _, id := range []string{"", "org#app_never"} {
		if _, err := l.GetByCallID(ctx, id); !errors.Is(err, eventlog.ErrNotFound) {
			t.Errorf("GetByCallID(%q) = %v, want ErrNotFound", id, err)
		}
	}
}

func TestAppendIgnoresCursorAndKeepsEvent(t *testing.T) {
	l := openLog(t, embedded(t))
	ev := newEvent("org#app_cursor", "org#app", "chat:txt")
	ev.Cursor = 987654321
	before := proto.Clone(ev)
	c := mustAppend(t, l, ev)
	if !proto.Equal(ev, before) {
		t.Fatal("Append modified the event")
	}
	got, err := l.Get(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	checkEvent(t, got, withCursor(ev, c))
}

func TestStripField(t *testing.T) {
	ev := newEvent("org#app_strip", "org#app", "muc:kick")
	ev.Cursor = 1 << 50
	b, err := proto.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var got imbridgev1.Event
	if err := proto.Unmarshal(eventlog.StripField(b, 1), &got); err != nil {
		t.Fatal(err)
	}
	checkEvent(t, &got, withCursor(ev, 0))
}

func TestAppendErrors(t *testing.T) {
	l := openLog(t, embedded(t))
	ctx := t.Context()
	if _, _, err := l.Append(ctx, newEvent("", "org#app", "chat:txt")); err == nil || !strings.Contains(err.Error(), "call id") {
		t.Errorf("empty call id: err = %v", err)
	}
	for _, sel := range []string{"", "chat", "*", "chat:nope"} {
		if _, _, err := l.Append(ctx, newEvent("org#app_sel"+sel, "org#app", sel)); err == nil || !strings.Contains(err.Error(), "selector") {
			t.Errorf("selector %q: err = %v", sel, err)
		}
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := l.Append(canceled, newEvent("org#app_canceled", "org#app", "chat:txt")); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: err = %v", err)
	}
}

func TestDuplicateSequential(t *testing.T) {
	l := openLog(t, embedded(t))
	ev := newEvent("org#app_dup", "org#app", "chat:txt")
	first := mustAppend(t, l, ev)
	for i := range 99 {
		ev := newEvent("org#app_dup", "org#app", "chat:img") // a retry may differ
		c, dup, err := l.Append(t.Context(), ev)
		if err != nil || !dup || c != first {
			t.Fatalf("append #%d: cursor %d duplicate %v err %v; want %d true nil", i+2, c, dup, err, first)
		}
	}
	all := listAll(t, l, eventlog.Query{OldestFirst: true, Limit: 1000})
	if len(all) != 1 {
		t.Fatalf("stored %d events, want 1", len(all))
	}
	checkEvent(t, all[0], withCursor(ev, first))
}

func TestDuplicateConcurrent(t *testing.T) {
	l := openLog(t, embedded(t))
	const ids, workers, per = 5, 8, 13 // 104 appends of each id
	type result struct {
		cursor uint64
		dup    bool
	}
	results := make([][]result, ids)
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, ids*workers)
	for w := range workers {
		wg.Go(func() {
			for i := range per * ids {
				id := (i + w) % ids
				c, dup, err := l.Append(context.Background(), newEvent("org#app_c"+strconv.Itoa(id), "org#app", "chat:txt"))
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				results[id] = append(results[id], result{c, dup})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	for id, rs := range results {
		fresh := 0
		for _, r := range rs {
			if !r.dup {
				fresh++
			}
			if r.cursor != rs[0].cursor {
				t.Errorf("id %d: cursors %d and %d", id, rs[0].cursor, r.cursor)
			}
		}
		if fresh != 1 || len(rs) != workers*per {
			t.Errorf("id %d: %d appends, %d fresh; want %d and 1", id, len(rs), fresh, workers*per)
		}
		seen[rs[0].cursor] = true
	}
	all := listAll(t, l, eventlog.Query{OldestFirst: true, Limit: 1000})
	if len(all) != ids || len(seen) != ids {
		t.Fatalf("stored %d events under %d cursors, want %d", len(all), len(seen), ids)
	}
	for _, ev := range all {
		if !seen[ev.Cursor] {
			t.Errorf("stored cursor %d was never reported", ev.Cursor)
		}
	}
}

// TestSiblingsOfOneCallID appends callbacks the vendor sends under one
// callId (a group message's uplink callback and the copy for each offline
// member): each is stored, each retry is its own duplicate, and a second
// process, which learns them from the log, knows each as well. Live
// callbacks are caught by JetStream's duplicate window, redelivered ones by
// the call id index.
func TestSiblingsOfOneCallID(t *testing.T) {
	for _, c := range []struct {
		name   string
		vendor time.Time
	}{{"live", time.Now()}, {"redelivered", time.UnixMilli(1700000000000)}} {
		t.Run(c.name, func(t *testing.T) {
			cfg := embedded(t)
			cfg.ListenAddr = "127.0.0.1:-1"
			l := openLog(t, cfg)
			sibling := func(eventType, to string) *imbridgev1.Event {
				ev := newEvent("org#app_8924312242322", "org#app", "groupchat:txt")
				ev.EventTypeName, ev.Recipient, ev.VendorTime = eventType, to, timestamppb.New(c.vendor)
				return ev
			}
			// A contact request's two answers, which may name one user.
			answer := func(op string) *imbridgev1.Event {
				ev := sibling("chat", "tst01")
				ev.ChatType, ev.Selector = "roster", "roster:accept"
				ev.Body = &imbridgev1.Event_Roster{Roster: &imbridgev1.RosterEvent{OperationName: op}}
				return ev
			}
			other := func(appkey string) *imbridgev1.Event {
				ev := sibling("chat_offline", "user2")
				ev.Appkey = appkey
				return ev
			}
			siblings := []*imbridgev1.Event{
				sibling("chat", "16934809238921545"),
				sibling("chat_offline", "user2"),
				sibling("chat_offline", "user3"),
				other("org#other"), other("org#third"), // other apps'
				answer("accept"), answer("remote_accept"),
			}
			cursors := make([]uint64, len(siblings))
			for i, ev := range siblings {
				cursors[i] = mustAppend(t, l, ev)
			}
			l2 := openLog(t, eventlog.Config{NATSURL: l.ClientURL(), DataDir: t.TempDir()})
			for _, l := range []*eventlog.Log{l, l2} {
				for i, ev := range siblings {
					c, dup, err := l.Append(t.Context(), proto.Clone(ev).(*imbridgev1.Event))
					if err != nil || !dup || c != cursors[i] {
						t.Errorf("retry of %s to %s: cursor %d duplicate %v err %v; want %d true nil",
							ev.GetEventTypeName(), ev.GetRecipient(), c, dup, err, cursors[i])
					}
				}
			}
			all := listAll(t, l, eventlog.Query{OldestFirst: true, Limit: 100})
			if len(all) != len(siblings) {
				t.Fatalf("stored %d events, want %d", len(all), len(siblings))
			}
			for i, ev := range all {
				checkEvent(t, ev, withCursor(siblings[i], cursors[i]))
			}
			if ev, err := l2.GetByCallID(t.Context(), siblings[0].GetCallId()); err != nil || ev.GetCursor() != cursors[0] {
				t.Errorf("GetByCallID: cursor %d err %v; want the first stored, %d", ev.GetCursor(), err, cursors[0])
			}
		})
	}
}

// A redelivery compares callback keys through the call id index, which
// keeps the key of this process's appends, without reading the event: so
// it tells a sibling from a retry even when the event is gone (here
// purged; reading every old duplicate instead kept the whole log's blocks
// in the server's cache while redeliveries came).
func TestRedeliveriesCompareKeysWithoutReading(t *testing.T) {
	cfg := embedded(t)
	cfg.ListenAddr = "127.0.0.1:-1"
	l := openLog(t, cfg)
	first := newEvent("org#app_8924312242322", "org#app", "groupchat:txt") // vendor time: 2023
	cur := mustAppend(t, l, first)
	checkFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		if got, err := eventlog.IndexLookup(l, first.GetCallId()); err != nil || got != cur {
			return fmt.Errorf("index: %d %v, want %d", got, err, cur)
		}
		return nil
	})
	purgeStream(t, l)
	if c, dup, err := l.Append(t.Context(), proto.Clone(first).(*imbridgev1.Event)); err != nil || !dup || c != cur {
		t.Errorf("retry: cursor %d duplicate %v err %v; want %d true nil", c, dup, err, cur)
	}
	sibling := proto.Clone(first).(*imbridgev1.Event)
	sibling.EventTypeName, sibling.Recipient = "chat_offline", "user2"
	if c, dup, err := l.Append(t.Context(), sibling); err != nil || dup || c <= cur {
		t.Errorf("sibling: cursor %d duplicate %v err %v; want it stored after %d", c, dup, err, cur)
	}
}

// TestDedupeBeyondWindow makes JetStream forget two call ids (the events
// are purged and the server restarted, so its duplicate window holds
// nothing), checks that it did forget them, and that Append still reports
// the duplicates through the call id index: the index of the process that
// stored them, and that of a second process (external mode, its own data
// directory) that only ever read them from the log, through its feeder.
func TestDedupeBeyondWindow(t *testing.T) {
	cfg := embedded(t)
	cfg.ListenAddr = "127.0.0.1:-1"
	cfg.Logger = quiet
	l, err := eventlog.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	evA := newEvent("org#app_A", "org#app", "chat:txt")
	evB := newEvent("org#app_B", "org#app", "chat:txt")
	curA, curB := mustAppend(t, l, evA), mustAppend(t, l, evB)
	other := eventlog.Config{NATSURL: l.ClientURL(), DataDir: t.TempDir(), Logger: quiet}
	l2, err := eventlog.Open(t.Context(), other)
	if err != nil {
		t.Fatal(err)
	}
	checkFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		if got := eventlog.IndexedCursor(l2); got < curB {
			return fmt.Errorf("the second process indexed up to cursor %d, want %d", got, curB)
		}
		return nil
	})
	purgeStream(t, l)
	if err := l2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	l = openLog(t, cfg)
	// Control: JetStream alone no longer knows B, and stores it again.
	var curB2 uint64
	withRawJS(t, l.ClientURL(), func(js jetstream.JetStream) {
		ack, err := js.Publish(t.Context(), eventlog.SubjectPrefix+".org#app.chat.txt", []byte("x"), jetstream.WithMsgID(evB.CallId))
		if err != nil {
			t.Fatal(err)
		}
		if ack.Duplicate {
			t.Fatal("JetStream still remembers the call id: the test proves nothing")
		}
		curB2 = ack.Sequence
	})
	other.NATSURL = l.ClientURL()
	l2 = openLog(t, other)
	c, dup, err := l2.Append(t.Context(), evA)
	if err != nil || !dup || c != curA {
		t.Fatalf("second process: Append after JetStream forgot the id: %d %v %v; want %d true nil", c, dup, err, curA)
	}
	// The index follows the log: B is now the copy stored last.
	checkFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		c, dup, err := l.Append(t.Context(), evB)
		if err != nil || !dup || c != curB2 {
			return fmt.Errorf("Append B: %d %v %v; want %d true nil", c, dup, err, curB2)
		}
		return nil
	})
	if _, err := l.GetByCallID(t.Context(), evA.CallId); !errors.Is(err, eventlog.ErrNotFound) {
		t.Errorf("GetByCallID of a purged event: %v, want ErrNotFound", err)
	}
}

// A process that opens the log with an empty call id index (a new member
// of a cluster, an upgrade) knows the call ids stored before at its first
// Append: the Append waits until the feeder has read the log.
func TestNewProcessLearnsOldCallIDs(t *testing.T) {
	cfg := embedded(t)
	cfg.ListenAddr = "127.0.0.1:-1"
	l := openLog(t, cfg)
	old := newEvent("org#app_old", "org#app", "chat:txt")
	c := mustAppend(t, l, old)
	for i := range 300 { // events for the feeder to read first
		mustAppend(t, l, newEvent("org#app_more"+strconv.Itoa(i), "org#app", "chat:txt"))
	}
	// Make JetStream forget the call ids: shrink its window, and wait until
	// a probe stored after them is forgotten.
	withRawJS(t, l.ClientURL(), func(js jetstream.JetStream) {
		s, err := js.Stream(t.Context(), eventlog.StreamName)
		if err != nil {
			t.Fatal(err)
		}
		// Twice: an update makes the server's purge timer fire at once,
		// but on a busy machine it may fire before the new window is set,
		// and then waits out the old one (30 s). The second update's
		// purge finds a short window either way.
		sc := s.CachedInfo().Config
		for _, window := range []time.Duration{100 * time.Millisecond, 150 * time.Millisecond} {
			sc.Duplicates = window
			if _, err := js.UpdateStream(t.Context(), sc); err != nil {
				t.Fatal(err)
			}
		}
		subject := eventlog.SubjectPrefix + ".org#app.chat.txt"
		if _, err := js.Publish(t.Context(), subject, []byte("x"), jetstream.WithMsgID("probe")); err != nil {
			t.Fatal(err)
		}
		checkFor(t, 10*time.Second, 50*time.Millisecond, func() error {
			ack, err := js.Publish(t.Context(), subject, []byte("x"), jetstream.WithMsgID("probe"))
			if err != nil || ack.Duplicate {
				return fmt.Errorf("JetStream still remembers the probe (err %v)", err)
			}
			return nil
		})
	})
	l2 := openLog(t, eventlog.Config{NATSURL: l.ClientURL(), DataDir: t.TempDir(), Logger: quiet})
	if c2, dup, err := l2.Append(t.Context(), old); err != nil || !dup || c2 != c {
		t.Fatalf("new process: Append of an old call id: %d %v %v; want %d true nil", c2, dup, err, c)
	}
}

// A call id of any length and content is stored, deduplicated and found
// again: the JetStream message id is bounded (NATS headers are limited),
// and errors never carry the whole id.
func TestLongOrOddCallIDs(t *testing.T) {
	l := openLog(t, embedded(t))
	for _, id := range []string{
		strings.Repeat("x", 70_000),
		"org#app_line\r\nNats-Msg-Id: forged",
		"org#app_sp ace",
		strings.Repeat("y", 128),
	} {
		ev := newEvent(id, "org#app", "chat:txt")
		c := mustAppend(t, l, ev)
		again, dup, err := l.Append(t.Context(), ev)
		if err != nil || !dup || again != c {
			t.Fatalf("%.20q again: cursor %d dup %v err %v, want %d duplicate", id, again, dup, err, c)
		}
		got, err := l.GetByCallID(t.Context(), id)
		if err != nil || got.GetCallId() != id || got.GetCursor() != c {
			t.Fatalf("%.20q: GetByCallID = %v, %v", id, got.GetCursor(), err)
		}
		if m := eventlog.MsgID(id); len(m) > 128 || strings.ContainsAny(m, " \r\n") {
			t.Errorf("MsgID(%.20q) = %q: not a bounded header value", id, m)
		}
	}
	if got := eventlog.MsgID("org#app_1"); got != "org#app_1" {
		t.Errorf("MsgID of a plain call id = %q, want it unchanged", got)
	}
	if s := eventlog.ShortID(strings.Repeat("z", 10_000)); len(s) > 80 {
		t.Errorf("ShortID is %d bytes", len(s))
	}
}

// A stored message that is not an event is ErrCorrupt, which no retry
// mends, and a listing over it says so rather than skipping it silently.
func TestCorruptEventIsErrCorrupt(t *testing.T) {
	cfg := embedded(t)
	cfg.ListenAddr = "127.0.0.1:0"
	l := openLog(t, cfg)
	var seq uint64
	withRawJS(t, l.ClientURL(), func(js jetstream.JetStream) {
		ack, err := js.Publish(t.Context(), eventlog.SubjectPrefix+".org#app.chat.txt", []byte{0xff, 0xff, 0xff})
		if err != nil {
			t.Fatal(err)
		}
		seq = ack.Sequence
	})
	if _, err := l.Get(t.Context(), seq); !errors.Is(err, eventlog.ErrCorrupt) || errors.Is(err, eventlog.ErrUnavailable) {
		t.Errorf("Get of a corrupt event: %v, want ErrCorrupt", err)
	}
	if _, _, err := l.List(t.Context(), eventlog.Query{Limit: 10}); !errors.Is(err, eventlog.ErrCorrupt) {
		t.Errorf("List over a corrupt event: %v, want ErrCorrupt", err)
	}
}

// BenchmarkAppend measures Append of unique call ids on the embedded
// server: with the default sync and with SyncAlways, from GOMAXPROCS and
// from 16×GOMAXPROCS goroutines (callbacks arrive concurrently).
func BenchmarkAppend(b *testing.B) {
	for _, sync := range []bool{false, true} {
		for _, par := range []int{1, 16} {
			name := fmt.Sprintf("sync=default/goroutines=%dxGOMAXPROCS", par)
			if sync {
				name = fmt.Sprintf("sync=always/goroutines=%dxGOMAXPROCS", par)
			}
			b.Run(name, func(b *testing.B) {
				l := openLog(b, eventlog.Config{DataDir: b.TempDir(), SyncAlways: sync})
				var n atomic.Uint64
				b.ReportAllocs()
				b.SetParallelism(par)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					ev := newEvent("", "org#app", "chat:txt")
					for pb.Next() {
						ev.CallId = "org#app_" + strconv.FormatUint(n.Add(1), 10)
						if _, dup, err := l.Append(context.Background(), ev); err != nil || dup {
							b.Errorf("Append: dup %v err %v", dup, err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
			})
		}
	}
}

// A corrupt call id index entry is ErrCorrupt to a reader, never "retry";
// an Append of that call id stores the event and mends the entry.
func TestCorruptIndexEntryIsMended(t *testing.T) {
	l := openLog(t, embedded(t))
	const id = "org#app_corrupt"
	if err := eventlog.CorruptIndexEntry(l, id); err != nil {
		t.Fatal(err)
	}
	if _, err := l.GetByCallID(t.Context(), id); !errors.Is(err, eventlog.ErrCorrupt) || errors.Is(err, eventlog.ErrUnavailable) {
		t.Errorf("GetByCallID over a corrupt entry: %v, want ErrCorrupt", err)
	}
	c := mustAppend(t, l, newEvent(id, "org#app", "chat:txt"))
	if got, err := l.GetByCallID(t.Context(), id); err != nil || got.GetCursor() != c {
		t.Errorf("after Append: GetByCallID = %v, %v, want cursor %d", got.GetCursor(), err, c)
	}
}

// The call id index forgets a call id once its TTL has passed (within a
// partition's width), not before.
func TestCallIDIndexExpires(t *testing.T) {
	cfg := embedded(t)
	cfg.CallIDIndexTTL = 2 * time.Hour
	l := openLog(t, cfg)
	old := newEvent("org#app_old", "org#app", "chat:txt")
	before := time.Now()
	c := mustAppend(t, l, old)
	eventlog.ExpireIndex(l, before.Add(cfg.CallIDIndexTTL))
	if got, err := l.GetByCallID(t.Context(), old.CallId); err != nil || got.GetCursor() != c {
		t.Fatalf("at the TTL: GetByCallID = %d, %v; want %d", got.GetCursor(), err, c)
	}
	eventlog.ExpireIndex(l, time.Now().Add(cfg.CallIDIndexTTL+cfg.CallIDIndexTTL/eventlog.IndexPartitions))
	if _, err := l.GetByCallID(t.Context(), old.CallId); !errors.Is(err, eventlog.ErrNotFound) {
		t.Fatalf("past the TTL: GetByCallID: %v, want ErrNotFound", err)
	}
	// The event itself stays; JetStream's window still knows the id.
	if ev, err := l.Get(t.Context(), c); err != nil || ev.GetCallId() != old.CallId {
		t.Fatalf("Get %d: %v, %v", c, ev, err)
	}
	if c2, dup, err := l.Append(t.Context(), old); err != nil || !dup || c2 != c {
		t.Fatalf("Append within the duplicate window: %d %v %v; want %d true nil", c2, dup, err, c)
	}
}

// An Append whose deadline has passed publishes nothing, even when its
// context's timer has not fired yet: the caller answers that the event
// was not stored, and storing it later is not a duplicate.
func TestAppendPastDeadlineStoresNothing(t *testing.T) {
	l := openLog(t, embedded(t))
	ev := newEvent("org#app_late", "org#app", "chat:txt")
	soon, cancel := context.WithTimeout(t.Context(), time.Nanosecond)
	defer cancel()
	past, cancel2 := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel2()
	for _, ctx := range []context.Context{soon, past} {
		if c, _, err := l.Append(ctx, ev); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Append past its deadline: cursor %d, %v; want context.DeadlineExceeded", c, err)
		}
	}
	if c, dup, err := l.Append(t.Context(), ev); err != nil || dup || c != 1 {
		t.Fatalf("Append in time: cursor %d, duplicate %t, %v; want the first event, new", c, dup, err)
	}
}

// purgeStream removes every event of l's stream (l listens for clients),
// as retention or an operator would; the call id index keeps its entries.
func purgeStream(t *testing.T, l *eventlog.Log) {
	t.Helper()
	withRawJS(t, l.ClientURL(), func(js jetstream.JetStream) {
		s, err := js.Stream(t.Context(), eventlog.StreamName)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Purge(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

// An Append whose context ends while nats.go waits to publish its message
// again (the server answered "no responders": a stream without a leader
// for a moment, in a cluster's election) returns its buffers to the pool;
// nats.go's retry then publishes whatever another Append wrote there,
// under the first event's subject and message id. The first call id is
// then taken: its vendor retry is a "duplicate" of another event, and the
// callback is lost.
func TestRetriedPublishAfterDeadlineKeepsItsBytes(t *testing.T) {
	s := startServer(t)
	l := openLog(t, eventlog.Config{NATSURL: s.ClientURL(), DataDir: t.TempDir(), Compression: eventlog.CompressionNone})
	mustAppend(t, l, newEvent("org#app_warm0000", "org#app", "chat:txt"))

	setSubjects := func(subj string) {
		withRawJS(t, s.ClientURL(), func(js jetstream.JetStream) {
			st, err := js.Stream(t.Context(), eventlog.StreamName)
			if err != nil {
				t.Fatal(err)
			}
			sc := st.CachedInfo().Config
			sc.Subjects = []string{subj}
			if _, err := js.UpdateStream(t.Context(), sc); err != nil {
				t.Fatal(err)
			}
		})
	}
	// No stream listens on the events' subjects: publishes get "no
	// responders", which nats.go retries 250 ms later.
	for round := range 3 {
		setSubjects("imbridge.paused.>")
		first := newEvent(fmt.Sprintf("org#app_first%03d", round), "org#app", "chat:txt")
		ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
		_, _, err := l.Append(ctx, first)
		cancel()
		if err == nil {
			t.Fatal("Append with no stream succeeded")
		}
		setSubjects(eventlog.SubjectPrefix + ".>")
		// Other callbacks come meanwhile, through the same buffers.
		deadline := time.Now().Add(time.Second)
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := 0; time.Now().Before(deadline); i++ {
					ev := newEvent(fmt.Sprintf("org#app_%d%d%06d", round, w, i), "org#app", "chat:txt")
					if _, dup, err := l.Append(t.Context(), ev); err != nil || dup {
						t.Errorf("Append %s: %v %v", ev.CallId, dup, err)
						return
					}
				}
			})
		}
		wg.Wait()
		// The vendor retries the first callback.
		c, dup, err := l.Append(t.Context(), first)
		if err != nil {
			t.Fatal(err)
		}
		got, err := l.Get(t.Context(), c)
		if err != nil {
			t.Fatalf("the vendor's retry of %s was answered dup=%v at cursor %d, which cannot be read: %v", first.CallId, dup, c, err)
		}
		if got.GetCallId() != first.CallId {
			t.Fatalf("the vendor's retry of %s was answered dup=%v at cursor %d, which holds call id %q", first.CallId, dup, c, got.GetCallId())
		}
	}
}
