// Package ingest is the write path of a callback: find the app, verify the
// signature, decode, apply the app's filter rules, append to the event log,
// and say what happened. It knows nothing of HTTP: the webhook route in
// gateway/ reads the body and turns an Outcome into an answer.
package ingest

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
	"google.golang.org/protobuf/proto"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/callback"
	"github.com/imbridge/imbridge/internal/eventlog"
	"github.com/imbridge/imbridge/internal/selector"
)

// Store is the event log as ingest uses it.
type Store interface {
	Append(ctx context.Context, ev *imbridgev1.Event) (cursor uint64, duplicate bool, err error)
	// LearnChatroom records ev's group as a chatroom when ev says so.
	LearnChatroom(ctx context.Context, ev *imbridgev1.Event) error
	// MaxEventBytes is the largest marshalled event Append takes.
	MaxEventBytes() int
	callback.Chatrooms
}

// App is one application whose callbacks are accepted.
type App struct {
	// Appkey is `org#app`, as callbacks carry it.
	Appkey string
	// Secrets are the callback rules' secrets; any of them signs.
	Secrets []string
	// Unsigned are the selectors accepted without a signature.
	Unsigned []selector.Selector
	// Keep, when set, stores only what these selectors choose.
	Keep []selector.Selector
	// Drop never stores what these selectors choose (after Keep).
	Drop []selector.Selector
}

// Options tune the write path.
type Options struct {
	// AppendTimeout bounds the wait for the event log.
	AppendTimeout time.Duration
	// TimestampTolerance, when positive, refuses callbacks whose vendor
	// timestamp is further than this from now.
	TimestampTolerance time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Logger receives refusals (rate limited; never secrets or
	// signatures) and store failures.
	Logger *slog.Logger
	// Registerer receives the callback metrics.
	Registerer prometheus.Registerer
}

// Ingester runs the write path.
type Ingester struct {
	apps    map[string]*App
	store   Store
	opts    Options
	metrics *metrics
	log     *slog.Logger
	// Refusals are logged at most logRate a second (after a burst), so
	// that a flood of bad requests cannot flood the log; the metrics count
	// every one, and the next line logged says how many were not.
	logLimit *rate.Limiter
	unlogged atomic.Int64
}

// Refusal log rate: a burst of 20 lines, then 5 a second.
const (
	logRate  = 5
	logBurst = 20
)

// New builds the write path for the apps.
func New(apps []App, store Store, opts Options) (*Ingester, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	in := &Ingester{
		apps: map[string]*App{}, store: store, opts: opts, log: opts.Logger,
		logLimit: rate.NewLimiter(logRate, logBurst),
	}
	if in.log == nil {
		in.log = slog.New(slog.DiscardHandler)
	}
	for i := range apps {
		in.apps[apps[i].Appkey] = &apps[i]
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	in.metrics = m
	return in, nil
}

// Result is what became of a callback.
type Result int

// Results of Ingest.
const (
	// Stored: appended to the event log now.
	Stored Result = iota + 1
	// Duplicate: its callId was stored before; nothing was appended.
	Duplicate
	// Dropped: accepted but not stored, by the app's keep/drop rules.
	Dropped
	// Refused: not accepted; Outcome.Refusal says why.
	Refused
)

// Outcome is what happened to one callback.
type Outcome struct {
	Result Result
	// Refusal says why, when Result is Refused.
	Refusal Refusal
	// Detail explains a refusal in a few words; never a secret, never
	// the request's own text.
	Detail string
	// Cursor is the event's position in the log (Stored and Duplicate).
	Cursor uint64
	// Selector is the event's canonical selector, once known.
	Selector string
}

// Ingest runs one callback body through the write path. receiveTime is
// when the request arrived.
//
// Unauthenticated bodies cost next to nothing: the app, the signature and,
// for an unsigned body, its selector are read off the body without decoding
// it (callback.Peek), and only a body that passes is decoded.
func (in *Ingester) Ingest(ctx context.Context, body []byte, receiveTime time.Time) Outcome {
	if !callback.IsObject(body) {
		return in.Refuse(RefusalMalformed, "body is not a JSON object")
	}
	h := callback.Peek(body)
	a, ok := in.apps[h.Appkey()]
	switch {
	case !ok && h.Appkey() == "" && !callback.Valid(body):
		return in.Refuse(RefusalMalformed, "body is not valid JSON")
	case !ok && h.Appkey() == "":
		return in.Refuse(RefusalUnknownApp, "missing appkey")
	case !ok:
		return in.Refuse(RefusalUnknownApp, "unknown appkey")
	}
	verification := imbridgev1.Verification_VERIFICATION_SIGNED
	switch {
	case h.Signed() && h.CallID() == "":
		return in.Refuse(RefusalMissingCallID, "missing callId: the signature cannot be verified")
	case h.Signed():
		if !h.Verify(a.Secrets) {
			if h.TimestampText() == "" {
				return in.Refuse(RefusalMissingTimestamp, "missing timestamp: the signature cannot be verified")
			}
			return in.Refuse(RefusalBadSignature, "signature does not match")
		}
	default:
		sel := h.Selector(in.store)
		switch {
		case len(a.Unsigned) > 0 && selector.MatchesAny(a.Unsigned, sel):
			verification = imbridgev1.Verification_VERIFICATION_UNSIGNED_ALLOWED
		case vendorUnsigned[sel]:
			// What the vendor itself sends unsigned, and the app did not
			// opt in to: answered 200, not stored. A refusal would count
			// against the app's callback rules, every one of which the
			// vendor bans after 90 failures in 30 s. Not received:
			// that counts authenticated callbacks.
			in.metrics.dropped.WithLabelValues(family(sel)).Inc()
			return Outcome{Result: Dropped, Selector: sel}
		default:
			return in.refuse(sel, RefusalUnsigned, "missing signature")
		}
	}
	cb, err := h.Parse(body)
	if err != nil {
		// The answer's result already says malformed: the detail is why.
		return in.Refuse(RefusalMalformed, strings.TrimPrefix(err.Error(), callback.ErrMalformed.Error()+": "))
	}
	ev := cb.Decode(receiveTime, in.store)
	ev.Verification = verification
	if verification == imbridgev1.Verification_VERIFICATION_UNSIGNED_ALLOWED {
		// Stored under a digest of its body, not the callId it may claim,
		// which anyone could take from a signed callback still to come:
		// that one would be taken for its duplicate, and never stored. A
		// signed body keeps its callId (Decode's), which it must carry.
		ev.CallId = cb.DigestID()
	}
	sel := ev.GetSelector()
	if tol := in.opts.TimestampTolerance; tol > 0 {
		t, ok := cb.VendorTime()
		if d := in.opts.Now().Sub(t); !ok || d > tol || d < -tol {
			return in.refuse(sel, RefusalStale, "timestamp outside the accepted window")
		}
	}
	in.metrics.received.WithLabelValues(family(sel)).Inc()
	ctx, cancel := context.WithTimeout(ctx, in.opts.AppendTimeout)
	defer cancel()
	// Learned before the append, so that once a 200 is sent the chatroom
	// is known to every later message; and before the keep and drop
	// rules, which may leave out the muc events that tell, but not the
	// chatroom messages they classify.
	if err := in.store.LearnChatroom(ctx, ev); err != nil {
		return in.storeFailed(sel, err)
	}
	if (len(a.Keep) > 0 && !selector.MatchesAny(a.Keep, sel)) || (len(a.Drop) > 0 && selector.MatchesAny(a.Drop, sel)) {
		in.metrics.dropped.WithLabelValues(family(sel)).Inc()
		return Outcome{Result: Dropped, Selector: sel}
	}
	return in.append(ctx, ev)
}

// vendorUnsigned are the selectors of the callbacks the vendor documents
// without a signature: reactions, threads and (its success example)
// offline push results.
var vendorUnsigned = map[string]bool{"reaction": true, "thread": true, "push": true}

func (in *Ingester) append(ctx context.Context, ev *imbridgev1.Event) Outcome {
	sel := ev.GetSelector()
	if limit := in.store.MaxEventBytes(); proto.Size(ev) > limit {
		// A body under the webhook limit can still decode into several
		// times its size (JSON numbers grow as protobuf Values). Keep the
		// raw body rather than refusing the callback forever.
		keepRawOnly(ev)
		if proto.Size(ev) > limit {
			return in.refuse(sel, RefusalTooLarge, "callback too large for the event log")
		}
	}
	start := time.Now()
	cursor, dup, err := in.store.Append(ctx, ev)
	in.metrics.appendSeconds.Observe(time.Since(start).Seconds())
	if err != nil {
		return in.storeFailed(sel, err)
	}
	if dup {
		in.metrics.duplicate.WithLabelValues(family(sel)).Inc()
		return Outcome{Result: Duplicate, Cursor: cursor, Selector: sel}
	}
	in.metrics.stored.WithLabelValues(family(sel)).Inc()
	return Outcome{Result: Stored, Cursor: cursor, Selector: sel}
}

// keepRawOnly replaces an event's typed body by an UnknownEvent that names
// why; the selector and envelope stay, and raw_body has every byte.
func keepRawOnly(ev *imbridgev1.Event) {
	ev.Body = &imbridgev1.Event_Unknown{Unknown: &imbridgev1.UnknownEvent{
		Reason: "decoded event too large for the event log; the typed body is left out, raw_body has the request",
	}}
}

// storeFailed turns an event log error into a refusal: one that retrying
// can fix (the log unavailable or too slow) is RefusalUnavailable, which
// the vendor retries; anything else is a fault of ours, logged in full.
// Both are logged through refuse's limiter: an outage refuses every
// callback, and must not flood the log with a line each.
func (in *Ingester) storeFailed(sel string, err error) Outcome {
	if errors.Is(err, context.Canceled) {
		// The sender hung up before the log answered: no fault of ours,
		// and nobody to answer; the vendor retries what it did not see
		// answered.
		return in.refuse(sel, RefusalUnavailable, "request cancelled")
	}
	if errors.Is(err, eventlog.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		detail := "event log unavailable; retry"
		if errors.Is(err, context.DeadlineExceeded) {
			detail = "event log did not answer in time; retry"
		}
		return in.refuseErr(sel, RefusalUnavailable, detail, err)
	}
	return in.refuseErr(sel, RefusalInternal, "internal error", err)
}

// Counters gathers the callback counters (received, stored, duplicate,
// dropped, rejected) and nothing else: reading them does not gather the
// whole registry, whose /metrics page is hundreds of kilobytes.
func (in *Ingester) Counters() prometheus.Gatherer { return in.metrics.counters }

// Refuse records a callback refused before its selector is known — by the
// webhook too, for bodies over the limit or too slow to arrive — and
// returns its outcome.
func (in *Ingester) Refuse(r Refusal, detail string) Outcome {
	return in.refuse("", r, detail)
}

func (in *Ingester) refuse(sel string, r Refusal, detail string) Outcome {
	return in.refuseErr(sel, r, detail, nil)
}

// refuseErr is refuse with the store's error, logged (at error level) with
// the refusal, under the same limit.
func (in *Ingester) refuseErr(sel string, r Refusal, detail string, err error) Outcome {
	in.metrics.rejected.WithLabelValues(family(sel), string(r)).Inc()
	if in.logLimit.Allow() {
		args := []any{"reason", string(r), "selector", sel, "detail", detail, "unlogged_before", in.unlogged.Swap(0)}
		if err != nil {
			in.log.Error("callback not stored", append(args, "err", err)...)
		} else {
			in.log.Warn("callback refused", args...)
		}
	} else {
		in.unlogged.Add(1)
	}
	return Outcome{Result: Refused, Refusal: r, Detail: detail, Selector: sel}
}

// family is the metrics label of a selector: its family, or `none` when the
// callback was refused before its selector was known.
func family(sel string) string {
	if sel == "" {
		return NoFamily
	}
	f, _, _ := strings.Cut(sel, ":")
	return f
}

// The callback metrics' names and labels: what /metrics exports, and what
// StatusService and the benchmarks read back.
const (
	MetricReceived      = "imbridge_callbacks_received_total"
	MetricStored        = "imbridge_callbacks_stored_total"
	MetricDuplicate     = "imbridge_callbacks_duplicate_total"
	MetricDropped       = "imbridge_callbacks_dropped_total"
	MetricRejected      = "imbridge_callbacks_rejected_total"
	MetricAppendSeconds = "imbridge_callbacks_append_seconds"
	// LabelFamily is the selector family label of every callback metric;
	// LabelReason is the refusal reason of MetricRejected.
	LabelFamily = "family"
	LabelReason = "reason"
	// NoFamily is the family of a callback refused before its selector was
	// known.
	NoFamily = "none"
)

type metrics struct {
	received, stored, duplicate, dropped *prometheus.CounterVec
	rejected                             *prometheus.CounterVec
	appendSeconds                        prometheus.Histogram
	// counters holds the counters alone, for Counters.
	counters *prometheus.Registry
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	m := &metrics{
		received:  counter(MetricReceived, "Authenticated callbacks, by selector family.", LabelFamily),
		stored:    counter(MetricStored, "Callbacks appended to the event log, by selector family.", LabelFamily),
		duplicate: counter(MetricDuplicate, "Callbacks whose callId was already stored, by selector family.", LabelFamily),
		dropped:   counter(MetricDropped, "Callbacks answered 200 but not stored, by selector family: an ingest filter rule dropped them, or they came unsigned (reaction, thread, push) to an app that did not opt in.", LabelFamily),
		rejected:  counter(MetricRejected, "Callbacks not accepted, by selector family (none when not known) and reason.", LabelFamily, LabelReason),
		appendSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    MetricAppendSeconds,
			Help:    "Time to append a callback to the event log, acknowledgement included.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		counters: prometheus.NewRegistry(),
	}
	m.counters.MustRegister(m.received, m.stored, m.duplicate, m.dropped, m.rejected)
	if reg != nil {
		for _, c := range []prometheus.Collector{m.received, m.stored, m.duplicate, m.dropped, m.rejected, m.appendSeconds} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}
