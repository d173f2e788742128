package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/imbridge/imbridge/internal/eventlog"
)

// soak is the soak mode: o.soakEvents distinct callbacks at o.soakRate
// (every o.dupEvery-th request repeating an earlier one, as the vendor's
// retries do), a line every o.reportEvery with imbridge's resident memory,
// the interval's latencies and the disk per stored event; then the check
// that every callback answered 200 is stored exactly once, and with
// -imbridge a restart: how long until /healthz answers, how long the first
// callback after it takes, and resident memory while idle after it.
func soak(o options, mk *maker, srvp **server) (code int, err error) {
	srv := *srvp
	w := os.Stdout
	headBefore, err := headCursor(srv.base)
	if err != nil {
		return 0, err
	}
	if o.imbridge != "" {
		serverPIDs = []int{srv.pid}
	}
	rss := watchRSS(srv.pid, 250*time.Millisecond)
	defer func() { rss.close() }()

	fmt.Fprintf(w, "# imbridge ingest soak\n\n%d callbacks at %g/s (every %d-th request repeats an earlier one), data_dir %s holding %d events before; ",
		o.soakEvents, o.soakRate, o.dupEvery, srv.dataDir, headBefore)
	if o.imbridge == "" {
		fmt.Fprintf(w, "imbridge in this process (resident memory is the whole process's).\n\n")
	} else {
		fmt.Fprintf(w, "imbridge %s as a separate process on CPUs %s, generator on CPUs %s.\n\n", o.imbridge, orAll(o.serverCPUs), orAll(o.loadCPUs))
	}
	fmt.Fprintln(w, "| elapsed | sent | stored events | 200/s | p50 ms | p99 ms | max ms | appends p99 ms | non-200 | RSS MiB now / peak | data_dir MiB | bytes/event | CPU gen / server / machine |")
	fmt.Fprintln(w, "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")

	target := srv.base + path
	answered := make([]atomic.Uint64, (o.soakEvents+63)/64) // fresh callbacks answered 200, by index
	var (
		t       tally
		mu      sync.Mutex
		lat     []time.Duration
		whole   = hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3) // every latency, µs
		sent    atomic.Int64
		lastOK  int64
		appends histogram // imbridge's append times at the last line
		wg      sync.WaitGroup
		stopRep = make(chan struct{})
		repDone = make(chan struct{})
	)
	appends, _ = appendHistogram(srv.base + "/metrics") // empty on error: the first line counts from start
	start := time.Now()
	line := func(now time.Time, cpu cpuUse, window time.Duration) {
		mu.Lock()
		l := lat
		lat = nil
		mu.Unlock()
		slices.Sort(l)
		ok := t.ok.Load()
		last, peak := rss.read()
		stored := "?"
		disk, _, derr := diskUsage(srv.dataDir)
		perEvent := "?"
		if head, err := headCursor(srv.base); err == nil {
			stored = strconv.FormatUint(head, 10)
			if head > 0 && derr == nil {
				perEvent = fmt.Sprintf("%.0f", float64(disk)/float64(head))
			}
		}
		appendP99 := "?"
		if h, err := appendHistogram(srv.base + "/metrics"); err == nil {
			appendP99 = fmt.Sprintf("%.2f", h.since(appends).quantile(0.99)*1e3)
			appends = h
		}
		fmt.Fprintf(w, "| %s | %d | %s | %.0f | %s | %s | %s | %s | %d | %s / %s | %s | %s | %s |\n",
			now.Sub(start).Round(time.Second), sent.Load(), stored, float64(ok-lastOK)/window.Seconds(),
			ms(quantile(l, 0.5)), ms(quantile(l, 0.99)), ms(quantile(l, 1)), appendP99, t.failed(),
			mib(last), mib(peak), mib(disk), perEvent, cores3(cpu))
		lastOK = ok
	}
	go func() {
		defer close(repDone)
		tick := time.NewTicker(o.reportEvery)
		defer tick.Stop()
		prev, at := sampleCPU(), time.Now()
		for {
			select {
			case <-stopRep:
				return
			case now := <-tick.C:
				cur := sampleCPU()
				line(now, cpuBetween(prev, cur), now.Sub(at))
				prev, at = cur, now
			}
		}
	}()

	// Request k goes out on connection k mod o.conns at start + k/rate,
	// and its latency counts from that time: an answer late enough to hold
	// up its connection's next request is charged to both.
	interval := float64(time.Second) / o.soakRate
	last := firstSend(o.soakEvents-1, o.dupEvery) // the last fresh callback is the last request
	conns := make([]*conn, min(o.conns, last+1))
	for c := range conns {
		if conns[c], err = newConn(target, 30*time.Second); err != nil {
			return 0, err
		}
	}
	pprof.Do(context.Background(), pprof.Labels("role", "generator", "target", "imbridge"), func(context.Context) {
		for c, cn := range conns {
			wg.Go(func() {
				defer cn.close()
				var body []byte
				for k := c; k <= last; k += len(conns) {
					j, repeat := scheduled(k, o.dupEvery)
					intended := start.Add(time.Duration(float64(k) * interval))
					if wait := time.Until(intended); wait > 0 {
						time.Sleep(wait)
					}
					sent.Add(1)
					// A repeat carries its first copy's timestamp.
					body = mk.appendBody(body[:0], uint64(j), start.Add(time.Duration(float64(firstSend(j, o.dupEvery))*interval)))
					status, err := cn.post(body)
					d := time.Since(intended)
					t.record(status, err)
					if status == http.StatusOK && err == nil && !repeat {
						answered[j/64].Or(1 << (j % 64))
					}
					mu.Lock()
					lat = append(lat, d)
					// Over the histogram's range (a minute): counted as a minute.
					_ = whole.RecordValue(min(max(d.Microseconds(), 1), whole.HighestTrackableValue()))
					mu.Unlock()
				}
			})
		}
	})
	wg.Wait()
	close(stopRep)
	<-repDone
	elapsed := time.Since(start)
	line(time.Now(), cpuUse{}, elapsed%o.reportEvery+time.Millisecond)

	var want uint64
	for i := range answered {
		want += uint64(bits.OnesCount64(answered[i].Load()))
	}
	_, storedMetric, err := storedTotal(srv.base + "/metrics")
	if err != nil {
		return 0, err
	}
	head, err := headCursor(srv.base)
	if err != nil {
		return 0, err
	}
	ok := true
	fmt.Fprintf(w, "\nSent %d requests in %s (%.0f/s), %d of them repeats; %d distinct callbacks answered 200, %d not.\n",
		sent.Load(), elapsed.Round(time.Second), float64(sent.Load())/elapsed.Seconds(), sent.Load()-int64(o.soakEvents), want, t.failed())
	wholeMs := func(q float64) string { return fmt.Sprintf("%.2f", float64(whole.ValueAtQuantile(q))/1e3) }
	fmt.Fprintf(w, "Latency over the whole run: p50 %s ms, p99 %s ms, p99.9 %s ms, max %s ms; %d requests over 5 ms.\n",
		wholeMs(50), wholeMs(99), wholeMs(99.9), wholeMs(100), whole.TotalCount()-countUpTo(whole, 5000))
	if t.overBudget() {
		ok = false
		fmt.Fprintf(w, "**FAIL: over the 0.1%% budget of failed requests**: %s\n", t.problems())
	}
	if head-headBefore == want && uint64(storedMetric) == want {
		fmt.Fprintf(w, "Stored exactly once: the log grew by %d events, imbridge_callbacks_stored_total is %.0f, and %d distinct callbacks were answered 200.\n", head-headBefore, storedMetric, want)
	} else {
		ok = false
		fmt.Fprintf(w, "**MISMATCH: the log grew by %d events and imbridge_callbacks_stored_total is %.0f, but %d distinct callbacks were answered 200.**\n", head-headBefore, storedMetric, want)
	}

	if o.imbridge == "" {
		fmt.Fprintln(w, "\nRestart: not measured (it needs imbridge in its own process: -imbridge).")
	} else if !restart(o, mk, srvp, head, start, w) {
		ok = false
	}
	if !ok {
		fmt.Fprintln(w, "\n**Result: FAIL**")
		return 1, nil
	}
	return 0, nil
}

// countUpTo is how many values h recorded at or under v.
func countUpTo(h *hdrhistogram.Histogram, v int64) int64 {
	var n int64
	for _, b := range h.Distribution() {
		if b.To <= v {
			n += b.Count
		}
	}
	return n
}

// restart stops imbridge, starts it again on the same data_dir, and
// measures: the stop, the time until /healthz answers 200, one new
// callback and a repeat of the soak's first (once the soak ran longer than
// the duplicate window, only the call id index knows it), and resident
// memory idle for 10 s. head is the log's newest cursor before.
func restart(o options, mk *maker, srvp **server, head uint64, soakStart time.Time, w io.Writer) bool {
	srv := *srvp
	t0 := time.Now()
	if err := srv.stop(); err != nil {
		fmt.Fprintf(w, "\n**FAIL: stopping imbridge: %v**\n", err)
		return false
	}
	stopTook := time.Since(t0)
	*srvp = nil
	t1 := time.Now()
	srv2, err := startImbridge(o, srv.dataDir)
	if err != nil {
		fmt.Fprintf(w, "\n**FAIL: restarting imbridge: %v**\n", err)
		return false
	}
	readyTook := time.Since(t1)
	*srvp = srv2
	client := newClient(1)
	defer client.CloseIdleConnections()
	t2 := time.Now()
	st1, err1 := post(client, srv2.base+path, mk.appendBody(nil, uint64(o.soakEvents), time.Now()))
	firstTook := time.Since(t2)
	t3 := time.Now()
	st2, err2 := post(client, srv2.base+path, mk.appendBody(nil, 0, soakStart))
	repeatTook := time.Since(t3)
	rss := watchRSS(srv2.pid, 250*time.Millisecond)
	time.Sleep(10 * time.Second)
	last, peak := rss.read()
	rss.close()
	head2, herr := headCursor(srv2.base)

	fmt.Fprintf(w, "\n## Restart on %d events\n\n", head)
	fmt.Fprintf(w, "- stop (SIGTERM to exit): %s\n", stopTook.Round(time.Millisecond))
	fmt.Fprintf(w, "- start to /healthz 200: **%s**\n", readyTook.Round(time.Millisecond))
	fmt.Fprintf(w, "- first new callback: %d in %s\n", st1, firstTook.Round(time.Microsecond))
	fmt.Fprintf(w, "- repeat of the soak's first callback, sent %s before (past the default %s duplicate window, only the call id index knows it): %d in %s\n",
		t3.Sub(soakStart).Round(time.Second), eventlog.DefaultDuplicateWindow, st2, repeatTook.Round(time.Microsecond))
	fmt.Fprintf(w, "- resident memory idle for 10 s after: %s MiB (peak %s)\n", mib(last), mib(peak))
	ok := err1 == nil && err2 == nil && st1 == http.StatusOK && st2 == http.StatusOK && herr == nil && head2 == head+1
	if !ok {
		fmt.Fprintf(w, "\n**FAIL: after the restart the log holds %d events (want %d: one new, the repeat not stored); errors %v %v %v**\n", head2, head+1, err1, err2, herr)
	} else {
		fmt.Fprintf(w, "- the log grew by exactly 1 event: the new callback stored, the repeat recognised\n")
	}
	return ok
}

// firstSend is the number of the request that first sends callback j when
// every dupEvery-th request repeats an earlier one (dupEvery 0: none).
func firstSend(j, dupEvery int) int {
	if dupEvery == 0 {
		return j
	}
	return j + j/(dupEvery-1)
}

// scheduled is what request k sends when every dupEvery-th request
// repeats an earlier one (dupEvery 0: none): callback j, first sent by
// request k (firstSend), or a repeat of a callback drawn from those sent
// before, the same for every run.
func scheduled(k, dupEvery int) (j int, repeat bool) {
	if dupEvery == 0 {
		return k, false
	}
	fresh := k - k/dupEvery // callbacks first sent before request k
	if k%dupEvery != dupEvery-1 {
		return fresh, false
	}
	return int(rand.New(rand.NewPCG(uint64(k), 0)).Uint64N(uint64(fresh))), true
}

// headCursor is the newest cursor of the log (0 when empty), from
// StatusService: with nothing else writing, the number of events stored.
// It reads the stream's state and no event: listing the newest event
// instead loads its block, which when the block was just closed and
// compressed stalls the stream's appends for 100 ms on 2 cores, and the
// soak would measure its own probe.
func headCursor(base string) (uint64, error) {
	req, err := http.NewRequest(http.MethodGet, base+"/v1/status", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GetStatus: %s: %s", resp.Status, body)
	}
	var r struct {
		HeadCursor string `json:"headCursor"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return 0, fmt.Errorf("GetStatus: %w", err)
	}
	if r.HeadCursor == "" {
		return 0, nil // proto3 JSON leaves a zero out
	}
	return strconv.ParseUint(r.HeadCursor, 10, 64)
}

func cores3(u cpuUse) string {
	f := func(c float64) string {
		if c == 0 {
			return "–"
		}
		return fmt.Sprintf("%.2f", c)
	}
	return f(u.proc) + " / " + f(u.server) + " / " + f(u.machine)
}
