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
// By default everything runs in this one process: imbridge itself (app.New
// and Run, with a fresh temporary data directory removed at exit, or
// -data-dir), the baseline server and the load generator. On the reference
// machine (2 cores) the generator and the servers share those 2 cores, so
// the absolute numbers are a floor for a server with the machine to
// itself; the ratio between the two targets, measured under the same
// handicap, is the figure to read. It flatters imbridge: the generator's
// share of the CPU is much larger in the baseline's runs (the baseline does
// so little) than in imbridge's, so per request of server CPU imbridge
// costs more than the throughput ratio says; -cpuprofile shows the split
// (see below). The report states GOMAXPROCS and, for each run, the CPU used
// by this process and by the whole machine: a run near 1.0 × cores is CPU
// bound (generator included), and a machine figure well above the
// process's means other programs were competing and the run should be
// repeated.
//
// With -imbridge BINARY, imbridge runs as its own process (`BINARY serve`,
// configured through its environment) and so does the baseline (this
// program with -serve-baseline), both pinned with `taskset -c` to
// -server-cpus, while -load-cpus pins this process, the generator: on a
// machine with cores to spare the two sides no longer compete, and the
// figures are the server's own. The report then gives the generator's and
// the servers' CPU apart. Either way it gives imbridge's resident memory
// (the process's: with one process, generator and baseline included)
// before, at the peak of and after the runs, and the disk its data_dir
// takes per stored event.
//
// After imbridge, unless -jetstream=false, it measures the ceiling:
// a JetStream server alone (in this process, or pinned like imbridge),
// with a stream configured as imbridge's (file storage, the block
// compression -compression gives it, message-id deduplication over
// imbridge's default window), the bodies published as messages with their
// own ids: by as many synchronous publishers as the max phase has workers,
// then asynchronously from one publisher with up to 4096 in flight. The
// report gives imbridge's max throughput over each.
//
// With -soak-events N the program instead sends N distinct callbacks at
// -soak-rate, every -dup-every-th request repeating an earlier one as the
// vendor's retries do, over -conns keep-alive connections each written and
// read by one goroutine (request k on connection k mod N at its scheduled
// time, its latency from that time, as wrk2 does: conn.go says why not
// net/http's client), and prints a line every -report-every: resident
// memory, latencies of the interval, events stored, disk per event. At the
// end it checks through the REST API that the log grew by exactly the
// distinct callbacks answered 200, and with -imbridge restarts imbridge on
// its data: the time until /healthz answers, the first callback after it,
// a repeat of the soak's first callback (by then known only to the call id
// index), and resident memory idle afterwards.
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
// Bodies are stamped from the vendor's chat:txt example (trigger.Build)
// just before each run (not timed), each with its own callId and msg_id,
// sender, recipient and a text of random words (-text-bytes; about 520
// bytes a body by default), so that they compress as chat does rather than
// as one body repeated, and with the current time as their timestamp, as
// live callbacks carry. imbridge sees every callId exactly once, because a
// repeated one takes the cheaper duplicate path; each run has its own
// fresh set, and the baseline gets sets of its own alike. The bodies are
// packed outside the garbage-collected heap (mmap on Linux), so their
// hundred-odd megabytes are no ballast that would make the servers'
// collections rarer than in a real process.
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
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/imbridge/imbridge/internal/cpuprofile"
	"github.com/imbridge/imbridge/internal/eventlog"
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
	compression string
	maxBodies   int
	maxInflight int
	conns       int
	cpuprofile  string
	textBytes   int

	imbridge   string
	serverCPUs string
	loadCPUs   string
	dataDir    string

	soakEvents  int
	soakRate    float64
	reportEvery time.Duration
	dupEvery    int
	jetstream   bool
}

func main() { os.Exit(run()) }

func run() int {
	o, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchingest:", err)
		return 2
	}
	if o.serveJetStream != "" {
		addr, dir, _ := strings.Cut(o.serveJetStream, ",")
		if err := serveJetStream(addr, dir); err != nil {
			fmt.Fprintln(os.Stderr, "benchingest: JetStream:", err)
			return 1
		}
		return 0
	}
	if o.serveBaseline != "" {
		if err := serveBaseline(o.serveBaseline); err != nil {
			fmt.Fprintln(os.Stderr, "benchingest: baseline:", err)
			return 1
		}
		return 0
	}
	code, err := bench(o.options)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchingest:", err)
		return 1
	}
	return code
}

type flags struct {
	options
	serveBaseline string
	// serveJetStream is "addr,dir".
	serveJetStream string
}

func parseFlags() (flags, error) {
	var f flags
	o := &f.options
	var rates string
	flag.IntVar(&o.concurrency, "concurrency", 64, "max phase: closed-loop workers")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured time of every run (each phase, each target)")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "max phase: unmeasured warm-up before the measured time")
	flag.StringVar(&rates, "rates", "2000,5000", "rate phase: comma-separated request rates, per second")
	flag.BoolVar(&o.syncAlways, "sync-always", false, "fsync every append before answering (event_log.sync_always)")
	flag.StringVar(&o.compression, "compression", string(eventlog.CompressionEvent), "imbridge's compression on disk: event, s2 or none (event_log.compression); the JetStream ceiling's stream compresses its blocks with s2 only, and stores the bodies as they are otherwise")
	flag.IntVar(&o.maxBodies, "max-bodies", 0, fmt.Sprintf("max phase: unique bodies for imbridge, warm-up included; 0 is (warmup+duration) × %d/s", autoBodiesPerSecond))
	flag.IntVar(&o.maxInflight, "max-inflight", 2048, "rate phase: most requests in flight at once")
	flag.IntVar(&o.conns, "conns", 64, "soak mode: keep-alive connections; request k goes out on connection k mod N at its scheduled time")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile to this file: of this process's measured runs (imbridge's too); with -imbridge, of imbridge's max phase, warm-up included (build it with -tags pprof), or in soak mode of the generator alone")
	flag.IntVar(&o.textBytes, "text-bytes", 150, "message text per body, in bytes (150 makes bodies of about 520 bytes)")
	flag.StringVar(&o.imbridge, "imbridge", "", "run this imbridge binary as a separate process (and the baseline as one too) instead of in this process")
	flag.StringVar(&o.serverCPUs, "server-cpus", "", "with -imbridge: pin imbridge and the baseline to these CPUs (taskset -c list, e.g. 0-7)")
	flag.StringVar(&o.loadCPUs, "load-cpus", "", "pin this process, the load generator, to these CPUs (e.g. 8-15)")
	flag.StringVar(&o.dataDir, "data-dir", "", "imbridge's data_dir, kept afterwards; empty is a temporary directory removed at exit")
	flag.IntVar(&o.soakEvents, "soak-events", 0, "soak mode: send this many callbacks at -soak-rate instead of the max and rate phases, then restart imbridge (with -imbridge)")
	flag.Float64Var(&o.soakRate, "soak-rate", 5000, "soak mode: callbacks per second")
	flag.DurationVar(&o.reportEvery, "report-every", time.Minute, "soak mode: print a line this often")
	flag.IntVar(&o.dupEvery, "dup-every", 100, "soak mode: every Nth request repeats an earlier callback, as a vendor retry would (0: none)")
	flag.StringVar(&f.serveBaseline, "serve-baseline", "", "internal: serve only the baseline on this address (how -imbridge runs it)")
	flag.StringVar(&f.serveJetStream, "serve-jetstream", "", "internal: serve only a JetStream server on ADDR,DIR (how -imbridge runs the JetStream ceiling)")
	flag.BoolVar(&o.jetstream, "jetstream", true, "also measure JetStream alone (the ceiling): synchronous and asynchronous publishers on the servers' cores")
	flag.Parse()
	switch {
	case flag.NArg() != 0:
		return f, fmt.Errorf("unexpected arguments %q", flag.Args())
	case o.concurrency < 1:
		return f, errors.New("-concurrency must be at least 1")
	case o.duration <= 0:
		return f, errors.New("-duration must be positive")
	case o.warmup < 0:
		return f, errors.New("-warmup must not be negative")
	case o.maxBodies < 0:
		return f, errors.New("-max-bodies must not be negative")
	case o.maxInflight < 1:
		return f, errors.New("-max-inflight must be at least 1")
	case o.conns < 1:
		return f, errors.New("-conns must be at least 1")
	case o.textBytes < 1:
		return f, errors.New("-text-bytes must be at least 1")
	case o.serverCPUs != "" && o.imbridge == "":
		return f, errors.New("-server-cpus needs -imbridge: in one process the servers share the generator's CPUs")
	case o.soakEvents < 0:
		return f, errors.New("-soak-events must not be negative")
	case o.soakRate <= 0:
		return f, errors.New("-soak-rate must be positive")
	case o.reportEvery <= 0:
		return f, errors.New("-report-every must be positive")
	case o.dupEvery < 0 || o.dupEvery == 1:
		return f, errors.New("-dup-every must be 0 (no repeats) or at least 2")
	case !slices.Contains([]eventlog.Compression{eventlog.CompressionEvent, eventlog.CompressionS2, eventlog.CompressionNone}, eventlog.Compression(o.compression)):
		return f, fmt.Errorf("-compression %q: want %s, %s or %s", o.compression, eventlog.CompressionEvent, eventlog.CompressionS2, eventlog.CompressionNone)
	}
	for _, r := range strings.Split(rates, ",") {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		v, err := strconv.ParseFloat(r, 64)
		if err != nil || v <= 0 {
			return f, fmt.Errorf("-rates: %q is not a positive number", r)
		}
		o.rates = append(o.rates, v)
	}
	if o.maxBodies == 0 {
		o.maxBodies = int((o.warmup + o.duration).Seconds() * autoBodiesPerSecond)
	}
	return f, nil
}

func bench(o options) (code int, err error) {
	if o.loadCPUs != "" {
		if err := pinSelf(o.loadCPUs); err != nil {
			return 0, err
		}
	}
	dataDir := o.dataDir
	if dataDir == "" {
		tmp, err := os.MkdirTemp("", "benchingest-")
		if err != nil {
			return 0, err
		}
		defer os.RemoveAll(tmp)
		dataDir = filepath.Join(tmp, "data")
	} else if dataDir, err = filepath.Abs(dataDir); err != nil {
		return 0, err
	}

	mk, err := newMaker(trigger.Options{Appkey: appkey, Secret: secret, Now: time.Now()}, o.textBytes)
	if err != nil {
		return 0, fmt.Errorf("body template: %w", err)
	}
	srv, err := startImbridge(o, dataDir)
	if err != nil {
		return 0, err
	}
	defer func() {
		if srv == nil {
			return
		}
		if serr := srv.stop(); serr != nil && err == nil {
			err = fmt.Errorf("imbridge: %w", serr)
		}
	}()
	if o.cpuprofile != "" && (o.imbridge == "" || o.soakEvents > 0) {
		stop, err := cpuprofile.Start(o.cpuprofile)
		if err != nil {
			return 0, err
		}
		defer func() {
			if serr := stop(); serr != nil && err == nil {
				err = serr
			}
		}()
	}
	if o.soakEvents > 0 {
		return soak(o, mk, &srv)
	}

	baseURL, basePID, stopBaseline, err := startBaseline(o)
	if err != nil {
		return 0, fmt.Errorf("baseline: %w", err)
	}
	defer stopBaseline()
	if o.imbridge != "" {
		serverPIDs = []int{srv.pid, basePID}
	}
	rss := watchRSS(srv.pid, 250*time.Millisecond)
	defer rss.close()

	// Bodies are stamped just before each run, as live callbacks carry the
	// time they are sent (imbridge looks old ones up in its call id index,
	// as redeliveries), each run with its own callIds; generating them is
	// not timed.
	var next uint64
	var genTook time.Duration
	var bodies, bodyBytes int
	bodiesFor := func(n int) bodySet {
		t0 := time.Now()
		set := mk.generate(next, n)
		next += uint64(n)
		genTook += time.Since(t0)
		bodies, bodyBytes = bodies+n, bodyBytes+len(set.data)
		return set
	}

	targets := [2]target{
		{name: "baseline", url: baseURL + path},
		{name: "imbridge", url: srv.base + path, unique: true},
	}
	rep := report{opts: o}
	_, rep.rssBefore = rss.read()

	// All of the baseline first: what imbridge accumulates (events, the
	// duplicate window's callIds, their garbage) then never weighs on the
	// baseline's numbers.
	rep.rate = make([][2]*rateResult, len(o.rates))
	for ti, t := range targets {
		set := bodiesFor(o.maxBodies)
		progress("%s: max, %d workers, %s warm-up + %s", t.name, o.concurrency, o.warmup, o.duration)
		runtime.GC()
		var profiled func() error
		if t.unique && srv.pprof != "" {
			profiled = profileImbridge(srv, o.warmup+o.duration, o.cpuprofile)
		}
		rep.max[ti] = runMax(t, set, o.concurrency, o.warmup, o.duration)
		set.free()
		if profiled != nil {
			if err := profiled(); err != nil {
				return 0, err
			}
		}
		if m := rep.max[ti]; m.exhausted && m.window <= 0 {
			return 0, fmt.Errorf("imbridge used all %d bodies during the warm-up; raise -max-bodies", set.len())
		}
		for k, rate := range o.rates {
			set := bodiesFor(ratePhaseRequests(rate, o.duration))
			progress("%s: rate %g/s for %s", t.name, rate, o.duration)
			runtime.GC()
			var before histogram
			if t.unique {
				if before, err = appendHistogram(srv.base + "/metrics"); err != nil {
					return 0, fmt.Errorf("reading imbridge metrics: %w", err)
				}
			}
			rep.rate[k][ti] = runRate(t, set, rate, o.maxInflight, rateStopAfter*o.duration)
			set.free()
			if t.unique {
				after, err := appendHistogram(srv.base + "/metrics")
				if err != nil {
					return 0, fmt.Errorf("reading imbridge metrics: %w", err)
				}
				rep.rate[k][ti].appends = after.since(before)
			}
		}
	}
	if o.jetstream {
		if rep.js, err = jetStreamCeiling(o, bodiesFor); err != nil {
			return 0, err
		}
	}
	rep.bodies, rep.bodyBytes, rep.genTook = bodies, bodyBytes, genTook
	rep.rssLast, rep.rssPeak = rss.read()

	rep.metricLines, rep.stored, err = storedTotal(srv.base + "/metrics")
	if err != nil {
		return 0, fmt.Errorf("reading imbridge metrics: %w", err)
	}
	if rep.disk, rep.diskIndex, err = diskUsage(dataDir); err != nil {
		return 0, fmt.Errorf("disk usage of %s: %w", dataDir, err)
	}
	if rep.logEvents, err = headCursor(srv.base); err != nil {
		return 0, fmt.Errorf("the log's head: %w", err)
	}
	if !rep.print(os.Stdout) {
		return 1, nil
	}
	return 0, nil
}

// jetStreamCeiling measures JetStream alone, after imbridge: synchronous
// publishers as many as the max phase's workers, then asynchronous.
func jetStreamCeiling(o options, bodiesFor func(int) bodySet) ([]*jsResult, error) {
	dir, err := os.MkdirTemp("", "benchingest-jetstream-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	url, pid, stop, err := startJetStream(o, dir)
	if err != nil {
		return nil, fmt.Errorf("JetStream alone: %w", err)
	}
	defer stop()
	if pid != 0 {
		serverPIDs = []int{pid}
	}
	var out []*jsResult
	for i, workers := range []int{o.concurrency, 0} {
		set := bodiesFor(o.maxBodies)
		progress("JetStream alone: %d publishers (0: async), %s warm-up + %s", workers, o.warmup, o.duration)
		r, err := runJetStream(url, set, workers, o.warmup, o.duration, "BENCH"+strconv.Itoa(i), o.compression)
		set.free()
		if err != nil {
			return nil, fmt.Errorf("JetStream alone: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// ratePhaseRequests is how many requests a rate-phase run sends.
func ratePhaseRequests(rate float64, d time.Duration) int {
	return max(1, int(rate*d.Seconds()))
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "benchingest: "+format+"\n", args...)
}
