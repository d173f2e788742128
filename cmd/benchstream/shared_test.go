package main

import (
	"context"
	"testing"
	"time"

	"github.com/imbridge/imbridge/internal/trigger"
)

// The shared phase's two targets, on a fresh log, each take every stored
// event once and acknowledge it, in two rounds on fresh subscriptions
// (and under the race detector in make test).
func TestSharedTargetsTakeEveryEventOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	o := options{apiKey: "bench-key", appkey: "bench#stream", secret: "bench-secret"}
	stop, grpcAddr, webhook, natsURL, err := startImbridge(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if err := waitServing(ctx, grpcAddr); err != nil {
		t.Fatal(err)
	}
	p := newPoster(webhook, 8)
	defer p.client.CloseIdleConnections()
	cb, err := makeCallbacks(300, trigger.Options{Appkey: o.appkey, Secret: o.secret, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	st, err := storeAll(p, cb, 8)
	if err != nil {
		t.Fatal(err)
	}
	spec := fanSpec{lo: st.lo, hi: st.hi, want: 300, timeout: time.Minute}
	if why := sharedUnequal(spec); why != "" {
		t.Fatal(why)
	}
	if sharedUnequal(fanSpec{lo: 401, hi: 600}) == "" {
		t.Error("a log that held events before the run's would compare unequal work, and is not refused")
	}
	ictx := withKey(ctx, o.apiKey)
	for range 2 {
		js := sharedJetStream(ictx, natsURL, spec, 3, 50)
		im := sharedImbridge(ictx, grpcAddr, "orgs/bench/apps/stream", spec, 3, 50, 2)
		for _, r := range []*sharedRun{js, im} {
			if f := r.failures(); f != "" {
				t.Errorf("%s: %s", r.target, f)
			}
			if r.deliveries != 300 {
				t.Errorf("%s: %d deliveries", r.target, r.deliveries)
			}
		}
	}
}
