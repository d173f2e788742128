package server

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
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

// releaser is a source that takes back the events it returned and the
// stream did not send (a Member: another member sends them soon), from
// any goroutine, also once the source is closed.
type releaser interface {
	Release(cursors ...uint64)
}

// HeadOnlyMetadata, in a SubscribeEvents call's metadata, ends the stream
// once its headers are sent: the REST gateway's answer to HEAD.
const HeadOnlyMetadata = "imbridge-head-only"

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
	open := &openStream{opened: time.Now()}
	open.app, _ = appOf(req) // the request's app, as auth reads it: "-#-" for every app
	if req.GetSubscription() != "" {
		m, sub, err := s.join(ctx, req)
		if err != nil {
			return err
		}
		defer m.Close()
		src, open.source, open.subscription = m, sub.name(), sub.name()
	} else {
		fl, from, err := s.follow(ctx, req)
		if err != nil {
			return err
		}
		src, open.source = fl, req.GetParent()
		open.scanned.Store(from)
		if f := req.GetFilter(); f != nil {
			open.filter = proto.Clone(f).(*imbridgev1.EventFilter)
		}
	}
	defer s.open.add(open)()
	// The stream is open (and listed, for GetStatus): its headers go now
	// rather than with its first message, so that a client of a quiet
	// stream (a rare filter, an idle log) knows at once that it is open,
	// and so does the REST gateway, which answers 200 once it has them.
	if err := stream.SendHeader(metadata.MD{}); err != nil {
		return err
	}
	if md, _ := metadata.FromIncomingContext(ctx); len(md.Get(HeadOnlyMetadata)) > 0 {
		return nil // the REST gateway's HEAD: headers only, no event taken
	}
	return s.pump(ctx, stream, src, req.GetView() == imbridgev1.EventView_EVENT_VIEW_FULL, idle, opts, open)
}

// openStream is one open SubscribeEvents stream, as GetStatus shows it.
// Its send loop updates the counters with atomics only; the rest is set
// before the stream is listed and never changes.
type openStream struct {
	id     uint64 // in the order streams opened
	opened time.Time
	source string // the parent, or the subscription's name
	// app is the appkey the stream reads ("-#-" for every app), to show a
	// stream only to keys that may read that app.
	app string
	// filter is a plain stream's filter as requested; nil for a member,
	// which takes its subscription's (named by subscription).
	filter       *imbridgev1.EventFilter
	subscription string
	// scanned is the last cursor the client was told the stream examined:
	// where it starts, then the newest event sent or a heartbeat's scanned
	// cursor (a member's heartbeats carry none: its newest event sent);
	// sent counts the events sent. Once listed, only the send loop writes
	// them.
	scanned, sent atomic.Uint64
}

// streamRegistry lists the open streams of an EventService. The zero
// value is ready to use.
type streamRegistry struct {
	mu   sync.Mutex
	next uint64
	open map[uint64]*openStream
}

// add lists st until the returned func removes it.
func (r *streamRegistry) add(st *openStream) (remove func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.open == nil {
		r.open = map[uint64]*openStream{}
	}
	r.next++
	st.id = r.next
	r.open[st.id] = st
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.open, st.id)
	}
}

// list returns the open streams in the order they opened.
func (r *streamRegistry) list() []*openStream {
	r.mu.Lock()
	out := make([]*openStream, 0, len(r.open))
	for _, st := range r.open {
		out = append(out, st)
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b *openStream) int { return cmp.Compare(a.id, b.id) })
	return out
}

// follow opens a plain stream's follower, and says where it starts: the
// cursor it resumes after, or for the newest end the head before it
// opened (at most where it starts); 0 for a start that only its first
// heartbeat tells (a time, or the earliest).
func (s *EventService) follow(ctx context.Context, req *imbridgev1.SubscribeEventsRequest) (*eventlog.Follower, uint64, error) {
	if req.GetMaxOutstanding() != 0 {
		return nil, 0, invalidArgument("max_outstanding", "max_outstanding applies to subscription streams only")
	}
	if req.GetParent() == "" {
		return nil, 0, invalidArgument("parent", "parent is required: orgs/{org}/apps/{app}, or "+allApps+" for every app")
	}
	f, err := filterOf(req.GetParent(), req.GetFilter())
	if err != nil {
		return nil, 0, err
	}
	var from uint64
	var start eventlog.Start
	switch st := req.GetStart().(type) {
	case *imbridgev1.SubscribeEventsRequest_Position:
		start.Earliest = st.Position == imbridgev1.StartPosition_START_POSITION_EARLIEST
	case *imbridgev1.SubscribeEventsRequest_AfterCursor:
		start.Resume, start.After, start.Epoch = true, st.AfterCursor, req.GetEpoch()
		from = st.AfterCursor
	case *imbridgev1.SubscribeEventsRequest_StartTime:
		if err := st.StartTime.CheckValid(); err != nil {
			return nil, 0, invalidArgument("start_time", "start_time: "+err.Error())
		}
		start.Time = st.StartTime.AsTime()
	}
	if req.GetEpoch() != "" && !start.Resume {
		return nil, 0, invalidArgument("epoch", "epoch goes with after_cursor")
	}
	if !start.Resume && !start.Earliest && start.Time.IsZero() {
		from, _ = s.Store.Head(ctx) // only for GetStatus: 0 if the log does not say
	}
	fl, err := s.Store.Follow(ctx, f, start)
	return fl, from, err
}

// join makes a subscription stream's member.
func (s *EventService) join(ctx context.Context, req *imbridgev1.SubscribeEventsRequest) (*eventlog.Member, subRef, error) {
	var v violations
	sub := v.subscription("subscription", req.GetSubscription())
	if req.GetFilter() != nil {
		v.add("filter", "a subscription stream takes the subscription's filter: leave filter out")
	}
	start := ""
	switch req.GetStart().(type) {
	case *imbridgev1.SubscribeEventsRequest_Position:
		start = "position"
	case *imbridgev1.SubscribeEventsRequest_AfterCursor:
		start = "after_cursor"
	case *imbridgev1.SubscribeEventsRequest_StartTime:
		start = "start_time"
	}
	if req.GetEpoch() != "" && start == "" {
		start = "epoch"
	}
	if start != "" {
		v.add(start, "a subscription keeps its own position: leave position, after_cursor, start_time and epoch out")
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
		return nil, sub, err
	}
	m, err := s.Store.Join(ctx, sub.appkey(), sub.id, max)
	return m, sub, err
}

// pump reads src and sends what it returns. A second goroutine does the
// sending, so that a client which stops reading is noticed: when the
// buffer between them (opts.BufferEvents messages, opts.BufferBytes
// bytes) stays full for the send timeout, the stream ends with
// RESOURCE_EXHAUSTED and reading stops, whatever the client does.
//
// The send loop also keeps open's counters: per message, atomics only.
func (s *EventService) pump(ctx context.Context, stream grpc.ServerStreamingServer[imbridgev1.SubscribeEventsResponse],
	src source, full bool, idle time.Duration, opts StreamOptions, open *openStream) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type queued struct {
		msg     any // a response, or a response encoded once for every stream
		cursor  uint64
		scanned uint64 // the event's cursor, or a heartbeat's scanned cursor
		size    int64
		flushed chan struct{} // instead of a message: closed once all before it are sent
	}
	var (
		out      = make(chan queued, opts.BufferEvents)
		sendErr  = make(chan error, 1)
		room     = semaphore.NewWeighted(int64(opts.BufferBytes))
		lastSent atomic.Uint64
	)
	release, _ := src.(releaser)
	go func() {
		for {
			select {
			case q := <-out:
				if q.flushed != nil {
					close(q.flushed)
					continue
				}
				err := stream.SendMsg(q.msg)
				room.Release(q.size)
				if err != nil {
					// Not sent: a send blocked on a client that reads
					// nothing fails only as the stream ends.
					if release != nil && q.cursor != 0 {
						release.Release(q.cursor)
					}
					sendErr <- err
					return
				}
				if q.cursor != 0 {
					lastSent.Store(q.cursor)
					open.sent.Add(1)
				}
				if q.scanned > open.scanned.Load() { // this goroutine is the only writer
					open.scanned.Store(q.scanned)
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	// inHand is the event read and not queued yet. When the stream ends,
	// it and the events still queued go back to a releaser.
	var inHand uint64
	if release != nil {
		defer func() {
			cancel() // the sender takes nothing more, or sends what it took
			var back []uint64
			if inHand != 0 {
				back = append(back, inHand)
			}
			for drained := false; !drained; {
				select {
				case q := <-out:
					if q.cursor != 0 {
						back = append(back, q.cursor)
					}
				default:
					drained = true
				}
			}
			release.Release(back...)
		}()
	}
	slow := func() error { return &slowConsumer{lastCursor: lastSent.Load(), timeout: opts.SendTimeout} }
	stall := time.NewTimer(opts.SendTimeout)
	defer stall.Stop()
	epoch := s.Store.Epoch()
	// enqueue hands q to the sender before the stall timer fires; a flush
	// marker (q.flushed) it then waits for until the sender reaches it.
	enqueue := func(q queued) error {
		put := out
		for {
			select {
			case put <- q:
				if q.flushed == nil {
					return nil
				}
				put = nil
			case <-q.flushed: // nil, and never ready, but for a marker
				return nil
			case <-stall.C:
				return slow()
			case err := <-sendErr:
				return err
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	// flush waits, at most the send timeout, until the events queued are
	// sent: a stream that ends with an error naming a cursor (where it
	// met a corrupt event, or a gap) has sent every event before it, so
	// that a client resuming after that cursor misses none.
	flush := func() error {
		stall.Reset(opts.SendTimeout)
		return enqueue(queued{flushed: make(chan struct{})})
	}
	for {
		it, err := src.Next(ctx, idle)
		var msg any
		if err == nil {
			inHand = it.Cursor
			msg, err = message(it, epoch, full)
		}
		if err != nil {
			select {
			case err := <-sendErr: // the client went away first
				return err
			default:
			}
			if ctx.Err() == nil {
				if ferr := flush(); ferr != nil {
					return ferr
				}
			}
			return err
		}
		q := queued{msg: msg, cursor: it.Cursor, scanned: max(it.Cursor, it.Scanned), size: min(int64(it.Size()+128), int64(opts.BufferBytes))}
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
		if err := enqueue(q); err != nil {
			return err
		}
		inHand = 0
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
