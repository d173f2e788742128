package eventlog_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/eventlog"
	"github.com/imbridge/imbridge/internal/selector"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var quiet = slog.New(slog.DiscardHandler)

// checkFor calls f every interval until it returns nil, and fails the test
// with f's last error when timeout has passed.
func checkFor(t testing.TB, timeout, interval time.Duration, f func() error) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		err := f()
		if err == nil {
			return
		}
		select {
		case <-deadline.C:
			t.Fatalf("condition not met after %v: %v", timeout, err)
		case <-tick.C:
		}
	}
}

func openLog(t testing.TB, cfg eventlog.Config) *eventlog.Log {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := eventlog.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

func embedded(t testing.TB) eventlog.Config {
	return eventlog.Config{DataDir: t.TempDir()}
}

// startServer starts a standalone JetStream server on a random loopback
// port, as an external cluster would be.
func startServer(t testing.TB) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{
		ServerName: "external",
		JetStream:  true,
		StoreDir:   t.TempDir(),
		Host:       "127.0.0.1",
		Port:       server.RANDOM_PORT,
		NoLog:      true,
		NoSigs:     true,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("external server not ready")
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

func newEvent(callID, appkey, sel string) *imbridgev1.Event {
	ev := &imbridgev1.Event{
		CallId:          callID,
		EventType:       imbridgev1.EventType_EVENT_TYPE_CHAT,
		EventTypeName:   "chat",
		VendorTime:      timestamppb.New(time.UnixMilli(1700000000000)),
		From:            "alice",
		To:              "bob",
		MsgId:           "msg-" + callID,
		Appkey:          appkey,
		Host:            "msync@ebs-ali-beijing-1",
		SecurityVersion: "1.0.0",
		ReceiveTime:     timestamppb.Now(),
		Selector:        sel,
		RawBody:         []byte(`{"callId":"` + callID + `"}`),
		Verification:    imbridgev1.Verification_VERIFICATION_SIGNED,
	}
	family, op, _ := strings.Cut(sel, ":")
	switch family {
	case "chat", "groupchat", "chatroom":
		ev.ChatType = family
		ev.Body = &imbridgev1.Event_Message{Message: &imbridgev1.MessageEvent{
			Conversation: imbridgev1.Conversation_CONVERSATION_CHAT,
			Bodies: []*imbridgev1.MessageBody{{Kind: &imbridgev1.MessageBody_Txt{
				Txt: &imbridgev1.TextBody{Msg: "hello " + callID},
			}}},
		}}
	case "muc":
		ev.ChatType = "muc"
		ev.Body = &imbridgev1.Event_Muc{Muc: &imbridgev1.MucEvent{OperationName: op}}
	default:
		ev.Body = &imbridgev1.Event_Unknown{Unknown: &imbridgev1.UnknownEvent{Reason: "test " + sel}}
	}
	return ev
}

func withCursor(ev *imbridgev1.Event, c uint64) *imbridgev1.Event {
	out := proto.Clone(ev).(*imbridgev1.Event)
	out.Cursor = c
	return out
}

func mustAppend(t testing.TB, l *eventlog.Log, ev *imbridgev1.Event) uint64 {
	t.Helper()
	c, dup, err := l.Append(context.Background(), ev)
	if err != nil {
		t.Fatalf("Append %s: %v", ev.GetCallId(), err)
	}
	if dup {
		t.Fatalf("Append %s: unexpected duplicate (cursor %d)", ev.GetCallId(), c)
	}
	return c
}

func checkEvent(t testing.TB, got, want *imbridgev1.Event) {
	t.Helper()
	if !proto.Equal(got, want) {
		t.Fatalf("event differs:\n got %v\nwant %v", got, want)
	}
}

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

func TestUseAfterClose(t *testing.T) {
	l, err := eventlog.Open(t.Context(), eventlog.Config{DataDir: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	c := mustAppend(t, l, newEvent("org#app_1", "org#app", "chat:txt"))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, _, err := l.Append(t.Context(), newEvent("org#app_2", "org#app", "chat:txt")); err == nil {
		t.Error("Append after Close succeeded")
	}
	if _, err := l.Get(t.Context(), c); err == nil || errors.Is(err, eventlog.ErrNotFound) {
		t.Errorf("Get after Close: err = %v, want a connection error", err)
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

func TestRestartKeepsEventsDedupeAndChatrooms(t *testing.T) {
	cfg := embedded(t)
	cfg.Logger = quiet
	l, err := eventlog.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var stored []*imbridgev1.Event
	for i := range 10 {
		ev := newEvent("org#app_r"+strconv.Itoa(i), "org#app", "groupchat:txt")
		stored = append(stored, withCursor(ev, mustAppend(t, l, ev)))
	}
	if err := l.MarkChatroom(t.Context(), "org#app", "room-1"); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	l = openLog(t, cfg)
	ctx := t.Context()
	for _, want := range stored {
		got, err := l.Get(ctx, want.Cursor)
		if err != nil {
			t.Fatal(err)
		}
		checkEvent(t, got, want)
	}
	c, dup, err := l.Append(ctx, newEvent(stored[3].CallId, "org#app", "groupchat:txt"))
	if err != nil || !dup || c != stored[3].Cursor {
		t.Fatalf("re-append after restart: %d %v %v; want %d true nil", c, dup, err, stored[3].Cursor)
	}
	if c := mustAppend(t, l, newEvent("org#app_new", "org#app", "chat:txt")); c <= stored[9].Cursor {
		t.Fatalf("cursor %d after restart, want > %d", c, stored[9].Cursor)
	}
	if !l.IsChatroom("org#app", "room-1") {
		t.Error("chatroom forgotten across restart")
	}
	if got := listAll(t, l, eventlog.Query{Limit: 3}); len(got) != 11 {
		t.Errorf("listed %d events after restart, want 11", len(got))
	}
}

// TestDedupeBeyondWindow makes JetStream forget a call id (the event is
// purged and the server restarted, so its duplicate window holds nothing),
// checks that it did forget it, and that Append still reports the
// duplicate through the call id index.
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
	withRawJS(t, l.ClientURL(), func(js jetstream.JetStream) {
		s, err := js.Stream(t.Context(), eventlog.StreamName)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Purge(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	l = openLog(t, cfg)
	// Control: JetStream alone no longer knows B.
	withRawJS(t, l.ClientURL(), func(js jetstream.JetStream) {
		ack, err := js.Publish(t.Context(), eventlog.SubjectPrefix+".org#app.chat.txt", []byte("x"), jetstream.WithMsgID(evB.CallId))
		if err != nil {
			t.Fatal(err)
		}
		if ack.Duplicate {
			t.Fatal("JetStream still remembers the call id: the test proves nothing")
		}
	})
	c, dup, err := l.Append(t.Context(), evA)
	if err != nil || !dup || c != curA {
		t.Fatalf("Append after JetStream forgot the id: %d %v %v; want %d true nil", c, dup, err, curA)
	}
	c, dup, err = l.Append(t.Context(), evB)
	if err != nil || !dup || c != curB {
		t.Fatalf("Append B: %d %v %v; want %d true nil", c, dup, err, curB)
	}
	if _, err := l.GetByCallID(t.Context(), evA.CallId); !errors.Is(err, eventlog.ErrNotFound) {
		t.Errorf("GetByCallID of a purged event: %v, want ErrNotFound", err)
	}
}

func withRawJS(t *testing.T, url string, f func(jetstream.JetStream)) {
	t.Helper()
	if url == "" {
		t.Fatal("no client URL")
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	f(js)
}

func TestChatrooms(t *testing.T) {
	l := openLog(t, embedded(t))
	ctx := t.Context()
	if l.IsChatroom("org#app", "r1") {
		t.Fatal("unknown chatroom reported")
	}
	for range 3 {
		if err := l.MarkChatroom(ctx, "org#app", "r1"); err != nil {
			t.Fatal(err)
		}
	}
	if !l.IsChatroom("org#app", "r1") {
		t.Error("marked chatroom not known")
	}
	if l.IsChatroom("org#other", "r1") || l.IsChatroom("org#app", "r2") {
		t.Error("chatroom leaked to another app or group")
	}
	if err := l.MarkChatroom(ctx, "org#app", ""); err == nil {
		t.Error("empty group id accepted")
	}
	// Odd characters in appkey and group id.
	if err := l.MarkChatroom(ctx, "org.x#app y", "g.1*>"); err != nil {
		t.Fatal(err)
	}
	if !l.IsChatroom("org.x#app y", "g.1*>") {
		t.Error("chatroom with odd characters not known")
	}
}

func TestEmbeddedListenerSharedChatrooms(t *testing.T) {
	cfg := embedded(t)
	cfg.ListenAddr = "127.0.0.1:0"
	l1 := openLog(t, cfg)
	if l1.ClientURL() == "" {
		t.Fatal("no client URL with ListenAddr set")
	}
	l2 := openLog(t, eventlog.Config{NATSURL: l1.ClientURL()})
	if err := l2.MarkChatroom(t.Context(), "org#app", "room"); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		if !l1.IsChatroom("org#app", "room") {
			return errors.New("first log does not know the chatroom yet")
		}
		return nil
	})
	if openLog(t, embedded(t)).ClientURL() != "" {
		t.Error("ClientURL without a listener")
	}
}

func TestExternalMode(t *testing.T) {
	s := startServer(t)
	l1 := openLog(t, eventlog.Config{NATSURL: s.ClientURL(), DataDir: "ignored"})
	l2 := openLog(t, eventlog.Config{NATSURL: s.ClientURL(), Replicas: 1})
	ctx := t.Context()

	ev := newEvent("org#app_ext", "org#app", "muc:create")
	c := mustAppend(t, l1, ev)
	got, err := l2.Get(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	checkEvent(t, got, withCursor(ev, c))
	if got, err = l2.GetByCallID(ctx, ev.CallId); err != nil {
		t.Fatal(err)
	}
	checkEvent(t, got, withCursor(ev, c))
	if c2, dup, err := l2.Append(ctx, ev); err != nil || !dup || c2 != c {
		t.Fatalf("append from the second log: %d %v %v; want %d true nil", c2, dup, err, c)
	}
	c3 := mustAppend(t, l2, newEvent("org#app_ext2", "org#app", "chat:txt"))
	page, next, err := l1.List(ctx, eventlog.Query{Selectors: mustSelectors(t, "muc"), Limit: 10})
	if err != nil || next != 0 || len(page) != 1 || page[0].Cursor != c {
		t.Fatalf("List muc: %v next %d err %v", page, next, err)
	}
	if all := listAll(t, l2, eventlog.Query{Limit: 1}); len(all) != 2 || all[0].Cursor != c3 {
		t.Fatalf("List all: %v", all)
	}

	if err := l1.MarkChatroom(ctx, "org#app", "room-ext"); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		if !l2.IsChatroom("org#app", "room-ext") {
			return errors.New("second log does not know the chatroom yet")
		}
		return nil
	})
	// A third log opened later loads it at Open.
	if l3 := openLog(t, eventlog.Config{NATSURL: s.ClientURL()}); !l3.IsChatroom("org#app", "room-ext") {
		t.Error("chatroom not loaded at Open")
	}

	// A single server cannot hold three replicas: the server says so.
	if _, err := eventlog.Open(ctx, eventlog.Config{NATSURL: s.ClientURL(), Replicas: 3, Logger: quiet}); err == nil {
		t.Error("Replicas 3 on a single server accepted")
	}
}

func TestBadConfig(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		cfg  eventlog.Config
		want string
	}{
		{"short window", eventlog.Config{DataDir: dir, DuplicateWindow: time.Minute}, "DuplicateWindow"},
		{"replicas embedded", eventlog.Config{DataDir: dir, Replicas: 3}, "Replicas"},
		{"negative replicas", eventlog.Config{NATSURL: "nats://127.0.0.1:1", Replicas: -1}, "Replicas"},
		{"no data dir", eventlog.Config{}, "DataDir"},
		{"max age under window", eventlog.Config{DataDir: dir, MaxAge: time.Second}, "MaxAge"},
		{"max age under custom window", eventlog.Config{DataDir: dir, MaxAge: 20 * time.Minute, DuplicateWindow: time.Hour}, "MaxAge"},
		{"negative index ttl", eventlog.Config{DataDir: dir, CallIDIndexTTL: -time.Hour}, "CallIDIndexTTL"},
		{"index ttl under window", eventlog.Config{DataDir: dir, CallIDIndexTTL: 5 * time.Minute}, "CallIDIndexTTL"},
		{"negative max bytes", eventlog.Config{DataDir: dir, MaxBytes: -1}, "MaxBytes"},
		{"sync always external", eventlog.Config{NATSURL: "nats://127.0.0.1:1", SyncAlways: true}, "SyncAlways"},
		{"listen external", eventlog.Config{NATSURL: "nats://127.0.0.1:1", ListenAddr: "127.0.0.1:4222"}, "ListenAddr"},
		{"bad listen", eventlog.Config{DataDir: dir, ListenAddr: "localhost"}, "ListenAddr"},
		{"bad listen port", eventlog.Config{DataDir: dir, ListenAddr: "localhost:http"}, "ListenAddr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Logger = quiet
			l, err := eventlog.Open(t.Context(), tc.cfg)
			if err == nil {
				l.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not name %s", err, tc.want)
			}
		})
	}
}

func TestOpenOptions(t *testing.T) {
	// SyncAlways and a longer window are accepted and work.
	cfg := embedded(t)
	cfg.SyncAlways = true
	cfg.DuplicateWindow = time.Hour
	cfg.MaxAge = 24 * time.Hour
	cfg.CallIDIndexTTL = 2 * time.Hour
	l := openLog(t, cfg)
	ev := newEvent("org#app_sync", "org#app", "chat:txt")
	c := mustAppend(t, l, ev)
	if c2, dup, err := l.Append(t.Context(), ev); err != nil || !dup || c2 != c {
		t.Fatalf("duplicate: %d %v %v", c2, dup, err)
	}
	// Unreachable external server.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if _, err := eventlog.Open(ctx, eventlog.Config{NATSURL: "nats://127.0.0.1:1", Logger: quiet}); err == nil {
		t.Error("Open of an unreachable server succeeded")
	}
}

func TestRetentionMaxBytes(t *testing.T) {
	cfg := embedded(t)
	cfg.MaxBytes = 16 << 10
	l := openLog(t, cfg)
	ctx := t.Context()
	var stored []*imbridgev1.Event
	for i := range 60 {
		ev := newEvent("org#app_ret"+strconv.Itoa(i), "org#app", "chat:txt")
		ev.RawBody = []byte(strings.Repeat("x", 1000))
		stored = append(stored, withCursor(ev, mustAppend(t, l, ev)))
	}
	checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if _, err := l.Get(ctx, stored[0].Cursor); !errors.Is(err, eventlog.ErrNotFound) {
			return fmt.Errorf("oldest event still there (err %v)", err)
		}
		return nil
	})
	// The survivors are a suffix of what was stored.
	var survivors []*imbridgev1.Event
	for _, want := range stored {
		got, err := l.Get(ctx, want.Cursor)
		switch {
		case errors.Is(err, eventlog.ErrNotFound):
			if len(survivors) > 0 {
				t.Fatalf("cursor %d gone after a survivor", want.Cursor)
			}
		case err != nil:
			t.Fatal(err)
		default:
			checkEvent(t, got, want)
			survivors = append(survivors, want)
		}
	}
	if len(survivors) == 0 || len(survivors) > 16 {
		t.Fatalf("%d survivors of 60 1KB events in 16KB", len(survivors))
	}
	checkCursors(t, listAll(t, l, eventlog.Query{OldestFirst: true, Limit: 7}), survivors)
	checkCursors(t, listAll(t, l, eventlog.Query{Limit: 7}), reversed(survivors))
	// Continuing from a dropped cursor.
	checkCursors(t, listAll(t, l, eventlog.Query{OldestFirst: true, After: stored[1].Cursor, Limit: 5}), survivors)
	if page, next, err := l.List(ctx, eventlog.Query{After: stored[1].Cursor, Limit: 5}); err != nil || len(page) != 0 || next != 0 {
		t.Fatalf("newest first before a dropped cursor: %d events, next %d, err %v", len(page), next, err)
	}
	// A dropped event is still known as a duplicate, but cannot be read.
	if _, err := l.GetByCallID(ctx, stored[0].CallId); !errors.Is(err, eventlog.ErrNotFound) {
		t.Errorf("GetByCallID of a dropped event: %v", err)
	}
	if c, dup, err := l.Append(ctx, stored[0]); err != nil || !dup || c != stored[0].Cursor {
		t.Errorf("re-append of a dropped event: %d %v %v", c, dup, err)
	}
}

func TestRetentionChangeOnReopen(t *testing.T) {
	cfg := embedded(t)
	cfg.Logger = quiet
	l, err := eventlog.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var cursors []uint64
	for i := range 50 {
		ev := newEvent("org#app_re"+strconv.Itoa(i), "org#app", "chat:txt")
		ev.RawBody = []byte(strings.Repeat("y", 1000))
		cursors = append(cursors, mustAppend(t, l, ev))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.MaxBytes = 10 << 10
	l = openLog(t, cfg)
	checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if _, err := l.Get(t.Context(), cursors[0]); !errors.Is(err, eventlog.ErrNotFound) {
			return fmt.Errorf("first event still there after MaxBytes shrank (err %v)", err)
		}
		return nil
	})
	if _, err := l.Get(t.Context(), cursors[49]); err != nil {
		t.Fatalf("newest event: %v", err)
	}
}

func TestListEmpty(t *testing.T) {
	l := openLog(t, embedded(t))
	for _, q := range []eventlog.Query{
		{Limit: 10},
		{Limit: 10, OldestFirst: true},
		{Limit: 10, After: 5},
		{Limit: 10, After: 5, OldestFirst: true},
		{Limit: 10, StartTime: time.Now().Add(-time.Hour)},
		{Limit: 10, StartTime: time.Now().Add(-time.Hour), OldestFirst: true},
		{Limit: 10, Selectors: mustSelectors(t, "chat:txt", "muc"), Appkey: "org#app"},
		{Limit: 10, Selectors: mustSelectors(t, "chat:txt", "muc"), Appkey: "org#app", OldestFirst: true},
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
		ev.From, ev.To, ev.GroupId = users[i%3], users[(i/3)%3], groups[(i/2)%3]
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
			q.From != "" && ev.From != q.From ||
			q.To != "" && ev.To != q.To ||
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
		{"chat:txt", eventlog.Query{Selectors: mustSelectors(t, "chat:txt")}},
		{"family muc", eventlog.Query{Selectors: mustSelectors(t, "muc")}},
		{"star", eventlog.Query{Selectors: mustSelectors(t, "*")}},
		{"star and more", eventlog.Query{Selectors: mustSelectors(t, "muc", "*")}},
		{"muc and chat:txt", eventlog.Query{Selectors: mustSelectors(t, "muc", "chat:txt", "recall")}},
		{"no-op families", eventlog.Query{Selectors: mustSelectors(t, "recall", "unknown")}},
		{"appkey", eventlog.Query{Appkey: "org#app2"}},
		{"odd appkey and family", eventlog.Query{Appkey: "org.x#app 3", Selectors: mustSelectors(t, "chat", "userStatus")}},
		{"unknown appkey", eventlog.Query{Appkey: "org#none"}},
		{"from", eventlog.Query{From: "bob"}},
		{"to", eventlog.Query{To: "carol"}},
		{"group", eventlog.Query{GroupID: "g1"}},
		{"event types", eventlog.Query{EventTypes: types}},
		{"time range", eventlog.Query{StartTime: base.Add(10 * time.Second), EndTime: base.Add(50 * time.Second)}},
		{"start time", eventlog.Query{StartTime: base.Add(70 * time.Second)}},
		{"end time", eventlog.Query{EndTime: base.Add(20 * time.Second)}},
		{"empty time range", eventlog.Query{StartTime: base.Add(20 * time.Second), EndTime: base.Add(20 * time.Second)}},
		{"combined", eventlog.Query{Appkey: "org#app1", Selectors: mustSelectors(t, "chat", "groupchat"), From: "alice", EventTypes: types[:1], StartTime: base}},
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
	if n := len(expected(all, eventlog.Query{Selectors: mustSelectors(t, "muc"), OldestFirst: true})); n == 0 || n == len(all) {
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
			q := eventlog.Query{From: "carol", GroupID: "g2", OldestFirst: oldest, Limit: 5, MaxScan: scan}
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
	q := eventlog.Query{Selectors: mustSelectors(t, "roster"), OldestFirst: true, Limit: 1000, MaxScan: 20}
	page, next, err := l.List(t.Context(), q)
	if err != nil || next != 0 {
		t.Fatalf("roster: next %d err %v", next, err)
	}
	checkCursors(t, page, expected(all, q))
}

func TestListConcurrentWithAppends(t *testing.T) {
	l := openLog(t, embedded(t))
	var wg sync.WaitGroup
	var appended atomic.Int64
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				if _, _, err := l.Append(context.Background(), newEvent(fmt.Sprintf("org#app_w%d_%d", w, i), "org#app", "chat:txt")); err != nil {
					t.Error(err)
					return
				}
				appended.Add(1)
			}
		})
	}
	wg.Go(func() {
		for appended.Load() < 200 {
			for _, oldest := range []bool{true, false} {
				q := eventlog.Query{OldestFirst: oldest, Limit: 16}
				var prev uint64
				for {
					page, next, err := l.List(context.Background(), q)
					if err != nil {
						t.Error(err)
						return
					}
					for _, ev := range page {
						if prev != 0 && (oldest && ev.Cursor <= prev || !oldest && ev.Cursor >= prev) {
							t.Errorf("out of order: %d then %d", prev, ev.Cursor)
							return
						}
						prev = ev.Cursor
					}
					if next == 0 {
						break
					}
					q.After = next
				}
			}
		}
	})
	wg.Wait()
	if n := len(listAll(t, l, eventlog.Query{Limit: 1000})); n != 200 {
		t.Fatalf("%d events, want 200", n)
	}
}

// TestSubjectMatchesFilters checks the subject matcher List uses against the
// selector package's own matching, for every canonical selector.
func TestSubjectMatchesFilters(t *testing.T) {
	queries := [][]string{{}, {"*"}, {"chat"}, {"muc"}, {"recall"}, {"unknown"}, {"chat:txt"}, {"muc:kick", "roster"}, {"userStatus:login", "chatroom"}}
	apps := []string{"org#app1", "org.x#app 3"}
	for _, list := range queries {
		sels := mustSelectors(t, list...)
		for _, qApp := range append([]string{""}, apps...) {
			filters := selector.FilterSubjects(eventlog.SubjectPrefix, qApp, sels)
			for _, evApp := range apps {
				for _, c := range selector.List() {
					subj := selector.Subject(eventlog.SubjectPrefix, evApp, c)
					want := selector.MatchesAny(sels, c) && (qApp == "" || qApp == evApp)
					got := slices.ContainsFunc(filters, func(f string) bool { return eventlog.SubjectMatches(f, subj) })
					if got != want {
						t.Fatalf("selectors %v app %q: %s matched %v, want %v", list, qApp, subj, got, want)
					}
				}
			}
		}
	}
	for _, tc := range []struct {
		filter, subj string
		want         bool
	}{
		{"a.>", "a.b", true},
		{"a.>", "a", false},
		{"a.>", "a.b.c", true},
		{"a.*", "a.b.c", false},
		{"a.*.c", "a.b.c", true},
		{"a.b", "a.b.c", false},
		{"a.b.c", "a.b", false},
		{"a.b", "a.b", true},
		{"a.*", "a", false},
	} {
		if got := eventlog.SubjectMatches(tc.filter, tc.subj); got != tc.want {
			t.Errorf("SubjectMatches(%q, %q) = %v", tc.filter, tc.subj, got)
		}
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
