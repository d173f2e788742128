package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/imbridge/imbridge/internal/procstat"
)

// Goals the report checks; missing one is reported, not a failure.
const (
	fanOutGoal     = 0.7                   // imbridge/baseline events×subscribers per second
	latencyP99Goal = 10 * time.Millisecond // webhook to subscriber
)

// report is everything measured, printed as markdown.
type report struct {
	opts                 options
	selfCPUs, serverCPUs string // Cpus_allowed_list of this process and of the server's

	store  stored
	listed int
	warmup [2]*fanRun      // baseline, imbridge
	fan    [][2]*fanRun    // baseline, imbridge for each subscriber count
	shared [][2]*sharedRun // per round: JetStream, imbridge
	// sharedSkipped says why the shared phase did not run.
	sharedSkipped string
	reference     *paced
	live          *liveRun
	mem           memory
}

// print writes the report and says whether every check passed.
func (r *report) print(w io.Writer) (ok bool) {
	ok = true
	fail := func(format string, args ...any) {
		ok = false
		fmt.Fprintf(w, "\n**FAIL: "+format+"**\n", args...)
	}
	o := r.opts
	var flags []string
	flag.VisitAll(func(f *flag.Flag) { flags = append(flags, "-"+f.Name+"="+f.Value.String()) })
	_, _, machineCores := procstat.Machine()
	fmt.Fprintf(w, "# imbridge stream benchmark\n\n")
	fmt.Fprintf(w, "%s %s/%s; machine: %d cores; this process: GOMAXPROCS=%d, may run on cores %s; flags: %s\n\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, machineCores, runtime.GOMAXPROCS(0), r.selfCPUs, strings.Join(flags, " "))
	if o.target == "" {
		fmt.Fprintf(w, "imbridge (in-process, fresh data directory), the baseline gRPC server, the webhook generator and every subscriber share this one process and its %d Ps on the same cores: absolute figures are a floor, the ratios are what to read. CPU is in cores: this process / the whole machine (other processes included).\n", runtime.GOMAXPROCS(0))
	} else {
		where := "in this process, sharing the generator's cores"
		if o.baseline != "" {
			where = "served by `benchstream -serve-baseline` at " + o.baseline
		}
		fmt.Fprintf(w, "imbridge runs as its own process at %s (webhook %s), may run on cores %s; the baseline is %s. CPU is in cores: this process / imbridge (-target-pid) / the whole machine.\n",
			o.target, o.webhook, r.serverCPUs, where)
	}
	for _, h := range []struct{ flag, want, got string }{{"-client-cpus", o.clientCPUs, r.selfCPUs}, {"-server-cpus", o.serverCPUs, r.serverCPUs}} {
		switch {
		case h.want == "":
		case h.want == h.got:
			fmt.Fprintf(w, "\n%s %s: as pinned.\n", h.flag, h.want)
		default:
			fmt.Fprintf(w, "\n**%s says %s, but the process may run on cores %s**: pin it with `taskset -c %s`.\n", h.flag, h.want, h.got, h.want)
		}
	}

	fmt.Fprintf(w, "\n## Stored\n\n%d signed chat:txt callbacks posted by %d workers, every one answered 200, in %s (%.0f/s, CPU %s): cursors %d to %d; ListEvents (BASIC view) lists %d.\n",
		r.store.n, o.storeWorkers, r.store.took.Round(time.Millisecond), float64(r.store.n)/r.store.took.Seconds(), cores(r.store.cpu), r.store.lo, r.store.hi, r.listed)
	if r.listed != r.store.n {
		fail("%d callbacks stored but %d listed", r.store.n, r.listed)
	}

	fmt.Fprintf(w, "\n## Fan-out: %d stored events to every subscriber, %d client connections\n\n", r.listed, o.conns)
	fmt.Fprintln(w, "Every event was stored before any stream started: the streams read history. Time runs from the release of the subscribers (streams opened then) to the last one's last event. First event and done: per subscriber, since the release.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| target | subscribers | conns | time s | events×subs/s | first event p50 / max ms | done p50 / max ms | failed | CPU |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, x := range r.warmup {
		r.fanRow(w, x, " (warm-up)")
	}
	for _, pair := range r.fan {
		for _, x := range pair {
			r.fanRow(w, x, "")
		}
	}
	fmt.Fprintln(w)
	for _, pair := range r.fan {
		ratio := pair[1].rate() / pair[0].rate()
		fmt.Fprintf(w, "imbridge/baseline events×subscribers/s at %d subscribers: **%.3f** (goal ≥ %.1f: %s)\n", pair[0].subs, ratio, fanOutGoal, met(ratio >= fanOutGoal))
	}
	if c := r.warmup[1]; c != nil {
		if c.differ == 0 && c.checked > 0 {
			fmt.Fprintf(w, "\nThe imbridge warm-up stream's %d events equal the listed ones field by field.\n", c.checked)
		} else {
			fail("imbridge streamed %d events, %d of them unlike ListEvents's; the first:\n\n```\n%s\n```", c.checked, c.differ, truncate(c.firstDiff, 3000))
		}
	}
	for _, x := range append([]*fanRun{r.warmup[0], r.warmup[1]}, flatten(r.fan)...) {
		if x.failed > 0 {
			fail("%s, %d subscribers: %d failed:\n\n- %s", x.target, x.subs, x.failed, strings.Join(x.problems, "\n- "))
		}
	}

	r.printShared(w, fail)

	lv := r.live
	fmt.Fprintf(w, "\n## Latency: %d live subscribers (filter `*`, START_POSITION_LATEST, %d client connections), callbacks posted at %g/s for %s\n\n", o.liveSubs, o.conns, o.rate, o.duration)
	if lv.err != nil {
		fail("latency phase: %v", lv.err)
		lv.post = &paced{}
	}
	fmt.Fprintln(w, "| measured | samples | achieved 200/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | POSTs not 200 | max dispatch lag ms | CPU |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	latRow := func(name string, lat []time.Duration, p *paced) {
		achieved := fmt.Sprintf("%.0f", float64(p.ok)/max(p.elapsed.Seconds(), 1e-9))
		if len(lat) != len(p.latency) {
			achieved = "–"
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name, len(lat), achieved,
			ms(pct(lat, 50)), ms(pct(lat, 90)), ms(pct(lat, 99)), ms(pct(lat, 99.9)), ms(pct(lat, 100)),
			p.fail.String(), ms(p.maxLag), cores(p.cpu))
	}
	latRow("POST, no subscriber (reference)", r.reference.latency, r.reference)
	latRow(fmt.Sprintf("POST, %d subscribers live", o.liveSubs), lv.post.latency, lv.post)
	latRow("webhook → subscriber", lv.latency, lv.post)
	fmt.Fprintf(w, "\nLatency: from just before the POST to the subscriber's Recv returning the event, matched by callId, every subscriber and every event; the POST rows run to the end of the answer. Max dispatch lag: how far the generator started a POST behind its schedule (not in the latencies).\n\n")
	p99 := pct(lv.latency, 99)
	fmt.Fprintf(w, "webhook → subscriber p99: **%s ms** (goal < %v: %s); over the reference POST p99: **%.2f×**; subscribers' own p99 from %s to %s ms.\n",
		ms(p99), latencyP99Goal, met(len(lv.latency) > 0 && p99 < latencyP99Goal), p99.Seconds()/pct(r.reference.latency, 99).Seconds(),
		ms(pct(lv.subP99, 0)), ms(pct(lv.subP99, 100)))
	offered := o.rate * float64(o.liveSubs)
	got := float64(len(lv.latency)) / max(lv.delivered.Seconds(), 1e-9)
	behind := max(0, lv.lastEvent-lv.postEnd)
	fmt.Fprintf(w, "\nThe subscribers received %d events in all in %s from the first POST (%.0f/s for %.0f/s offered, %g/s × %d); the last arrived %s after the last POST's answer.",
		len(lv.latency), lv.delivered.Round(time.Millisecond), got, offered, o.rate, o.liveSubs, behind.Round(time.Millisecond))
	if behind > max(100*time.Millisecond, o.duration/10) {
		fmt.Fprintf(w, " **The stream did not keep up**: its latencies are mostly queueing.")
	}
	for _, pair := range r.fan {
		if b := pair[0]; b.subs == o.liveSubs && b.failed == 0 {
			fmt.Fprintf(w, " The offered rate is %.2f× the baseline's fan-out rate at %d subscribers above: the most a bare server and these subscribers reached here.", offered/b.rate(), b.subs)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "\nStreams live (first heartbeat) %s after opening; heartbeats received %d.\n", lv.liveAfter.Round(time.Millisecond), lv.heartbeats)
	if lv.notLive > 0 {
		fmt.Fprintf(w, "\n**%d streams sent no heartbeat within %s**: posting started anyway.\n", lv.notLive, liveWait)
	}
	if lv.missing+lv.dups+lv.unknown > 0 || len(lv.problems) > 0 {
		fail("latency phase: %d events missing after %s drain, %d duplicates, %d not posted by this run; streams: %s",
			lv.missing, o.drain, lv.dups, lv.unknown, strings.Join(lv.problems, "; "))
	}
	for _, p := range []*paced{r.reference, lv.post} {
		if p.fail.n > 0 || p.sent < p.scheduled {
			fail("posting at %g/s: %d of %d sent, not answered 200: %s", p.rate, p.sent, p.scheduled, &p.fail)
		}
	}

	r.printMemory(w)
	r.printContention(w)
	if !ok {
		fmt.Fprintln(w, "\n**Result: FAIL**")
	}
	return ok
}

func (r *report) fanRow(w io.Writer, x *fanRun, note string) {
	if x == nil {
		return
	}
	fmt.Fprintf(w, "| %s%s | %d | %d | %.2f | %.0f | %s / %s | %s / %s | %d | %s |\n", x.target, note, x.subs, x.conns,
		x.elapsed.Seconds(), x.rate(), ms(pct(x.first, 50)), ms(pct(x.first, 100)), ms(pct(x.done, 50)), ms(pct(x.done, 100)), x.failed, cores(x.cpu))
}

func (r *report) printMemory(w io.Writer) {
	m := r.mem
	fmt.Fprintf(w, "\n## Memory\n\n")
	if len(m.samples) == 0 {
		why := "no -target-pid"
		if m.err != nil {
			why = m.err.Error()
		}
		fmt.Fprintf(w, "Not measured: %s.\n", why)
		return
	}
	top, hwm := m.peak()
	whose := "this process (imbridge, baseline, generator, subscribers and the pregenerated callbacks together)"
	if r.opts.target != "" {
		whose = fmt.Sprintf("imbridge, process %d", m.pid)
	}
	fmt.Fprintf(w, "Of %s, %d samples, one every %s.\n\nPeak RSS: **%s MiB** (VmHWM); highest sample %s MiB at %.1f s, in phase %q.\n\n",
		whose, len(m.samples), r.opts.rssEvery, mib(hwm), mib(top.rss), top.at.Seconds(), top.phase)
	fmt.Fprintln(w, "| phase | from s | to s | RSS at start MiB | highest MiB | at end MiB |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|")
	for _, p := range m.byPhase() {
		fmt.Fprintf(w, "| %s | %.1f | %.1f | %s | %s | %s |\n", p.name, p.from.Seconds(), p.to.Seconds(), mib(p.first), mib(p.peak), mib(p.last))
	}
	// Over time: the highest sample of each of at most 30 equal slices.
	last := m.samples[len(m.samples)-1].at
	step := max(time.Second, (last / 30).Round(time.Second))
	var series []string
	for from := time.Duration(0); from <= last; from += step {
		var hi int64
		for _, s := range m.samples {
			if s.at >= from && s.at < from+step {
				hi = max(hi, s.rss)
			}
		}
		if hi > 0 {
			series = append(series, fmt.Sprintf("%.0fs %s", from.Seconds(), mib(hi)))
		}
	}
	fmt.Fprintf(w, "\nHighest RSS (MiB) in each %s from the start: %s\n", step, strings.Join(series, ", "))
}

// printShared reports the shared-subscription phase.
func (r *report) printShared(w io.Writer, fail func(string, ...any)) {
	if r.sharedSkipped != "" {
		fmt.Fprintf(w, "\n## Shared subscription\n\nNot run: %s.\n", r.sharedSkipped)
		return
	}
	if len(r.shared) == 0 {
		return
	}
	o := r.opts
	fmt.Fprintf(w, "\n## Shared subscription: the %d stored events once, between %d members\n\n", r.shared[0][1].want, o.members)
	fmt.Fprintf(w, "imbridge: a subscription from the oldest event (ack deadline %s), %d member streams (max_outstanding %d) on %d client connections, each acknowledging with AcknowledgeEvents every cursor received since its last call returned. JetStream (the baseline): a consumer of imbridge's stream with the same settings, %d workers each pulling up to %d ahead and acknowledging each event. Time runs from the release of the members to the last acknowledgement confirmed (JetStream: sent and flushed). %d rounds, the targets alternating, each on a fresh subscription.\n\n",
		sharedAckDeadline, o.members, o.maxOut, o.conns, o.members, o.maxOut, len(r.shared))
	fmt.Fprintln(w, "| target | members | max outstanding | time s | events/s | deliveries | redelivered | ack calls | CPU |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|")
	var rates [2][]float64
	ok := true
	for _, round := range r.shared {
		for i, x := range round {
			if x == nil {
				continue
			}
			fmt.Fprintln(w, x.row())
			if f := x.failures(); f != "" {
				ok = false
				fail("shared subscription, %s: %s", x.target, f)
			}
			if x.cleanupErr != nil {
				fmt.Fprintf(w, "\n%s: removing the subscription after the run failed: %v\n", x.target, x.cleanupErr)
			}
			rates[i] = append(rates[i], x.rate())
		}
	}
	fmt.Fprintln(w)
	switch {
	case len(rates[0]) == 0:
		fmt.Fprintln(w, "No JetStream baseline: with -target, give -nats the URL of its embedded NATS listener (event_log.listen).")
	case ok:
		median := func(v []float64) float64 { slices.Sort(v); return v[len(v)/2] }
		js, im := median(rates[0]), median(rates[1])
		fmt.Fprintf(w, "Medians: JetStream %.0f events/s, imbridge %.0f events/s; imbridge/JetStream: **%.3f**\n", js, im, im/js)
	}
}

// printContention names the runs during which other processes used the
// machine's cores: their figures are not this program's alone.
func (r *report) printContention(w io.Writer) {
	runs := map[string]cpuUse{"store": r.store.cpu, "latency reference": r.reference.cpu}
	if r.live.post != nil {
		runs["latency live"] = r.live.post.cpu
	}
	for _, x := range flatten(r.fan) {
		runs[fmt.Sprintf("fan-out %s %d", x.target, x.subs)] = x.cpu
	}
	for i, round := range r.shared {
		for _, x := range round {
			if x != nil {
				runs[fmt.Sprintf("shared subscription %s %d", x.target, i+1)] = x.cpu
			}
		}
	}
	var busy []string
	for name, u := range runs {
		others := u.machine - u.self - max(u.server, 0)
		if u.self >= 0 && u.machine >= 0 && others > 0.25 {
			busy = append(busy, fmt.Sprintf("%s %.2f", name, others))
		}
	}
	if len(busy) == 0 {
		return
	}
	slices.Sort(busy)
	others := "Other processes"
	if r.opts.baseline != "" {
		others = "Other processes (the separate baseline's among them)"
	}
	fmt.Fprintf(w, "\n**%s used the machine's cores during these runs** (cores): %s. Their figures are not this benchmark's alone: repeat on a quiet machine.\n", others, strings.Join(busy, ", "))
}

func flatten(runs [][2]*fanRun) []*fanRun {
	var out []*fanRun
	for _, p := range runs {
		out = append(out, p[0], p[1])
	}
	return out
}

func met(b bool) string {
	if b {
		return "met"
	}
	return "**not met**"
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.*f", map[bool]int{true: 0, false: 2}[d >= 100*time.Millisecond], float64(d)/1e6)
}

func mib(b int64) string { return fmt.Sprintf("%.0f", float64(b)/(1<<20)) }

// cores formats a CPU use: this process, imbridge's (with -target-pid),
// the machine.
func cores(u cpuUse) string {
	vals := []float64{u.self, u.server, u.machine}
	if serverPID == 0 {
		vals = []float64{u.self, u.machine}
	}
	parts := make([]string, len(vals))
	for i, c := range vals {
		parts[i] = "–"
		if c >= 0 {
			parts[i] = fmt.Sprintf("%.2f", c)
		}
	}
	return strings.Join(parts, " / ")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "\n…"
}
