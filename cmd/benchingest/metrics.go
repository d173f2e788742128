package main

import (
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/imbridge/imbridge/internal/ingest"
)

// imbridge's own metrics (ingest.MetricStored, ingest.MetricAppendSeconds),
// read from its /metrics: what it stored, and how long its appends took,
// which splits a latency between the event log and everything around it
// (HTTP, decoding, scheduling).

// scrape reads the metric families served at url.
func scrape(url string) (map[string]*dto.MetricFamily, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	return fams, nil
}

// storedTotal returns imbridge's imbridge_callbacks_stored_total series,
// one line each as /metrics writes them, and the sum of their values.
func storedTotal(url string) (lines []string, sum float64, err error) {
	fams, err := scrape(url)
	if err != nil {
		return nil, 0, err
	}
	for _, m := range fams[ingest.MetricStored].GetMetric() {
		var labels []string
		for _, l := range m.GetLabel() {
			labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
		}
		v := m.GetCounter().GetValue()
		lines = append(lines, fmt.Sprintf("%s{%s} %.0f", ingest.MetricStored, strings.Join(labels, ","), v))
		sum += v
	}
	return lines, sum, nil
}

// histogram is a Prometheus histogram's cumulative buckets: counts[i]
// observations were at most bounds[i] seconds.
type histogram struct {
	bounds []float64
	counts []uint64
}

// appendHistogram reads imbridge_callbacks_append_seconds.
func appendHistogram(url string) (histogram, error) {
	fams, err := scrape(url)
	if err != nil {
		return histogram{}, err
	}
	ms := fams[ingest.MetricAppendSeconds].GetMetric()
	if len(ms) != 1 {
		return histogram{}, fmt.Errorf("%s: %d series, want 1", ingest.MetricAppendSeconds, len(ms))
	}
	var h histogram
	for _, b := range ms[0].GetHistogram().GetBucket() {
		if math.IsInf(b.GetUpperBound(), 1) {
			continue // the text format lists +Inf: the sample count, added below
		}
		h.bounds = append(h.bounds, b.GetUpperBound())
		h.counts = append(h.counts, b.GetCumulativeCount())
	}
	h.bounds = append(h.bounds, math.Inf(1))
	h.counts = append(h.counts, ms[0].GetHistogram().GetSampleCount())
	return h, nil
}

// since is the observations made after before was read (all of them
// when before is empty).
func (h histogram) since(before histogram) histogram {
	d := histogram{bounds: h.bounds, counts: make([]uint64, len(h.counts))}
	for i := range h.counts {
		d.counts[i] = h.counts[i]
		if i < len(before.counts) {
			d.counts[i] -= before.counts[i]
		}
	}
	return d
}

// quantile estimates the q-quantile as Prometheus's histogram_quantile
// does: linear within the bucket that holds it; the largest finite bound
// when it falls in the last, unbounded one; NaN without observations.
func (h histogram) quantile(q float64) float64 {
	n := len(h.counts)
	if n == 0 || h.counts[n-1] == 0 {
		return math.NaN()
	}
	rank := q * float64(h.counts[n-1])
	i := sort.Search(n, func(i int) bool { return float64(h.counts[i]) >= rank })
	if i == n-1 {
		return h.bounds[n-2]
	}
	lo, below := 0.0, uint64(0)
	if i > 0 {
		lo, below = h.bounds[i-1], h.counts[i-1]
	}
	in := h.counts[i] - below
	if in == 0 {
		return h.bounds[i]
	}
	return lo + (h.bounds[i]-lo)*(rank-float64(below))/float64(in)
}
