package ingest

import "github.com/prometheus/client_golang/prometheus"

// RejectedCounter is the rejected counter of a family and refusal, for
// tests.
func (in *Ingester) RejectedCounter(family string, r Refusal) prometheus.Counter {
	return in.metrics.rejected.WithLabelValues(family, string(r))
}
