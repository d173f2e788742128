package main

import (
	"cmp"
	"context"
	"fmt"
	"runtime/pprof"
	"slices"
	"sync"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
)

// withKey is ctx carrying the API key as gRPC metadata.
func withKey(ctx context.Context, key string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
}

// dial opens n client connections to addr, each its own HTTP/2
// connection, and waits until all are ready.
func dial(ctx context.Context, addr string, n int) ([]*grpc.ClientConn, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conns := make([]*grpc.ClientConn, 0, n)
	for range n {
		c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			closeAll(conns)
			return nil, err
		}
		conns = append(conns, c)
		c.Connect()
		for s := c.GetState(); s != connectivity.Ready; s = c.GetState() {
			if !c.WaitForStateChange(ctx, s) {
				closeAll(conns)
				return nil, fmt.Errorf("connecting to %s: %w (state %s)", addr, ctx.Err(), s)
			}
		}
	}
	return conns, nil
}

func closeAll(conns []*grpc.ClientConn) {
	for _, c := range conns {
		_ = c.Close()
	}
}

// waitServing waits until a gRPC server answers at addr.
func waitServing(ctx context.Context, addr string) error {
	conns, err := dial(ctx, addr, 1)
	if err == nil {
		closeAll(conns)
	}
	return err
}

// listAll lists every event of the log, oldest first, in the BASIC view.
func listAll(ctx context.Context, c imbridgev1.EventServiceClient) ([]*imbridgev1.Event, error) {
	req := &imbridgev1.ListEventsRequest{
		Parent:   allApps,
		PageSize: 1000,
		Order:    imbridgev1.ListOrder_LIST_ORDER_OLDEST_FIRST,
		View:     imbridgev1.EventView_EVENT_VIEW_BASIC,
	}
	var out []*imbridgev1.Event
	for {
		resp, err := c.ListEvents(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("ListEvents: %w", err)
		}
		for _, ev := range resp.GetEvents() {
			ev.RawBody = nil // what BASIC means, whatever the server did
			out = append(out, ev)
		}
		if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
			return out, nil
		}
	}
}

// listStored lists the events with cursors lo to hi.
func listStored(ctx context.Context, addr string, lo, hi uint64) ([]*imbridgev1.Event, error) {
	conns, err := dial(ctx, addr, 1)
	if err != nil {
		return nil, err
	}
	defer closeAll(conns)
	all, err := listAll(ctx, imbridgev1.NewEventServiceClient(conns[0]))
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(ev *imbridgev1.Event) bool { return ev.GetCursor() < lo || ev.GetCursor() > hi }), nil
}

// epochOf is the log's epoch, from the first heartbeat of a stream at the
// newest end.
func epochOf(ctx context.Context, c imbridgev1.EventServiceClient) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	stream, err := c.SubscribeEvents(ctx, &imbridgev1.SubscribeEventsRequest{
		Parent:            allApps,
		Start:             &imbridgev1.SubscribeEventsRequest_Position{Position: imbridgev1.StartPosition_START_POSITION_LATEST},
		HeartbeatInterval: durationpb.New(liveHeartbeat),
	})
	if err == nil {
		var m *imbridgev1.SubscribeEventsResponse
		if m, err = stream.Recv(); err == nil {
			return m.GetEpoch(), nil
		}
	}
	return "", fmt.Errorf("SubscribeEvents for the epoch: %w", err)
}

// baseline is the fan-out baseline: SubscribeEvents sending messages held
// in memory, the same imbridge sends, and nothing else.
type baseline struct {
	imbridgev1.UnimplementedEventServiceServer
	source imbridgev1.EventServiceClient
	ctx    context.Context // the API key for source

	mu   sync.Mutex
	msgs []*imbridgev1.SubscribeEventsResponse // by cursor
}

// newBaseline returns a baseline whose messages come from the imbridge at
// addr, loaded at the first call.
func newBaseline(addr, apiKey string) (*baseline, func(), error) {
	conns, err := dial(context.Background(), addr, 1)
	if err != nil {
		return nil, nil, err
	}
	b := &baseline{source: imbridgev1.NewEventServiceClient(conns[0]), ctx: withKey(context.Background(), apiKey)}
	return b, func() { closeAll(conns) }, nil
}

func (b *baseline) messages() ([]*imbridgev1.SubscribeEventsResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.msgs != nil {
		return b.msgs, nil
	}
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	events, err := listAll(ctx, b.source)
	if err != nil {
		return nil, err
	}
	epoch, err := epochOf(ctx, b.source)
	if err != nil {
		return nil, err
	}
	b.msgs = make([]*imbridgev1.SubscribeEventsResponse, len(events))
	for i, ev := range events {
		b.msgs[i] = &imbridgev1.SubscribeEventsResponse{Kind: &imbridgev1.SubscribeEventsResponse_Event{Event: ev}, Epoch: epoch}
	}
	return b.msgs, nil
}

// SubscribeEvents sends the messages after the requested start, then
// holds the stream open until the client leaves.
func (b *baseline) SubscribeEvents(req *imbridgev1.SubscribeEventsRequest, stream grpc.ServerStreamingServer[imbridgev1.SubscribeEventsResponse]) error {
	msgs, err := b.messages()
	if err != nil {
		return status.Errorf(codes.Unavailable, "baseline: loading the events: %v", err)
	}
	from := len(msgs)
	if req.GetPosition() != imbridgev1.StartPosition_START_POSITION_LATEST {
		from, _ = slices.BinarySearchFunc(msgs, req.GetAfterCursor()+1, func(m *imbridgev1.SubscribeEventsResponse, c uint64) int {
			return cmp.Compare(m.GetEvent().GetCursor(), c)
		})
	}
	for _, m := range msgs[from:] {
		if err := stream.Send(m); err != nil {
			return err
		}
	}
	<-stream.Context().Done()
	return nil
}

// fanTarget is a server fan-out runs read from.
type fanTarget struct{ name, addr string }

// fanSpec is what every fan-out subscriber asks for and must get.
type fanSpec struct {
	req     *imbridgev1.SubscribeEventsRequest
	lo, hi  uint64 // the cursors stored
	want    int    // events from lo to hi
	timeout time.Duration
}

// fanRun is one fan-out run.
type fanRun struct {
	target      string
	subs, conns int
	want        int
	elapsed     time.Duration   // from the release to the last subscriber's last event
	first, done []time.Duration // per subscriber, sorted: since the release
	received    int64           // events, every subscriber together
	heartbeats  int64
	failed      int      // subscribers that did not get every event in order
	problems    []string // the first few reasons
	checked     int      // warm-up: events compared with the listing
	differ      int      // warm-up: of those, how many differ
	firstDiff   string
	cpu         cpuUse
}

// rate is events delivered per second, every subscriber together.
func (r *fanRun) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.received) / r.elapsed.Seconds()
}

func (r *fanRun) problem(format string, args ...any) {
	r.failed++
	if len(r.problems) < 5 {
		r.problems = append(r.problems, fmt.Sprintf(format, args...))
	}
}

// subResult is what one fan-out subscriber saw.
type subResult struct {
	events, heartbeats int
	disorder           int
	first, done        time.Duration // 0: never
	last               uint64
	err                error
	differ             int
	firstDiff          string
}

// fanOut runs subs subscribers of spec on conns fresh connections to t,
// released together, each reading until the last stored event. With
// check, each event is compared with the listed one of its cursor.
func fanOut(ctx context.Context, t fanTarget, spec fanSpec, subs, conns int, check []*imbridgev1.Event) *fanRun {
	r := &fanRun{target: t.name, subs: subs, conns: conns, want: spec.want}
	pprof.Do(ctx, pprof.Labels("role", "subscriber", "target", t.name), func(ctx context.Context) {
		cs, err := dial(ctx, t.addr, conns)
		if err != nil {
			r.problem("%v", err)
			return
		}
		defer closeAll(cs)
		byCursor := make(map[uint64]*imbridgev1.Event, len(check))
		for _, ev := range check {
			byCursor[ev.GetCursor()] = ev
		}
		runCtx, cancelRun := context.WithCancel(ctx)
		defer cancelRun()
		release := make(chan struct{})
		var t0 time.Time
		res := make([]subResult, subs)
		var wg sync.WaitGroup
		for k := range subs {
			client := imbridgev1.NewEventServiceClient(cs[k%len(cs)])
			wg.Go(func() {
				<-release
				res[k] = readAll(runCtx, client, spec, t0, byCursor)
			})
		}
		cpuFrom := sampleCPU()
		t0 = time.Now()
		timer := time.AfterFunc(spec.timeout, cancelRun)
		close(release)
		wg.Wait()
		r.elapsed = time.Since(t0)
		timedOut := !timer.Stop()
		r.cpu = cpuBetween(cpuFrom, sampleCPU())
		r.tally(res, spec, timedOut)
	})
	return r
}

// readAll is one fan-out subscriber.
func readAll(ctx context.Context, c imbridgev1.EventServiceClient, spec fanSpec, t0 time.Time, check map[uint64]*imbridgev1.Event) (s subResult) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.SubscribeEvents(ctx, spec.req)
	if err != nil {
		s.err = err
		return s
	}
	s.last = spec.lo - 1
	for s.last < spec.hi {
		m, err := stream.Recv()
		if err != nil {
			s.err = err
			return s
		}
		ev := m.GetEvent()
		if ev == nil {
			s.heartbeats++
			continue
		}
		if s.events++; s.events == 1 {
			s.first = time.Since(t0)
		}
		if ev.GetCursor() <= s.last {
			s.disorder++
		}
		s.last = max(s.last, ev.GetCursor())
		if want, ok := check[ev.GetCursor()]; ok && !proto.Equal(want, ev) {
			if s.differ++; s.firstDiff == "" {
				s.firstDiff = fmt.Sprintf("cursor %d (-listed +streamed):\n%s", ev.GetCursor(), gocmp.Diff(want, ev, protocmp.Transform()))
			}
		}
	}
	s.done = time.Since(t0)
	return s
}

func (r *fanRun) tally(res []subResult, spec fanSpec, timedOut bool) {
	for k, s := range res {
		r.received += int64(s.events)
		r.heartbeats += int64(s.heartbeats)
		if s.first > 0 {
			r.first = append(r.first, s.first)
		}
		if s.done > 0 {
			r.done = append(r.done, s.done)
		}
		r.checked += s.events
		r.differ += s.differ
		if r.firstDiff == "" {
			r.firstDiff = s.firstDiff
		}
		switch {
		case s.err != nil && timedOut && status.Code(s.err) == codes.Canceled:
			r.problem("subscriber %d: not done within %s: %d of %d events, up to cursor %d", k, spec.timeout, s.events, spec.want, s.last)
		case s.err != nil:
			r.problem("subscriber %d: %d of %d events, then %v", k, s.events, spec.want, s.err)
		case s.events != spec.want || s.disorder > 0:
			r.problem("subscriber %d: %d events for %d stored (cursors %d to %d), %d out of order", k, s.events, spec.want, spec.lo, spec.hi, s.disorder)
		}
	}
	slices.Sort(r.first)
	slices.Sort(r.done)
}
