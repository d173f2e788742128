package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/eventlog"
	"github.com/imbridge/imbridge/internal/testwait"
)

// tcpServer serves events on a loopback TCP port: unlike bufconn, a real
// connection whose flow control a client can hold up.
func tcpServer(t *testing.T, events *EventService) (string, *Server, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	srv, err := New(Options{Logger: slog.New(slog.DiscardHandler), Registerer: reg, Keys: NewAPIKeys(nil), Events: events, Chatrooms: &ChatroomService{}})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return lis.Addr().String(), srv, reg
}

// handled counts the finished calls of method with code, from the
// server's metrics.
func handled(t *testing.T, reg *prometheus.Registry, method string, code codes.Code) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "grpc_server_handled_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["grpc_method"] == method && labels["grpc_code"] == code.String() {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func dial(t *testing.T, addr string, opts ...grpc.DialOption) imbridgev1.EventServiceClient {
	t.Helper()
	conn, err := grpc.NewClient(addr, append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return imbridgev1.NewEventServiceClient(conn)
}

func appendEvents(t *testing.T, l *eventlog.Log, prefix string, n, rawBytes int) []uint64 {
	t.Helper()
	var out []uint64
	for i := range n {
		c, _, err := l.Append(ctxT(t), &imbridgev1.Event{
			CallId: "org#app_" + prefix + strconv.Itoa(i), Appkey: "org#app", Selector: "chat:txt",
			SenderUsername: "alice", ReceiveTime: timestamppb.Now(), RawBody: []byte(strings.Repeat("r", rawBytes)),
		})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// recvEvents reads n events off a stream, skipping heartbeats.
func recvEvents(t *testing.T, s grpc.ServerStreamingClient[imbridgev1.SubscribeEventsResponse], n int) []uint64 {
	t.Helper()
	var out []uint64
	for len(out) < n {
		m, err := s.Recv()
		if err != nil {
			t.Fatalf("Recv after %d events: %v", len(out), err)
		}
		if ev := m.GetEvent(); ev != nil {
			out = append(out, ev.GetCursor())
		}
	}
	return out
}

func TestSubscribeRequestErrors(t *testing.T) {
	l := openLog(t)
	r := start(t, &EventService{Store: l})
	appendEvents(t, l, "e", 2, 0)
	for _, tc := range []struct {
		name   string
		req    *imbridgev1.SubscribeEventsRequest
		code   codes.Code
		reason string
		field  string
	}{
		{"no parent", &imbridgev1.SubscribeEventsRequest{}, codes.InvalidArgument, ReasonInvalidArgument, "parent"},
		{"bad parent", &imbridgev1.SubscribeEventsRequest{Parent: "apps/x"}, codes.InvalidArgument, ReasonInvalidArgument, "parent"},
		{"bad selector", &imbridgev1.SubscribeEventsRequest{Parent: allApps, Filter: &imbridgev1.EventFilter{Selectors: []string{"chat", "nope"}}}, codes.InvalidArgument, ReasonInvalidArgument, "filter.selectors[1]"},
		{"heartbeat too short", &imbridgev1.SubscribeEventsRequest{Parent: allApps, HeartbeatInterval: durationpb.New(time.Millisecond)}, codes.InvalidArgument, ReasonInvalidArgument, "heartbeat_interval"},
		{"epoch without cursor", &imbridgev1.SubscribeEventsRequest{Parent: allApps, Epoch: l.Epoch()}, codes.InvalidArgument, ReasonInvalidArgument, "epoch"},
		{"max outstanding without subscription", &imbridgev1.SubscribeEventsRequest{Parent: allApps, MaxOutstanding: 3}, codes.InvalidArgument, ReasonInvalidArgument, "max_outstanding"},
		{"subscription with a filter", &imbridgev1.SubscribeEventsRequest{Subscription: "orgs/org/apps/app/subscriptions/s", Filter: &imbridgev1.EventFilter{}}, codes.InvalidArgument, ReasonInvalidArgument, "filter"},
		{"bad subscription name", &imbridgev1.SubscribeEventsRequest{Subscription: "orgs/org/apps/app/subscriptions/Bad_Name"}, codes.InvalidArgument, ReasonInvalidArgument, "subscription"},
		{"no such subscription", &imbridgev1.SubscribeEventsRequest{Subscription: "orgs/org/apps/app/subscriptions/none"}, codes.NotFound, ReasonSubscriptionNotFound, ""},
		{"another log's epoch", &imbridgev1.SubscribeEventsRequest{Parent: allApps, Start: &imbridgev1.SubscribeEventsRequest_AfterCursor{AfterCursor: 1}, Epoch: "other"}, codes.FailedPrecondition, ReasonEpochMismatch, ""},
		{"past the head", &imbridgev1.SubscribeEventsRequest{Parent: allApps, Start: &imbridgev1.SubscribeEventsRequest_AfterCursor{AfterCursor: 99}}, codes.FailedPrecondition, ReasonEpochMismatch, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := r.events().SubscribeEvents(ctxT(t), tc.req)
			if err == nil {
				_, err = s.Recv()
			}
			st := status.Convert(err)
			info := errorInfo(st)
			if st.Code() != tc.code || info.GetReason() != tc.reason || info.GetMetadata()["field"] != tc.field {
				t.Fatalf("%v (ErrorInfo %v), want %v %s field %q", err, info, tc.code, tc.reason, tc.field)
			}
			if tc.reason == ReasonEpochMismatch && (info.GetMetadata()["epoch"] != l.Epoch() || info.GetMetadata()["head_cursor"] != "2") {
				t.Errorf("metadata %v: want this log's epoch and head", info.GetMetadata())
			}
		})
	}
}

// A client that stops reading is cut off with RESOURCE_EXHAUSTED once its
// buffer stays full for the send timeout; meanwhile appends and another
// subscriber go on, and the cut client, reading again, finds every event
// up to the cursor the error names, then the error.
func TestSlowConsumerIsCutAlone(t *testing.T) {
	l := openLog(t)
	addr, _, reg := tcpServer(t, &EventService{Store: l, Streams: StreamOptions{BufferEvents: 4, SendTimeout: 2 * time.Second}}) // the healthy reader may pause on a busy machine
	const n = 150                                                                                                                // 150 events of 2 KiB: more than the windows and the buffer hold
	stored := appendEvents(t, l, "s", n, 2<<10)
	req := &imbridgev1.SubscribeEventsRequest{Parent: allApps, Start: &imbridgev1.SubscribeEventsRequest_Position{Position: imbridgev1.StartPosition_START_POSITION_EARLIEST},
		View: imbridgev1.EventView_EVENT_VIEW_FULL}

	// Fixed 64 KiB windows: the client takes no more than that unread.
	stalled, err := dial(t, addr, grpc.WithInitialWindowSize(1<<16), grpc.WithInitialConnWindowSize(1<<16)).SubscribeEvents(ctxT(t), req)
	if err != nil {
		t.Fatal(err)
	}
	got := recvEvents(t, stalled, 1)

	healthy, err := dial(t, addr).SubscribeEvents(ctxT(t), req)
	if err != nil {
		t.Fatal(err)
	}
	if h := recvEvents(t, healthy, n); fmt.Sprint(h) != fmt.Sprint(stored) {
		t.Fatalf("healthy subscriber: %v", h)
	}
	more := appendEvents(t, l, "m", 5, 0)
	if h := recvEvents(t, healthy, 5); fmt.Sprint(h) != fmt.Sprint(more) {
		t.Fatalf("healthy subscriber after the stall: %v, want %v", h, more)
	}

	// The server cuts the stalled stream by itself.
	testwait.For(t, time.Minute, 20*time.Millisecond, func() error {
		if handled(t, reg, "SubscribeEvents", codes.ResourceExhausted) != 1 {
			return errors.New("the stalled stream is still open")
		}
		return nil
	})
	// Now read the stalled stream to its end.
	var err2 error
	for {
		m, err := stalled.Recv()
		if err != nil {
			err2 = err
			break
		}
		if ev := m.GetEvent(); ev != nil {
			got = append(got, ev.GetCursor())
		}
	}
	st := status.Convert(err2)
	info := errorInfo(st)
	if st.Code() != codes.ResourceExhausted || info.GetReason() != ReasonSlowConsumer {
		t.Fatalf("stalled stream ended with %v, want RESOURCE_EXHAUSTED %s", err2, ReasonSlowConsumer)
	}
	last := got[len(got)-1]
	if info.GetMetadata()["last_cursor"] != strconv.FormatUint(last, 10) {
		t.Errorf("last_cursor %q, but the last event received was %d", info.GetMetadata()["last_cursor"], last)
	}
	if len(got) >= n || fmt.Sprint(got) != fmt.Sprint(stored[:len(got)]) {
		t.Errorf("stalled stream received %d events %v, want a gapless prefix of the %d stored", len(got), got, n)
	}
}

// The server accepts clients that ping every 10s, also between calls, as
// clients behind load balancers are set to (too_many_pings would end the
// connection and its streams).
func TestKeepaliveAllowsTenSecondPings(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 25s")
	}
	t.Parallel()
	l := openLog(t)
	addr, _, _ := tcpServer(t, &EventService{Store: l})
	client := dial(t, addr, grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: KeepaliveMinClientInterval, Timeout: 5 * time.Second, PermitWithoutStream: true}))
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	s, err := client.SubscribeEvents(ctx, &imbridgev1.SubscribeEventsRequest{Parent: allApps, HeartbeatInterval: durationpb.New(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	// 25 heartbeats: 25s, in which the client pings twice.
	for i := range 25 {
		m, err := s.Recv()
		if err != nil {
			t.Fatalf("after %d heartbeats: %v", i, err)
		}
		if m.GetHeartbeat() == nil || m.GetEpoch() != l.Epoch() {
			t.Fatalf("want heartbeats with the epoch, got %v", m)
		}
	}
}

// Shutdown ends a live stream with UNAVAILABLE at once.
func TestShutdownEndsStreams(t *testing.T) {
	l := openLog(t)
	addr, srv, _ := tcpServer(t, &EventService{Store: l})
	s, err := dial(t, addr).SubscribeEvents(ctxT(t), &imbridgev1.SubscribeEventsRequest{Parent: allApps, HeartbeatInterval: durationpb.New(time.Minute),
		Start: &imbridgev1.SubscribeEventsRequest_Position{Position: imbridgev1.StartPosition_START_POSITION_EARLIEST}})
	if err != nil {
		t.Fatal(err)
	}
	appendEvents(t, l, "x", 1, 0)
	recvEvents(t, s, 1)
	srv.EndStreams()
	_, err = s.Recv()
	if st := status.Convert(err); st.Code() != codes.Unavailable || errorInfo(st).GetReason() != ReasonShuttingDown {
		t.Fatalf("stream ended with %v, want UNAVAILABLE SHUTTING_DOWN", err)
	}
}

// Events are encoded once for every stream; a client that asks for
// compressed messages still gets them compressed, and intact.
func TestSharedEncodingAndCompression(t *testing.T) {
	l := openLog(t)
	addr, _, _ := tcpServer(t, &EventService{Store: l})
	stored := appendEvents(t, l, "z", 5, 300)
	req := &imbridgev1.SubscribeEventsRequest{Parent: allApps, View: imbridgev1.EventView_EVENT_VIEW_FULL,
		Start: &imbridgev1.SubscribeEventsRequest_Position{Position: imbridgev1.StartPosition_START_POSITION_EARLIEST}}
	client := dial(t, addr)
	for _, opts := range [][]grpc.CallOption{nil, {grpc.UseCompressor(gzip.Name)}, nil} {
		s, err := client.SubscribeEvents(ctxT(t), req, opts...)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range stored {
			m, err := s.Recv()
			if err != nil {
				t.Fatalf("%v: %v", opts, err)
			}
			ev := m.GetEvent()
			if ev.GetCursor() != want || ev.GetCallId() != "org#app_z"+strconv.Itoa(i) || len(ev.GetRawBody()) != 300 || m.GetEpoch() != l.Epoch() {
				t.Fatalf("%v: event %d = cursor %d %q, %d raw bytes, epoch %q", opts, i, ev.GetCursor(), ev.GetCallId(), len(ev.GetRawBody()), m.GetEpoch())
			}
		}
	}
}

// A stream that meets a corrupt event ends with DATA_LOSS naming its
// cursor, so that the client can resume after it (resuming from its own
// last cursor would meet it again), once it has sent every event before
// it: those queued for the client are not dropped.
func TestStreamNamesTheCorruptEventItMet(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := eventlog.Open(ctx, eventlog.Config{DataDir: t.TempDir(), ListenAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	r := start(t, &EventService{Store: l})
	good := appendEvents(t, l, "g", 300, 0)
	bad := storeCorrupt(ctx, t, l)
	next := appendEvents(t, l, "h", 1, 0)[0]

	s, err := r.events().SubscribeEvents(ctxT(t), &imbridgev1.SubscribeEventsRequest{Parent: allApps,
		Start: &imbridgev1.SubscribeEventsRequest_Position{Position: imbridgev1.StartPosition_START_POSITION_EARLIEST}})
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for {
		m, rerr := s.Recv()
		if rerr != nil {
			err = rerr
			break
		}
		if c := m.GetEvent().GetCursor(); c != 0 {
			got = append(got, c)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(good) {
		t.Errorf("before the corrupt event the stream sent %d events, want all %d before it", len(got), len(good))
	}
	st := wantStatus(t, err, codes.DataLoss, ReasonEventCorrupt, map[string]string{"cursor": strconv.FormatUint(bad, 10)})
	if !strings.Contains(st.Message(), strconv.FormatUint(bad, 10)) {
		t.Errorf("message %q does not name cursor %d", st.Message(), bad)
	}
	s, err = r.events().SubscribeEvents(ctxT(t), &imbridgev1.SubscribeEventsRequest{Parent: allApps,
		Start: &imbridgev1.SubscribeEventsRequest_AfterCursor{AfterCursor: bad}})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := s.Recv(); err != nil || m.GetEvent().GetCursor() != next {
		t.Fatalf("resuming after the corrupt event: %v, %v; want event %d", m, err, next)
	}
}

// storeCorrupt stores a message that is no event, as a damaged store
// would hold it, published as a plain request (l needs a ListenAddr): the
// stream answers with its cursor.
func storeCorrupt(ctx context.Context, t *testing.T, l *eventlog.Log) uint64 {
	t.Helper()
	nc, err := nats.Connect(l.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	reply, err := nc.RequestWithContext(ctx, eventlog.SubjectPrefix+".org#app.chat.txt", []byte{0xff, 0xff, 0xff})
	if err != nil {
		t.Fatalf("storing a corrupt event: %v", err)
	}
	var ack struct {
		Seq uint64 `json:"seq"`
	}
	if err := json.Unmarshal(reply.Data, &ack); err != nil || ack.Seq == 0 {
		t.Fatalf("storing a corrupt event: answer %s (%v)", reply.Data, err)
	}
	return ack.Seq
}

// createSubscription creates orgs/org/apps/app/subscriptions/{id}, from
// the earliest event, and returns its name.
func createSubscription(t *testing.T, c imbridgev1.EventServiceClient, id string, sub *imbridgev1.Subscription) string {
	t.Helper()
	sub.StartPosition = imbridgev1.StartPosition_START_POSITION_EARLIEST
	resp, err := c.CreateSubscription(ctxT(t), &imbridgev1.CreateSubscriptionRequest{Parent: "orgs/org/apps/app", SubscriptionId: id, Subscription: sub})
	if err != nil {
		t.Fatalf("CreateSubscription: %v", err)
	}
	return resp.GetSubscription().GetName()
}

// takeAll reads a member stream, acknowledging each event, until every
// cursor in want was seen (here or before, in seen), and fails after a
// minute, which only turns a hang into a failure: an event a member held
// would otherwise come back after the ack deadline.
func takeAll(t *testing.T, c imbridgev1.EventServiceClient, sub string, want []uint64, seen map[uint64]bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s, err := c.SubscribeEvents(ctx, &imbridgev1.SubscribeEventsRequest{Subscription: sub})
	if err != nil {
		t.Fatal(err)
	}
	missing := func() (n int) {
		for _, w := range want {
			if !seen[w] {
				n++
			}
		}
		return n
	}
	for missing() > 0 {
		m, err := s.Recv()
		if err != nil {
			t.Fatalf("%d of %d events never came: %v", missing(), len(want), err)
		}
		if ev := m.GetEvent(); ev != nil {
			seen[ev.GetCursor()] = true
			if _, err := c.AcknowledgeEvents(ctx, &imbridgev1.AcknowledgeEventsRequest{Subscription: sub, Cursors: []uint64{ev.GetCursor()}}); err != nil {
				t.Fatalf("AcknowledgeEvents: %v", err)
			}
		}
	}
}

// A member cut off as a slow consumer hands back the events it pulled and
// did not send: another member gets them in seconds, not after the hour
// of the ack deadline. Only those already in the connection stay with the
// cut member's client, which reads them.
func TestStalledMemberHandsBackWhatItDidNotSend(t *testing.T) {
	l := openLog(t)
	addr, _, reg := tcpServer(t, &EventService{Store: l, Streams: StreamOptions{BufferEvents: 4, SendTimeout: time.Second}})
	c := dial(t, addr)
	sub := createSubscription(t, c, "work", &imbridgev1.Subscription{AckDeadline: durationpb.New(time.Hour)})
	stored := appendEvents(t, l, "s", 200, 2<<10)

	// Fixed 64 KiB windows: the client takes no more than that unread.
	stalled, err := dial(t, addr, grpc.WithInitialWindowSize(1<<16), grpc.WithInitialConnWindowSize(1<<16)).SubscribeEvents(ctxT(t),
		&imbridgev1.SubscribeEventsRequest{Subscription: sub, MaxOutstanding: 1000, View: imbridgev1.EventView_EVENT_VIEW_FULL})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	for _, c := range recvEvents(t, stalled, 1) {
		seen[c] = true
	}
	testwait.For(t, time.Minute, 20*time.Millisecond, func() error {
		if handled(t, reg, "SubscribeEvents", codes.ResourceExhausted) != 1 {
			return errors.New("the stalled member is still open")
		}
		return nil
	})
	for {
		m, err := stalled.Recv()
		if err != nil {
			break
		}
		seen[m.GetEvent().GetCursor()] = true
	}
	if len(seen) > 100 {
		t.Fatalf("the stalled member's client read %d events: the test needs most left unsent", len(seen))
	}
	takeAll(t, c, sub, stored, seen)
}

// A corrupt event on a subscription is passed over, not sent: every
// member that took it would end, and no client can resume after it. The
// events around it are delivered.
func TestSubscriptionPassesOverACorruptEvent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := eventlog.Open(ctx, eventlog.Config{DataDir: t.TempDir(), ListenAddr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	r := start(t, &EventService{Store: l})
	sub := createSubscription(t, r.events(), "work", &imbridgev1.Subscription{})
	good := appendEvents(t, l, "g", 3, 0)
	bad := storeCorrupt(ctx, t, l)
	good = append(good, appendEvents(t, l, "h", 3, 0)...)
	seen := map[uint64]bool{}
	takeAll(t, r.events(), sub, good, seen)
	if seen[bad] {
		t.Errorf("the corrupt event %d was sent", bad)
	}
}
