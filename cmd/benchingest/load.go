package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"runtime/pprof"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imbridge/imbridge/internal/procstat"
)

// target is one server under load.
type target struct {
	name string
	url  string
	// unique: every body may be sent at most once (imbridge, where a
	// repeated callId is the cheaper duplicate path).
	unique bool
}

// newClient returns a client for one run: a fresh Transport tuned for
// loopback, keeping up to idle connections open between requests.
func newClient(idle int) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        idle,
			MaxIdleConnsPerHost: idle,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
		Timeout: 30 * time.Second,
	}
}

// post sends one callback and reads the answer to its end.
func post(c *http.Client, url string, body []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	return resp.StatusCode, err
}

// tally counts the outcomes of a run: 200s, other statuses and transport
// errors, each separately.
type tally struct {
	ok, non200, errs atomic.Int64

	mu       sync.Mutex
	statuses map[int]int64
	firstErr error
}

func (t *tally) record(status int, err error) {
	switch {
	case err != nil:
		t.errs.Add(1)
		t.mu.Lock()
		if t.firstErr == nil {
			t.firstErr = err
		}
		t.mu.Unlock()
	case status == http.StatusOK:
		t.ok.Add(1)
	default:
		t.non200.Add(1)
		t.mu.Lock()
		if t.statuses == nil {
			t.statuses = map[int]int64{}
		}
		t.statuses[status]++
		t.mu.Unlock()
	}
}

func (t *tally) sent() int64 { return t.ok.Load() + t.non200.Load() + t.errs.Load() }

// failed is the number of requests not answered 200.
func (t *tally) failed() int64 { return t.non200.Load() + t.errs.Load() }

// overBudget says whether more than errorBudget of the requests failed.
func (t *tally) overBudget() bool {
	return t.sent() == 0 || float64(t.failed()) > errorBudget*float64(t.sent())
}

// problems describes the failures, if any.
func (t *tally) problems() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := ""
	if len(t.statuses) > 0 {
		codes := make([]int, 0, len(t.statuses))
		for c := range t.statuses {
			codes = append(codes, c)
		}
		sort.Ints(codes)
		s = "statuses:"
		for _, c := range codes {
			s += fmt.Sprintf(" %d×%d", c, t.statuses[c])
		}
	}
	if t.firstErr != nil {
		if s != "" {
			s += "; "
		}
		s += "first error: " + t.firstErr.Error()
	}
	return s
}

// maxResult is one closed-loop run.
type maxResult struct {
	tally
	target    string
	window    time.Duration   // measured time
	completed int64           // requests completed inside the window
	latency   []time.Duration // of requests sent and completed inside the window, sorted
	cpu       cpuUse          // during the window
	exhausted bool            // imbridge used every body before the end
	bodies    int
}

func (r *maxResult) rps() float64 { return float64(r.completed) / r.window.Seconds() }

// span is one request of a closed-loop run, as offsets from the run's start.
type span struct{ sent, done time.Duration }

// runMax runs a closed loop of c workers against t for warmup+d and
// measures the last d. A unique target ends early, when every body was
// sent; the window then ends at that moment.
func runMax(t target, bodies bodySet, c int, warmup, d time.Duration) *maxResult {
	client := newClient(c)
	defer client.CloseIdleConnections()
	r := &maxResult{target: t.name, bodies: bodies.len()}

	var next atomic.Int64
	var exhaustedAt atomic.Int64 // offset from start; 0 while bodies remain
	spans := make([][]span, c)
	var wg sync.WaitGroup

	start := time.Now()
	from, end := warmup, warmup+d
	cpuAtFrom := make(chan cpuSample, 1)
	time.AfterFunc(warmup, func() { cpuAtFrom <- sampleCPU() })
	cpuAtEnd := make(chan cpuSample, 1)
	time.AfterFunc(warmup+d, func() { cpuAtEnd <- sampleCPU() })

	pprof.Do(context.Background(), pprof.Labels("role", "generator", "target", t.name), func(context.Context) {
		for w := range c {
			spans[w] = make([]span, 0, bodies.len()/c+1024)
			wg.Go(func() {
				for {
					sent := time.Since(start)
					if sent >= end {
						return
					}
					i := next.Add(1) - 1
					if i >= int64(bodies.len()) {
						if t.unique {
							exhaustedAt.CompareAndSwap(0, int64(sent))
							return
						}
						i %= int64(bodies.len())
					}
					status, err := post(client, t.url, bodies.at(int(i)))
					done := time.Since(start)
					r.record(status, err)
					if done >= from {
						spans[w] = append(spans[w], span{sent, done})
					}
				}
			})
		}
	})
	wg.Wait()

	windowEnd := end
	if at := time.Duration(exhaustedAt.Load()); at > 0 && at < end {
		r.exhausted, windowEnd = true, at
	}
	r.window = windowEnd - from
	for _, s := range spans {
		for _, x := range s {
			if x.done >= windowEnd {
				continue
			}
			r.completed++
			if x.sent >= from {
				r.latency = append(r.latency, x.done-x.sent)
			}
		}
	}
	slices.Sort(r.latency)
	if !r.exhausted {
		r.cpu = cpuBetween(<-cpuAtFrom, <-cpuAtEnd)
	}
	return r
}

// rateResult is one open-loop run.
type rateResult struct {
	tally
	target  string
	rate    float64
	elapsed time.Duration   // from the first intended send to the last answer
	latency []time.Duration // from intended send to the answer's end, sorted
	maxLag  time.Duration   // most a dispatch was behind its intended time
	cpu     cpuUse          // over elapsed
	appends histogram       // imbridge's own append times during the run (imbridge only)

	scheduled int // requests the run should send
}

// unsent is how many scheduled requests were never sent.
func (r *rateResult) unsent() int { return r.scheduled - int(r.sent()) }

// saturated says whether the target fell short of the rate: requests left
// unsent, or 200s answered at under 95% of the rate.
func (r *rateResult) saturated() bool { return r.unsent() > 0 || r.achieved() < 0.95*r.rate }

func (r *rateResult) achieved() float64 { return float64(r.ok.Load()) / r.elapsed.Seconds() }

// runRate sends the bodies to t, body i at start + i/rate, each in its own
// goroutine with at most maxInflight in flight, and measures each latency
// from the intended send time, so waiting for the server is never hidden.
// A target that cannot keep up holds the dispatcher back; at stopAfter
// dispatching stops and the requests left are counted as unsent.
func runRate(t target, bodies bodySet, rate float64, maxInflight int, stopAfter time.Duration) *rateResult {
	client := newClient(maxInflight)
	defer client.CloseIdleConnections()
	r := &rateResult{target: t.name, rate: rate, scheduled: bodies.len()}
	latency := make([]time.Duration, bodies.len())
	sem := make(chan struct{}, maxInflight)
	interval := float64(time.Second) / rate
	var wg sync.WaitGroup

	cpu0 := sampleCPU()
	start := time.Now()
	sent := 0
	pprof.Do(context.Background(), pprof.Labels("role", "generator", "target", t.name), func(context.Context) {
		for ; sent < bodies.len(); sent++ {
			i := sent
			intended := start.Add(time.Duration(float64(i) * interval))
			if wait := time.Until(intended); wait > 0 {
				time.Sleep(wait)
			}
			sem <- struct{}{}
			if time.Since(start) > stopAfter {
				<-sem
				break
			}
			r.maxLag = max(r.maxLag, time.Since(intended))
			wg.Go(func() {
				defer func() { <-sem }()
				status, err := post(client, t.url, bodies.at(i))
				latency[i] = time.Since(intended)
				r.record(status, err)
			})
		}
	})
	wg.Wait()
	r.elapsed = time.Since(start)
	r.cpu = cpuBetween(cpu0, sampleCPU())
	r.latency = latency[:sent]
	slices.Sort(r.latency)
	return r
}

// serverPIDs are the processes of the servers under test when they run
// apart from the generator (-imbridge): the imbridge and baseline
// processes. Their CPU is measured together: only one of them is loaded
// at a time.
var serverPIDs []int

// cpuSample is the CPU time used so far by this process, by the server
// processes (if apart) and by the whole machine.
type cpuSample struct {
	at           time.Time
	proc, server time.Duration
	busy, total  uint64
	cpus         int
}

func sampleCPU() cpuSample {
	s := cpuSample{at: time.Now(), proc: processCPU()}
	for _, pid := range serverPIDs {
		d, _ := procstat.CPU(pid) // 0 if not measured
		s.server += d
	}
	s.busy, s.total, s.cpus = procstat.Machine()
	return s
}

// cpuUse is the CPU used over a stretch of time, in cores: by this process
// (the generator, and the servers unless -imbridge), by the server
// processes apart, and by the whole machine (other processes included); 0
// where not measured.
type cpuUse struct{ proc, server, machine float64 }

func cpuBetween(a, b cpuSample) cpuUse {
	var u cpuUse
	if wall := b.at.Sub(a.at).Seconds(); wall > 0 {
		u.proc = (b.proc - a.proc).Seconds() / wall
		u.server = (b.server - a.server).Seconds() / wall
	}
	if b.total > a.total {
		u.machine = float64(b.busy-a.busy) / float64(b.total-a.total) * float64(b.cpus)
	}
	return u
}

// quantile is the nearest-rank q-quantile of sorted durations.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}
