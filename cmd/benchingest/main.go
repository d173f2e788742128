// Command benchingest measures how fast imbridge ingests Easemob callbacks
// (POST /v1/callbacks/easemob: verify the MD5 signature, decode, append to
// the embedded JetStream log, answer 200) and what that costs in latency,
// next to a baseline that does the same HTTP work and nothing else.
//
// Run it with `go run ./cmd/benchingest` (make bench-ingest); -h lists the
// flags, -sync-always measures the fsync-every-append mode.
//
// # What runs
//
// Everything runs in this one process: imbridge itself (app.New and Run,
// with a fresh temporary data directory removed at exit), the baseline
// server and the load generator. On the reference machine (2 cores) the
// generator and the servers share those 2 cores, so the absolute numbers are
// a floor for a server with the machine to itself; the ratio between the
// two targets, measured under the same handicap, is the figure to read.
// It flatters imbridge: the generator's share of the CPU is much larger in
// the baseline's runs (the baseline does so little) than in imbridge's, so
// per request of server CPU imbridge costs more than the throughput ratio
// says; -cpuprofile shows the split (see below). The
// report states GOMAXPROCS and, for each run, the CPU used by this process
// and by the whole machine: a run near 1.0 × cores is CPU bound (generator
// included), and a machine figure well above the process's means other
// programs were competing and the run should be repeated.
//
// # Why this baseline
//
// The baseline is a bare net/http server on loopback whose handler reads
// the whole body under http.MaxBytesReader (1 MiB, imbridge's default limit)
// and answers 200 with a tiny JSON body. That is the work no webhook
// receiver written in Go can skip: accept, parse the request, read the
// body, write an answer. What imbridge adds on top — the gateway's routing
// and middleware, signature check, JSON decode and classification, the
// JetStream append and its acknowledgement, and with -sync-always an fsync
// per append — is what the ratio imbridge/baseline shows.
//
// # Bodies
//
// Before any timing, the program builds signed chat:txt callbacks with
// trigger.Build, each with its own random callId, on every core at once.
// imbridge sees every callId exactly once, because a repeated one takes the
// cheaper duplicate path; each phase has its own fresh set. The baseline is
// sent the same bodies in the same order (cycling through them if it gets
// through the set). The bodies are packed outside the garbage-collected
// heap (mmap on Linux), so their hundred-odd megabytes are no ballast that
// would make the servers' collections rarer than in a real process.
//
// # Load
//
// One generator, used identically for both targets: an http.Client per run
// with a fresh Transport tuned for loopback (idle connections as many as
// the concurrency, no compression, no proxy), POST with Content-Type
// application/json, the answer read to its end. Status 200 is success;
// other statuses and transport errors are counted separately and always
// reported.
//
//   - max: a closed loop of -concurrency workers, each sending its next
//     request as soon as the previous one is answered, for -duration after a
//     -warmup that is not measured. Reports requests/s and imbridge/baseline.
//   - rate: an open loop at each of -rates for -duration. Request i is due
//     at start + i/rate (computed, no ticker), dispatched to its own
//     goroutine under a semaphore of -max-inflight, and its latency runs
//     from that intended time to the end of the answer, so a server (or
//     generator) that falls behind is charged for the wait and coordinated
//     omission does not hide it. Reports the achieved rate (200s per second
//     until the last answer), p50, p90, p99, p99.9 and max latency, how far
//     the dispatcher fell behind its schedule, and the p99 ratio. A target
//     that cannot keep up holds the dispatcher back at the semaphore; at
//     twice -duration dispatching stops, the requests left are reported as
//     unsent and the run as saturated, its latencies a lower bound.
//
// Every baseline run comes first, then every imbridge run, so what imbridge
// accumulates in the shared process (stored events, the callIds of the
// duplicate window, the garbage collector's work for them) never weighs on
// the baseline. imbridge's rate runs therefore meet a store already holding
// the max phase's events, as a running instance would.
//
// At the end imbridge's /metrics line imbridge_callbacks_stored_total is
// printed and checked against the number of 200s imbridge answered. The
// exit status is 1 if any run had more than 0.1% non-200 answers or errors,
// or if the stored count and the 200s differ.
//
// Generator goroutines carry the pprof labels role=generator and
// target=baseline or imbridge, so with -cpuprofile
// `go tool pprof -tagfocus role=generator` separates the generator's CPU
// from the servers'.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/imbridge/imbridge/internal/app"
	"github.com/imbridge/imbridge/internal/config"
	"github.com/imbridge/imbridge/internal/trigger"
)

const (
	appkey  = "bench#ingest"
	secret  = "bench-secret"
	apiKey  = "bench-key"
	path    = "/v1/callbacks/easemob"
	maxBody = 1 << 20
	// errorBudget is the share of non-200 answers and errors past which
	// the run fails.
	errorBudget = 0.001
	// autoBodiesPerSecond sizes imbridge's max-phase body set when
	// -max-bodies is 0: comfortably above what imbridge reaches here.
	autoBodiesPerSecond = 20000
	// rateStopAfter × -duration is when a rate run stops dispatching, so a
	// target that cannot keep up does not stretch the run without end.
	rateStopAfter = 2
)

type options struct {
	concurrency int
	duration    time.Duration
	warmup      time.Duration
	rates       []float64
	syncAlways  bool
	maxBodies   int
	maxInflight int
	cpuprofile  string
}

func main() { os.Exit(run()) }

func run() int {
	o, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchingest:", err)
		return 2
	}
	code, err := bench(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchingest:", err)
		return 1
	}
	return code
}

func parseFlags() (options, error) {
	var o options
	var rates string
	flag.IntVar(&o.concurrency, "concurrency", 64, "max phase: closed-loop workers")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured time of every run (each phase, each target)")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "max phase: unmeasured warm-up before the measured time")
	flag.StringVar(&rates, "rates", "2000,5000", "rate phase: comma-separated request rates, per second")
	flag.BoolVar(&o.syncAlways, "sync-always", false, "fsync every append before answering (event_log.sync_always)")
	flag.IntVar(&o.maxBodies, "max-bodies", 0, fmt.Sprintf("max phase: unique bodies for imbridge, warm-up included; 0 is (warmup+duration) × %d/s", autoBodiesPerSecond))
	flag.IntVar(&o.maxInflight, "max-inflight", 2048, "rate phase: most requests in flight at once")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the measured runs to this file")
	flag.Parse()
	switch {
	case flag.NArg() != 0:
		return o, fmt.Errorf("unexpected arguments %q", flag.Args())
	case o.concurrency < 1:
		return o, errors.New("-concurrency must be at least 1")
	case o.duration <= 0:
		return o, errors.New("-duration must be positive")
	case o.warmup < 0:
		return o, errors.New("-warmup must not be negative")
	case o.maxBodies < 0:
		return o, errors.New("-max-bodies must not be negative")
	case o.maxInflight < 1:
		return o, errors.New("-max-inflight must be at least 1")
	}
	for _, f := range strings.Split(rates, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		r, err := strconv.ParseFloat(f, 64)
		if err != nil || r <= 0 {
			return o, fmt.Errorf("-rates: %q is not a positive number", f)
		}
		o.rates = append(o.rates, r)
	}
	if o.maxBodies == 0 {
		o.maxBodies = int((o.warmup + o.duration).Seconds() * autoBodiesPerSecond)
	}
	return o, nil
}

func bench(o options) (code int, err error) {
	dir, err := os.MkdirTemp("", "benchingest-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)

	// imbridge, in-process.
	cfg := config.Default()
	cfg.GRPCAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.DataDir = dir
	cfg.APIKeys = config.Keys(apiKey)
	cfg.Apps = []config.App{{Appkey: appkey, Secrets: []string{secret}}}
	cfg.EventLog.SyncAlways = o.syncAlways
	a, err := app.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return 0, fmt.Errorf("starting imbridge: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		if rerr := <-done; rerr != nil && err == nil {
			err = fmt.Errorf("imbridge: %w", rerr)
		}
	}()
	imbridgeBase := "http://" + a.HTTPAddr().String()

	// The baseline, in-process too.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	baseline := &http.Server{Handler: http.HandlerFunc(baselineHandler), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() { _ = baseline.Serve(lis) }()
	defer baseline.Close()

	if err := waitReady(imbridgeBase + "/metrics"); err != nil {
		return 0, err
	}

	// Bodies, before any timing.
	sizes := []int{o.maxBodies}
	for _, r := range o.rates {
		sizes = append(sizes, ratePhaseRequests(r, o.duration))
	}
	total := 0
	for _, n := range sizes {
		total += n
	}
	progress("generating %d signed chat:txt bodies on %d cores", total, runtime.GOMAXPROCS(0))
	genStart := time.Now()
	all, err := generate(total, trigger.Options{Appkey: appkey, Secret: secret, Now: time.Now()})
	if err != nil {
		return 0, fmt.Errorf("generating bodies: %w", err)
	}
	genTook := time.Since(genStart)
	progress("generated in %s", genTook.Round(10*time.Millisecond))
	sets := make([]bodySet, len(sizes))
	lo := 0
	for i, n := range sizes {
		sets[i] = all.sub(lo, lo+n)
		lo += n
	}

	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile)
		if err != nil {
			return 0, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return 0, err
		}
		defer func() {
			pprof.StopCPUProfile()
			if cerr := f.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}()
	}

	targets := [2]target{
		{name: "baseline", url: "http://" + lis.Addr().String() + path},
		{name: "imbridge", url: imbridgeBase + path, unique: true},
	}
	rep := report{opts: o, bodies: total, genTook: genTook}

	// All of the baseline first: what imbridge accumulates (events, the
	// duplicate window's callIds, their garbage) then never weighs on the
	// baseline's numbers.
	rep.rate = make([][2]*rateResult, len(o.rates))
	for ti, t := range targets {
		progress("%s: max, %d workers, %s warm-up + %s", t.name, o.concurrency, o.warmup, o.duration)
		runtime.GC()
		rep.max[ti] = runMax(t, sets[0], o.concurrency, o.warmup, o.duration)
		if m := rep.max[ti]; m.exhausted && m.window <= 0 {
			return 0, fmt.Errorf("imbridge used all %d bodies during the warm-up; raise -max-bodies", sets[0].len())
		}
		for k, rate := range o.rates {
			progress("%s: rate %g/s for %s", t.name, rate, o.duration)
			runtime.GC()
			rep.rate[k][ti] = runRate(t, sets[k+1], rate, o.maxInflight, rateStopAfter*o.duration)
		}
	}

	rep.metricLines, rep.stored, err = storedTotal(imbridgeBase + "/metrics")
	if err != nil {
		return 0, fmt.Errorf("reading imbridge metrics: %w", err)
	}
	if !rep.print(os.Stdout) {
		return 1, nil
	}
	return 0, nil
}

// baselineHandler does the HTTP work any webhook receiver must do: read the
// whole body under the same limit imbridge uses, answer 200 with a small
// JSON body.
func baselineHandler(w http.ResponseWriter, r *http.Request) {
	if _, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody)); err != nil {
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, `{"result":"ok"}`+"\n")
}

// ratePhaseRequests is how many requests a rate-phase run sends.
func ratePhaseRequests(rate float64, d time.Duration) int {
	return max(1, int(rate*d.Seconds()))
}

// waitReady polls url until it answers 200.
func waitReady(url string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("imbridge not ready at %s: %w", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// storedTotal returns imbridge's imbridge_callbacks_stored_total lines and
// the sum of their values.
func storedTotal(url string) (lines []string, sum float64, err error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "imbridge_callbacks_stored_total") {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			return nil, 0, fmt.Errorf("metric line %q: %w", line, err)
		}
		lines = append(lines, line)
		sum += v
	}
	return lines, sum, sc.Err()
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "benchingest: "+format+"\n", args...)
}
