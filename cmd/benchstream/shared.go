package main

import (
	"context"
	"errors"
	"fmt"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/types/known/durationpb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/eventlog"
)

// sharedAckDeadline is both targets' ack deadline: far longer than a run,
// so that a redelivery means a lost acknowledgement, not a slow member.
const sharedAckDeadline = 5 * time.Minute

// sharedUnequal says why the shared phase would compare unequal work on
// this log, or "". An imbridge subscription starts at the app's oldest
// event (there is no start cursor); the baseline's consumer starts at the
// first event stored by this run. On a log that already held events (a
// -target that served before), imbridge would take and acknowledge those
// too.
func sharedUnequal(spec fanSpec) string {
	if spec.lo != 1 {
		return fmt.Sprintf("the log held %d events before this run's (cursors %d to %d), and a subscription starts at the oldest one: run it against a fresh data directory", spec.lo-1, spec.lo, spec.hi)
	}
	return ""
}

// sharedRun is one run of the shared-subscription phase: members of one
// subscription that, together, take every stored event once and
// acknowledge it.
type sharedRun struct {
	target            string
	members, maxOut   int
	want              int
	elapsed           time.Duration // from the release to the last acknowledgement confirmed
	deliveries        int64         // events received, redeliveries included
	redelivered       int64         // of those, a delivery attempt after the first
	acked             int           // distinct events acknowledged
	ackCalls          int64         // AcknowledgeEvents calls (imbridge), acks (JetStream)
	problems          []string
	cpu               cpuUse
	setup, cleanupErr error
}

// rate is distinct events acknowledged per second.
func (r *sharedRun) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.acked) / r.elapsed.Seconds()
}

func (r *sharedRun) problem(format string, args ...any) {
	if len(r.problems) < 5 {
		r.problems = append(r.problems, fmt.Sprintf(format, args...))
	}
}

// ackTally counts the distinct events of cursors lo..hi acknowledged, and
// closes done when all are.
type ackTally struct {
	lo    uint64
	mu    sync.Mutex
	acked []bool
	n     int
	done  chan struct{}
}

func newAckTally(lo, hi uint64) *ackTally {
	return &ackTally{lo: lo, acked: make([]bool, hi-lo+1), done: make(chan struct{})}
}

func (t *ackTally) ack(cursors ...uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range cursors {
		if c < t.lo || c-t.lo >= uint64(len(t.acked)) || t.acked[c-t.lo] {
			continue
		}
		t.acked[c-t.lo] = true
		if t.n++; t.n == len(t.acked) {
			close(t.done)
		}
	}
}

func (t *ackTally) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

// sharedImbridge runs members member streams of a fresh imbridge
// subscription (every event of parent, from the oldest), on conns
// connections. Each member acknowledges what it received from a goroutine
// of its own, as many cursors a call as have arrived since its last call
// returned (at most 1,000), as a client that keeps its stream busy does.
func sharedImbridge(ctx context.Context, addr, parent string, spec fanSpec, members, maxOut, conns int) *sharedRun {
	r := &sharedRun{target: "imbridge", members: members, maxOut: maxOut, want: spec.want}
	pprof.Do(ctx, pprof.Labels("role", "subscriber", "target", "imbridge"), func(ctx context.Context) {
		cs, err := dial(ctx, addr, conns)
		if err != nil {
			r.setup = err
			return
		}
		defer closeAll(cs)
		client := imbridgev1.NewEventServiceClient(cs[0])
		sub, err := client.CreateSubscription(ctx, &imbridgev1.CreateSubscriptionRequest{
			Parent:         parent,
			SubscriptionId: fmt.Sprintf("bench-%d", time.Now().UnixNano()),
			Subscription: &imbridgev1.Subscription{
				AckDeadline:   durationpb.New(sharedAckDeadline),
				StartPosition: imbridgev1.StartPosition_START_POSITION_EARLIEST,
			},
		})
		if err != nil {
			r.setup = fmt.Errorf("CreateSubscription: %w", err)
			return
		}
		name := sub.GetSubscription().GetName()
		defer func() {
			_, r.cleanupErr = client.DeleteSubscription(context.WithoutCancel(ctx), &imbridgev1.DeleteSubscriptionRequest{Name: name})
		}()
		tally := newAckTally(spec.lo, spec.hi)
		runCtx, cancel := context.WithTimeout(ctx, spec.timeout)
		defer cancel()
		var (
			deliveries, redelivered, ackCalls atomic.Int64
			mu                                sync.Mutex
			wg                                sync.WaitGroup
		)
		fail := func(format string, args ...any) {
			mu.Lock()
			r.problem(format, args...)
			mu.Unlock()
		}
		release := make(chan struct{})
		for k := range members {
			c := imbridgev1.NewEventServiceClient(cs[k%len(cs)])
			wg.Go(func() {
				<-release
				stream, err := c.SubscribeEvents(runCtx, &imbridgev1.SubscribeEventsRequest{Subscription: name, MaxOutstanding: int32(maxOut)})
				if err != nil {
					fail("member %d: %v", k, err)
					return
				}
				toAck := make(chan uint64, maxOut)
				acker := make(chan struct{})
				go func() {
					defer close(acker)
					for c := range toAck {
						batch := []uint64{c}
					drain:
						for len(batch) < 1000 {
							select {
							case c, ok := <-toAck:
								if !ok {
									break drain
								}
								batch = append(batch, c)
							default:
								break drain
							}
						}
						ackCalls.Add(1)
						if _, err := client.AcknowledgeEvents(runCtx, &imbridgev1.AcknowledgeEventsRequest{Subscription: name, Cursors: batch}); err != nil {
							if runCtx.Err() == nil {
								fail("member %d: AcknowledgeEvents: %v", k, err)
							}
							return
						}
						tally.ack(batch...)
					}
				}()
				defer func() { close(toAck); <-acker }()
				for {
					m, err := stream.Recv()
					if err != nil {
						if runCtx.Err() == nil {
							fail("member %d: %v", k, err)
						}
						return
					}
					ev := m.GetEvent()
					if ev == nil {
						continue
					}
					deliveries.Add(1)
					if m.GetDeliveryAttempt() > 1 {
						redelivered.Add(1)
					}
					select {
					case toAck <- ev.GetCursor():
					case <-runCtx.Done():
						return
					}
				}
			})
		}
		r.measure(runCtx, release, tally, spec.timeout, nil)
		cancel()
		wg.Wait()
		r.deliveries, r.redelivered, r.ackCalls, r.acked = deliveries.Load(), redelivered.Load(), ackCalls.Load(), tally.count()
	})
	return r
}

// sharedJetStream is the baseline: members workers of one JetStream
// consumer on imbridge's stream, with a subscription's settings (explicit
// acknowledgement, the same ack deadline, no limit on pending acks), each
// pulling up to maxOut events ahead and acknowledging each one (a publish
// without waiting for an answer, flushed at the end). It is the least any
// shared, acknowledged delivery of these events costs: no decoding, no
// gRPC, nothing but JetStream.
func sharedJetStream(ctx context.Context, natsURL string, spec fanSpec, members, maxOut int) *sharedRun {
	r := &sharedRun{target: "JetStream", members: members, maxOut: maxOut, want: spec.want}
	pprof.Do(ctx, pprof.Labels("role", "subscriber", "target", "jetstream"), func(ctx context.Context) {
		nc, err := nats.Connect(natsURL, nats.Name("benchstream"))
		if err != nil {
			r.setup = fmt.Errorf("connecting to NATS at %s: %w", natsURL, err)
			return
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			r.setup = err
			return
		}
		name := fmt.Sprintf("BENCH_%d", time.Now().UnixNano())
		cons, err := js.CreateConsumer(ctx, eventlog.StreamName, jetstream.ConsumerConfig{
			Durable:       name,
			DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
			OptStartSeq:   spec.lo,
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       sharedAckDeadline,
			MaxAckPending: -1,
			MaxWaiting:    4096,
		})
		if err != nil {
			r.setup = fmt.Errorf("creating the consumer: %w", err)
			return
		}
		defer func() { r.cleanupErr = js.DeleteConsumer(context.WithoutCancel(ctx), eventlog.StreamName, name) }()
		tally := newAckTally(spec.lo, spec.hi)
		runCtx, cancel := context.WithTimeout(ctx, spec.timeout)
		defer cancel()
		var (
			deliveries, redelivered, acks atomic.Int64
			mu                            sync.Mutex
			wg                            sync.WaitGroup
		)
		release := make(chan struct{})
		for k := range members {
			wg.Go(func() {
				<-release
				it, err := cons.Messages(jetstream.PullMaxMessages(maxOut))
				if err != nil {
					mu.Lock()
					r.problem("member %d: %v", k, err)
					mu.Unlock()
					return
				}
				stop := context.AfterFunc(runCtx, it.Stop)
				defer stop()
				for {
					msg, err := it.Next()
					if err != nil {
						if runCtx.Err() == nil && !errors.Is(err, jetstream.ErrMsgIteratorClosed) {
							mu.Lock()
							r.problem("member %d: %v", k, err)
							mu.Unlock()
						}
						return
					}
					meta, err := msg.Metadata()
					if err != nil {
						continue
					}
					deliveries.Add(1)
					if meta.NumDelivered > 1 {
						redelivered.Add(1)
					}
					if msg.Ack() == nil {
						acks.Add(1)
						tally.ack(meta.Sequence.Stream)
					}
				}
			})
		}
		// Every ack is sent once tallied; once flushed, the server has them.
		r.measure(runCtx, release, tally, spec.timeout, func() error {
			if err := nc.FlushWithContext(runCtx); err != nil {
				return fmt.Errorf("flushing the acknowledgements: %w", err)
			}
			return nil
		})
		cancel()
		wg.Wait()
		r.deliveries, r.redelivered, r.ackCalls, r.acked = deliveries.Load(), redelivered.Load(), acks.Load(), tally.count()
	})
	return r
}

// measure releases the members and times them until every event is
// acknowledged and settle (when set) has made sure of it, or the run's
// context ends; it notes the CPU used meanwhile.
func (r *sharedRun) measure(ctx context.Context, release chan struct{}, tally *ackTally, timeout time.Duration, settle func() error) {
	cpuFrom := sampleCPU()
	t0 := time.Now()
	close(release)
	select {
	case <-tally.done:
		if settle != nil {
			if err := settle(); err != nil {
				r.problem("%v", err)
			}
		}
	case <-ctx.Done():
		r.problem("not every event acknowledged within %s", timeout)
	}
	r.elapsed = time.Since(t0)
	r.cpu = cpuBetween(cpuFrom, sampleCPU())
}

// sharedRow is a run's line in the report's table.
func (r *sharedRun) row() string {
	if r.setup != nil {
		return fmt.Sprintf("| %s | %d | %d | – | – | – | – | – | – |", r.target, r.members, r.maxOut)
	}
	return fmt.Sprintf("| %s | %d | %d | %.3f | %.0f | %d | %d | %d | %s |", r.target, r.members, r.maxOut,
		r.elapsed.Seconds(), r.rate(), r.deliveries, r.redelivered, r.ackCalls, cores(r.cpu))
}

// failures says what went wrong in a run, or "".
func (r *sharedRun) failures() string {
	var out []string
	if r.setup != nil {
		out = append(out, r.setup.Error())
	}
	out = append(out, r.problems...)
	if r.setup == nil && r.acked != r.want {
		out = append(out, fmt.Sprintf("%d of %d events acknowledged", r.acked, r.want))
	}
	return strings.Join(out, "; ")
}
