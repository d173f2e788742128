package eventlog_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/eventlog"
	"github.com/imbridge/imbridge/internal/selector"
)

func TestListEmpty(t *testing.T) {
	l := openLog(t, embedded(t))
	for _, q := range []eventlog.Query{
		{Limit: 10},
		{Limit: 10, OldestFirst: true},
		{Limit: 10, After: 5},
		{Limit: 10, After: 5, OldestFirst: true},
		{Limit: 10, StartTime: time.Now().Add(-time.Hour)},
		{Limit: 10, StartTime: time.Now().Add(-time.Hour), OldestFirst: true},
		{Limit: 10, Filter: eventlog.Filter{Selectors: mustSelectors(t, "chat:txt", "muc"), Appkey: "org#app"}},
		{Limit: 10, Filter: eventlog.Filter{Selectors: mustSelectors(t, "chat:txt", "muc"), Appkey: "org#app"}, OldestFirst: true},
	} {
		page, next, err := l.List(t.Context(), q)
		if err != nil || len(page) != 0 || next != 0 {
			t.Errorf("%+v: %d events, next %d, err %v", q, len(page), next, err)
		}
	}
}

func TestListBadQuery(t *testing.T) {
	l := openLog(t, embedded(t))
	for _, q := range []eventlog.Query{{Limit: 0}, {Limit: eventlog.MaxLimit + 1}, {Limit: 5, MaxScan: -1}} {
		if _, _, err := l.List(t.Context(), q); err == nil {
			t.Errorf("%+v accepted", q)
		}
	}
}

// fixture appends a mix of events and returns them, with cursors, in
// storage order.
func fixture(t *testing.T, l *eventlog.Log) ([]*imbridgev1.Event, time.Time) {
	apps := []string{"org#app1", "org#app2", "org.x#app 3"}
	sels := []string{"chat:txt", "chat:img", "groupchat:txt", "chatroom:txt", "muc:kick", "muc:create", "roster:add", "userStatus:login", "recall", "unknown"}
	users := []string{"alice", "bob", "carol"}
	groups := []string{"", "g1", "g2"}
	types := []imbridgev1.EventType{imbridgev1.EventType_EVENT_TYPE_CHAT, imbridgev1.EventType_EVENT_TYPE_CHAT_OFFLINE, imbridgev1.EventType_EVENT_TYPE_OTHER}
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	var out []*imbridgev1.Event
	for i := range 90 {
		ev := newEvent(fmt.Sprintf("org#app_f%d", i), apps[i%3], sels[(i*7)%len(sels)])
		ev.SenderUsername, ev.RecipientUsername, ev.GroupId = users[i%3], users[(i/3)%3], groups[(i/2)%3]
		ev.Sender, ev.Recipient = "org#app_"+ev.SenderUsername+"@easemob.com", ev.RecipientUsername
		ev.EventType = types[(i/5)%3]
		ev.ReceiveTime = timestamppb.New(base.Add(time.Duration(i) * time.Second))
		if i == 42 {
			ev.ReceiveTime = nil
		}
		out = append(out, withCursor(ev, mustAppend(t, l, ev)))
	}
	return out, base
}

// expected is the reference List: q's filters applied to every event.
func expected(all []*imbridgev1.Event, q eventlog.Query) []*imbridgev1.Event {
	var out []*imbridgev1.Event
	for _, ev := range all {
		rt := ev.GetReceiveTime()
		timed := !q.StartTime.IsZero() || !q.EndTime.IsZero()
		if !selector.MatchesAny(q.Selectors, ev.Selector) ||
			q.Appkey != "" && ev.Appkey != q.Appkey ||
			q.Sender != "" && ev.SenderUsername != q.Sender ||
			q.Recipient != "" && ev.RecipientUsername != q.Recipient ||
			q.GroupID != "" && ev.GroupId != q.GroupID ||
			len(q.EventTypes) > 0 && !slices.Contains(q.EventTypes, ev.EventType) ||
			timed && rt == nil ||
			!q.StartTime.IsZero() && rt.AsTime().Before(q.StartTime) ||
			!q.EndTime.IsZero() && !rt.AsTime().Before(q.EndTime) {
			continue
		}
		out = append(out, ev)
	}
	if !q.OldestFirst {
		out = reversed(out)
	}
	return out
}

func reversed(evs []*imbridgev1.Event) []*imbridgev1.Event {
	out := slices.Clone(evs)
	slices.Reverse(out)
	return out
}

func mustSelectors(t testing.TB, list ...string) []selector.Selector {
	t.Helper()
	s, err := selector.ParseAll(list)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// listAll pages through q until next is 0, checking each page's size.
func listAll(t testing.TB, l *eventlog.Log, q eventlog.Query) []*imbridgev1.Event {
	t.Helper()
	evs, _ := listPages(t, l, q)
	return evs
}

func listPages(t testing.TB, l *eventlog.Log, q eventlog.Query) (evs []*imbridgev1.Event, short int) {
	t.Helper()
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatal("paging does not end")
		}
		page, next, err := l.List(context.Background(), q)
		if err != nil {
			t.Fatalf("List %+v: %v", q, err)
		}
		if len(page) > q.Limit {
			t.Fatalf("%d events in a page of %d", len(page), q.Limit)
		}
		evs = append(evs, page...)
		if next == 0 {
			return evs, short
		}
		if len(page) < q.Limit {
			short++
		}
		if next == q.After {
			t.Fatalf("next %d does not move", next)
		}
		q.After = next
	}
}

func checkCursors(t testing.TB, got, want []*imbridgev1.Event) {
	t.Helper()
	cursors := func(evs []*imbridgev1.Event) []uint64 {
		var out []uint64
		for _, ev := range evs {
			out = append(out, ev.Cursor)
		}
		return out
	}
	if !slices.Equal(cursors(got), cursors(want)) {
		t.Fatalf("cursors:\n got %v\nwant %v", cursors(got), cursors(want))
	}
	for i := range got {
		checkEvent(t, got[i], want[i])
	}
}

func TestList(t *testing.T) {
	l := openLog(t, embedded(t))
	all, base := fixture(t, l)
	types := []imbridgev1.EventType{imbridgev1.EventType_EVENT_TYPE_CHAT_OFFLINE, imbridgev1.EventType_EVENT_TYPE_OTHER}
	for _, tc := range []struct {
		name string
		q    eventlog.Query
	}{
		{"all", eventlog.Query{}},
		{"chat:txt", eventlog.Query{Filter: eventlog.Filter{Selectors: mustSelectors(t, "chat:txt")}}},
		{"family muc", eventlog.Query{Filter: eventlog.Filter{Selectors: mustSelectors(t, "muc")}}},
		{"star", eventlog.Query{Filter: eventlog.Filter{Selectors: mustSelectors(t, "*")}}},
		{"star and more", eventlog.Query{Filter: eventlog.Filter{Selectors: mustSelectors(t, "muc", "*")}}},
		{"muc and chat:txt", eventlog.Query{Filter: eventlog.Filter{Selectors: mustSelectors(t, "muc", "chat:txt", "recall")}}},
		{"no-op families", eventlog.Query{Filter: eventlog.Filter{Selectors: mustSelectors(t, "recall", "unknown")}}},
		{"appkey", eventlog.Query{Filter: eventlog.Filter{Appkey: "org#app2"}}},
		{"odd appkey and family", eventlog.Query{Filter: eventlog.Filter{Appkey: "org.x#app 3", Selectors: mustSelectors(t, "chat", "userStatus")}}},
		{"unknown appkey", eventlog.Query{Filter: eventlog.Filter{Appkey: "org#none"}}},
		{"sender", eventlog.Query{Filter: eventlog.Filter{Sender: "bob"}}},
		{"recipient", eventlog.Query{Filter: eventlog.Filter{Recipient: "carol"}}},
		{"group", eventlog.Query{Filter: eventlog.Filter{GroupID: "g1"}}},
		{"event types", eventlog.Query{Filter: eventlog.Filter{EventTypes: types}}},
		{"time range", eventlog.Query{StartTime: base.Add(10 * time.Second), EndTime: base.Add(50 * time.Second)}},
		{"start time", eventlog.Query{StartTime: base.Add(70 * time.Second)}},
		{"end time", eventlog.Query{EndTime: base.Add(20 * time.Second)}},
		{"empty time range", eventlog.Query{StartTime: base.Add(20 * time.Second), EndTime: base.Add(20 * time.Second)}},
		{"combined", eventlog.Query{Filter: eventlog.Filter{Appkey: "org#app1", Selectors: mustSelectors(t, "chat", "groupchat"), Sender: "alice", EventTypes: types[:1]}, StartTime: base}},
	} {
		for _, oldest := range []bool{true, false} {
			for _, limit := range []int{1, 7, 1000} {
				q := tc.q
				q.OldestFirst, q.Limit = oldest, limit
				t.Run(fmt.Sprintf("%s/oldest=%v/limit=%d", tc.name, oldest, limit), func(t *testing.T) {
					want := expected(all, q)
					checkCursors(t, listAll(t, l, q), want)
					// The first page is exactly the first Limit events.
					page, next, err := l.List(t.Context(), q)
					if err != nil {
						t.Fatal(err)
					}
					checkCursors(t, page, want[:min(limit, len(want))])
					if len(want) > limit && next == 0 {
						t.Fatalf("next 0 with %d more events", len(want)-limit)
					}
				})
			}
		}
	}
	if n := len(expected(all, eventlog.Query{Filter: eventlog.Filter{Selectors: mustSelectors(t, "muc")}, OldestFirst: true})); n == 0 || n == len(all) {
		t.Fatalf("fixture is degenerate: %d muc events", n)
	}
}

func TestListAfter(t *testing.T) {
	l := openLog(t, embedded(t))
	all, _ := fixture(t, l)
	first, last := all[0].Cursor, all[len(all)-1].Cursor
	ctx := t.Context()
	for _, tc := range []struct {
		name      string
		q         eventlog.Query
		wantFirst uint64 // 0 = an empty page
	}{
		{"oldest after the end", eventlog.Query{OldestFirst: true, After: last + 100}, 0},
		{"oldest after the last", eventlog.Query{OldestFirst: true, After: last}, 0},
		{"oldest after the first", eventlog.Query{OldestFirst: true, After: first}, all[1].Cursor},
		{"newest before the first", eventlog.Query{After: first}, 0},
		{"newest before beyond the end", eventlog.Query{After: last + 100}, last},
		{"newest before the last", eventlog.Query{After: last}, all[len(all)-2].Cursor},
	} {
		tc.q.Limit = 5
		page, next, err := l.List(ctx, tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		switch {
		case tc.wantFirst == 0 && (len(page) != 0 || next != 0):
			t.Errorf("%s: %d events, next %d; want none and 0", tc.name, len(page), next)
		case tc.wantFirst != 0 && (len(page) != 5 || page[0].Cursor != tc.wantFirst || next == 0):
			t.Errorf("%s: %d events from %v, next %d; want 5 from %d", tc.name, len(page), page, next, tc.wantFirst)
		}
	}
}

// A batched read ends early once its messages reach the server's byte
// limit (64 MiB by default: a few dozen events of a few MiB each). Every
// event is still listed, in either order.
func TestListLargeEvents(t *testing.T) {
	eventlog.SetBatchMaxBytes(t, 8<<10) // a few of these events per batch
	l := openLog(t, embedded(t))
	evs := appendN(t, l, "big", 40, func(_ int, ev *imbridgev1.Event) { ev.RawBody = incompressible(2000) })
	want := cursorsOf(evs, nil)
	for _, oldestFirst := range []bool{true, false} {
		got := cursorsOf(listAll(t, l, eventlog.Query{OldestFirst: oldestFirst, Limit: 5}), nil)
		if !oldestFirst {
			slices.Reverse(got)
		}
		if !slices.Equal(got, want) {
			t.Errorf("oldest first %v: listed %v, want %v", oldestFirst, got, want)
		}
	}
}

// TestListTimeSeek checks that List skips, without examining them, events
// stored more than ClockSlack before StartTime: with MaxScan 1 it reaches
// the end at once.
func TestListTimeSeek(t *testing.T) {
	l := openLog(t, embedded(t))
	all, _ := fixture(t, l)
	future := time.Now().Add(time.Hour)
	for _, oldest := range []bool{true, false} {
		page, next, err := l.List(t.Context(), eventlog.Query{StartTime: future, OldestFirst: oldest, Limit: 10, MaxScan: 1})
		if err != nil || len(page) != 0 || next != 0 {
			t.Errorf("oldest=%v: %d events, next %d, err %v; want none and 0", oldest, len(page), next, err)
		}
	}
	// Events stored within ClockSlack of StartTime are examined.
	start := time.Now().Add(-eventlog.ClockSlack / 2)
	ev := newEvent("org#app_recent", "org#app1", "chat:txt")
	ev.ReceiveTime = timestamppb.New(time.Now().Add(time.Second))
	c := mustAppend(t, l, ev)
	for _, oldest := range []bool{true, false} {
		q := eventlog.Query{StartTime: start, OldestFirst: oldest, Limit: 10}
		checkCursors(t, listAll(t, l, q), []*imbridgev1.Event{withCursor(ev, c)})
		if !oldest {
			continue
		}
		// Oldest first starts at the first event stored since
		// StartTime-ClockSlack: the fixture, stored just now, is walked.
		page, next, err := l.List(t.Context(), eventlog.Query{StartTime: start, OldestFirst: true, Limit: 10, MaxScan: len(all)})
		if err != nil || len(page) != 0 || next != all[len(all)-1].Cursor {
			t.Errorf("MaxScan %d from StartTime: %d events, next %d, err %v; want none and %d", len(all), len(page), next, err, all[len(all)-1].Cursor)
		}
	}
}

func TestListMaxScan(t *testing.T) {
	l := openLog(t, embedded(t))
	all, _ := fixture(t, l)
	for _, oldest := range []bool{true, false} {
		for _, scan := range []int{1, 4, 25} {
			q := eventlog.Query{Filter: eventlog.Filter{Sender: "carol", GroupID: "g2"}, OldestFirst: oldest, Limit: 5, MaxScan: scan}
			t.Run(fmt.Sprintf("oldest=%v/maxscan=%d", oldest, scan), func(t *testing.T) {
				want := expected(all, q)
				got, short := listPages(t, l, q)
				checkCursors(t, got, want)
				if short == 0 {
					t.Error("MaxScan never cut a page short")
				}
				// One page examines at most MaxScan events, so it holds
				// at most that many.
				page, next, err := l.List(t.Context(), q)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) > scan || next == 0 {
					t.Errorf("first page: %d events, next %d", len(page), next)
				}
			})
		}
	}
	// JetStream's subject filter applies before MaxScan oldest first: a
	// rare selector is found in one call however far apart its events are.
	q := eventlog.Query{Filter: eventlog.Filter{Selectors: mustSelectors(t, "roster")}, OldestFirst: true, Limit: 1000, MaxScan: 20}
	page, next, err := l.List(t.Context(), q)
	if err != nil || next != 0 {
		t.Fatalf("roster: next %d err %v", next, err)
	}
	checkCursors(t, page, expected(all, q))
}

func TestListConcurrentWithAppends(t *testing.T) {
	l := openLog(t, embedded(t))
	var writers sync.WaitGroup
	for w := range 4 {
		writers.Go(func() {
			for i := range 50 {
				if _, _, err := l.Append(context.Background(), newEvent(fmt.Sprintf("org#app_w%d_%d", w, i), "org#app", "chat:txt")); err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		})
	}
	// The reader lists until every writer has returned, whether it
	// succeeded or failed, so a failed writer cannot leave it spinning.
	writersDone := make(chan struct{})
	go func() { writers.Wait(); close(writersDone) }()
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			select {
			case <-writersDone:
				return
			default:
			}
			for _, oldest := range []bool{true, false} {
				if err := listInOrder(l, oldest); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	<-writersDone
	<-readerDone
	if t.Failed() {
		return
	}
	if n := len(listAll(t, l, eventlog.Query{Limit: 1000})); n != 200 {
		t.Fatalf("%d events, want 200", n)
	}
}

// listInOrder pages through the whole log and reports cursors out of
// order.
func listInOrder(l *eventlog.Log, oldest bool) error {
	q := eventlog.Query{OldestFirst: oldest, Limit: 16}
	var prev uint64
	for {
		page, next, err := l.List(context.Background(), q)
		if err != nil {
			return err
		}
		for _, ev := range page {
			if prev != 0 && (oldest && ev.Cursor <= prev || !oldest && ev.Cursor >= prev) {
				return fmt.Errorf("out of order (oldest first %v): %d then %d", oldest, prev, ev.Cursor)
			}
			prev = ev.Cursor
		}
		if next == 0 {
			return nil
		}
		q.After = next
	}
}
