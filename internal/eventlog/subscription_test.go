package eventlog_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/eventlog"
)

func createSub(t testing.TB, l *eventlog.Log, c eventlog.SubscriptionConfig) {
	t.Helper()
	if c.Appkey == "" {
		c.Appkey = "org#app"
	}
	if c.AckDeadline == 0 {
		c.AckDeadline = time.Minute
	}
	if c.MaxDeliveries == 0 {
		c.MaxDeliveries = 5
	}
	if _, err := l.CreateSubscription(t.Context(), c); err != nil {
		t.Fatalf("CreateSubscription: %v", err)
	}
}

func join(t testing.TB, l *eventlog.Log, id string, max int) *eventlog.Member {
	t.Helper()
	m, err := l.Join(t.Context(), "org#app", id, max)
	if err != nil {
		t.Fatalf("Join: %v", err)
	}
	t.Cleanup(m.Close)
	return m
}

func ack(t testing.TB, l *eventlog.Log, id string, cursors ...uint64) {
	t.Helper()
	if err := l.Acknowledge(t.Context(), "org#app", id, cursors); err != nil {
		t.Errorf("Acknowledge: %v", err)
	}
}

func TestSubscriptionResource(t *testing.T) {
	l := openLog(t, embedded(t))
	ctx := t.Context()
	c := eventlog.SubscriptionConfig{Appkey: "org#app", ID: "billing", Filter: eventlog.Filter{
		Selectors: mustSelectors(t, "chat", "muc:kick", "chat:txt"), // chat covers chat:txt
		Sender:    "alice", EventTypes: []imbridgev1.EventType{imbridgev1.EventType_EVENT_TYPE_CHAT},
	}, AckDeadline: 42 * time.Second, MaxDeliveries: 7, Earliest: true}
	createSub(t, l, c)
	if _, err := l.CreateSubscription(ctx, c); !errors.Is(err, eventlog.ErrSubscriptionExists) {
		t.Errorf("second create: %v, want ErrSubscriptionExists", err)
	}
	createSub(t, l, eventlog.SubscriptionConfig{Appkey: "org#app", ID: "audit"})
	createSub(t, l, eventlog.SubscriptionConfig{Appkey: "org#other", ID: "billing"})
	got, err := l.GetSubscription(ctx, "org#app", "billing")
	if err != nil {
		t.Fatal(err)
	}
	c.Filter.Appkey = "org#app"
	if fmt.Sprint(got.SubscriptionConfig) != fmt.Sprint(c) || got.Created.IsZero() {
		t.Errorf("got %+v, want %+v", got.SubscriptionConfig, c)
	}
	list, err := l.ListSubscriptions(ctx, "org#app")
	if err != nil || len(list) != 2 || list[0].ID != "audit" || list[1].ID != "billing" {
		t.Fatalf("list: %v %v", list, err)
	}
	if err := l.DeleteSubscription(ctx, "org#app", "billing"); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		l.DeleteSubscription(ctx, "org#app", "billing"),
		l.Acknowledge(ctx, "org#app", "billing", []uint64{1}),
		func() error { _, err := l.GetSubscription(ctx, "org#app", "billing"); return err }(),
		func() error { _, err := l.Join(ctx, "org#app", "billing", 1); return err }(),
	} {
		if !errors.Is(err, eventlog.ErrSubscriptionNotFound) {
			t.Errorf("after delete: %v, want ErrSubscriptionNotFound", err)
		}
	}
	if other, err := l.GetSubscription(ctx, "org#other", "billing"); err != nil || other.Appkey != "org#other" {
		t.Errorf("the other app's subscription of the same id: %v %v", other, err)
	}
}

// Members share the events: each goes to one member; an event not
// acknowledged in time comes again with a higher attempt; an event the
// field filter leaves out is acknowledged by the log.
func TestSubscriptionMembersShareAndRedeliver(t *testing.T) {
	l := openLog(t, embedded(t))
	createSub(t, l, eventlog.SubscriptionConfig{ID: "work", Filter: eventlog.Filter{Sender: "alice"}, AckDeadline: 3 * time.Second}) // a margin for acks on a busy machine
	evs := appendN(t, l, "s", 30, func(i int, ev *imbridgev1.Event) {
		ev.SenderUsername = []string{"alice", "alice", "bob"}[i%3]
	})
	want := cursorsOf(evs, func(ev *imbridgev1.Event) bool { return ev.SenderUsername == "alice" })

	a, b := join(t, l, "work", 3), join(t, l, "work", 3)
	var (
		mu       sync.Mutex
		seen     = map[uint64][]int{} // cursor → attempts
		unacked  uint64               // the one event a drops once
		byMember = map[string]int{}
	)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	done := func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range want {
			if len(seen[c]) == 0 || c == unacked && len(seen[c]) < 2 {
				return false
			}
		}
		return true
	}
	var wg sync.WaitGroup
	for name, m := range map[string]*eventlog.Member{"a": a, "b": b} {
		wg.Go(func() {
			for !done() && ctx.Err() == nil {
				it, err := m.Next(ctx, 100*time.Millisecond)
				if err != nil || it.Heartbeat {
					continue
				}
				mu.Lock()
				seen[it.Cursor] = append(seen[it.Cursor], it.Attempt)
				byMember[name]++
				drop := name == "a" && unacked == 0
				if drop {
					unacked = it.Cursor
				}
				mu.Unlock()
				if !drop {
					ack(t, l, "work", it.Cursor)
				}
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatalf("not every event arrived: seen %v", seen)
	}
	for c, attempts := range seen {
		if !slices.Contains(want, c) {
			t.Errorf("cursor %d delivered, but the filter leaves it out", c)
		}
		wantAttempts := []int{1}
		if c == unacked {
			wantAttempts = []int{1, 2}
		}
		if fmt.Sprint(attempts) != fmt.Sprint(wantAttempts) {
			t.Errorf("cursor %d: attempts %v, want %v", c, attempts, wantAttempts)
		}
	}
	if byMember["a"] == 0 || byMember["b"] == 0 {
		t.Errorf("one member got everything: %v", byMember)
	}
	checkFor(t, time.Minute, 20*time.Millisecond, func() error {
		info, err := l.GetSubscription(t.Context(), "org#app", "work")
		if err != nil {
			return err
		}
		if info.Backlog != 0 || info.Unacknowledged != 0 {
			return fmt.Errorf("backlog %d, unacknowledged %d", info.Backlog, info.Unacknowledged)
		}
		return nil
	})
}

// A member holds at most its max outstanding events; an acknowledgement
// frees a slot.
func TestMemberBoundsOutstanding(t *testing.T) {
	l := openLog(t, embedded(t))
	createSub(t, l, eventlog.SubscriptionConfig{ID: "bounded"})
	evs := appendN(t, l, "b", 5, nil)
	m := join(t, l, "bounded", 2)
	got := takeCursors(t, m.Next, 2)
	sameCursors(t, "first two", got, cursorsOf(evs[:2], nil))
	idle(t, m.Next) // two outstanding: nothing more comes
	ack(t, l, "bounded", got[0])
	sameCursors(t, "after an ack", takeCursors(t, m.Next, 1), cursorsOf(evs[2:3], nil))
}

// The position and unacknowledged events survive a restart; an event past
// its last attempt is reported and not delivered again.
func TestSubscriptionSurvivesRestartAndAbandons(t *testing.T) {
	cfg := embedded(t)
	cfg.Logger = quiet
	l1, err := eventlog.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	createSub(t, l1, eventlog.SubscriptionConfig{ID: "durable", AckDeadline: 300 * time.Millisecond, MaxDeliveries: 2})
	evs := appendN(t, l1, "d", 4, nil)
	m, err := l1.Join(t.Context(), "org#app", "durable", 10)
	if err != nil {
		t.Fatal(err)
	}
	got := takeCursors(t, m.Next, 2)
	ack(t, l1, "durable", got[0]) // got[1] stays unacknowledged
	m.Close()
	if err := l1.Close(); err != nil {
		t.Fatal(err)
	}

	type abandonedEvent struct {
		id     string
		cursor uint64
	}
	abandoned := make(chan abandonedEvent, 4)
	cfg.OnAbandoned = func(appkey, id string, cursor uint64, _ int) { abandoned <- abandonedEvent{appkey + "/" + id, cursor} }
	l2 := openLog(t, cfg)
	m2 := join(t, l2, "durable", 10)
	attempts := map[uint64][]int{}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	// Nothing is acknowledged any more: the unacknowledged evs[1] comes
	// back for its second and last attempt, and so do evs[2] and evs[3]
	// (the first member may have received them before it left).
	last := func(c uint64) int { a := attempts[c]; return append([]int{0}, a...)[len(a)] }
	for last(evs[1].Cursor) < 2 || last(evs[2].Cursor) < 2 || last(evs[3].Cursor) < 2 {
		it, err := m2.Next(ctx, 100*time.Millisecond)
		if err != nil {
			t.Fatalf("Next: %v (attempts %v)", err, attempts)
		}
		if !it.Heartbeat {
			attempts[it.Cursor] = append(attempts[it.Cursor], it.Attempt)
		}
	}
	if len(attempts[evs[0].Cursor]) != 0 || fmt.Sprint(attempts[evs[1].Cursor]) != "[2]" {
		t.Fatalf("after the restart: %v (want the acknowledged event never, the unacknowledged one at attempt 2)", attempts)
	}
	// The member goes on pulling, as a stream does: the server finds an
	// event past its last attempt when it would deliver it again.
	var reported []uint64
	for len(reported) < 3 {
		select {
		case a := <-abandoned:
			if a.id != "org#app/durable" {
				t.Errorf("abandoned reported for %q", a.id)
			}
			reported = append(reported, a.cursor)
			continue
		default:
		}
		it, err := m2.Next(ctx, 100*time.Millisecond)
		if err != nil {
			t.Fatalf("abandoned events reported: %v, want 3 (Next: %v)", reported, err)
		}
		if !it.Heartbeat {
			t.Fatalf("event %d delivered again, attempt %d, past the last", it.Cursor, it.Attempt)
		}
	}
	slices.Sort(reported)
	sameCursors(t, "abandoned", reported, cursorsOf(evs[1:], nil))
}

// A member ends with ErrSubscriptionNotFound once its subscription is
// deleted, even one that holds its max outstanding events and so pulls
// nothing: the server's advisory tells it.
func TestMemberEndsWhenItsSubscriptionIsDeleted(t *testing.T) {
	l := openLog(t, embedded(t))
	createSub(t, l, eventlog.SubscriptionConfig{ID: "gone"})
	appendN(t, l, "g", 2, nil)
	m := join(t, l, "gone", 1)
	takeCursors(t, m.Next, 1) // not acknowledged: the member is full
	if err := l.DeleteSubscription(t.Context(), "org#app", "gone"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), waitEvent)
	defer cancel()
	// No heartbeat (and so no check) within the wait: only the advisory
	// can end it.
	if _, err := m.Next(ctx, time.Hour); !errors.Is(err, eventlog.ErrSubscriptionNotFound) {
		t.Fatalf("Next after the deletion: %v, want ErrSubscriptionNotFound", err)
	}
}

// A member of a subscription that was deleted and created again under the
// same name, with another filter, takes none of the new one's events (it
// would acknowledge those its own filter leaves out): it ends, and they go
// to the new subscription's members.
func TestMemberOfARecreatedSubscriptionTakesNothing(t *testing.T) {
	l := openLog(t, embedded(t))
	createSub(t, l, eventlog.SubscriptionConfig{ID: "x", Filter: eventlog.Filter{Sender: "alice"}})
	old := join(t, l, "x", 10)
	if err := l.DeleteSubscription(t.Context(), "org#app", "x"); err != nil {
		t.Fatal(err)
	}
	createSub(t, l, eventlog.SubscriptionConfig{ID: "x", Filter: eventlog.Filter{Sender: "bob"}})
	evs := appendN(t, l, "bob", 3, func(_ int, ev *imbridgev1.Event) { ev.SenderUsername = "bob" })
	ctx, cancel := context.WithTimeout(t.Context(), waitEvent)
	defer cancel()
	if it, err := old.Next(ctx, time.Hour); !errors.Is(err, eventlog.ErrSubscriptionNotFound) {
		t.Fatalf("the old member's Next: event %d, %v; want ErrSubscriptionNotFound", it.Cursor, err)
	}
	m := join(t, l, "x", 10)
	sameCursors(t, "the new subscription's member", takeCursors(t, m.Next, len(evs)), cursorsOf(evs, nil))
}

// Of concurrent creates of one subscription, exactly one succeeds; the
// others are told it exists, though their settings are the same.
func TestConcurrentCreatesOneWins(t *testing.T) {
	l := openLog(t, embedded(t))
	for round := range 5 {
		var wg sync.WaitGroup
		var mu sync.Mutex
		results := map[string]int{}
		for range 8 {
			wg.Go(func() {
				_, err := l.CreateSubscription(t.Context(), eventlog.SubscriptionConfig{Appkey: "org#app", ID: fmt.Sprint("race", round),
					AckDeadline: time.Minute, MaxDeliveries: 5})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					results["created"]++
				case errors.Is(err, eventlog.ErrSubscriptionExists):
					results["exists"]++
				default:
					results[err.Error()]++
				}
			})
		}
		wg.Wait()
		if results["created"] != 1 || results["exists"] != 7 {
			t.Errorf("round %d: %v, want 1 created and 7 exists", round, results)
		}
	}
}

// A member that does not call Next for a while (its stream busy sending)
// misses no acknowledgement notice, however many other members' come
// meanwhile: its own acknowledged events free their slots at once, not
// after the ack deadline.
func TestMemberKeepsEveryAckNotice(t *testing.T) {
	l := openLog(t, embedded(t))
	createSub(t, l, eventlog.SubscriptionConfig{ID: "busy", AckDeadline: time.Hour})
	a := join(t, l, "busy", 2)
	first := cursorsOf(appendN(t, l, "a", 2, nil), nil)
	sameCursors(t, "a takes two", takeCursors(t, a.Next, 2), first)

	b := join(t, l, "busy", 1000)
	more := cursorsOf(appendN(t, l, "b", 200, nil), nil)
	for _, c := range takeCursors(t, b.Next, len(more)) {
		ack(t, l, "busy", c) // a notice each
	}
	b.Close() // its pull would take the next event
	ack(t, l, "busy", first...)
	// Within waitEvent, far below the hour of the deadline.
	next := cursorsOf(appendN(t, l, "c", 1, nil), nil)
	sameCursors(t, "a after its acknowledgements", takeCursors(t, a.Next, 1), next)
}

// A member hands back what it returned and the stream did not send
// (Release): another member gets it in seconds, not after the hour of the
// ack deadline; what it returned and kept stays with it. (What a member
// pulled and never returned is handed back by Close: see the server's
// TestStalledMemberHandsBackWhatItDidNotSend, where it has waited in the
// pull long enough to be there to hand back.)
func TestMemberReleasesWhatItDidNotSend(t *testing.T) {
	l := openLog(t, embedded(t))
	createSub(t, l, eventlog.SubscriptionConfig{ID: "leave", AckDeadline: time.Hour})
	evs := cursorsOf(appendN(t, l, "l", 2, nil), nil)
	a, err := l.Join(t.Context(), "org#app", "leave", 2)
	if err != nil {
		t.Fatal(err)
	}
	sameCursors(t, "a", takeCursors(t, a.Next, 2), evs)
	a.Release(evs[1])
	a.Close()
	b := join(t, l, "leave", 10)
	it := nextEvent(t, b.Next)
	if it.Cursor != evs[1] || it.Attempt != 2 {
		t.Fatalf("b got cursor %d attempt %d, want the released %d at attempt 2", it.Cursor, it.Attempt, evs[1])
	}
	idle(t, b.Next) // evs[0] stays with a's client until its deadline
}

// An event that waited in a member's pull past its ack deadline (the
// member's stream was busy) belongs to another member by then: the first
// one neither returns it nor hands it back when it leaves, either of
// which would have it delivered twice at once.
func TestMemberLetsGoOfEventsPastTheirDeadline(t *testing.T) {
	l := openLog(t, embedded(t))
	const deadline = 8 * time.Second
	createSub(t, l, eventlog.SubscriptionConfig{ID: "stale", AckDeadline: deadline})
	evs := cursorsOf(appendN(t, l, "s", 2, nil), nil)
	a, err := l.Join(t.Context(), "org#app", "stale", 2)
	if err != nil {
		t.Fatal(err)
	}
	sameCursors(t, "a", takeCursors(t, a.Next, 1), evs[:1]) // evs[1] waits in a's pull
	// a's stream is busy: past the deadline the server gives both to b.
	b := join(t, l, "stale", 2)
	got := takeCursors(t, b.Next, 2)
	taken := time.Now()
	slices.Sort(got)
	sameCursors(t, "b", got, evs)
	idle(t, a.Next) // evs[1], in a's pull, is b's now
	a.Close()
	// Until b's deadline (less a margin for a slow machine), nobody else
	// gets them.
	c := join(t, l, "stale", 2)
	ctx, cancel := context.WithTimeout(t.Context(), deadline-3*time.Second-time.Since(taken))
	defer cancel()
	for {
		it, err := c.Next(ctx, time.Second)
		if err != nil {
			return
		}
		if !it.Heartbeat {
			t.Fatalf("c got cursor %d (attempt %d) %v after b took it, within b's ack deadline: delivered twice at once",
				it.Cursor, it.Attempt, time.Since(taken).Round(100*time.Millisecond))
		}
	}
}

// Acknowledging repeated cursors, and cursors already acknowledged, in one
// call must return promptly: every acknowledgement sent is answered.
func TestAcknowledgeRepeatedCursors(t *testing.T) {
	l := openLog(t, embedded(t))
	var cs []uint64
	for i := range 5 {
		cs = append(cs, mustAppend(t, l, newEvent("org#app_r"+string(rune('a'+i)), "org#app", "chat:txt")))
	}
	createSub(t, l, eventlogSubCfg("rep"))
	m := join(t, l, "rep", 10)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	got := 0
	for got < len(cs) {
		it, err := m.Next(ctx, 100*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if !it.Heartbeat {
			got++
		}
	}
	cur := []uint64{cs[0], cs[0], cs[1], cs[0], cs[1], cs[2]}
	if err := l.Acknowledge(t.Context(), "org#app", "rep", cur); err != nil {
		t.Fatalf("Acknowledge with repeats: %v", err)
	}
	if err := l.Acknowledge(t.Context(), "org#app", "rep", cur); err != nil {
		t.Fatalf("Acknowledge again: %v", err)
	}
}

func eventlogSubCfg(id string) eventlog.SubscriptionConfig {
	return eventlog.SubscriptionConfig{ID: id, Earliest: true}
}
