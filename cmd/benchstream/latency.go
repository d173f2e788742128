package main

import (
	"context"
	"fmt"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
)

// liveRun is the latency phase with subscribers.
type liveRun struct {
	subs, conns int
	liveAfter   time.Duration // until every stream had its first message
	notLive     int           // streams without one after liveWait
	post        *paced
	postEnd     time.Duration   // when the last POST was answered, since t0
	lastEvent   time.Duration   // when the last event reached a subscriber, since t0
	delivered   time.Duration   // from the first POST to the last event received
	latency     []time.Duration // webhook to subscriber, every subscriber and event, sorted
	subP99      []time.Duration // each subscriber's p99, sorted
	missing     int64           // 200-answered events some subscriber never got
	dups        int64
	unknown     int64 // events whose callId was not posted by this run
	heartbeats  int64
	problems    []string
	err         error // dialing
}

// liveWait is how long the subscribers have to become live.
const liveWait = 10 * time.Second

// liveSub is what one live subscriber saw.
type liveSub struct {
	latency    []time.Duration
	seen       []bool
	matched    atomic.Int64
	dups       int64
	unknown    int64
	heartbeats int64
	err        error
	ended      atomic.Bool  // the stream ended: wait no more
	lastAt     atomic.Int64 // when the last new event came, since the send times' t0
}

// liveLatency opens o.liveSubs live subscribers, posts c at o.rate, and
// records, per subscriber and event, the time from just before the POST
// to the event's arrival.
func liveLatency(ctx context.Context, addr string, p poster, c callbacks, o options) *liveRun {
	r := &liveRun{subs: o.liveSubs, conns: o.conns}
	index := make(map[string]int, len(c.callID))
	for i, id := range c.callID {
		index[id] = i
	}
	sent := newSendTimes(len(c.body))
	req := &imbridgev1.SubscribeEventsRequest{
		Parent:            allApps,
		Filter:            &imbridgev1.EventFilter{Selectors: []string{"*"}},
		Start:             &imbridgev1.SubscribeEventsRequest_Position{Position: imbridgev1.StartPosition_START_POSITION_LATEST},
		HeartbeatInterval: durationpb.New(liveHeartbeat),
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	subs := make([]*liveSub, o.liveSubs)
	var wg, live sync.WaitGroup
	var liveCount atomic.Int64
	pprof.Do(runCtx, pprof.Labels("role", "subscriber", "target", "imbridge"), func(runCtx context.Context) {
		cs, err := dial(runCtx, addr, o.conns)
		if err != nil {
			r.err = err
			return
		}
		defer closeAll(cs)
		opened := time.Now()
		live.Add(o.liveSubs)
		for k := range subs {
			s := &liveSub{seen: make([]bool, len(c.body)), latency: make([]time.Duration, 0, len(c.body))}
			subs[k] = s
			client := imbridgev1.NewEventServiceClient(cs[k%len(cs)])
			wg.Go(func() {
				var once sync.Once
				markLive := func() { once.Do(func() { liveCount.Add(1); live.Done() }) }
				defer once.Do(live.Done)
				defer s.ended.Store(true)
				stream, err := client.SubscribeEvents(runCtx, req)
				if err != nil {
					s.err = err
					return
				}
				for {
					m, err := stream.Recv()
					if err != nil {
						if runCtx.Err() == nil {
							s.err = err
						}
						return
					}
					markLive()
					s.receive(m.GetEvent(), index, sent)
				}
			})
		}
		select {
		case <-waitGroupDone(&live):
		case <-time.After(liveWait):
		}
		r.liveAfter = time.Since(opened)
		r.notLive = o.liveSubs - int(liveCount.Load())

		r.post = postAtRate(p, c, o.rate, o.maxInflight, sent)
		r.postEnd = time.Since(sent.t0)

		r.lastEvent = drain(subs, r.post.ok, o.drain)
		r.delivered = r.lastEvent - time.Duration(sent.at[0].Load())
		cancel()
		wg.Wait()
	})
	if r.err == nil {
		r.tally(subs)
	}
	return r
}

// drain waits until every subscriber has the ok events, or none received
// anything for quiet; it returns when the last event arrived, since the
// send times' t0.
func drain(subs []*liveSub, ok int, quiet time.Duration) time.Duration {
	var got, last int64
	lastAt := time.Now()
	for {
		got = 0
		done := true
		for _, s := range subs {
			n := s.matched.Load()
			got += n
			done = done && (n >= int64(ok) || s.ended.Load())
		}
		if got != last {
			last, lastAt = got, time.Now()
		}
		if done || time.Since(lastAt) > quiet {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	var at int64
	for _, s := range subs {
		at = max(at, s.lastAt.Load())
	}
	return time.Duration(at)
}

// receive records one message: an event's latency, or a heartbeat.
func (s *liveSub) receive(ev *imbridgev1.Event, index map[string]int, sent *sendTimes) {
	if ev == nil {
		s.heartbeats++
		return
	}
	i, ok := index[ev.GetCallId()]
	var d time.Duration
	if ok {
		d, ok = sent.since(i)
	}
	switch {
	case !ok:
		s.unknown++
	case s.seen[i]:
		s.dups++
	default:
		s.seen[i] = true
		s.latency = append(s.latency, d)
		s.matched.Add(1)
		s.lastAt.Store(int64(time.Since(sent.t0)))
	}
}

func (r *liveRun) tally(subs []*liveSub) {
	for k, s := range subs {
		r.latency = append(r.latency, s.latency...)
		slices.Sort(s.latency)
		r.subP99 = append(r.subP99, pct(s.latency, 99))
		r.missing += max(0, int64(r.post.ok)-s.matched.Load())
		r.dups += s.dups
		r.unknown += s.unknown
		r.heartbeats += s.heartbeats
		if s.err != nil && len(r.problems) < 5 {
			r.problems = append(r.problems, fmt.Sprintf("subscriber %d: %d events, then %v", k, s.matched.Load(), s.err))
		}
	}
	slices.Sort(r.latency)
	slices.Sort(r.subP99)
}

// waitGroupDone is closed when wg's count reaches zero.
func waitGroupDone(wg *sync.WaitGroup) <-chan struct{} {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	return done
}
