// Package ingest is the write path of a callback: find the app, verify the
// signature, decode, apply the app's filter rules, append to the event log,
// and say what to answer. The HTTP route in gateway/ only reads the body and
// writes the answer.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/callback"
	"github.com/imbridge/imbridge/internal/config"
	"github.com/imbridge/imbridge/internal/selector"
)

// Store is the event log as ingest uses it.
type Store interface {
	Append(ctx context.Context, ev *imbridgev1.Event) (cursor uint64, duplicate bool, err error)
	MarkChatroom(ctx context.Context, appkey, groupID string) error
	// MaxEventBytes is the largest marshalled event Append takes.
	MaxEventBytes() int
	callback.Chatrooms
}

// Options tune the write path.
type Options struct {
	// AppendTimeout bounds the wait for the event log.
	AppendTimeout time.Duration
	// TimestampTolerance, when positive, rejects callbacks whose vendor
	// timestamp is further than this from now.
	TimestampTolerance time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Logger receives rejections (never secrets or signatures) and store
	// failures.
	Logger *slog.Logger
	// Registerer receives the callback metrics.
	Registerer prometheus.Registerer
}

type app struct {
	secrets  []string
	unsigned []selector.Selector
	keep     []selector.Selector
	drop     []selector.Selector
}

// Ingester runs the write path.
type Ingester struct {
	apps    map[string]*app
	store   Store
	opts    Options
	metrics *metrics
}

// New builds the write path for the configured apps.
func New(apps []config.App, store Store, opts Options) (*Ingester, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	in := &Ingester{apps: map[string]*app{}, store: store, opts: opts}
	for _, a := range apps {
		var err error
		x := &app{secrets: a.Secrets}
		if x.unsigned, err = selector.ParseAll(a.UnsignedSelectors); err != nil {
			return nil, err
		}
		if x.keep, err = selector.ParseAll(a.Keep); err != nil {
			return nil, err
		}
		if x.drop, err = selector.ParseAll(a.Drop); err != nil {
			return nil, err
		}
		in.apps[a.Appkey] = x
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	in.metrics = m
	return in, nil
}

// Outcome is what happened to one callback and what to answer.
type Outcome struct {
	// Status is the HTTP status to answer: 200 for stored, duplicate and
	// dropped callbacks; 4xx for callbacks that are not accepted; 503 when
	// the event log could not take it in time.
	Status int
	// Result is a short word for the answer body and the metrics:
	// stored, duplicate, dropped, or the rejection reason.
	Result string
	// Message explains a rejection in a few words; never a secret.
	Message string
	// Cursor is the event's position in the log (stored and duplicate).
	Cursor uint64
	// Selector is the event's canonical selector, once decoded.
	Selector string
}

// MaxEventBytes bounds a stored event so that any gRPC client can read it
// back with its default 4 MiB receive limit.
const MaxEventBytes = 3 << 20

// Rejection reasons, the `reason` label of the rejected counter.
const (
	ReasonMalformed     = "malformed"
	ReasonTooLarge      = "too_large"
	ReasonUnknownApp    = "unknown_app"
	ReasonBadSignature  = "bad_signature"
	ReasonUnsigned      = "unsigned"
	ReasonMissingCallID = "missing_call_id"
	ReasonStale         = "stale_timestamp"
	ReasonUnavailable   = "store_unavailable"
)

// RejectTooLarge records a body over the limit, which the HTTP route
// detects before ingest sees it.
func (in *Ingester) RejectTooLarge(limit int64) Outcome {
	return in.reject("", http.StatusRequestEntityTooLarge, ReasonTooLarge, fmt.Sprintf("body over %d bytes", limit))
}

// Ingest runs one callback body through the write path. receiveTime is
// when the request arrived.
func (in *Ingester) Ingest(ctx context.Context, body []byte, receiveTime time.Time) Outcome {
	cb, err := callback.Parse(body)
	if err != nil {
		return in.reject("", http.StatusBadRequest, ReasonMalformed, err.Error())
	}
	a, ok := in.apps[cb.Appkey()]
	if !ok {
		if cb.Appkey() == "" {
			return in.reject("", http.StatusUnauthorized, ReasonUnknownApp, "missing appkey")
		}
		return in.reject("", http.StatusUnauthorized, ReasonUnknownApp, "unknown appkey")
	}
	verification := imbridgev1.Verification_VERIFICATION_SIGNED
	var ev *imbridgev1.Event
	switch {
	case cb.Signed() && cb.CallID() == "":
		return in.reject("", http.StatusBadRequest, ReasonMissingCallID, "missing callId: the signature cannot be verified")
	case cb.Signed():
		if !cb.Verify(a.secrets) {
			return in.reject("", http.StatusUnauthorized, ReasonBadSignature, "signature does not match")
		}
		ev = cb.Decode(receiveTime, in.store)
	default:
		ev = cb.Decode(receiveTime, in.store)
		if len(a.unsigned) == 0 || !selector.MatchesAny(a.unsigned, ev.GetSelector()) {
			return in.reject(ev.GetSelector(), http.StatusUnauthorized, ReasonUnsigned, "missing signature")
		}
		verification = imbridgev1.Verification_VERIFICATION_UNSIGNED_ALLOWED
	}
	ev.Verification = verification
	ev.CallId = cb.DedupeID()
	if tol := in.opts.TimestampTolerance; tol > 0 {
		t, ok := cb.VendorTime()
		if d := in.opts.Now().Sub(t); !ok || d > tol || d < -tol {
			return in.reject(ev.GetSelector(), http.StatusUnauthorized, ReasonStale, "timestamp outside the accepted window")
		}
	}
	sel := ev.GetSelector()
	in.metrics.received.WithLabelValues(family(sel)).Inc()
	if (len(a.keep) > 0 && !selector.MatchesAny(a.keep, sel)) || (len(a.drop) > 0 && selector.MatchesAny(a.drop, sel)) {
		in.metrics.dropped.WithLabelValues(family(sel)).Inc()
		return Outcome{Status: http.StatusOK, Result: "dropped", Selector: sel}
	}
	return in.append(ctx, ev)
}

func (in *Ingester) append(ctx context.Context, ev *imbridgev1.Event) Outcome {
	sel := ev.GetSelector()
	if proto.Size(ev) > min(in.store.MaxEventBytes(), MaxEventBytes) {
		// A body under the webhook limit can still decode into several
		// times its size (JSON numbers grow as protobuf Values). Keep the
		// raw body rather than refusing the callback forever.
		keepRawOnly(ev)
	}
	ctx, cancel := context.WithTimeout(ctx, in.opts.AppendTimeout)
	defer cancel()
	if m := ev.GetMuc(); m.GetIsChatroom() {
		gid := ev.GetGroupId()
		if gid == "" {
			gid = m.GetMucId().GetGroupId()
		}
		// Learned before the append, so that once a 200 is sent the
		// chatroom is known to every later message.
		if gid != "" && !in.store.IsChatroom(ev.GetAppkey(), gid) {
			if err := in.store.MarkChatroom(ctx, ev.GetAppkey(), gid); err != nil {
				return in.unavailable(sel, err)
			}
		}
	}
	start := time.Now()
	cursor, dup, err := in.store.Append(ctx, ev)
	in.metrics.appendSeconds.Observe(time.Since(start).Seconds())
	if err != nil {
		return in.unavailable(sel, err)
	}
	if dup {
		in.metrics.duplicate.WithLabelValues(family(sel)).Inc()
		return Outcome{Status: http.StatusOK, Result: "duplicate", Cursor: cursor, Selector: sel}
	}
	in.metrics.stored.WithLabelValues(family(sel)).Inc()
	return Outcome{Status: http.StatusOK, Result: "stored", Cursor: cursor, Selector: sel}
}

// keepRawOnly replaces an event's typed body by an UnknownEvent that names
// why; the selector and envelope stay, and raw_body has every byte.
func keepRawOnly(ev *imbridgev1.Event) {
	ev.Body = &imbridgev1.Event_Unknown{Unknown: &imbridgev1.UnknownEvent{
		Reason: "decoded event too large for the event log; the typed body is left out, raw_body has the request",
	}}
}

func (in *Ingester) unavailable(sel string, err error) Outcome {
	msg := "event log unavailable; retry"
	if errors.Is(err, context.DeadlineExceeded) {
		msg = "event log did not answer in time; retry"
	}
	if in.opts.Logger != nil {
		in.opts.Logger.Error("callback not stored", "selector", sel, "err", err)
	}
	return in.reject(sel, http.StatusServiceUnavailable, ReasonUnavailable, msg)
}

func (in *Ingester) reject(sel string, status int, reason, msg string) Outcome {
	in.metrics.rejected.WithLabelValues(family(sel), reason).Inc()
	if in.opts.Logger != nil && status != http.StatusServiceUnavailable {
		in.opts.Logger.Warn("callback rejected", "status", status, "reason", reason, "selector", sel)
	}
	return Outcome{Status: status, Result: reason, Message: msg, Selector: sel}
}

// family is the metrics label of a selector: its family, or `none` when the
// callback was rejected before it was decoded.
func family(sel string) string {
	if sel == "" {
		return "none"
	}
	f, _, _ := strings.Cut(sel, ":")
	return f
}

type metrics struct {
	received, stored, duplicate, dropped *prometheus.CounterVec
	rejected                             *prometheus.CounterVec
	appendSeconds                        prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "imbridge", Subsystem: "callbacks", Name: name, Help: help}, labels)
	}
	m := &metrics{
		received:  counter("received_total", "Authenticated callbacks, by selector family.", "family"),
		stored:    counter("stored_total", "Callbacks appended to the event log, by selector family.", "family"),
		duplicate: counter("duplicate_total", "Callbacks whose callId was already stored, by selector family.", "family"),
		dropped:   counter("dropped_total", "Callbacks answered 200 but not stored because an ingest filter rule dropped them, by selector family.", "family"),
		rejected:  counter("rejected_total", "Callbacks not accepted, by selector family (none when not decoded) and reason.", "family", "reason"),
		appendSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "imbridge", Subsystem: "callbacks", Name: "append_seconds",
			Help:    "Time to append a callback to the event log, acknowledgement included.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.received, m.stored, m.duplicate, m.dropped, m.rejected, m.appendSeconds} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}
