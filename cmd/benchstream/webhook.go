package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imbridge/imbridge/internal/trigger"
)

// callbacks are signed chat:txt callback bodies and their callIds.
type callbacks struct {
	body   [][]byte
	callID []string
}

// makeCallbacks builds n callbacks, each with its own callId.
func makeCallbacks(n int, o trigger.Options) (callbacks, error) {
	c := callbacks{body: make([][]byte, 0, n), callID: make([]string, 0, n)}
	for range n {
		built, err := trigger.Build("chat:txt", o)
		if err != nil {
			return c, err
		}
		var id struct {
			CallID string `json:"callId"`
		}
		if len(built) != 1 || json.Unmarshal(built[0], &id) != nil || id.CallID == "" {
			return c, fmt.Errorf("trigger.Build(chat:txt) made %d bodies, the first without a callId", len(built))
		}
		c.body, c.callID = append(c.body, built[0]), append(c.callID, id.CallID)
	}
	return c, nil
}

// poster posts callbacks to the webhook over keep-alive connections.
type poster struct {
	url    string
	client *http.Client
}

func newPoster(url string, conns int) poster {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy, t.DisableCompression = nil, true
	t.MaxIdleConns, t.MaxIdleConnsPerHost = conns, conns
	return poster{url: url, client: &http.Client{Transport: t, Timeout: 30 * time.Second}}
}

// outcome is the webhook's answer to one callback.
type outcome struct {
	status int
	cursor uint64 // of a 200
	err    error
}

func (p poster) post(body []byte) outcome {
	resp, err := p.client.Post(p.url, "application/json", bytes.NewReader(body))
	if err != nil {
		return outcome{err: err}
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	o := outcome{status: resp.StatusCode, err: err}
	if err == nil && o.status == http.StatusOK {
		var a struct {
			Cursor string `json:"cursor"`
		}
		if err := json.Unmarshal(raw, &a); err != nil {
			o.err = fmt.Errorf("answer %q: %w", raw, err)
		} else if o.cursor, err = strconv.ParseUint(a.Cursor, 10, 64); err != nil {
			o.err = fmt.Errorf("answer %q has no cursor", raw)
		}
	}
	return o
}

// failures counts callbacks not answered 200, keeping the first few
// reasons.
type failures struct {
	mu      sync.Mutex
	n       int
	reasons []string
}

// note records o when it is a failure and says whether it was a 200.
func (f *failures) note(o outcome) bool {
	if o.err == nil && o.status == http.StatusOK {
		return true
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	if len(f.reasons) < 3 {
		if o.err != nil {
			f.reasons = append(f.reasons, o.err.Error())
		} else {
			f.reasons = append(f.reasons, "status "+strconv.Itoa(o.status))
		}
	}
	return false
}

func (f *failures) String() string {
	if f.n == 0 {
		return "none"
	}
	return fmt.Sprintf("%d, first: %q", f.n, f.reasons)
}

// stored is the fan-out phase's callbacks, stored.
type stored struct {
	n      int
	took   time.Duration
	lo, hi uint64 // the lowest and highest cursor answered
	cpu    cpuUse
}

// storeAll posts every callback with workers in a closed loop; every one
// must be answered 200.
func storeAll(p poster, c callbacks, workers int) (stored, error) {
	var (
		next    atomic.Int64
		fail    failures
		mu      sync.Mutex
		lo, hi  uint64
		wg      sync.WaitGroup
		cpuFrom = sampleCPU()
	)
	lo = ^uint64(0)
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(c.body) {
					return
				}
				o := p.post(c.body[i])
				if fail.note(o) {
					mu.Lock()
					lo, hi = min(lo, o.cursor), max(hi, o.cursor)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	s := stored{n: len(c.body), took: time.Since(start), lo: lo, hi: hi, cpu: cpuBetween(cpuFrom, sampleCPU())}
	if fail.n > 0 {
		return s, fmt.Errorf("storing %d callbacks: not answered 200: %s", len(c.body), &fail)
	}
	if hi-lo+1 < uint64(len(c.body)) {
		return s, fmt.Errorf("%d callbacks stored at cursors %d to %d: some share a cursor", len(c.body), lo, hi)
	}
	return s, nil
}

// paced is one open-loop run of POSTs.
type paced struct {
	rate      float64
	sent, ok  int
	fail      failures
	latency   []time.Duration // just before the POST to the end of its answer, sorted
	maxLag    time.Duration   // most a POST started behind its schedule
	elapsed   time.Duration   // from the first due time to the last answer
	cpu       cpuUse
	scheduled int
}

// postAtRate posts callback i at start + i/rate, each in its own goroutine
// with at most inflight at once. Just before each POST it stores the time
// since t0 in sentAt[i] when sentAt is not nil. Dispatching stops at twice
// the schedule's length; callbacks left are not sent.
func postAtRate(p poster, c callbacks, rate float64, inflight int, sentAt *sendTimes) *paced {
	n := len(c.body)
	r := &paced{rate: rate, scheduled: n}
	lat := make([]time.Duration, n)
	ok := make([]bool, n)
	sem := make(chan struct{}, inflight)
	step := time.Duration(float64(time.Second) / rate)
	stopAt := 2 * time.Duration(n) * step
	var wg sync.WaitGroup

	cpuFrom := sampleCPU()
	start := time.Now()
	pprof.Do(context.Background(), pprof.Labels("role", "generator"), func(context.Context) {
		for i := range n {
			due := start.Add(time.Duration(i) * step)
			time.Sleep(time.Until(due))
			sem <- struct{}{}
			if time.Since(start) > stopAt {
				<-sem
				break
			}
			r.maxLag = max(r.maxLag, time.Since(due))
			r.sent++
			wg.Go(func() {
				defer func() { <-sem }()
				if sentAt != nil {
					sentAt.mark(i)
				}
				before := time.Now()
				o := p.post(c.body[i])
				lat[i], ok[i] = time.Since(before), r.fail.note(o)
			})
		}
	})
	wg.Wait()
	r.elapsed = time.Since(start)
	r.cpu = cpuBetween(cpuFrom, sampleCPU())
	for i := range r.sent {
		if ok[i] {
			r.ok++
			r.latency = append(r.latency, lat[i])
		}
	}
	slices.Sort(r.latency)
	return r
}

// sendTimes is when each callback of a run was posted, as nanoseconds
// since t0; 0 until then.
type sendTimes struct {
	t0 time.Time
	at []atomic.Int64
}

func newSendTimes(n int) *sendTimes { return &sendTimes{t0: time.Now(), at: make([]atomic.Int64, n)} }

func (s *sendTimes) mark(i int) { s.at[i].Store(int64(time.Since(s.t0))) }

// since is how long ago callback i was posted; false if it was not yet.
func (s *sendTimes) since(i int) (time.Duration, bool) {
	at := s.at[i].Load()
	if at == 0 {
		return 0, false
	}
	return time.Since(s.t0) - time.Duration(at), true
}
