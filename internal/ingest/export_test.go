package ingest

import "github.com/prometheus/client_golang/prometheus"

// RejectedCounter is the rejected counter of a family and refusal, for
// tests.
func (in *Ingester) RejectedCounter(family string, r Refusal) prometheus.Counter {
	return in.metrics.rejected.WithLabelValues(family, string(r))
}

// DroppedCounter is imbridge_callbacks_dropped_total{family}.
func (in *Ingester) DroppedCounter(family string) prometheus.Counter {
	return in.metrics.dropped.WithLabelValues(family)
}
