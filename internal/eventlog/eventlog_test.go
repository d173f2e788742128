package eventlog_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/eventlog"
	"github.com/imbridge/imbridge/internal/testwait"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var quiet = slog.New(slog.DiscardHandler)

// checkFor calls f every interval until it returns nil, and fails the test
// with f's last error when timeout has passed.
func checkFor(t testing.TB, timeout, interval time.Duration, f func() error) {
	t.Helper()
	testwait.For(t, timeout, interval, f)
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

// embedded is the configuration of a log on an embedded server in a
// temporary directory. It compresses each event (CompressionEvent), and
// learns a dictionary after a few events (until the test ends), so that
// every read path meets the forms only imbridge decodes; what JetStream
// compresses it also decompresses (TestCompressionChangeOnReopen reads
// every setting).
func embedded(t testing.TB) eventlog.Config {
	eventlog.SetDictLearning(t, 1, 2<<10, 24*time.Hour)
	return eventlog.Config{DataDir: t.TempDir(), Compression: eventlog.CompressionEvent}
}

// startServer starts a standalone JetStream server on a random loopback
// port, as an external cluster would be; each function in with changes its
// options first.
func startServer(t testing.TB, with ...func(*server.Options)) *server.Server {
	t.Helper()
	opts := &server.Options{
		ServerName: "external",
		JetStream:  true,
		StoreDir:   t.TempDir(),
		Host:       "127.0.0.1",
		Port:       server.RANDOM_PORT,
		NoLog:      true,
		NoSigs:     true,
	}
	for _, w := range with {
		w(opts)
	}
	s, err := server.NewServer(opts)
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
		CallId:            callID,
		EventType:         imbridgev1.EventType_EVENT_TYPE_CHAT,
		EventTypeName:     "chat",
		VendorTime:        timestamppb.New(time.UnixMilli(1700000000000)),
		Sender:            "alice",
		Recipient:         "bob",
		SenderUsername:    "alice",
		RecipientUsername: "bob",
		MsgId:             "msg-" + callID,
		Appkey:            appkey,
		Host:              "msync@ebs-ali-beijing-1",
		SecurityVersion:   "1.0.0",
		ReceiveTime:       timestamppb.Now(),
		Selector:          sel,
		RawBody:           []byte(`{"callId":"` + callID + `"}`),
		Verification:      imbridgev1.Verification_VERIFICATION_SIGNED,
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

// incompressible is n random bytes: a raw body whose event takes at least
// n bytes of the stream however it is compressed, for the tests of
// retention by size.
func incompressible(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails
	return b
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
	if _, err := l.Get(t.Context(), c); !errors.Is(err, eventlog.ErrUnavailable) {
		t.Errorf("Get after Close: err = %v, want ErrUnavailable", err)
	}
	if _, _, err := l.List(t.Context(), eventlog.Query{Limit: 1}); !errors.Is(err, eventlog.ErrUnavailable) {
		t.Errorf("List after Close: err = %v, want ErrUnavailable", err)
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

func TestExternalMode(t *testing.T) {
	s := startServer(t)
	l1 := openLog(t, eventlog.Config{NATSURL: s.ClientURL(), DataDir: t.TempDir()})
	l2 := openLog(t, eventlog.Config{NATSURL: s.ClientURL(), DataDir: t.TempDir(), Replicas: 1})
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
	page, next, err := l1.List(ctx, eventlog.Query{Filter: eventlog.Filter{Selectors: mustSelectors(t, "muc")}, Limit: 10})
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
	if l3 := openLog(t, eventlog.Config{NATSURL: s.ClientURL(), DataDir: t.TempDir()}); !l3.IsChatroom("org#app", "room-ext") {
		t.Error("chatroom not loaded at Open")
	}

	// A single server cannot hold three replicas: the server says so.
	if _, err := eventlog.Open(ctx, eventlog.Config{NATSURL: s.ClientURL(), DataDir: t.TempDir(), Replicas: 3, Logger: quiet}); err == nil {
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
		{"short window", eventlog.Config{DataDir: dir, DuplicateWindow: 10 * time.Second}, "DuplicateWindow"},
		{"no data dir external", eventlog.Config{NATSURL: "nats://127.0.0.1:1"}, "DataDir"},
		{"replicas embedded", eventlog.Config{DataDir: dir, Replicas: 3}, "Replicas"},
		{"negative replicas", eventlog.Config{NATSURL: "nats://127.0.0.1:1", Replicas: -1}, "Replicas"},
		{"no data dir", eventlog.Config{}, "DataDir"},
		{"max age under window", eventlog.Config{DataDir: dir, MaxAge: time.Second}, "MaxAge"},
		{"max age under custom window", eventlog.Config{DataDir: dir, MaxAge: 20 * time.Minute, DuplicateWindow: time.Hour}, "MaxAge"},
		{"negative index ttl", eventlog.Config{DataDir: dir, CallIDIndexTTL: -time.Hour}, "CallIDIndexTTL"},
		{"index ttl under window", eventlog.Config{DataDir: dir, CallIDIndexTTL: 25 * time.Second}, "CallIDIndexTTL"},
		{"negative max bytes", eventlog.Config{DataDir: dir, MaxBytes: -1}, "MaxBytes"},
		{"sync always external", eventlog.Config{NATSURL: "nats://127.0.0.1:1", SyncAlways: true}, "SyncAlways"},
		{"listen external", eventlog.Config{NATSURL: "nats://127.0.0.1:1", ListenAddr: "127.0.0.1:4222"}, "ListenAddr"},
		{"bad listen", eventlog.Config{DataDir: dir, ListenAddr: "localhost"}, "ListenAddr"},
		{"bad listen port", eventlog.Config{DataDir: dir, ListenAddr: "localhost:http"}, "ListenAddr"},
		{"unknown compression", eventlog.Config{DataDir: dir, Compression: "zstd"}, "Compression"},
		{"nats url port", eventlog.Config{DataDir: dir, NATSURL: "nats://127.0.0.1:99999"}, "NATSURL server 1: port"},
		{"nats url scheme", eventlog.Config{DataDir: dir, NATSURL: "nats://a:4222, http://b:4222"}, `NATSURL server 2: scheme "http"`},
		{"nats url port after an empty entry", eventlog.Config{DataDir: dir, NATSURL: "nats://a:4222,,nats://b:0"}, "NATSURL server 3: port"},
		{"nats url mixes websocket", eventlog.Config{DataDir: dir, NATSURL: "nats://a:4222, wss://b"}, "NATSURL mixes websocket"},
		{"nats url mixes websocket, upper case", eventlog.Config{DataDir: dir, NATSURL: "WS://a,nats://b"}, "NATSURL mixes websocket"},
		{"nats url not a url", eventlog.Config{DataDir: dir, NATSURL: "nats://u:p%zz@a:4222"}, "NATSURL server 1: not a URL"},
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
	if _, err := eventlog.Open(ctx, eventlog.Config{NATSURL: "nats://127.0.0.1:1", DataDir: t.TempDir(), Logger: quiet}); err == nil {
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
		ev.RawBody = make([]byte, 1000)
		_, _ = rand.Read(ev.RawBody) // does not compress
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

// The stream's block compression follows the configuration, also when it
// changes on a reopen; events are compressed one by one by default and
// under CompressionEvent only; and events written under any setting stay
// readable under every other.
func TestCompressionChangeOnReopen(t *testing.T) {
	cfg := embedded(t)
	cfg.ListenAddr = "127.0.0.1:-1"
	compression := func(l *eventlog.Log) jetstream.StoreCompression {
		t.Helper()
		var c jetstream.StoreCompression
		withRawJS(t, l.ClientURL(), func(js jetstream.JetStream) {
			s, err := js.Stream(t.Context(), eventlog.StreamName)
			if err != nil {
				t.Fatal(err)
			}
			c = s.CachedInfo().Config.Compression
		})
		return c
	}
	var stored []*imbridgev1.Event
	for n, step := range []struct {
		set  eventlog.Compression
		want jetstream.StoreCompression
	}{
		{"", jetstream.NoCompression},
		{eventlog.CompressionEvent, jetstream.NoCompression},
		{eventlog.CompressionNone, jetstream.NoCompression},
		{eventlog.CompressionS2, jetstream.S2Compression},
		{eventlog.CompressionEvent, jetstream.NoCompression},
	} {
		cfg.Compression = step.set
		l, err := eventlog.Open(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := compression(l); got != step.want {
			t.Errorf("compression %q: the stream compresses with %v, want %v", step.set, got, step.want)
		}
		for i := range 20 {
			ev := newEvent(fmt.Sprintf("org#app_c%d_%d", n, i), "org#app", "chat:txt")
			ev.RawBody = []byte(strings.Repeat("z", 1000))
			stored = append(stored, withCursor(ev, mustAppend(t, l, ev)))
		}
		last := stored[len(stored)-1]
		plain := proto.Size(last) - protowire.SizeTag(1) - protowire.SizeVarint(last.Cursor)
		var payload []byte
		withRawJS(t, l.ClientURL(), func(js jetstream.JetStream) {
			st, err := js.Stream(t.Context(), eventlog.StreamName)
			if err == nil {
				var raw *jetstream.RawStreamMsg
				if raw, err = st.GetMsg(t.Context(), last.Cursor); err == nil {
					payload = raw.Data
				}
			}
			if err != nil {
				t.Fatal(err)
			}
		})
		if perEvent := step.set == "" || step.set == eventlog.CompressionEvent; perEvent != (len(payload) < plain/4) {
			t.Errorf("compression %q: an event of %d bytes is stored as %d", step.set, plain, len(payload))
		}
		for _, want := range stored {
			got, err := l.Get(t.Context(), want.Cursor)
			if err != nil {
				t.Fatalf("compression %q: event %d: %v", step.set, want.Cursor, err)
			}
			checkEvent(t, got, want)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
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
		ev.RawBody = incompressible(1000)
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

// stallingProxy forwards TCP connections to target until stall, after
// which it forwards nothing more and closes nothing: servers that stopped
// answering, as behind a network partition.
type stallingProxy struct {
	lis     net.Listener
	stalled chan struct{}
	mu      sync.Mutex
	conns   []net.Conn
}

func newStallingProxy(t *testing.T, target string) *stallingProxy {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallingProxy{lis: lis, stalled: make(chan struct{})}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		_ = lis.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			_ = c.Close()
		}
		p.mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			wg.Go(func() { p.pipe(c, u) })
			wg.Go(func() { p.pipe(u, c) })
		}
	})
	return p
}

// pipe copies from to to until the proxy stalls; then it drops what comes.
func (p *stallingProxy) pipe(from, to net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		select {
		case <-p.stalled:
			_, _ = io.Copy(io.Discard, from)
			return
		default:
		}
		if _, werr := to.Write(buf[:n]); werr != nil || err != nil {
			return
		}
	}
}

// Close bounded by its context returns once it ends, with servers that
// stopped answering: each connection's drain would otherwise wait out its
// drain timeout (10 s), one after the other, and the index's feeder and
// the chatroom watcher their requests' own (5 s and more).
func TestCloseContextBoundsTheDrain(t *testing.T) {
	eventlog.ProbeAlways(t) // the feeder asks the servers at every tick
	s := startServer(t)
	p := newStallingProxy(t, s.Addr().String())
	l, err := eventlog.Open(t.Context(), eventlog.Config{NATSURL: "nats://" + p.lis.Addr().String(), DataDir: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, l, newEvent("org#app_c", "org#app", "chat:txt"))
	close(p.stalled)
	// A few of the feeder's ticks: it is now waiting on servers that do
	// not answer (were the machine too slow for that, the test would
	// only check less).
	time.Sleep(200 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	closed := make(chan error, 1)
	began := time.Now()
	go func() { closed <- l.CloseContext(ctx) }()
	select {
	case err := <-closed:
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "eventlog: drain") {
			t.Errorf("CloseContext with servers that stopped answering: %v, want its drains cut at its deadline", err)
		}
		// Not a speed target: the one thing a return this late can mean
		// is that something waited for a request's own timeout.
		if took := time.Since(began); took >= 5*time.Second {
			t.Errorf("CloseContext took %v with a 200ms deadline: it waited for a request's timeout (5s or more)", took)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("CloseContext did not return within 2 minutes of its 200ms deadline")
	}
}
