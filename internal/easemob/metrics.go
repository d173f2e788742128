package easemob

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are labelled by appkey and operation only: never a token, a secret
// or a user ID.
type metrics struct {
	requests      *prometheus.CounterVec   // app, op, outcome
	seconds       *prometheus.HistogramVec // app, op
	retries       *prometheus.CounterVec   // app, op, reason
	tokenFetches  *prometheus.CounterVec   // app, outcome
	limitWaits    *prometheus.CounterVec   // app, op
	limitWaitSecs *prometheus.CounterVec   // app, op
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "imbridge", Subsystem: "easemob", Name: name, Help: help}, labels)
	}
	m := &metrics{
		requests: counter("requests_total", "Calls to the vendor REST API, by app, operation and outcome (ok, vendor_error, rate_limited, unavailable, outcome_unknown, canceled, deadline, invalid, bad_response).", "app", "op", "outcome"),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "imbridge", Subsystem: "easemob", Name: "request_seconds",
			Help:    "Time of a call to the vendor, retries and waits included.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"app", "op"}),
		retries:       counter("retries_total", "Attempts repeated, by app, operation and reason (status_429, status_5xx, transport, token_refresh).", "app", "op", "reason"),
		tokenFetches:  counter("token_fetches_total", "App-token fetches, by app and outcome (ok, error).", "app", "outcome"),
		limitWaits:    counter("rate_limit_waits_total", "Calls that waited for the client-side rate limit, by app and operation.", "app", "op"),
		limitWaitSecs: counter("rate_limit_wait_seconds_total", "Time spent waiting for the client-side rate limit, by app and operation.", "app", "op"),
	}
	if reg == nil {
		return m, nil
	}
	errs := []error{
		registerVec(reg, &m.requests), registerVec(reg, &m.seconds), registerVec(reg, &m.retries),
		registerVec(reg, &m.tokenFetches), registerVec(reg, &m.limitWaits), registerVec(reg, &m.limitWaitSecs),
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("easemob: metrics: %w", err)
	}
	return m, nil
}

// registerVec registers *c, or points *c at the collector already registered
// under its name (a second Client on the same registry).
func registerVec[T prometheus.Collector](reg prometheus.Registerer, c *T) error {
	err := reg.Register(*c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if ex, ok := are.ExistingCollector.(T); ok {
			*c = ex
			return nil
		}
	}
	return err
}

// outcome is the metrics label of a call's result.
func outcome(err error) string {
	var ve *Error
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrInvalidArgument):
		return "invalid"
	case errors.Is(err, ErrRateLimited):
		return "rate_limited"
	case errors.Is(err, ErrOutcomeUnknown):
		return "outcome_unknown"
	case errors.Is(err, ErrUnavailable):
		return "unavailable"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline"
	case errors.Is(err, ErrUnexpectedResponse):
		return "bad_response"
	case errors.As(err, &ve):
		return "vendor_error"
	}
	return "error"
}

func (m *metrics) done(app, op string, err error, d time.Duration) {
	m.requests.WithLabelValues(app, op, outcome(err)).Inc()
	m.seconds.WithLabelValues(app, op).Observe(d.Seconds())
}
