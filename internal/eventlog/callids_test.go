package eventlog_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/types/known/timestamppb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/eventlog"
	"github.com/imbridge/imbridge/internal/testlog"
)

// indexedUpTo waits until l's call id index has recorded every event up to
// cursor.
func indexedUpTo(t *testing.T, l *eventlog.Log, cursor uint64) {
	t.Helper()
	// A minute for what takes milliseconds: a starved machine is slow,
	// never wrong.
	checkFor(t, time.Minute, 5*time.Millisecond, func() error {
		if got := eventlog.IndexedCursor(l); got < cursor {
			return fmt.Errorf("indexed up to cursor %d, want %d", got, cursor)
		}
		return nil
	})
}

func purge(t *testing.T, url string, seq uint64) {
	t.Helper()
	withRawJS(t, url, func(js jetstream.JetStream) {
		s, err := js.Stream(t.Context(), eventlog.StreamName)
		if err != nil {
			t.Fatal(err)
		}
		if seq == 0 {
			err = s.Purge(t.Context())
		} else {
			err = s.DeleteMsg(t.Context(), seq)
		}
		if err != nil {
			t.Fatal(err)
		}
	})
}

// A process whose index stopped at a checkpoint, and whose log then lost
// every later event (a purge, retention while the process was down), is
// current at once when it comes back: Append and GetByCallID do not wait
// for events that no longer exist.
func TestIndexCurrentAfterTheLogLostItsTail(t *testing.T) {
	s := startServer(t)
	l1 := openLog(t, eventlog.Config{NATSURL: s.ClientURL(), DataDir: t.TempDir()})
	c1 := mustAppend(t, l1, newEvent("org#app_t1", "org#app", "chat:txt"))
	cfg2 := eventlog.Config{NATSURL: s.ClientURL(), DataDir: t.TempDir(), Logger: quiet}
	l2, err := eventlog.Open(t.Context(), cfg2)
	if err != nil {
		t.Fatal(err)
	}
	indexedUpTo(t, l2, c1)
	if err := l2.Close(); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, l1, newEvent("org#app_t2", "org#app", "chat:txt"))
	mustAppend(t, l1, newEvent("org#app_t3", "org#app", "chat:txt"))
	purge(t, s.ClientURL(), 0)

	l2 = openLog(t, cfg2)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // a bound, not a budget: starved CI machines included
	defer cancel()
	if _, dup, err := l2.Append(ctx, newEvent("org#app_t4", "org#app", "chat:txt")); err != nil || dup {
		t.Fatalf("Append after the log lost its tail: dup %v err %v", dup, err)
	}
	if _, err := l2.GetByCallID(ctx, "org#app_unknown"); !errors.Is(err, eventlog.ErrNotFound) {
		t.Fatalf("GetByCallID of an unknown id: %v, want ErrNotFound", err)
	}
}

// GetByCallID of an unknown id answers ErrNotFound even when the log's
// newest event was deleted before this process's feeder could read it.
func TestGetByCallIDWhenTheNewestEventWasDeleted(t *testing.T) {
	s := startServer(t)
	l1 := openLog(t, eventlog.Config{NATSURL: s.ClientURL(), DataDir: t.TempDir()})
	c1 := mustAppend(t, l1, newEvent("org#app_d1", "org#app", "chat:txt"))
	c2 := mustAppend(t, l1, newEvent("org#app_d2", "org#app", "chat:txt"))
	purge(t, s.ClientURL(), c2)
	l2 := openLog(t, eventlog.Config{NATSURL: s.ClientURL(), DataDir: t.TempDir()})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // a bound, not a budget: starved CI machines included
	defer cancel()
	if _, err := l2.GetByCallID(ctx, "org#app_unknown"); !errors.Is(err, eventlog.ErrNotFound) {
		t.Fatalf("GetByCallID of an unknown id: %v, want ErrNotFound", err)
	}
	if ev, err := l2.GetByCallID(ctx, "org#app_d1"); err != nil || ev.GetCursor() != c1 {
		t.Fatalf("GetByCallID of a kept event: %v, %v; want cursor %d", ev.GetCursor(), err, c1)
	}
}

// An index that recorded events the log no longer has (the store lost its
// newest writes in a power loss, or was restored from a backup) is rebuilt
// from the log: events stored again under those cursors are found, and no
// stale entry answers for them.
func TestIndexPastTheLogIsRebuilt(t *testing.T) {
	cfg := embedded(t)
	cfg.Logger = quiet
	l, err := eventlog.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ev := newEvent("org#app_p1", "org#app", "chat:txt")
	c := mustAppend(t, l, ev)
	indexedUpTo(t, l, c)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// Simulate the log losing what the index recorded by pointing the
	// index's checkpoint past the log's head.
	l, err = eventlog.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := eventlog.SetIndexCheckpoint(l, c+5); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, cfg)
	if got := eventlog.IndexedCursor(l); got > c {
		t.Fatalf("the index kept a checkpoint %d past the log's head %d", got, c)
	}
	c2 := mustAppend(t, l, newEvent("org#app_p2", "org#app", "chat:txt"))
	for id, want := range map[string]uint64{"org#app_p1": c, "org#app_p2": c2} {
		if got, err := l.GetByCallID(t.Context(), id); err != nil || got.GetCursor() != want {
			t.Errorf("GetByCallID %s: %v, %v; want cursor %d", id, got.GetCursor(), err, want)
		}
	}
}

// A cluster that loses its newest writes while imbridge runs (a power loss
// on every server, a restore from a backup) stores new events under the
// lost cursors, and the index's entries for the lost events would take
// their redeliveries, the one way to store them again, for duplicates. The
// index must notice and stop: such a redelivery is refused (the vendor
// retries it), live callbacks are still stored, and the next Open rebuilds
// the index, though the log has grown back to its old checkpoint by then.
//
// The feeder notices in two ways: its check of the log finds it shorter
// than the checkpoint, or, once live appends have grown the log back past
// the checkpoint before that check (the second case, where the check is
// off), this process's own appends are acknowledged at cursors where the
// index recorded the lost events.
func TestIndexStopsWhenTheLogLosesItsNewestWrites(t *testing.T) {
	for _, tc := range []struct {
		name      string
		grownBack bool
	}{
		{"the log shorter than the index", false},
		{"the log grown back by live appends", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.grownBack {
				eventlog.SkipTailCheck(t)
			}
			loseNewestWrites(t, tc.grownBack)
		})
	}
}

func loseNewestWrites(t *testing.T, growBack bool) {
	store := t.TempDir()
	s := startServer(t, func(o *server.Options) { o.StoreDir = store })
	port := s.Addr().(*net.TCPAddr).Port
	// restart stops the server and starts it again on the same port and
	// store, first copying the store to save, or replacing it by restore.
	restart := func(save, restore string) {
		t.Helper()
		s.Shutdown()
		s.WaitForShutdown()
		if save != "" {
			if err := os.CopyFS(save, os.DirFS(store)); err != nil {
				t.Fatal(err)
			}
		}
		if restore != "" {
			if err := os.RemoveAll(store); err != nil {
				t.Fatal(err)
			}
			if err := os.CopyFS(store, os.DirFS(restore)); err != nil {
				t.Fatal(err)
			}
		}
		s = startServer(t, func(o *server.Options) { o.StoreDir, o.Port = store, port })
	}
	cfg := eventlog.Config{NATSURL: s.ClientURL(), DataDir: t.TempDir(), Logger: quiet}
	l, err := eventlog.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }() // closed below; Close is idempotent
	// appendOnce appends ev until the log answers, through reconnections.
	appendOnce := func(ev *imbridgev1.Event) uint64 {
		t.Helper()
		var c uint64
		checkFor(t, time.Minute, 50*time.Millisecond, func() error {
			var err error
			c, _, err = l.Append(t.Context(), ev)
			return err
		})
		return c
	}
	// appendLive appends a live callback: within the duplicate window,
	// it needs no index.
	appendLive := func(id string) uint64 {
		t.Helper()
		live := newEvent(id, "org#app", "chat:txt")
		live.VendorTime = timestamppb.Now()
		return appendOnce(live)
	}

	kept := mustAppend(t, l, newEvent("org#app_kept", "org#app", "chat:txt"))
	backup := filepath.Join(t.TempDir(), "backup")
	restart(backup, "")
	// Old vendor times: Append asks the index for these.
	lostEvents := []*imbridgev1.Event{
		newEvent("org#app_lost1", "org#app", "chat:txt"),
		newEvent("org#app_lost2", "org#app", "chat:txt"),
		newEvent("org#app_lost3", "org#app", "chat:txt"),
	}
	var lost []uint64
	for _, ev := range lostEvents {
		lost = append(lost, appendOnce(ev))
	}
	indexedUpTo(t, l, lost[len(lost)-1])
	restart("", backup) // the log ends at kept again

	newest := kept
	if growBack {
		for i := range lost {
			newest = appendLive(fmt.Sprintf("org#app_live%d", i))
		}
		if newest != lost[len(lost)-1] {
			t.Fatalf("live callbacks after the loss stored up to cursor %d, want the lost cursors %v reused", newest, lost)
		}
	}
	// Until the feeder notices, the stale entries answer; then a
	// redelivery is refused.
	checkFor(t, time.Minute, 50*time.Millisecond, func() error {
		c, dup, err := l.Append(t.Context(), lostEvents[0])
		if err != nil && errors.Is(err, eventlog.ErrUnavailable) && strings.Contains(err.Error(), "lost their newest writes") {
			return nil
		}
		return fmt.Errorf("redelivery of an event the log lost: cursor %d, duplicate %v, %v; want it refused", c, dup, err)
	})
	if !growBack {
		if c := appendLive("org#app_live"); c != lost[0] {
			t.Errorf("a live callback after the loss: cursor %d, want the lost cursor %d reused", c, lost[0])
		}
		newest = lost[0]
	}
	if err := l.Close(); err != nil {
		// The servers lost consumers of this process's too, and it may
		// still be reconnecting: Close says so, and releases the rest.
		t.Logf("Close after the loss: %v", err)
	}

	// A new process rebuilds the index, though the log may be back at the
	// old checkpoint.
	l2 := openLog(t, cfg)
	for _, ev := range lostEvents {
		if c, dup, err := l2.Append(t.Context(), ev); err != nil || dup || c <= newest {
			t.Errorf("redelivery of lost event %s after a restart: cursor %d, duplicate %v, %v; want it stored anew", ev.GetCallId(), c, dup, err)
		}
	}
	if c, dup, err := l2.Append(t.Context(), newEvent("org#app_kept", "org#app", "chat:txt")); err != nil || !dup || c != kept {
		t.Errorf("redelivery of a kept event after a restart: cursor %d, duplicate %v, %v; want a duplicate of %d", c, dup, err, kept)
	}
}

// Append asks the call id index only for events whose vendor time says an
// earlier copy could be older than the duplicate window: live callbacks
// skip it, redeliveries (old timestamps), events without a time and times
// far ahead of the clock are looked up.
func TestWhichAppendsAskTheIndex(t *testing.T) {
	l := openLog(t, embedded(t)) // default window: 30s
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		vendor *timestamppb.Timestamp
		skip   bool
	}{
		{"no vendor time", nil, false},
		{"now", timestamppb.New(now), true},
		{"14s ago", timestamppb.New(now.Add(-14 * time.Second)), true},
		{"16s ago: half the window", timestamppb.New(now.Add(-16 * time.Second)), false},
		{"3 days ago: a redelivery", timestamppb.New(now.Add(-72 * time.Hour)), false},
		{"7s ahead", timestamppb.New(now.Add(7 * time.Second)), true},
		{"8s ahead: a quarter of the window", timestamppb.New(now.Add(8 * time.Second)), false},
	} {
		if got := eventlog.WithinWindow(l, tc.vendor, now); got != tc.skip {
			t.Errorf("%s: skips the index %v, want %v", tc.name, got, tc.skip)
		}
	}
}

// Append trusts the duplicate window only as far back as the server's
// surely reaches, not as far as the window configured: a raised window
// reaches back only as time passes (the server restarted with the ids of
// the old window), and another process on the cluster may set a shorter
// one. Else a retry between the old window and half the new one skips the
// index, and JetStream, which forgot it, stores it again.
func TestAppendTrustsTheWindowTheServerHas(t *testing.T) {
	age := func(l *eventlog.Log, d time.Duration, now time.Time) bool {
		return eventlog.WithinWindow(l, timestamppb.New(now.Add(-d)), now)
	}
	t.Run("raised at a restart", func(t *testing.T) {
		cfg := embedded(t)
		cfg.DuplicateWindow = eventlog.MinDuplicateWindow
		if err := openLog(t, cfg).Close(); err != nil {
			t.Fatal(err)
		}
		cfg.DuplicateWindow = 3 * time.Minute
		// "Right after the raise", however slowly the machine opens the
		// log: a time before it.
		now := time.Now()
		l := openLog(t, cfg)
		if age(l, 15*time.Second, now) {
			t.Error("a callback 15s old skips the index right after the window was raised from 20s")
		}
		if later := now.Add(3 * time.Minute); !age(l, 60*time.Second, later) {
			t.Error("a callback 60s old still asks the index 3m after the raise: the raised window never counts as filled")
		}
	})
	t.Run("raised by another process, opened after", func(t *testing.T) {
		cfg := embedded(t)
		cfg.ListenAddr, cfg.DuplicateWindow = "127.0.0.1:-1", eventlog.MinDuplicateWindow
		l := openLog(t, cfg)
		raised := eventlog.Config{NATSURL: l.ClientURL(), DataDir: t.TempDir(), DuplicateWindow: 3 * time.Minute}
		now := time.Now() // before the raise, however slowly the logs open
		openLog(t, raised)
		raised.DataDir = t.TempDir()
		late := openLog(t, raised) // keeps the 3m another process set a moment ago
		if age(late, 60*time.Second, now) {
			t.Error("a process opened just after another raised the window from 20s trusts all of the 3m")
		}
		if !age(late, 60*time.Second, now.Add(3*time.Minute)) {
			t.Error("a callback 60s old still asks the index 3m after the raise")
		}
	})
	t.Run("lowered by another process", func(t *testing.T) {
		cfg := embedded(t)
		cfg.ListenAddr, cfg.DuplicateWindow = "127.0.0.1:-1", 3*time.Minute
		l := openLog(t, cfg)
		if !age(l, 60*time.Second, time.Now()) {
			t.Fatal("a callback 60s old asks the index under a 3m window: the test proves nothing")
		}
		openLog(t, eventlog.Config{NATSURL: l.ClientURL(), DataDir: t.TempDir(), DuplicateWindow: eventlog.MinDuplicateWindow})
		checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
			if age(l, 15*time.Second, time.Now()) {
				return errors.New("a callback 15s old still skips the index after another process set the window to 20s")
			}
			return nil
		})
	})
}

// The feeder records every stored event however often it asks the server
// whether it is at the head while events pour in.
func TestIndexMissesNothingUnderLoad(t *testing.T) {
	eventlog.ProbeAlways(t)
	l := openLog(t, embedded(t))
	const workers, per = 32, 1500
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				if _, _, err := l.Append(context.Background(), newEvent(fmt.Sprintf("org#app_load%d_%d", w, i), "org#app", "chat:txt")); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	missing := 0
	for w := range workers {
		for i := range per {
			if _, err := l.GetByCallID(t.Context(), fmt.Sprintf("org#app_load%d_%d", w, i)); err != nil {
				missing++
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d stored events are missing from the call id index", missing, workers*per)
	}
}

// appendMany appends per events from each of workers goroutines to l, with
// call ids prefix_worker_i, and returns each call id's cursor. Safe to call
// off the test's goroutine: a failure is an error, not t.Fatal.
func appendMany(l *eventlog.Log, prefix string, workers, per int) (map[string]uint64, error) {
	var mu sync.Mutex
	cursors := make(map[string]uint64, workers*per)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				id := fmt.Sprintf("org#app_%s_%d_%d", prefix, w, i)
				c, dup, err := l.Append(context.Background(), newEvent(id, "org#app", "chat:txt"))
				if err == nil && dup {
					err = fmt.Errorf("Append %s: a new call id reported duplicate", id)
				}
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				cursors[id] = c
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	return cursors, <-errs
}

func mustAppendMany(t *testing.T, l *eventlog.Log, prefix string, workers, per int) map[string]uint64 {
	t.Helper()
	cursors, err := appendMany(l, prefix, workers, per)
	if err != nil {
		t.Fatal(err)
	}
	return cursors
}

// getByCallID is GetByCallID with a minute for the index to catch up,
// where GetByCallID alone waits 10 s.
func getByCallID(t *testing.T, l *eventlog.Log, callID string) (*imbridgev1.Event, error) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	return l.GetByCallID(ctx, callID)
}

// An index that cannot start makes Open fail, naming the index, and
// return: here a new index must find the first event its TTL keeps, and
// the process's user may not read events directly. Closing an index whose
// feeder never ran must not wait for it. The server's refusal is logged.
func TestOpenFailsWhenTheIndexCannotStart(t *testing.T) {
	s := startServer(t, func(o *server.Options) {
		o.Users = []*server.User{
			{Username: "writer", Password: "writer"},
			{Username: "blind", Password: "blind", Permissions: &server.Permissions{
				Publish: &server.SubjectPermission{Allow: []string{">"}, Deny: []string{"$JS.API.DIRECT.GET.>"}},
			}},
		}
	})
	addr := s.Addr().String()
	w := openLog(t, eventlog.Config{NATSURL: "nats://writer:writer@" + addr, DataDir: t.TempDir()})
	mustAppend(t, w, newEvent("org#app_x1", "org#app", "chat:txt"))

	var logged testlog.Buffer
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		l, err := eventlog.Open(ctx, eventlog.Config{NATSURL: "nats://blind:blind@" + addr, DataDir: t.TempDir(),
			CallIDIndexTTL: time.Hour, Logger: slog.New(slog.NewTextHandler(&logged, nil))})
		if err == nil {
			_ = l.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "call id index") {
			t.Fatalf("Open with an index that cannot start: %v, want an error naming the call id index", err)
		}
		// The server's refusal reaches the log, not standard error
		// (from nats.go's callback goroutine, which may run late).
		checkFor(t, time.Minute, 10*time.Millisecond, func() error {
			if !strings.Contains(logged.String(), "Permissions Violation") {
				return fmt.Errorf("the permission denied is not logged; the log:\n%s", logged.String())
			}
			return nil
		})
	case <-time.After(2 * time.Minute):
		t.Fatal("Open has not returned 2 minutes after its 3-s context: closing an index that never started waits for its feeder")
	}
}

// Processes sharing one cluster each index every event, whichever process
// stored it, while both append at once.
func TestProcessesOnOneClusterIndexEachOthersEvents(t *testing.T) {
	url := startServer(t).ClientURL()
	a := openLog(t, eventlog.Config{NATSURL: url, DataDir: t.TempDir()})
	b := openLog(t, eventlog.Config{NATSURL: url, DataDir: t.TempDir()})
	var wg sync.WaitGroup
	var fromA, fromB map[string]uint64
	var errA, errB error
	wg.Go(func() { fromA, errA = appendMany(a, "a", 8, 200) })
	wg.Go(func() { fromB, errB = appendMany(b, "b", 8, 200) })
	wg.Wait()
	if err := errors.Join(errA, errB); err != nil {
		t.Fatal(err)
	}
	for _, l := range []*eventlog.Log{a, b} {
		for _, stored := range []map[string]uint64{fromA, fromB} {
			for id, want := range stored {
				ev, err := getByCallID(t, l, id)
				if err != nil || ev.GetCursor() != want {
					t.Fatalf("GetByCallID(%s): cursor %d, %v; want %d", id, ev.GetCursor(), err, want)
				}
			}
		}
	}
}

// A process alone on its log learns its own appends from their
// acknowledgements and reads back from the log only what others stored:
// the stream's writes are not slowed down by a reader following them.
func TestIndexLearnsOwnAppendsWithoutReadingThem(t *testing.T) {
	cfg := embedded(t)
	cfg.ListenAddr = "127.0.0.1:-1"
	l := openLog(t, cfg)
	const n = 4000
	cursors := mustAppendMany(t, l, "own", 16, n/16)
	var head uint64
	for _, c := range cursors {
		head = max(head, c)
	}
	indexedUpTo(t, l, head)
	// A gap still open a tick later is read, so a starved machine may read
	// some: far from all of them.
	r := eventlog.IndexReads(l)
	t.Logf("the index read back %d of its own %d appends", r, n)
	if r > n/2 {
		t.Errorf("the index read back %d of its own %d appends from the log", r, n)
	}
	before := eventlog.IndexReads(l)
	const others = 50
	withRawJS(t, l.ClientURL(), func(js jetstream.JetStream) {
		for i := range others {
			ack, err := js.Publish(t.Context(), eventlog.SubjectPrefix+".org#app.chat.txt", []byte("x"), jetstream.WithMsgID(fmt.Sprintf("other%d", i)))
			if err != nil {
				t.Fatal(err)
			}
			head = ack.Sequence
		}
	})
	indexedUpTo(t, l, head)
	if r := eventlog.IndexReads(l) - before; r < others {
		t.Errorf("the index read %d events after %d stored by another writer; want all of them", r, others)
	}
}

// An append whose acknowledgement its appender hands over late (a starved
// machine) is not read back from the log while the grace lasts, though the
// appends after it are acknowledged and an idle feeder probes the head:
// reading it costs a direct get under the stream's lock. Past the grace, a
// gap nobody hands over is read.
func TestLateAcknowledgementIsNotReadBack(t *testing.T) {
	for _, tc := range []struct {
		name     string
		grace    time.Duration
		handOver bool
	}{{"handed over within the grace", time.Hour, true}, {"never handed over", 100 * time.Millisecond, false}} {
		t.Run(tc.name, func(t *testing.T) {
			eventlog.SetIndexGapGrace(t, tc.grace)
			cfg := embedded(t)
			cfg.ListenAddr = "127.0.0.1:-1"
			l := openLog(t, cfg)
			mustAppendMany(t, l, "before", 1, 10)
			var late uint64
			withRawJS(t, l.ClientURL(), func(js jetstream.JetStream) {
				ack, err := js.Publish(t.Context(), eventlog.SubjectPrefix+".org#app.chat.txt", []byte("x"), jetstream.WithMsgID(eventlog.MsgID("late")))
				if err != nil {
					t.Fatal(err)
				}
				late = ack.Sequence
			})
			var head uint64
			for _, c := range mustAppendMany(t, l, "after", 1, 10) {
				head = max(head, c)
			}
			if tc.handOver {
				// Some ticks and an idle probe pass with the gap open.
				time.Sleep(300 * time.Millisecond)
				if got := eventlog.IndexedCursor(l); got >= late {
					t.Fatalf("indexed up to %d across the open gap at %d", got, late)
				}
				eventlog.HandOverAppend(l, late, "late")
			}
			indexedUpTo(t, l, head)
			switch r := eventlog.IndexReads(l); {
			case tc.handOver && r != 0:
				t.Errorf("the index read %d events back from the log; the late acknowledgement came within the grace", r)
			case !tc.handOver && r == 0:
				t.Errorf("the gap was indexed without being read")
			}
		})
	}
}

// A new process reads every event of the log into its index, through a
// consumer or in large batches of direct gets while far behind and small
// ones after, across the holes a purge or retention left: a long run,
// single events, and the newest one.
func TestNewProcessCatchesUpAcrossHoles(t *testing.T) {
	for _, tc := range []struct {
		name         string
		consumerFrom uint64
	}{{"direct gets", 1 << 20}, {"consumer", 64}} {
		t.Run(tc.name, func(t *testing.T) {
			eventlog.SetIndexReads(t, 8, 16, 32, tc.consumerFrom)
			url := startServer(t).ClientURL()
			a := openLog(t, eventlog.Config{NATSURL: url, DataDir: t.TempDir()})
			cursors := mustAppendMany(t, a, "hole", 8, 60)
			var head uint64
			for _, c := range cursors {
				head = max(head, c)
			}
			deleted := map[uint64]bool{250: true, 251: true, 300: true, head: true}
			for c := uint64(100); c < 200; c++ {
				deleted[c] = true
			}
			for c := range deleted {
				purge(t, url, c)
			}
			b := openLog(t, eventlog.Config{NATSURL: url, DataDir: t.TempDir()})
			indexedUpTo(t, b, head)
			for id, c := range cursors {
				ev, err := getByCallID(t, b, id)
				switch {
				case deleted[c] && !errors.Is(err, eventlog.ErrNotFound):
					t.Errorf("GetByCallID(%s), deleted from cursor %d: %v, %v; want ErrNotFound", id, c, ev.GetCursor(), err)
				case !deleted[c] && (err != nil || ev.GetCursor() != c):
					t.Errorf("GetByCallID(%s): cursor %d, %v; want %d", id, ev.GetCursor(), err, c)
				}
			}
			if got, want := eventlog.IndexReads(b), uint64(len(cursors)-len(deleted)); got != want {
				t.Errorf("the new process read %d events, want the %d stored", got, want)
			}
			// The catch-up's consumer is gone: it would slow every append.
			withRawJS(t, url, func(js jetstream.JetStream) {
				s, err := js.Stream(t.Context(), eventlog.StreamName)
				if err != nil {
					t.Fatal(err)
				}
				// Well under the consumer's own inactivity threshold (5 m).
				checkFor(t, time.Minute, 10*time.Millisecond, func() error {
					info, err := s.Info(t.Context())
					if err == nil && info.State.Consumers != 0 {
						err = fmt.Errorf("%d consumers on the stream", info.State.Consumers)
					}
					return err
				})
			})
		})
	}
}

// A lookup finds a call id in any partition the index holds, the newest
// entry when it is in several (a duplicate recorded twice); expiry deletes
// whole partitions, the older ones first, and the index records and finds
// call ids again after every partition expired.
func TestIndexPartitions(t *testing.T) {
	cfg := embedded(t)
	cfg.CallIDIndexTTL = 3 * time.Hour
	l := openLog(t, cfg)
	now := time.Now()
	w := cfg.CallIDIndexTTL / eventlog.IndexPartitions
	for _, e := range []struct {
		id     string
		cursor uint64
		at     time.Time
	}{
		{"org#app_old", 7, now.Add(-2 * w)},
		{"org#app_twice", 8, now.Add(-2 * w)},
		{"org#app_twice", 9, now.Add(-w)},
		{"org#app_new", 10, now},
	} {
		if err := eventlog.IndexEntry(l, e.id, e.cursor, e.at); err != nil {
			t.Fatal(err)
		}
	}
	want := func(when string, cursors map[string]uint64) {
		t.Helper()
		for id, c := range cursors {
			got, err := eventlog.IndexLookup(l, id)
			switch {
			case c == 0 && !errors.Is(err, eventlog.ErrNotFound):
				t.Errorf("%s: lookup %s = %d, %v; want ErrNotFound", when, id, got, err)
			case c != 0 && (err != nil || got != c):
				t.Errorf("%s: lookup %s = %d, %v; want %d", when, id, got, err, c)
			}
		}
	}
	want("stored", map[string]uint64{"org#app_old": 7, "org#app_twice": 9, "org#app_new": 10, "org#app_none": 0})
	// The partition of now-2w ended before now-w: expired once the TTL
	// has passed since then; the one of now-w has not.
	eventlog.ExpireIndex(l, now.Add(cfg.CallIDIndexTTL-w))
	want("first partition expired", map[string]uint64{"org#app_old": 0, "org#app_twice": 9, "org#app_new": 10})
	eventlog.ExpireIndex(l, now.Add(cfg.CallIDIndexTTL+w))
	want("all expired", map[string]uint64{"org#app_old": 0, "org#app_twice": 0, "org#app_new": 0})

	ev := newEvent("org#app_after", "org#app", "chat:txt")
	c := mustAppend(t, l, ev)
	indexedUpTo(t, l, c)
	want("appended after", map[string]uint64{"org#app_after": c})
}

// An index written in the layout before partitioned keys is rebuilt from
// the log, saying so: what it held in the old layout is not misread.
func TestIndexInTheOldLayoutIsRebuilt(t *testing.T) {
	cfg := embedded(t)
	cfg.Logger = quiet
	l := openLog(t, cfg)
	c := mustAppend(t, l, newEvent("org#app_o1", "org#app", "chat:txt"))
	indexedUpTo(t, l, c)
	if err := eventlog.WriteOldIndexLayout(l, "org#app_o1", c); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	var logged testlog.Buffer
	cfg.Logger = slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelWarn}))
	l = openLog(t, cfg)
	if !strings.Contains(logged.String(), "older layout") {
		t.Errorf("reopening an index in the old layout logged %q, want a warning that it is rebuilt", logged.String())
	}
	c2 := mustAppend(t, l, newEvent("org#app_o2", "org#app", "chat:txt"))
	for id, want := range map[string]uint64{"org#app_o1": c, "org#app_o2": c2} {
		if got, err := l.GetByCallID(t.Context(), id); err != nil || got.GetCursor() != want {
			t.Errorf("GetByCallID %s: %v, %v; want cursor %d", id, got.GetCursor(), err, want)
		}
	}
}

// A changed TTL keeps what the index holds, reading nothing back: the
// partitions of the old width expire by their own ends. An index kept
// while the TTL was unlimited (one partition, never ending) is rebuilt
// once a TTL is set, so that what it held then expires too.
func TestIndexTTLChanges(t *testing.T) {
	cfg := embedded(t)
	cfg.Logger = quiet
	ttls := []time.Duration{2 * time.Hour, 5 * time.Hour, 0, 2 * time.Hour}
	cursors := map[string]uint64{}
	for i, ttl := range ttls {
		cfg.CallIDIndexTTL = ttl
		l, err := eventlog.Open(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		// Before this step's append, the index reads the log only to
		// rebuild: every earlier event, or none.
		indexedUpTo(t, l, uint64(i))
		reads := eventlog.IndexReads(l)
		switch {
		case i > 0 && ttls[i-1] == 0 && reads < uint64(i):
			t.Errorf("TTL unlimited, then %v: the index read %d events back from the log, want it rebuilt (%d)", ttl, reads, i)
		case i > 0 && ttls[i-1] != 0 && reads != 0:
			t.Errorf("TTL %v, then %v: the index read %d events back from the log, want none", ttls[i-1], ttl, reads)
		}
		id := fmt.Sprintf("org#app_u%d", i)
		cursors[id] = mustAppend(t, l, newEvent(id, "org#app", "chat:txt"))
		indexedUpTo(t, l, cursors[id])
		eventlog.ExpireIndex(l, time.Now())
		for id, want := range cursors {
			if got, err := l.GetByCallID(t.Context(), id); err != nil || got.GetCursor() != want {
				t.Errorf("TTL %v: GetByCallID %s: %v, %v; want cursor %d", ttl, id, got.GetCursor(), err, want)
			}
		}
		if i == len(ttls)-1 {
			eventlog.ExpireIndex(l, time.Now().Add(ttl+ttl/eventlog.IndexPartitions))
			for id := range cursors {
				if got, err := eventlog.IndexLookup(l, id); !errors.Is(err, eventlog.ErrNotFound) {
					t.Errorf("TTL %v, past it: lookup %s = %d, %v; want ErrNotFound", ttl, id, got, err)
				}
			}
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkIndex measures the call id index: what recording a call id and,
// a TTL later, expiring it writes (the write-ahead log, and the tables its
// memtables are flushed to), and a lookup of a call id it does not hold,
// in an index of entries stored over the default TTL, 72h.
func BenchmarkIndex(b *testing.B) {
	b.Run("record-and-expire", func(b *testing.B) {
		cfg := embedded(b)
		cfg.CallIDIndexTTL = time.Hour
		l := openLog(b, cfg)
		wal0, flushed0, err := eventlog.IndexWrites(l)
		if err != nil {
			b.Fatal(err)
		}
		now := time.Now()
		b.ResetTimer()
		if err := eventlog.IndexEntries(l, "org#app_", b.N, now.Add(-3*cfg.CallIDIndexTTL)); err != nil {
			b.Fatal(err)
		}
		eventlog.ExpireIndex(l, now)
		wal, flushed, err := eventlog.IndexWrites(l)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if _, err := eventlog.IndexLookup(l, "org#app_1"); !errors.Is(err, eventlog.ErrNotFound) {
			b.Fatalf("lookup after expiry: %v, want ErrNotFound", err)
		}
		b.ReportMetric(float64(wal-wal0)/float64(b.N), "wal-B/entry")
		b.ReportMetric(float64(flushed-flushed0)/float64(b.N), "flushed-B/entry")
	})
	b.Run("expire", func(b *testing.B) {
		// Expiry alone, per entry expired: what the feeder stops for.
		cfg := embedded(b)
		cfg.CallIDIndexTTL = time.Hour
		l := openLog(b, cfg)
		now := time.Now()
		if err := eventlog.IndexEntries(l, "org#app_", b.N, now.Add(-3*cfg.CallIDIndexTTL)); err != nil {
			b.Fatal(err)
		}
		if _, _, err := eventlog.IndexWrites(l); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		eventlog.ExpireIndex(l, now)
		b.StopTimer()
		if _, err := eventlog.IndexLookup(l, "org#app_1"); !errors.Is(err, eventlog.ErrNotFound) {
			b.Fatalf("lookup after expiry: %v, want ErrNotFound", err)
		}
	})
	b.Run("lookup-miss", func(b *testing.B) {
		cfg := embedded(b)
		cfg.CallIDIndexTTL = 72 * time.Hour
		l := openLog(b, cfg)
		now := time.Now()
		for h := range 72 {
			if err := eventlog.IndexEntries(l, fmt.Sprintf("org#app_%d_", h), 2000, now.Add(-time.Duration(h)*time.Hour)); err != nil {
				b.Fatal(err)
			}
		}
		if _, _, err := eventlog.IndexWrites(l); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := range b.N {
			if _, err := eventlog.IndexLookup(l, "org#app_none_"+strconv.Itoa(i)); !errors.Is(err, eventlog.ErrNotFound) {
				b.Fatalf("lookup: %v, want ErrNotFound", err)
			}
		}
	})
}

// An unreadable call id index (its files damaged) is emptied and rebuilt
// from the log, as the package promises: Open must not fail for good.
func TestDamagedIndexFilesAreRebuilt(t *testing.T) {
	cfg := embedded(t)
	cfg.Logger = quiet
	l, err := eventlog.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ev := newEvent("org#app_dmg", "org#app", "chat:txt")
	c := mustAppend(t, l, ev)
	indexedUpTo(t, l, c)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cfg.DataDir, "callid-index")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	damaged := 0
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "MANIFEST") {
			if err := os.WriteFile(filepath.Join(dir, e.Name()), []byte("garbage"), 0o600); err != nil {
				t.Fatal(err)
			}
			damaged++
		}
	}
	if damaged == 0 {
		t.Fatalf("no MANIFEST file in %s to damage", dir)
	}
	l = openLog(t, cfg)
	if got, err := l.GetByCallID(t.Context(), ev.CallId); err != nil || got.GetCursor() != c {
		t.Fatalf("GetByCallID after rebuild: %v %v", got.GetCursor(), err)
	}
}
