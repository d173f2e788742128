package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/app"
	"github.com/imbridge/imbridge/internal/config"
	"github.com/imbridge/imbridge/internal/testlog"
	"github.com/imbridge/imbridge/internal/trigger"
)

const (
	tailKey    = "tail-test-key-0123456789"
	tailAppkey = "demo#imbridge"
	tailParent = "orgs/demo/apps/imbridge"
	tailSecret = "tail-test-secret"
)

// bridge is an imbridge process run by a test on loopback.
type bridge struct {
	t      *testing.T
	cfg    config.Config
	app    *app.App
	cancel context.CancelFunc
	done   chan error
	logs   *testlog.Buffer
	client *http.Client
}

func bridgeConfig(t *testing.T) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.GRPCAddr = "127.0.0.1:0"
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.APIKeys = config.Keys(tailKey)
	cfg.ShutdownTimeout = config.Duration(5 * time.Second)
	cfg.Apps = []config.App{{Appkey: tailAppkey, Secrets: []string{tailSecret}}}
	return cfg
}

func startBridge(t *testing.T, cfg config.Config) *bridge {
	t.Helper()
	logs := &testlog.Buffer{}
	a, err := app.New(cfg, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &bridge{t: t, cfg: cfg, app: a, cancel: cancel, done: make(chan error, 1), logs: logs,
		client: &http.Client{Transport: &http.Transport{}, Timeout: time.Minute}}
	go func() { b.done <- a.Run(ctx) }()
	t.Cleanup(func() {
		b.stop()
		if t.Failed() {
			t.Logf("log of the bridge on %s:\n%s", a.GRPCAddr(), logs.String())
		}
	})
	return b
}

// stop ends the process and waits until it has let go of its data_dir.
func (b *bridge) stop() {
	if b.cancel == nil {
		return
	}
	b.cancel()
	b.cancel = nil
	if err := <-b.done; err != nil {
		b.t.Errorf("Run: %v", err)
	}
	b.client.CloseIdleConnections()
}

// restart stops the process and starts another on the same data_dir and
// the same addresses.
func (b *bridge) restart(t *testing.T) *bridge {
	t.Helper()
	b.stop()
	cfg := b.cfg
	cfg.GRPCAddr, cfg.HTTPAddr = b.app.GRPCAddr().String(), b.app.HTTPAddr().String()
	return startBridge(t, cfg)
}

func (b *bridge) grpcAddr() string { return b.app.GRPCAddr().String() }

// openStreams is how many streams the bridge has open, as GetStatus says.
func (b *bridge) openStreams(t *testing.T) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+b.app.HTTPAddr().String()+"/v1/status", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tailKey)
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatalf("GET /v1/status: %v", err)
	}
	defer resp.Body.Close()
	var st struct {
		Streams []json.RawMessage `json:"streams"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("GET /v1/status: %s: %v", resp.Status, err)
	}
	return len(st.Streams)
}

// post sends signed callbacks of a selector to the webhook and returns
// their call ids, in the order stored.
func (b *bridge) post(t *testing.T, sel string) []string {
	t.Helper()
	bodies, err := trigger.Build(sel, trigger.Options{Appkey: tailAppkey, Secret: tailSecret, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, body := range bodies {
		var fields struct {
			CallID string `json:"callId"`
		}
		if err := json.Unmarshal(body, &fields); err != nil || fields.CallID == "" {
			t.Fatalf("%s: no callId in %s (%v)", sel, body, err)
		}
		resp, err := b.client.Post("http://"+b.app.HTTPAddr().String()+"/v1/callbacks/easemob", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatalf("post %s: %v", sel, err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("post %s: %s", sel, resp.Status)
		}
		ids = append(ids, fields.CallID)
	}
	return ids
}

// tailRun is followEvents running against a bridge.
type tailRun struct {
	out, errOut *testlog.Buffer
	cancel      context.CancelFunc
	done        chan error
	ended       error
}

func startTail(t *testing.T, env map[string]string, adjust func(*tailConfig), args ...string) *tailRun {
	t.Helper()
	r := &tailRun{out: &testlog.Buffer{}, errOut: &testlog.Buffer{}, done: make(chan error, 1)}
	cfg, err := parseTail(args, func(k string) string { return env[k] }, r.errOut)
	if err != nil {
		t.Fatalf("parseTail %q: %v", args, err)
	}
	if adjust != nil {
		adjust(&cfg)
	}
	conn, err := grpc.NewClient(cfg.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- followEvents(ctx, conn, cfg, r.out, r.errOut) }()
	t.Cleanup(func() {
		r.stop()
		_ = conn.Close()
		if t.Failed() {
			t.Logf("tail's stderr:\n%s", r.errOut.String())
		}
	})
	return r
}

// stop is Ctrl-C: it returns what the tail returned.
func (r *tailRun) stop() error {
	if r.cancel != nil {
		r.cancel()
		r.cancel = nil
		r.ended = <-r.done
	}
	return r.ended
}

// events are the events printed so far, as -json prints them.
func (r *tailRun) events(t *testing.T) []*imbridgev1.Event {
	t.Helper()
	var out []*imbridgev1.Event
	for line := range strings.Lines(r.out.String()) {
		if !strings.HasSuffix(line, "\n") {
			break // being written
		}
		ev := &imbridgev1.Event{}
		if err := protojson.Unmarshal([]byte(line), ev); err != nil {
			t.Fatalf("a line of -json is no Event: %v\n%s", err, line)
		}
		out = append(out, ev)
	}
	return out
}

func callIDs(events []*imbridgev1.Event) []string {
	ids := make([]string, len(events))
	for i, ev := range events {
		ids[i] = ev.GetCallId()
	}
	return ids
}

// waitFor polls cond until it holds, for a minute at most: far above what
// it takes on a busy 2-core machine under -race, so that only a hang
// fails. what says what was awaited and what there is.
func waitFor(t *testing.T, cond func() bool, what func() string) {
	t.Helper()
	for range 1200 {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("after a minute: %s", what())
}

// printed waits until the tail has printed exactly the events want, by
// call id and in this order, and fails as soon as it printed more or
// others.
func (r *tailRun) printed(t *testing.T, want []string) {
	t.Helper()
	var got []string
	waitFor(t, func() bool {
		got = callIDs(r.events(t))
		if len(got) > len(want) || strings.Join(got, " ") != strings.Join(want[:len(got)], " ") {
			t.Fatalf("printed %q, want %q", got, want)
		}
		return len(got) == len(want)
	}, func() string { return fmt.Sprintf("printed %d events of %d: %q", len(got), len(want), got) })
}

// noLeaks checks at the end of a test that no goroutine it started is
// left; it must be the test's first cleanup, so that it runs last. A
// stopped bridge's last goroutines may take a few seconds to end (a
// JetStream pull waits out its expiry), longer than goleak's own retries.
func noLeaks(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		var err error
		for range 30 { // each Find retries for about 2s
			if err = goleak.Find(opt); err == nil {
				return
			}
		}
		t.Error(err)
	})
}

// The tail prints every matching event once, in log order, across a
// restart of the bridge, including the events stored while it was away:
// it resumes after the last cursor it printed.
func TestTailResumesAcrossARestart(t *testing.T) {
	noLeaks(t)
	b := startBridge(t, bridgeConfig(t))
	// Each round stores events the filter leaves out between the ones it
	// chooses, so that heartbeats' scanned cursors move past events that
	// are never printed.
	var want []string
	round := func(b *bridge) {
		want = append(want, b.post(t, "chat:txt")...)
		b.post(t, "roster:add")
		want = append(want, b.post(t, "muc:kick")...)
		b.post(t, "chat:img")
	}
	round(b)

	var waits atomic.Int32
	gate := make(chan struct{})
	tr := startTail(t, map[string]string{apiKeyEnv: tailKey}, func(c *tailConfig) {
		c.backoff.InitialInterval, c.backoff.MaxInterval = 10*time.Millisecond, 100*time.Millisecond
		// Reconnections wait for the gate, so that the bridge stores
		// events while the tail is away.
		c.wait = waitAtGate(&waits, gate)
	}, "-addr", b.grpcAddr(), "-app", tailAppkey, "-s", "chat:txt", "-selector", "muc:kick,muc:ban",
		"-from", "earliest", "-json", "-heartbeats", "-heartbeat-interval", "100ms")
	tr.printed(t, want)
	round(b)
	tr.printed(t, want)

	b.stop()
	waitFor(t, func() bool { return waits.Load() > 0 }, func() string {
		return "the tail did not notice the shutdown:\n" + tr.errOut.String()
	})
	b = b.restart(t)
	round(b)
	round(b)
	close(gate)
	tr.printed(t, want)
	round(b)
	tr.printed(t, want)

	// Idle now, the stream sends a heartbeat every 100ms.
	waitFor(t, func() bool { return strings.Contains(tr.errOut.String(), "heartbeat ") }, func() string {
		return "no heartbeat on stderr:\n" + tr.errOut.String()
	})

	if err := tr.stop(); err != nil {
		t.Errorf("Ctrl-C: %v, want nil", err)
	}
	events := tr.events(t)
	for i := 1; i < len(events); i++ {
		if events[i].GetCursor() <= events[i-1].GetCursor() {
			t.Errorf("cursor #%d printed after #%d", events[i].GetCursor(), events[i-1].GetCursor())
		}
	}
	stderr := tr.errOut.String()
	for _, s := range []string{"UNAVAILABLE", "reconnecting", "reconnected"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("stderr does not say %q:\n%s", s, stderr)
		}
	}
	if strings.Contains(stderr, "again") {
		t.Errorf("the server sent events again:\n%s", stderr)
	}
	if strings.Contains(tr.out.String(), "heartbeat") {
		t.Errorf("heartbeats went to stdout")
	}
}

// On a shared subscription the tail acknowledges each event it printed,
// also across a restart of the bridge.
func TestTailAcknowledgesOnASubscription(t *testing.T) {
	noLeaks(t)
	b := startBridge(t, bridgeConfig(t))
	conn, err := grpc.NewClient(b.grpcAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tailKey), 2*time.Minute)
	defer cancel()
	events := imbridgev1.NewEventServiceClient(conn)
	created, err := events.CreateSubscription(ctx, &imbridgev1.CreateSubscriptionRequest{
		Parent:         tailParent,
		SubscriptionId: "tail",
		Subscription: &imbridgev1.Subscription{
			Filter: &imbridgev1.EventFilter{Selectors: []string{"chat:txt"}},
			// Nothing comes again within the test unless acknowledging
			// failed.
			AckDeadline:   durationpb.New(time.Hour),
			StartPosition: imbridgev1.StartPosition_START_POSITION_EARLIEST,
		},
	})
	if err != nil {
		t.Fatalf("CreateSubscription: %v", err)
	}
	name := created.GetSubscription().GetName()
	var want []string
	round := func(b *bridge) {
		want = append(want, b.post(t, "chat:txt")...)
		b.post(t, "roster:add")
		want = append(want, b.post(t, "chat:txt")...)
	}
	round(b)
	tr := startTail(t, nil, func(c *tailConfig) {
		c.backoff.InitialInterval, c.backoff.MaxInterval = 10*time.Millisecond, 100*time.Millisecond
	}, "-addr", b.grpcAddr(), "-key", tailKey, "-subscription", name, "-json")
	tr.printed(t, want)
	b = b.restart(t)
	round(b)
	tr.printed(t, want)

	var sub *imbridgev1.Subscription
	waitFor(t, func() bool {
		resp, err := events.GetSubscription(ctx, &imbridgev1.GetSubscriptionRequest{Name: name})
		if err != nil {
			if status.Code(err) == codes.Unavailable {
				return false // the client is still reconnecting
			}
			t.Fatalf("GetSubscription: %v", err)
		}
		sub = resp.GetSubscription()
		return sub.GetUnacknowledged() == 0 && sub.GetBacklog() == 0
	}, func() string { return fmt.Sprintf("the subscription still has %v", sub) })
	if err := tr.stop(); err != nil {
		t.Errorf("Ctrl-C: %v, want nil", err)
	}
}

// Errors that retrying cannot fix end the tail with the code, the reason
// and what to do.
func TestTailStopsOnErrorsRetryingCannotFix(t *testing.T) {
	noLeaks(t)
	b := startBridge(t, bridgeConfig(t))
	b.post(t, "chat:txt")
	for _, tc := range []struct {
		name string
		args []string
		code codes.Code
		says []string
	}{
		{"wrong key", []string{"-key", "not-the-key", "-from", "earliest"}, codes.Unauthenticated, []string{"UNAUTHENTICATED"}},
		{"unknown selector", []string{"-s", "chat:nosuch", "-from", "earliest"}, codes.InvalidArgument, []string{"INVALID_ARGUMENT", "chat:nosuch"}},
		{"another log", []string{"-after", "1", "-epoch", "not-this-log"}, codes.FailedPrecondition,
			[]string{"FAILED_PRECONDITION", "EPOCH_MISMATCH", "epoch=", "-from earliest"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The bound only turns a tail that retries for ever into a
			// failure.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var stdout, stderr testlog.Buffer
			args := append([]string{"tail", "-addr", b.grpcAddr()}, tc.args...)
			env := map[string]string{apiKeyEnv: tailKey}
			err := run(ctx, args, func(k string) string { return env[k] }, &stdout, &stderr)
			if status.Code(err) != tc.code {
				t.Fatalf("tail %q: %v, want %v\nstderr: %s", args, err, tc.code, stderr.String())
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("the error %q does not say %q", err, s)
				}
			}
			if stdout.String() != "" {
				t.Errorf("printed %q", stdout.String())
			}
		})
	}
}

func TestTailFlags(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		args []string
		want *imbridgev1.SubscribeEventsRequest // nil: an error saying err
		err  string
	}{
		{nil, &imbridgev1.SubscribeEventsRequest{Parent: "orgs/-/apps/-", Filter: &imbridgev1.EventFilter{},
			Start: &imbridgev1.SubscribeEventsRequest_Position{Position: imbridgev1.StartPosition_START_POSITION_LATEST}}, ""},
		{[]string{"-app", "acme#chat", "-s", "chat:txt,muc", "-selector", "roster", "-sender", "alice", "-recipient", "bob", "-group", "g1", "-from", "earliest", "-raw", "-heartbeat-interval", "2s"},
			&imbridgev1.SubscribeEventsRequest{
				Parent: "orgs/acme/apps/chat",
				Filter: &imbridgev1.EventFilter{Selectors: []string{"chat:txt", "muc", "roster"}, Sender: "alice", Recipient: "bob", GroupId: "g1"},
				Start:  &imbridgev1.SubscribeEventsRequest_Position{Position: imbridgev1.StartPosition_START_POSITION_EARLIEST},
				View:   imbridgev1.EventView_EVENT_VIEW_FULL, HeartbeatInterval: durationpb.New(2 * time.Second),
			}, ""},
		{[]string{"-after", "42", "-epoch", "e1"}, &imbridgev1.SubscribeEventsRequest{Parent: "orgs/-/apps/-", Filter: &imbridgev1.EventFilter{},
			Start: &imbridgev1.SubscribeEventsRequest_AfterCursor{AfterCursor: 42}, Epoch: "e1"}, ""},
		{[]string{"-after", "0"}, &imbridgev1.SubscribeEventsRequest{Parent: "orgs/-/apps/-", Filter: &imbridgev1.EventFilter{},
			Start: &imbridgev1.SubscribeEventsRequest_AfterCursor{}}, ""},
		{[]string{"-since", "2026-01-02T15:04:05Z"}, &imbridgev1.SubscribeEventsRequest{Parent: "orgs/-/apps/-", Filter: &imbridgev1.EventFilter{},
			Start: &imbridgev1.SubscribeEventsRequest_StartTime{StartTime: timestamppb.New(time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC))}}, ""},
		{[]string{"-subscription", "orgs/acme/apps/chat/subscriptions/s1", "-max-outstanding", "5"},
			&imbridgev1.SubscribeEventsRequest{Subscription: "orgs/acme/apps/chat/subscriptions/s1", MaxOutstanding: 5}, ""},
		{[]string{"-app", "acme"}, nil, "org#app"},
		{[]string{"-app", "a#b#c"}, nil, "org#app"},
		{[]string{"-from", "middle"}, nil, "earliest or latest"},
		{[]string{"-from", "earliest", "-after", "3"}, nil, "-from and -after"},
		{[]string{"-since", "yesterday"}, nil, "RFC 3339"},
		{[]string{"-since", "-5m"}, nil, "positive"},
		{[]string{"-epoch", "e1"}, nil, "-epoch goes with -after"},
		{[]string{"-subscription", "orgs/a/apps/b/subscriptions/s", "-s", "chat"}, nil, "-s cannot be used with -subscription"},
		{[]string{"-max-outstanding", "5"}, nil, "needs -subscription"},
		{[]string{"chat:txt"}, nil, "unexpected arguments"},
	} {
		var stderr strings.Builder
		cfg, err := parseTail(tc.args, func(string) string { return "" }, &stderr)
		if tc.want == nil {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v, want an error saying %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if !proto.Equal(cfg.req, tc.want) {
			t.Errorf("%q: request %v, want %v", tc.args, cfg.req, tc.want)
		}
	}
	cfg, err := parseTail([]string{"-since", "10m"}, func(string) string { return "" }, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.req.GetStartTime().AsTime(); got.Before(now.Add(-10*time.Minute-time.Second)) || got.After(time.Now().Add(-10*time.Minute)) {
		t.Errorf("-since 10m starts at %v, want 10 minutes before %v", got, now)
	}
	env := map[string]string{apiKeyEnv: "from-env"}
	for args, want := range map[string]string{"": "from-env", "-key from-flag": "from-flag"} {
		cfg, err := parseTail(strings.Fields(args), func(k string) string { return env[k] }, &strings.Builder{})
		if err != nil || cfg.key != want {
			t.Errorf("%q: key %q (%v), want %q", args, cfg.key, err, want)
		}
	}
}

// A new call continues where the tail stands.
func TestTailRequestResumes(t *testing.T) {
	cfg, err := parseTail([]string{"-s", "chat"}, func(string) string { return "" }, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	f := &follower{cfg: cfg, startTime: time.Unix(1800000000, 0)}
	if got := f.request(); got.GetPosition() != imbridgev1.StartPosition_START_POSITION_LATEST {
		t.Errorf("first call starts at %v, want LATEST", got.GetStart())
	}
	// Cut before anything came: from when the tail began.
	if got := f.request(); !got.GetStartTime().AsTime().Equal(f.startTime) {
		t.Errorf("a call before anything came starts at %v, want start_time %v", got.GetStart(), f.startTime)
	}
	f.cursor, f.epoch, f.known = 17, "ep", true
	got := f.request()
	if got.GetAfterCursor() != 17 || got.GetEpoch() != "ep" || got.GetFilter().GetSelectors()[0] != "chat" {
		t.Errorf("resuming call %v, want after_cursor 17, epoch ep and the filter", got)
	}
	if f.cfg.req.GetAfterCursor() != 0 {
		t.Errorf("resuming changed the first request: %v", f.cfg.req)
	}
}

func TestEventLine(t *testing.T) {
	at := timestamppb.New(time.Date(2026, 11, 22, 21, 49, 21, 123456789, time.FixedZone("CST", 8*3600)))
	txt := func(s string) *imbridgev1.Event_Message {
		return &imbridgev1.Event_Message{Message: &imbridgev1.MessageEvent{Bodies: []*imbridgev1.MessageBody{
			{Kind: &imbridgev1.MessageBody_Txt{Txt: &imbridgev1.TextBody{Msg: s}}}}}}
	}
	for _, tc := range []struct {
		ev   *imbridgev1.Event
		want string
	}{
		{&imbridgev1.Event{Cursor: 12, ReceiveTime: at, Selector: "chat:txt", SenderUsername: "alice", RecipientUsername: "bob", Body: txt("hello")},
			`#12  2026-11-22T13:49:21.123Z  chat:txt  alice → bob  "hello"`},
		{&imbridgev1.Event{Cursor: 1, ReceiveTime: at, Selector: "chat:txt", SenderUsername: "a\nb", GroupId: "g1", Body: txt("你好\n" + strings.Repeat("x", 200))},
			`#1  2026-11-22T13:49:21.123Z  chat:txt  a?b → g1  "你好\n` + strings.Repeat("x", 76) + `…"`},
		{&imbridgev1.Event{Cursor: 3, ReceiveTime: at, Selector: "muc:kick", SenderUsername: "admin", RecipientUsername: "room1",
			Body: &imbridgev1.Event_Muc{Muc: &imbridgev1.MucEvent{Operation: imbridgev1.MucOperation_MUC_OPERATION_KICK}}},
			`#3  2026-11-22T13:49:21.123Z  muc:kick  admin → room1  kick`},
		{&imbridgev1.Event{Cursor: 4, Selector: "chat:img", SenderUsername: "a", RecipientUsername: "b",
			Body: &imbridgev1.Event_Message{Message: &imbridgev1.MessageEvent{Bodies: []*imbridgev1.MessageBody{
				{Kind: &imbridgev1.MessageBody_Img{Img: &imbridgev1.ImageBody{Filename: "cat.png"}}}}}}},
			`#4  -  chat:img  a → b  [image cat.png]`},
		{&imbridgev1.Event{Cursor: 5, ReceiveTime: at, Selector: "userStatus:login", SenderUsername: "alice",
			Body: &imbridgev1.Event_UserStatus{UserStatus: &imbridgev1.UserStatusEvent{Online: true, ReasonName: "login", Os: "ios"}}},
			`#5  2026-11-22T13:49:21.123Z  userStatus:login  alice → -  online login ios`},
		{&imbridgev1.Event{Cursor: 6, ReceiveTime: at, Selector: "userStatus:logout",
			Body: &imbridgev1.Event_UserStatus{UserStatus: &imbridgev1.UserStatusEvent{User: &imbridgev1.Jid{Username: "carol"}}}},
			`#6  2026-11-22T13:49:21.123Z  userStatus:logout  carol → -  offline`},
		{&imbridgev1.Event{Cursor: 7, ReceiveTime: at, Selector: "groupchat:txt", SenderUsername: "alice", RecipientUsername: "bob", GroupId: "g1", Body: txt("hi")},
			`#7  2026-11-22T13:49:21.123Z  groupchat:txt  alice → bob in g1  "hi"`},
	} {
		if got := eventLine(tc.ev); got != tc.want {
			t.Errorf("eventLine =\n%s\nwant\n%s", got, tc.want)
		}
	}
}

// A tail started at the newest end that is cut before anything came
// resumes from when it began: it prints what was stored while it was
// away, and nothing stored before it started.
func TestTailLatestCutBeforeAnythingCame(t *testing.T) {
	b := startBridge(t, bridgeConfig(t))
	b.post(t, "chat:txt") // before the tail: never printed
	var waits atomic.Int32
	gate := make(chan struct{})
	tr := startTail(t, map[string]string{apiKeyEnv: tailKey}, func(c *tailConfig) {
		c.backoff.InitialInterval, c.backoff.MaxInterval = 10*time.Millisecond, 100*time.Millisecond
		c.wait = waitAtGate(&waits, gate)
	}, "-addr", b.grpcAddr(), "-json", "-heartbeats", "-heartbeat-interval", "5m")
	waitFor(t, func() bool { return b.openStreams(t) > 0 }, func() string { return "the tail's stream open; the tail said: " + tr.errOut.String() })
	b.stop()
	waitFor(t, func() bool { return waits.Load() > 0 }, func() string { return tr.errOut.String() })
	b = b.restart(t)
	want := b.post(t, "chat:txt")
	want = append(want, b.post(t, "muc:kick")...)
	close(gate)
	tr.printed(t, want)
	if err := tr.stop(); err != nil {
		t.Errorf("Ctrl-C: %v", err)
	}
	if strings.Contains(tr.errOut.String(), "again") {
		t.Errorf("repeated: %s", tr.errOut.String())
	}
}

// waitAtGate is a tail's wait between reconnections that counts itself in
// waits and holds until gate is closed, so that the bridge stores events
// while the tail is away.
func waitAtGate(waits *atomic.Int32, gate <-chan struct{}) func(context.Context, time.Duration) error {
	return func(ctx context.Context, d time.Duration) error {
		waits.Add(1)
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
		return sleep(ctx, d)
	}
}
