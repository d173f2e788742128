package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/imbridge/imbridge/internal/eventlog"
)

// report is everything measured, printed as markdown.
type report struct {
	opts      options
	bodies    int
	bodyBytes int // of all bodies together
	genTook   time.Duration
	// imbridge's resident memory: before the runs, at their end, and the
	// peak during them (with no -imbridge, of this whole process).
	rssBefore, rssLast, rssPeak int64
	// disk is what data_dir takes at the end, diskIndex of it the call id
	// index.
	disk, diskIndex int64
	// logEvents is how many events data_dir holds: this run's, and those
	// of earlier runs on the same -data-dir.
	logEvents   uint64
	max         [2]*maxResult    // baseline, imbridge
	rate        [][2]*rateResult // baseline, imbridge for each rate
	metricLines []string
	stored      float64
	js          []*jsResult // JetStream alone: sync, then async
}

// print writes the report and says whether every check passed.
func (r *report) print(w io.Writer) (ok bool) {
	ok = true
	var flags []string
	flag.VisitAll(func(f *flag.Flag) { flags = append(flags, "-"+f.Name+"="+f.Value.String()) })
	fmt.Fprintf(w, "# imbridge ingest benchmark\n\n")
	fmt.Fprintf(w, "%s %s/%s, GOMAXPROCS=%d, NumCPU=%d, event log sync_always=%t, compression=%s; flags: %s\n\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.NumCPU(), r.opts.syncAlways, r.opts.compression, strings.Join(flags, " "))
	if r.opts.imbridge == "" {
		fmt.Fprintf(w, "Generator, baseline and imbridge share this process and its cores. ")
	} else {
		fmt.Fprintf(w, "imbridge (%s) and the baseline each run as a separate process on CPUs %s; the generator runs on CPUs %s. ",
			r.opts.imbridge, orAll(r.opts.serverCPUs), orAll(r.opts.loadCPUs))
	}
	fmt.Fprintf(w, "%d signed chat:txt bodies of %d bytes on average were generated beforehand in %s (not measured). Every baseline run comes before every imbridge run. ",
		r.bodies, r.bodyBytes/max(r.bodies, 1), r.genTook.Round(10*time.Millisecond))
	if r.opts.imbridge == "" {
		fmt.Fprintf(w, "CPU is in cores (of %d): this process (generator and both servers), and the whole machine (other processes included).\n\n", runtime.NumCPU())
	} else {
		fmt.Fprintf(w, "CPU is in cores (of %d): the generator, the server processes, and the whole machine (other processes included).\n\n", runtime.NumCPU())
	}

	o := r.opts
	fmt.Fprintf(w, "## Max throughput: closed loop, %d workers, %s measured after %s warm-up\n\n", o.concurrency, o.duration, o.warmup)
	fmt.Fprintln(w, "| target | requests/s | requests measured | p50 ms | p99 ms | max ms | non-200 | errors | CPU "+r.cpuColumns()+" |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, m := range r.max {
		fmt.Fprintf(w, "| %s | %.0f | %d | %s | %s | %s | %s | %s | %s |\n", m.target, m.rps(), m.completed,
			ms(quantile(m.latency, 0.5)), ms(quantile(m.latency, 0.99)), ms(quantile(m.latency, 1)),
			share(m.non200.Load(), m.sent()), share(m.errs.Load(), m.sent()), cores(m.cpu))
	}
	fmt.Fprintf(w, "\nimbridge/baseline requests/s: **%.3f**\n", r.max[1].rps()/r.max[0].rps())
	for _, m := range r.max {
		if m.exhausted {
			fmt.Fprintf(w, "\nNote: %s was sent all %d bodies %s into the measured time; its rate is over that shorter window. Raise -max-bodies.\n",
				m.target, m.bodies, m.window.Round(time.Millisecond))
		}
	}

	if len(r.rate) > 0 {
		fmt.Fprintf(w, "\n## Fixed rate: open loop, %s per rate, latency from intended send time to end of answer\n\n", o.duration)
		fmt.Fprintln(w, "| target | rate/s | achieved 200/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | non-200 | errors | max dispatch lag ms | CPU "+r.cpuColumns()+" |")
		fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
		for _, pair := range r.rate {
			for _, x := range pair {
				fmt.Fprintf(w, "| %s | %g | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", x.target, x.rate, x.achieved(),
					ms(quantile(x.latency, 0.5)), ms(quantile(x.latency, 0.9)), ms(quantile(x.latency, 0.99)),
					ms(quantile(x.latency, 0.999)), ms(quantile(x.latency, 1)),
					share(x.non200.Load(), x.sent()), share(x.errs.Load(), x.sent()), ms(x.maxLag), cores(x.cpu))
			}
		}
		fmt.Fprintln(w, "\nMax dispatch lag: the most the generator sent a request behind its schedule (scheduling, garbage collection, or a full semaphore); the latencies already include it.")
		fmt.Fprintln(w)
		for _, pair := range r.rate {
			fmt.Fprintf(w, "imbridge/baseline p99 at %g/s: **%.2f**\n", pair[0].rate,
				quantile(pair[1].latency, 0.99).Seconds()/quantile(pair[0].latency, 0.99).Seconds())
		}
		fmt.Fprintln(w, "\nWhere imbridge's time went: its own appends to the event log (imbridge_callbacks_append_seconds, interpolated within buckets, acknowledgement included); the rest of a request's latency is HTTP, decoding and waiting for a CPU.")
		fmt.Fprintln(w)
		for _, pair := range r.rate {
			a := pair[1].appends
			fmt.Fprintf(w, "- at %g/s: appends p50 %.2f ms, p90 %.2f ms, p99 %.2f ms (requests: p99 %s ms)\n", pair[1].rate,
				a.quantile(0.5)*1e3, a.quantile(0.9)*1e3, a.quantile(0.99)*1e3, ms(quantile(pair[1].latency, 0.99)))
		}
		for _, pair := range r.rate {
			for _, x := range pair {
				if !x.saturated() {
					continue
				}
				unsent := ""
				if x.unsent() > 0 {
					unsent = fmt.Sprintf(", and %d of its %d requests were never sent (dispatch stops at %d× -duration)", x.unsent(), x.scheduled, rateStopAfter)
				}
				fmt.Fprintf(w, "\n**%s is saturated at %g/s**: it answered 200 at %.0f/s%s; its latencies are a lower bound.\n",
					x.target, x.rate, x.achieved(), unsent)
			}
		}
	}

	// Failures are always listed; past the budget they fail the run.
	var failures []string
	check := func(name string, t *tally) {
		if t.failed() == 0 && t.sent() > 0 {
			return
		}
		verdict := "within the 0.1% budget"
		if t.overBudget() {
			verdict, ok = "FAIL: over the 0.1% budget", false
		}
		failures = append(failures, fmt.Sprintf("- %s: %d of %d not answered 200 (%s); %s", name, t.failed(), t.sent(), verdict, t.problems()))
	}
	var imbridge200 int64
	for _, m := range r.max {
		check(m.target+" max", &m.tally)
		if m.target == "imbridge" {
			imbridge200 += m.ok.Load()
		}
	}
	for _, pair := range r.rate {
		for _, x := range pair {
			check(fmt.Sprintf("%s rate %g/s", x.target, x.rate), &x.tally)
			if x.target == "imbridge" {
				imbridge200 += x.ok.Load()
			}
		}
	}
	if len(failures) > 0 {
		fmt.Fprintf(w, "\n## Failed requests\n\n%s\n", strings.Join(failures, "\n"))
	}

	if len(r.js) > 0 {
		fmt.Fprintf(w, "\n## JetStream alone: the ceiling, %s measured after %s warm-up\n\n", o.duration, o.warmup)
		fmt.Fprintf(w, "A JetStream server alone on the servers' CPUs, a stream as imbridge's (file storage, block compression %v, message ids deduplicated over %s), the bodies as messages, each acknowledged.\n", eventlog.Compression(o.compression).Store(), eventlog.DefaultDuplicateWindow)
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| publishers | stored/s | failed | CPU "+r.cpuColumns()+" |")
		fmt.Fprintln(w, "|---|--:|--:|--:|")
		for _, x := range r.js {
			fmt.Fprintf(w, "| %s | %.0f | %d | %s |\n", x.mode, x.rate(), x.failures, cores(x.cpu))
		}
		fmt.Fprintf(w, "\nimbridge/JetStream async: **%.3f**; imbridge/JetStream sync: **%.3f**\n", r.max[1].rps()/r.js[len(r.js)-1].rate(), r.max[1].rps()/r.js[0].rate())
	}

	who := "imbridge's process"
	if r.opts.imbridge == "" {
		who = "this process (generator, baseline and imbridge)"
	}
	fmt.Fprintf(w, "\n## Memory and disk\n\n")
	fmt.Fprintf(w, "Resident memory of %s: %s MiB before the runs, %s MiB peak during them, %s MiB at their end (sampled every 250 ms).\n\n",
		who, mib(r.rssBefore), mib(r.rssPeak), mib(r.rssLast))
	if n := float64(r.logEvents); n > 0 {
		avg := float64(r.bodyBytes) / float64(max(r.bodies, 1))
		fmt.Fprintf(w, "data_dir: %s MiB for the %d events of the log (%d stored by this run): **%.0f bytes per event** (%.2f× the average body of %.0f bytes), of which the call id index %.0f.\n",
			mib(r.disk), r.logEvents, int64(r.stored), float64(r.disk)/n, float64(r.disk)/n/avg, avg, float64(r.diskIndex)/n)
	}

	fmt.Fprintf(w, "\n## Stored\n\n")
	if len(r.metricLines) == 0 {
		fmt.Fprintln(w, "    (no imbridge_callbacks_stored_total line in /metrics)")
	}
	for _, l := range r.metricLines {
		fmt.Fprintf(w, "    %s\n", l)
	}
	if int64(r.stored) == imbridge200 {
		fmt.Fprintf(w, "\nimbridge answered 200 to %d requests (warm-up included) and stored %d: match.\n", imbridge200, int64(r.stored))
	} else {
		ok = false
		fmt.Fprintf(w, "\n**MISMATCH: imbridge answered 200 to %d requests (warm-up included) but stored %d.**\n", imbridge200, int64(r.stored))
	}
	if !ok {
		fmt.Fprintln(w, "\n**Result: FAIL**")
	}
	return ok
}

func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func share(n, of int64) string {
	if n == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%.3f%%)", n, 100*float64(n)/float64(of))
}

func cores(u cpuUse) string {
	f := func(c float64) string {
		if c == 0 {
			return "–"
		}
		return fmt.Sprintf("%.2f", c)
	}
	if len(serverPIDs) > 0 {
		return f(u.proc) + " / " + f(u.server) + " / " + f(u.machine)
	}
	return f(u.proc) + " / " + f(u.machine)
}

func orAll(cpus string) string {
	if cpus == "" {
		return "(all)"
	}
	return cpus
}

func (r *report) cpuColumns() string {
	if r.opts.imbridge == "" {
		return "process / machine"
	}
	return "generator / servers / machine"
}
