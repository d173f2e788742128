package main

import (
	"testing"
	"time"
)

// Nearest rank: of 1..100 ms the p99 is 99 ms, not the largest, and the
// p50 50 ms; of one value, every percentile is that value.
func TestPercentileNearestRank(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[int]time.Duration{99: 99 * time.Millisecond, 50: 50 * time.Millisecond, 100: 100 * time.Millisecond, 1: time.Millisecond} {
		if got := percentile(d, p); got != want {
			t.Errorf("p%d of 1..100 ms = %v, want %v", p, got, want)
		}
	}
	if got := percentile([]time.Duration{7}, 99); got != 7 {
		t.Errorf("p99 of one value = %v", got)
	}
}
