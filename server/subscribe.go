package server

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/eventlog"
)

// StreamOptions tune SubscribeEvents.
type StreamOptions struct {
	// HeartbeatInterval is how long an idle stream waits before a
	// heartbeat, unless the request asks otherwise; default 15s, well under
	// the 60s idle cut-off of common proxies.
	HeartbeatInterval time.Duration
	// SendTimeout is how long a stream may wait on a client that accepts
	// nothing while its buffer is full before it ends with
	// RESOURCE_EXHAUSTED; default 30s.
	SendTimeout time.Duration
	// BufferEvents and BufferBytes bound what a stream holds for its
	// client beyond what the connection has taken; defaults 256 and 2 MiB.
	BufferEvents int
	BufferBytes  int
}

// Defaults and bounds of streams.
const (
	DefaultHeartbeatInterval = 15 * time.Second
	DefaultSendTimeout       = 30 * time.Second
	defaultBufferEvents      = 256
	defaultBufferBytes       = 2 << 20
	minHeartbeat             = 100 * time.Millisecond
	maxHeartbeat             = 5 * time.Minute
	defaultMaxOutstanding    = 100
	maxMaxOutstanding        = 1000
)

func (o StreamOptions) withDefaults() StreamOptions {
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = DefaultSendTimeout
	}
	if o.BufferEvents <= 0 {
		o.BufferEvents = defaultBufferEvents
	}
	if o.BufferBytes <= 0 {
		o.BufferBytes = defaultBufferBytes
	}
	return o
}

// source is what a stream reads: a Follower or a Member.
type source interface {
	Next(ctx context.Context, idle time.Duration) (eventlog.Item, error)
}

// SubscribeEvents streams events: see the contract for the semantics.
func (s *EventService) SubscribeEvents(req *imbridgev1.SubscribeEventsRequest, stream grpc.ServerStreamingServer[imbridgev1.SubscribeEventsResponse]) error {
	ctx := stream.Context()
	opts := s.Streams.withDefaults()
	idle := opts.HeartbeatInterval
	if d := req.GetHeartbeatInterval(); d != nil {
		if err := d.CheckValid(); err != nil || d.AsDuration() < minHeartbeat || d.AsDuration() > maxHeartbeat {
			return invalidArgument("heartbeat_interval", fmt.Sprintf("heartbeat_interval must be %v to %v", minHeartbeat, maxHeartbeat))
		}
		idle = d.AsDuration()
	}
	var src source
	if req.GetSubscription() != "" {
		m, err := s.join(ctx, req)
		if err != nil {
			return err
		}
		defer m.Close()
		src = m
	} else {
		fl, err := s.follow(ctx, req)
		if err != nil {
			return err
		}
		src = fl
	}
	return s.pump(ctx, stream, src, req.GetView() == imbridgev1.EventView_EVENT_VIEW_FULL, idle, opts)
}

// follow opens a plain stream's follower.
func (s *EventService) follow(ctx context.Context, req *imbridgev1.SubscribeEventsRequest) (*eventlog.Follower, error) {
	if req.GetMaxOutstanding() != 0 {
		return nil, invalidArgument("max_outstanding", "max_outstanding applies to subscription streams only")
	}
	if req.GetParent() == "" {
		return nil, invalidArgument("parent", "parent is required: orgs/{org}/apps/{app}, or "+allApps+" for every app")
	}
	f, err := filterOf(req.GetParent(), req.GetFilter())
	if err != nil {
		return nil, err
	}
	var start eventlog.Start
	switch st := req.GetStart().(type) {
	case *imbridgev1.SubscribeEventsRequest_Position:
		start.Earliest = st.Position == imbridgev1.StartPosition_START_POSITION_EARLIEST
	case *imbridgev1.SubscribeEventsRequest_AfterCursor:
		start.Resume, start.After, start.Epoch = true, st.AfterCursor, req.GetEpoch()
	case *imbridgev1.SubscribeEventsRequest_StartTime:
		if err := st.StartTime.CheckValid(); err != nil {
			return nil, invalidArgument("start_time", "start_time: "+err.Error())
		}
		start.Time = st.StartTime.AsTime()
	}
	if req.GetEpoch() != "" && !start.Resume {
		return nil, invalidArgument("epoch", "epoch goes with after_cursor")
	}
	return s.Store.Follow(ctx, f, start)
}

// join makes a subscription stream's member.
func (s *EventService) join(ctx context.Context, req *imbridgev1.SubscribeEventsRequest) (*eventlog.Member, error) {
	var v violations
	sub := v.subscription("subscription", req.GetSubscription())
	if req.GetFilter() != nil {
		v.add("filter", "a subscription stream takes the subscription's filter: leave filter out")
	}
	if req.GetStart() != nil || req.GetEpoch() != "" {
		v.add("start", "a subscription keeps its own position: leave position, after_cursor, start_time and epoch out")
	}
	if p := req.GetParent(); p != "" && p != sub.appRef.name() {
		v.add("parent", "parent %q is not the subscription's app", p)
	}
	max := int(req.GetMaxOutstanding())
	switch {
	case max < 0 || max > maxMaxOutstanding:
		v.add("max_outstanding", "max_outstanding %d must be 1 to %d (0 = %d)", max, maxMaxOutstanding, defaultMaxOutstanding)
	case max == 0:
		max = defaultMaxOutstanding
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	return s.Store.Join(ctx, sub.appkey(), sub.id, max)
}

// pump reads src and sends what it returns. A second goroutine does the
// sending, so that a client which stops reading is noticed: when the
// buffer between them (opts.BufferEvents messages, opts.BufferBytes
// bytes) stays full for the send timeout, the stream ends with
// RESOURCE_EXHAUSTED and reading stops, whatever the client does.
func (s *EventService) pump(ctx context.Context, stream grpc.ServerStreamingServer[imbridgev1.SubscribeEventsResponse],
	src source, full bool, idle time.Duration, opts StreamOptions) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type queued struct {
		msg    any // a response, or a response encoded once for every stream
		cursor uint64
		size   int64
	}
	var (
		out      = make(chan queued, opts.BufferEvents)
		sendErr  = make(chan error, 1)
		room     = semaphore.NewWeighted(int64(opts.BufferBytes))
		lastSent atomic.Uint64
	)
	go func() {
		for {
			select {
			case q := <-out:
				err := stream.SendMsg(q.msg)
				room.Release(q.size)
				if err != nil {
					sendErr <- err
					return
				}
				if q.cursor != 0 {
					lastSent.Store(q.cursor)
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	slow := func() error { return &slowConsumer{lastCursor: lastSent.Load(), timeout: opts.SendTimeout} }
	stall := time.NewTimer(opts.SendTimeout)
	defer stall.Stop()
	epoch := s.Store.Epoch()
	for {
		it, err := src.Next(ctx, idle)
		if err != nil {
			select {
			case err := <-sendErr: // the client went away first
				return err
			default:
			}
			return err
		}
		msg, err := message(it, epoch, full)
		if err != nil {
			return err
		}
		q := queued{msg: msg, cursor: it.Cursor, size: min(int64(it.Size()+128), int64(opts.BufferBytes))}
		// Wait for room, at most the send timeout.
		stall.Reset(opts.SendTimeout)
		if !room.TryAcquire(q.size) {
			sctx, scancel := context.WithTimeout(ctx, opts.SendTimeout)
			err := room.Acquire(sctx, q.size)
			scancel()
			switch {
			case ctx.Err() != nil:
				return ctx.Err()
			case err != nil:
				return slow()
			}
		}
		select {
		case out <- q:
		case <-stall.C:
			return slow()
		case err := <-sendErr:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// message is what a stream sends for it: a heartbeat, or the event. Plain
// streams all send the same message for an event: it is marshalled once,
// by the first stream that sends it (see codec).
func message(it eventlog.Item, epoch string, full bool) (any, error) {
	resp := &imbridgev1.SubscribeEventsResponse{Epoch: epoch}
	if it.Heartbeat {
		resp.Kind = &imbridgev1.SubscribeEventsResponse_Heartbeat{Heartbeat: &imbridgev1.Heartbeat{
			HeadCursor: it.Head, ScannedCursor: it.Scanned, SendTime: timestamppb.Now(),
		}}
		return resp, nil
	}
	ev, err := it.Event(full)
	if err != nil {
		return nil, err
	}
	resp.Kind = &imbridgev1.SubscribeEventsResponse_Event{Event: ev}
	resp.DeliveryAttempt = int32(it.Attempt)
	if it.Attempt != 0 {
		return resp, nil // a subscription's: one stream sends it
	}
	slot := 0 // one encoding per view
	if full {
		slot = 1
	}
	return it.Memo(slot, func() (any, error) {
		b, err := proto.Marshal(resp)
		if err != nil {
			return nil, err
		}
		return &encodedMessage{data: b}, nil
	})
}
