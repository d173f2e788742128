package main

import (
	"math"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/imbridge/imbridge/internal/ingest"
)

// The append-time quantiles the report prints are Prometheus's
// histogram_quantile: linear within a bucket, the largest finite bound for
// the unbounded one, and only what was observed between two reads.
func TestHistogramQuantile(t *testing.T) {
	bounds := []float64{1, 2, 4, math.Inf(1)}
	before := histogram{bounds: bounds, counts: []uint64{5, 5, 5, 5}}
	after := histogram{bounds: bounds, counts: []uint64{15, 25, 25, 25}}
	d := after.since(before)
	for _, c := range []struct{ q, want float64 }{{0.5, 1}, {0.75, 1.5}, {1, 2}, {0.25, 0.5}} {
		if got := d.quantile(c.q); got != c.want {
			t.Errorf("quantile(%g) = %g, want %g", c.q, got, c.want)
		}
	}
	if got, want := after.since(histogram{}).quantile(0.5), 12.5/15; math.Abs(got-want) > 1e-12 {
		t.Errorf("since nothing: quantile(0.5) = %g, want %g (the 13th of all 25 observations, in the first bucket of 15)", got, want)
	}
	tail := histogram{bounds: bounds, counts: []uint64{0, 0, 0, 5}}
	if got := tail.quantile(0.5); got != 4 {
		t.Errorf("all in the unbounded bucket: quantile(0.5) = %g, want the largest finite bound 4", got)
	}
	if got := (histogram{bounds: bounds, counts: make([]uint64, 4)}).quantile(0.99); !math.IsNaN(got) {
		t.Errorf("no observations: quantile = %g, want NaN", got)
	}
}

// Read from a /metrics page, whose text lists the +Inf bucket itself,
// observations past the largest finite bound still give that bound.
func TestAppendHistogramFromMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: ingest.MetricAppendSeconds, Buckets: []float64{1, 5}})
	reg.MustRegister(h)
	for range 10 {
		h.Observe(8)
	}
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	got, err := appendHistogram(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{1, 5, math.Inf(1)}; !slices.Equal(got.bounds, want) {
		t.Errorf("bounds %v, want %v", got.bounds, want)
	}
	if q := got.since(histogram{}).quantile(0.99); q != 5 {
		t.Errorf("p99 = %g, want the largest finite bound 5", q)
	}
}
