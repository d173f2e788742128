package main

import (
	"math"
	"testing"
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
