// Command benchstream measures imbridge's live event stream
// (EventService.SubscribeEvents, a gRPC server stream): how fast it fans
// stored events out to many subscribers, how fast the members of a shared
// subscription take and acknowledge them, how long a callback takes from
// the webhook to every live subscriber, and how much memory imbridge holds
// while doing so, each next to a baseline measured in the same run.
//
// Run it with `go run ./cmd/benchstream` (make bench-stream); -h lists the
// flags. With the defaults a run takes about a minute on 2 cores.
//
// # What runs
//
// By default everything runs in this one process: imbridge itself (app.New
// and Run, with a fresh temporary data directory removed at exit and
// random loopback ports), the baseline gRPC server on its own listener,
// the webhook load generator and the subscribers. On the reference machine
// (2 cores) the generator, the subscribers and both servers share those
// cores, so the absolute numbers are a floor for a server with the machine
// to itself; the ratios, measured under the same handicap, are the figures
// to read. The report states the Go version, GOMAXPROCS, the cores this
// process may run on, and for every run the CPU used by this process and by
// the whole machine, in cores: a run near the core count is CPU bound
// (subscribers included), and a machine figure well above the process's
// means other programs competed and the run should be repeated.
//
// # Why this baseline
//
// The fan-out baseline is a bare grpc-go server (grpc.NewServer, no
// options, no interceptors) implementing only SubscribeEvents: it sends,
// to each subscriber, the same SubscribeEventsResponse messages imbridge
// sends — the same events, fetched once from imbridge with ListEvents in
// the BASIC view (raw_body cleared), with imbridge's epoch — from memory,
// one Send after another, and then holds the stream open as a live stream
// does. That is the work no gRPC server streaming these events can skip:
// marshal each message, frame it, flow control, write. What imbridge adds
// — its interceptors (metrics, logging, auth), reading the event log,
// decoding and filtering each event, its buffers and slow-consumer
// handling — is what the ratio imbridge/baseline shows. Both targets are
// read by the same client code over the same number of connections, with
// grpc-go's default window sizes.
//
// The latency reference is the webhook POST itself, at the same rate and
// with no subscriber open: its latency is the time to verify, decode and
// store a callback, which every event pays before any stream can see it.
//
// # Fan-out
//
// First -events signed chat:txt callbacks (trigger.Build, each with its
// own callId) are posted to the webhook by -store-concurrency workers and
// stored; every answer must be 200 with the event's cursor. The program
// then lists them back (ListEvents, oldest first, BASIC view), and one
// warm-up subscriber reads them all from each target before any timing:
// imbridge's copy is compared field by field with the listed events, and
// the baseline loads its messages on that first call.
//
// Each run dials -conns fresh gRPC client connections (HTTP/2, one TCP
// connection each) and spreads its subscribers over them round robin;
// then every subscriber, released together, opens SubscribeEvents with
// parent `orgs/-/apps/-`, no filter and START_POSITION_EARLIEST, and reads
// until it has the last stored event. All of them were stored before any
// stream started, so every stream reads them as history, as a client
// catching up or replaying does. The run's time is from that release
// to the moment the last subscriber has every event (stream setup
// included); events × subscribers / time is the throughput. Each count of
// -subscribers is run against the baseline first, then every count
// against imbridge. A subscriber that ends with an error, misses events,
// sees them out of order or is not done within -fanout-timeout fails the
// run.
//
// # Latency
//
// -live-subscribers subscribers (on -conns connections) open
// SubscribeEvents with filter `*`, START_POSITION_LATEST and a 100 ms
// heartbeat interval; a stream counts as live once its first heartbeat
// arrives, and posting starts when all are live. Callbacks are then posted
// open loop at -rate for -duration: callback i is due at start + i/rate,
// posted in its own goroutine (at most -max-inflight at once). Just before
// each POST the program notes the time; each subscriber, on receiving an
// event, looks its callId up and records now minus that time, for every
// subscriber and every event. After the last answer the program waits
// until every subscriber has every event, or none received anything for
// -drain; what they lack then is reported as missing. The events the
// subscribers received per second in all, next to the rate offered (rate
// × subscribers), say whether the stream kept up: a stream that did not
// shows queueing in its latencies.
// The reference run, first, posts a fresh set of callbacks the same way
// with no subscriber open. The report gives p50, p90, p99, p99.9 and max
// of both, the POST latency during the live run too, and how far the
// dispatcher fell behind its schedule (a lag there is the generator's,
// and it is not in the latencies, which start at the real send).
//
// # Shared subscription
//
// -members member streams of one shared subscription (from the oldest
// event, max_outstanding -max-outstanding, ack deadline 5 minutes) take
// the stored events between them; each acknowledges, from a goroutine of
// its own, every cursor it received since its last AcknowledgeEvents call
// returned. The baseline is JetStream itself: a consumer of imbridge's
// stream with the subscription's settings (explicit acknowledgement, the
// same ack deadline, no limit on pending acknowledgements), read by as
// many workers, each pulling up to -max-outstanding ahead and
// acknowledging each event, over the embedded server's client listener
// (event_log.listen; with -target, give its URL with -nats: imbridge
// opens that listener on loopback only, so this program runs on the same
// machine, and the target's log must be fresh, since a subscription
// starts at the oldest event). That is the
// least any shared, acknowledged delivery of these events costs: what
// imbridge adds (decoding, its gRPC stream, acknowledgement by cursor,
// the bookkeeping of each member's share) is what the ratio shows. The
// targets alternate for -shared-rounds rounds, each on a fresh
// subscription; the report compares their medians. A round's time runs
// from the release of the members to the last acknowledgement confirmed
// (for JetStream: sent and flushed), and every event must be acknowledged.
//
// # Memory
//
// Every -rss-interval the program reads VmRSS and VmHWM from
// /proc/<pid>/status (its own, or -target-pid's) and notes the phase
// running. The report gives the peak (VmHWM, the kernel's own high-water
// mark, which no sampling can miss), the highest sample, each phase's RSS
// at its start, highest and end, and the RSS over time. In one process
// the figure covers imbridge, the baseline, the generator, the pregenerated
// callbacks and every subscriber's received messages: read the growth
// within imbridge's phases, not the absolute value.
//
// # On a bigger machine: separate processes and cores
//
// To give the server its own cores, run imbridge (and, for a fair ratio,
// the baseline) as separate processes pinned with taskset, and point this
// program at them. The target must have a fresh data directory (fan-out
// reads every event of its log), accept the callbacks of -appkey signed
// with -secret and the API key -api-key:
//
//	taskset -c 0-3 imbridge serve --config bench.yaml &          # gRPC :9090, HTTP :8080
//	taskset -c 0-3 go run ./cmd/benchstream -serve-baseline 127.0.0.1:9300 -target 127.0.0.1:9090 &
//	taskset -c 4-7 go run ./cmd/benchstream -target 127.0.0.1:9090 -webhook http://127.0.0.1:8080/v1/callbacks/easemob \
//	    -baseline 127.0.0.1:9300 -target-pid $(pgrep -n imbridge) -server-cpus 0-3 -client-cpus 4-7
//
// -serve-baseline serves only the baseline, loading its messages from
// -target's ListEvents at its first call. -server-cpus and -client-cpus
// are not applied by the program (taskset does that): they are checked
// against the cores each process may run on (Cpus_allowed_list) and the
// report names any difference. -gomaxprocs caps this process's Ps; by
// default Go takes the cores taskset allows. With -target-pid the report
// also gives that process's CPU and memory; without it, no server memory.
//
// # Profiles
//
// -cpuprofile covers the runs from the warm-up on. Every goroutine carries
// the label role (imbridge, baseline, subscriber, generator) and the
// subscribers' also target, so `go tool pprof -tagfocus role=imbridge`
// shows the server alone. -memprofile writes every allocation since the
// start, at the end. Neither sees an imbridge run with -target.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/app"
	"github.com/imbridge/imbridge/internal/config"
	"github.com/imbridge/imbridge/internal/cpuprofile"
	"github.com/imbridge/imbridge/internal/procstat"
	"github.com/imbridge/imbridge/internal/trigger"
)

const (
	// allApps is the parent naming every app.
	allApps = "orgs/-/apps/-"
	// liveHeartbeat is the latency phase's heartbeat interval, the
	// shortest the contract allows: the first heartbeat says a stream is
	// live.
	liveHeartbeat = 100 * time.Millisecond
	// callbackPath is the webhook's route.
	callbackPath = "/v1/callbacks/easemob"
)

type options struct {
	events        int
	subscribers   []int
	conns         int
	storeWorkers  int
	fanoutTimeout time.Duration

	members, maxOut, sharedRounds int
	natsURL                       string

	liveSubs    int
	rate        float64
	duration    time.Duration
	maxInflight int
	drain       time.Duration

	rssEvery   time.Duration
	gomaxprocs int
	cpuprofile string
	memprofile string

	target, webhook, baseline, serveBaseline string
	targetPID                                int
	appkey, secret, apiKey                   string
	serverCPUs, clientCPUs                   string
}

func main() { os.Exit(run()) }

func run() int {
	o, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchstream:", err)
		return 2
	}
	if o.gomaxprocs > 0 {
		runtime.GOMAXPROCS(o.gomaxprocs)
	}
	if o.serveBaseline != "" {
		err = serveBaseline(o)
	} else {
		var code int
		if code, err = bench(o); err == nil {
			return code
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchstream:", err)
		return 1
	}
	return 0
}

func parseFlags() (options, error) {
	var o options
	var subs string
	flag.IntVar(&o.events, "events", 2000, "fan-out: callbacks stored first, which every subscriber then reads")
	flag.StringVar(&subs, "subscribers", "64,256", "fan-out: comma-separated subscriber counts, one run each per target")
	flag.IntVar(&o.conns, "conns", 4, "gRPC client connections per run; subscribers are spread over them round robin")
	flag.IntVar(&o.storeWorkers, "store-concurrency", 32, "fan-out: workers posting the callbacks to store")
	flag.DurationVar(&o.fanoutTimeout, "fanout-timeout", time.Minute, "fan-out: most a run may take before its unfinished subscribers fail")
	flag.IntVar(&o.members, "members", 4, "shared subscription: member streams taking the stored events between them (0 skips the phase)")
	flag.IntVar(&o.maxOut, "max-outstanding", 100, "shared subscription: events a member holds unacknowledged (its max_outstanding), and the baseline's pull batch")
	flag.IntVar(&o.sharedRounds, "shared-rounds", 5, "shared subscription: runs of each target, alternating, each on a fresh subscription (the report compares their medians)")
	flag.StringVar(&o.natsURL, "nats", "", "with -target: the URL of its embedded NATS server's client listener (event_log.listen), for the shared subscription's JetStream baseline")
	flag.IntVar(&o.liveSubs, "live-subscribers", 64, "latency: live subscribers")
	flag.Float64Var(&o.rate, "rate", 2000, "latency: callbacks posted per second")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "latency: how long each run posts")
	flag.IntVar(&o.maxInflight, "max-inflight", 1024, "latency: most POSTs in flight at once")
	flag.DurationVar(&o.drain, "drain", 2*time.Second, "latency: after the last answer, wait for the subscribers until none received anything for this long")
	flag.DurationVar(&o.rssEvery, "rss-interval", 100*time.Millisecond, "how often memory is sampled")
	flag.IntVar(&o.gomaxprocs, "gomaxprocs", 0, "GOMAXPROCS of this process; 0 leaves Go's default (the cores it may run on)")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the measured runs to this file (labels role and target)")
	flag.StringVar(&o.memprofile, "memprofile", "", "write an allocation profile (every allocation since the start) to this file at the end")
	flag.StringVar(&o.target, "target", "", "gRPC host:port of an imbridge already running; empty runs one in this process")
	flag.StringVar(&o.webhook, "webhook", "", "with -target: the webhook URL (default http://<target host>:8080"+callbackPath+")")
	flag.IntVar(&o.targetPID, "target-pid", 0, "with -target: imbridge's process id, to report its CPU and memory")
	flag.StringVar(&o.baseline, "baseline", "", "gRPC host:port of a baseline served by benchstream -serve-baseline; empty serves one in this process")
	flag.StringVar(&o.serveBaseline, "serve-baseline", "", "only serve the baseline on this host:port, its events loaded from -target, until interrupted")
	flag.StringVar(&o.appkey, "appkey", "bench#stream", "the app the callbacks are for (configured on the target)")
	flag.StringVar(&o.secret, "secret", "bench-secret", "the app's callback secret")
	flag.StringVar(&o.apiKey, "api-key", "bench-key", "the bearer key for EventService")
	flag.StringVar(&o.serverCPUs, "server-cpus", "", "the cores the server process was pinned to with taskset (checked with -target-pid, reported)")
	flag.StringVar(&o.clientCPUs, "client-cpus", "", "the cores this process was pinned to with taskset (checked, reported)")
	flag.Parse()
	for f := range strings.SplitSeq(subs, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return o, fmt.Errorf("-subscribers: %q is not a positive count", f)
		}
		o.subscribers = append(o.subscribers, n)
	}
	switch {
	case flag.NArg() != 0:
		return o, fmt.Errorf("unexpected arguments %q", flag.Args())
	case o.events < 1, o.conns < 1, o.storeWorkers < 1, o.liveSubs < 1, o.maxInflight < 1:
		return o, errors.New("-events, -conns, -store-concurrency, -live-subscribers and -max-inflight must be at least 1")
	case o.members < 0, o.maxOut < 1 || o.maxOut > 1000, o.sharedRounds < 1:
		return o, errors.New("-members must not be negative, -max-outstanding must be 1 to 1000 and -shared-rounds at least 1")
	case o.target == "" && o.natsURL != "":
		return o, errors.New("-nats goes with -target (in this process, imbridge's embedded NATS listens on a port of its own)")
	case o.rate <= 0, o.duration <= 0, o.fanoutTimeout <= 0, o.drain <= 0, o.rssEvery <= 0:
		return o, errors.New("-rate, -duration, -fanout-timeout, -drain and -rss-interval must be positive")
	case o.serveBaseline != "" && o.target == "":
		return o, errors.New("-serve-baseline needs -target, the imbridge to load the events from")
	case o.target == "" && (o.webhook != "" || o.targetPID != 0):
		return o, errors.New("-webhook and -target-pid go with -target")
	}
	if o.target != "" && o.webhook == "" {
		host, _, err := net.SplitHostPort(o.target)
		if err != nil {
			return o, fmt.Errorf("-target: %w", err)
		}
		o.webhook = "http://" + net.JoinHostPort(host, "8080") + callbackPath
	}
	return o, nil
}

// bench runs every phase and prints the report; code 1 means a check
// failed.
func bench(o options) (code int, err error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	self := os.Getpid()
	rep := &report{opts: o, selfCPUs: procstat.AllowedCPUs(self)}
	memPID := self
	if o.target != "" {
		memPID, serverPID = o.targetPID, o.targetPID
	}
	var mem *memWatch
	if memPID != 0 {
		rep.serverCPUs = procstat.AllowedCPUs(memPID)
		mem = watchMemory(memPID, o.rssEvery)
		defer func() {
			if mem != nil {
				mem.stop()
			}
		}()
	}
	phase := func(name string) {
		progress("%s", name)
		if mem != nil {
			mem.enter(name)
		}
	}

	// imbridge, in this process unless -target names one.
	phase("start imbridge")
	grpcAddr, webhook, natsURL := o.target, o.webhook, o.natsURL
	if o.target == "" {
		stop, g, h, n, err := startImbridge(ctx, o)
		if err != nil {
			return 0, err
		}
		defer func() {
			if serr := stop(); serr != nil && err == nil {
				err = fmt.Errorf("imbridge: %w", serr)
			}
		}()
		grpcAddr, webhook, natsURL = g, h, n
	}
	if err := waitServing(ctx, grpcAddr); err != nil {
		return 0, err
	}

	// Every callback, before any timing.
	phase("generate callbacks")
	live := ratePhaseCount(o.rate, o.duration)
	gen := trigger.Options{Appkey: o.appkey, Secret: o.secret, Now: time.Now()}
	stored, err := makeCallbacks(o.events, gen)
	if err != nil {
		return 0, err
	}
	reference, err := makeCallbacks(live, gen)
	if err != nil {
		return 0, err
	}
	livePosts, err := makeCallbacks(live, gen)
	if err != nil {
		return 0, err
	}
	p := newPoster(webhook, max(o.storeWorkers, o.maxInflight))
	defer p.client.CloseIdleConnections()

	phase("store")
	if rep.store, err = storeAll(p, stored, o.storeWorkers); err != nil {
		return 0, err
	}

	phase("list")
	ictx := withKey(ctx, o.apiKey)
	listed, err := listStored(ictx, grpcAddr, rep.store.lo, rep.store.hi)
	if err != nil {
		return 0, err
	}
	rep.listed = len(listed)

	// The baseline, in this process unless -baseline names one.
	baselineAddr := o.baseline
	if baselineAddr == "" {
		addr, stop, err := startBaseline(grpcAddr, o.apiKey)
		if err != nil {
			return 0, err
		}
		defer stop()
		baselineAddr = addr
	}
	if err := waitServing(ctx, baselineAddr); err != nil {
		return 0, err
	}

	if o.cpuprofile != "" {
		stopProfile, err := cpuprofile.Start(o.cpuprofile)
		if err != nil {
			return 0, err
		}
		defer func() {
			if perr := stopProfile(); perr != nil && err == nil {
				err = perr
			}
		}()
	}

	// The start every fan-out subscriber asks for: the oldest end of a
	// fresh log, else right before the first event stored here.
	start := &imbridgev1.SubscribeEventsRequest{Parent: allApps}
	if rep.store.lo == 1 {
		start.Start = &imbridgev1.SubscribeEventsRequest_Position{Position: imbridgev1.StartPosition_START_POSITION_EARLIEST}
	} else {
		start.Start = &imbridgev1.SubscribeEventsRequest_AfterCursor{AfterCursor: rep.store.lo - 1}
	}
	targets := [2]fanTarget{
		{name: "baseline", addr: baselineAddr},
		{name: "imbridge", addr: grpcAddr},
	}
	spec := fanSpec{req: start, lo: rep.store.lo, hi: rep.store.hi, want: len(listed), timeout: o.fanoutTimeout}

	phase("warm-up")
	for i, t := range targets {
		check := listed
		if t.name != "imbridge" {
			check = nil
		}
		rep.warmup[i] = fanOut(ictx, t, spec, 1, 1, check)
	}

	rep.fan = make([][2]*fanRun, len(o.subscribers))
	for ti, t := range targets {
		for k, n := range o.subscribers {
			phase(fmt.Sprintf("fan-out %s %d", t.name, n))
			runtime.GC()
			rep.fan[k][ti] = fanOut(ictx, t, spec, n, o.conns, nil)
		}
	}

	if o.members > 0 && sharedUnequal(spec) != "" {
		rep.sharedSkipped = sharedUnequal(spec)
	} else if o.members > 0 {
		parent, err := appParent(o.appkey)
		if err != nil {
			return 0, err
		}
		for range o.sharedRounds {
			var round [2]*sharedRun
			if natsURL != "" {
				phase("shared subscription JetStream")
				runtime.GC()
				round[0] = sharedJetStream(ictx, natsURL, spec, o.members, o.maxOut)
			}
			phase("shared subscription imbridge")
			runtime.GC()
			round[1] = sharedImbridge(ictx, grpcAddr, parent, spec, o.members, o.maxOut, o.conns)
			rep.shared = append(rep.shared, round)
		}
	}

	phase("latency reference")
	runtime.GC()
	rep.reference = postAtRate(p, reference, o.rate, o.maxInflight, nil)

	phase(fmt.Sprintf("latency %d live", o.liveSubs))
	runtime.GC()
	rep.live = liveLatency(ictx, grpcAddr, p, livePosts, o)

	phase("end")
	if o.memprofile != "" {
		if err := writeAllocs(o.memprofile); err != nil {
			return 0, err
		}
	}
	if mem != nil {
		rep.mem = mem.stop()
		mem = nil
	}
	if !rep.print(os.Stdout) {
		return 1, nil
	}
	return 0, nil
}

// startImbridge runs imbridge in this process on random loopback ports
// and a temporary data directory; stop shuts it down and removes the
// directory.
func startImbridge(ctx context.Context, o options) (stop func() error, grpcAddr, webhook, natsURL string, err error) {
	dir, err := os.MkdirTemp("", "benchstream-")
	if err != nil {
		return nil, "", "", "", err
	}
	// The embedded NATS server's client listener, for the shared
	// subscription's JetStream baseline: a free port, taken again at once.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", "", "", err
	}
	natsAddr := lis.Addr().String()
	lis.Close()
	cfg := config.Default()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.DataDir = "127.0.0.1:0", "127.0.0.1:0", dir
	cfg.EventLog.Listen = natsAddr
	cfg.APIKeys = config.Keys(o.apiKey)
	cfg.Apps = []config.App{{Appkey: o.appkey, Secrets: []string{o.secret}}}
	// Every goroutine imbridge starts inherits the label role=imbridge,
	// which splits a -cpuprofile by role.
	var a *app.App
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	pprof.Do(runCtx, pprof.Labels("role", "imbridge"), func(runCtx context.Context) {
		if a, err = app.New(cfg, slog.New(slog.DiscardHandler)); err == nil {
			go func() { done <- a.Run(runCtx) }()
		}
	})
	if err != nil {
		cancel()
		os.RemoveAll(dir)
		return nil, "", "", "", fmt.Errorf("starting imbridge: %w", err)
	}
	stop = func() error {
		cancel()
		err := <-done
		os.RemoveAll(dir)
		return err
	}
	return stop, a.GRPCAddr().String(), "http://" + a.HTTPAddr().String() + callbackPath, "nats://" + natsAddr, nil
}

// appParent is the resource name of the app with appkey org#app.
func appParent(appkey string) (string, error) {
	org, app, ok := strings.Cut(appkey, "#")
	if !ok || org == "" || app == "" {
		return "", fmt.Errorf("-appkey %q: want org#app", appkey)
	}
	return "orgs/" + org + "/apps/" + app, nil
}

// startBaseline serves the baseline on a loopback port of this process,
// its messages loaded from imbridge at grpcAddr on the first call.
func startBaseline(grpcAddr, apiKey string) (addr string, stop func(), err error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	b, closeSource, err := newBaseline(grpcAddr, apiKey)
	if err != nil {
		lis.Close()
		return "", nil, err
	}
	s := grpc.NewServer()
	imbridgev1.RegisterEventServiceServer(s, b)
	go pprof.Do(context.Background(), pprof.Labels("role", "baseline"), func(context.Context) { _ = s.Serve(lis) })
	return lis.Addr().String(), func() { s.Stop(); closeSource() }, nil
}

// serveBaseline is -serve-baseline: the baseline alone, until SIGINT or
// SIGTERM.
func serveBaseline(o options) error {
	lis, err := net.Listen("tcp", o.serveBaseline)
	if err != nil {
		return err
	}
	b, closeSource, err := newBaseline(o.target, o.apiKey)
	if err != nil {
		lis.Close()
		return err
	}
	defer closeSource()
	s := grpc.NewServer()
	imbridgev1.RegisterEventServiceServer(s, b)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		s.Stop()
	}()
	progress("baseline serving on %s (GOMAXPROCS=%d, cores %s), its events from %s at the first call", lis.Addr(), runtime.GOMAXPROCS(0), procstat.AllowedCPUs(os.Getpid()), o.target)
	return s.Serve(lis)
}

// writeAllocs writes the allocation profile to path.
func writeAllocs(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ratePhaseCount is how many callbacks one latency run posts.
func ratePhaseCount(rate float64, d time.Duration) int {
	return max(1, int(rate*d.Seconds()))
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "benchstream: "+format+"\n", args...)
}
