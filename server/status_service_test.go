package server

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/eventlog"
	"github.com/imbridge/imbridge/internal/ingest"
	"github.com/imbridge/imbridge/internal/testwait"
)

// statusStore is a StatusStore with a fixed head and no subscriptions.
type statusStore struct{ head uint64 }

func (s statusStore) Head(context.Context) (uint64, error) { return s.head, nil }
func (statusStore) Epoch() string                          { return "e1" }
func (statusStore) ListSubscriptions(context.Context, string) ([]*eventlog.SubscriptionInfo, error) {
	return nil, nil
}

func (r *running) status(t *testing.T) *imbridgev1.GetStatusResponse {
	t.Helper()
	resp, err := imbridgev1.NewStatusServiceClient(r.conn).GetStatus(ctxT(t), &imbridgev1.GetStatusRequest{})
	if err != nil {
		t.Fatalf("GetStatus: %v", err)
	}
	return resp
}

// The counters are read off the registry by their names and labels, as
// package ingest defines them: only those with a count, sorted, and the
// family of a callback refused before it was known is empty.
func TestStatusReadsTheCallbackCounters(t *testing.T) {
	reg := prometheus.NewRegistry()
	vec := func(name string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: name}, labels)
		reg.MustRegister(c)
		return c
	}
	received, stored := vec(ingest.MetricReceived, "family"), vec(ingest.MetricStored, "family")
	duplicate, dropped := vec(ingest.MetricDuplicate, "family"), vec(ingest.MetricDropped, "family")
	rejected := vec(ingest.MetricRejected, "family", "reason")
	other := vec("imbridge_other_total", "family")
	received.WithLabelValues("roster").Add(2)
	received.WithLabelValues("chat").Add(5)
	received.WithLabelValues("muc") // no count: not listed
	stored.WithLabelValues("chat").Add(3)
	duplicate.WithLabelValues("chat").Add(1)
	dropped.WithLabelValues("roster").Add(2)
	other.WithLabelValues("groupchat").Add(9)
	rejected.WithLabelValues("none", "bad_signature").Add(4)
	rejected.WithLabelValues("muc", "stale_timestamp").Add(1)
	rejected.WithLabelValues("chat", "stale_timestamp").Add(2)
	rejected.WithLabelValues("none", "malformed").Add(1)
	rejected.WithLabelValues("chat", "internal") // no count

	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := serve(t, Options{Events: &EventService{Store: &fakeStore{}}, Chatrooms: &ChatroomService{},
		Status: &StatusService{Store: statusStore{head: 42}, Metrics: reg, StartTime: start}})
	got := r.status(t)
	want := &imbridgev1.GetStatusResponse{
		HeadCursor: 42, Epoch: "e1",
		Callbacks: []*imbridgev1.CallbackCounts{
			{Family: "chat", Received: 5, Stored: 3, Duplicate: 1},
			{Family: "roster", Received: 2, Dropped: 2},
		},
		Refusals: []*imbridgev1.RefusalCount{
			{Reason: "bad_signature", Count: 4},
			{Reason: "malformed", Count: 1},
			{Reason: "stale_timestamp", Family: "chat", Count: 2},
			{Reason: "stale_timestamp", Family: "muc", Count: 1},
		},
	}
	if d := cmp.Diff(want, got, protocmp.Transform(), protocmp.IgnoreFields(&imbridgev1.GetStatusResponse{}, "read_time", "start_time")); d != "" {
		t.Errorf("GetStatus (-want +got):\n%s", d)
	}
	if !got.GetStartTime().AsTime().Equal(start) || got.GetReadTime().AsTime().Before(start) {
		t.Errorf("start_time %v read_time %v, want %v and later", got.GetStartTime().AsTime(), got.GetReadTime().AsTime(), start)
	}
}

func TestStatusWithoutAServiceIsUnimplemented(t *testing.T) {
	r := start(t, &EventService{Store: &fakeStore{}})
	_, err := imbridgev1.NewStatusServiceClient(r.conn).GetStatus(ctxT(t), &imbridgev1.GetStatusRequest{})
	wantStatus(t, err, codes.Unimplemented, "UNIMPLEMENTED", nil)
}

// A stream is listed from where it starts: behind by the whole log from
// the earliest, by what follows its cursor when it resumes, not at all
// from the newest end; until it examines more, its lag stays.
func TestStatusStreamsStartWhereTheyStart(t *testing.T) {
	l := openLog(t)
	events := &EventService{Store: l}
	r := serve(t, Options{Events: events, Chatrooms: &ChatroomService{},
		Status: &StatusService{Store: l, Metrics: prometheus.NewRegistry(), Events: events}})
	appendEvents(t, l, "e", 3, 0)
	none := &imbridgev1.EventFilter{Selectors: []string{"muc"}} // nothing to send
	earliest := &imbridgev1.SubscribeEventsRequest_Position{Position: imbridgev1.StartPosition_START_POSITION_EARLIEST}
	for i, req := range []*imbridgev1.SubscribeEventsRequest{
		{Parent: "orgs/org/apps/app", Filter: none, Start: earliest},
		{Parent: "orgs/org/apps/app", Filter: none, Start: &imbridgev1.SubscribeEventsRequest_AfterCursor{AfterCursor: 1}, Epoch: l.Epoch()},
		{Parent: allApps},
	} {
		ctx, cancel := context.WithCancel(ctxT(t))
		defer cancel()
		req.HeartbeatInterval = durationpb.New(maxHeartbeat) // no heartbeat tells more during the test
		if _, err := r.events().SubscribeEvents(ctx, req); err != nil {
			t.Fatal(err)
		}
		// Listed before the next opens: the order is the server's.
		testwait.For(t, time.Minute, 10*time.Millisecond, func() error {
			if n := len(r.status(t).GetStreams()); n != i+1 {
				return fmt.Errorf("%d streams listed, want %d", n, i+1)
			}
			return nil
		})
	}
	want := []*imbridgev1.StreamStatus{
		{Source: "orgs/org/apps/app", Filter: none, Lag: 3},
		{Source: "orgs/org/apps/app", Filter: none, ScannedCursor: 1, Lag: 2},
		{Source: allApps, ScannedCursor: 3},
	}
	testwait.For(t, time.Minute, 10*time.Millisecond, func() error {
		got := r.status(t)
		if got.GetHeadCursor() != 3 {
			return fmt.Errorf("head %d, want 3", got.GetHeadCursor())
		}
		if d := cmp.Diff(want, got.GetStreams(), protocmp.Transform(), protocmp.IgnoreFields(&imbridgev1.StreamStatus{}, "open_time")); d != "" {
			return fmt.Errorf("streams (-want +got):\n%s", d)
		}
		return nil
	})
}

// Streams open and close while events are sent and GetStatus reads them:
// race-free (under -race), and a stream that ends is not listed any more.
func TestStatusStreamsOpenAndClose(t *testing.T) {
	l := openLog(t)
	events := &EventService{Store: l}
	r := serve(t, Options{Events: events, Chatrooms: &ChatroomService{},
		Status: &StatusService{Store: l, Metrics: prometheus.NewRegistry(), Events: events}})
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 4 {
		wg.Go(func() {
			for range 3 {
				sctx, stop := context.WithCancel(ctx)
				s, err := r.events().SubscribeEvents(sctx, &imbridgev1.SubscribeEventsRequest{Parent: allApps,
					HeartbeatInterval: durationpb.New(minHeartbeat)})
				if err == nil {
					_, err = s.Recv() // an event or a heartbeat
				}
				stop()
				if err != nil {
					errs <- fmt.Errorf("stream of reader %d: %w", i, err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 20 {
			if _, _, err := l.Append(ctx, &imbridgev1.Event{CallId: fmt.Sprintf("org#app_r%d", i), Appkey: "org#app", Selector: "chat:txt"}); err != nil {
				errs <- err
				return
			}
		}
	})
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for reading := true; reading; {
		select {
		case <-done:
			reading = false
		default:
		}
		for _, st := range r.status(t).GetStreams() {
			if st.GetSource() != allApps || st.GetScannedCursor() > 20 {
				t.Fatalf("stream %v", st)
			}
		}
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	testwait.For(t, time.Minute, 10*time.Millisecond, func() error {
		if n := len(r.status(t).GetStreams()); n != 0 {
			return fmt.Errorf("%d streams listed after every stream ended", n)
		}
		return nil
	})
	if n := len(events.open.list()); n != 0 {
		t.Errorf("%d streams left in the registry", n)
	}
}

// A key limited to apps is let through to GetStatus, which names no app,
// and sees the streams of its apps only; a key without the events scope is
// refused.
func TestStatusKeys(t *testing.T) {
	keys, err := NewScopedAPIKeys([]KeyGrant{
		{Key: "admin"},
		{Key: "acme", Scopes: []string{ScopeEvents}, Apps: []string{"acme#chat"}},
		{Key: "rooms", Scopes: []string{ScopeChatrooms}},
	})
	if err != nil {
		t.Fatal(err)
	}
	l := openLog(t)
	events := &EventService{Store: l}
	r := serve(t, Options{Keys: keys, Events: events, Chatrooms: &ChatroomService{},
		Status: &StatusService{Store: l, Metrics: prometheus.NewRegistry(), Events: events}})
	for _, parent := range []string{"orgs/acme/apps/chat", "orgs/other/apps/x", allApps} {
		ctx, cancel := context.WithCancel(withKey(ctxT(t), "admin"))
		defer cancel()
		if err := firstOf(ctx, r, &imbridgev1.SubscribeEventsRequest{Parent: parent, HeartbeatInterval: durationpb.New(minHeartbeat)}); err != nil {
			t.Fatal(err)
		}
	}
	sources := func(key string) ([]string, error) {
		resp, err := imbridgev1.NewStatusServiceClient(r.conn).GetStatus(withKey(ctxT(t), key), &imbridgev1.GetStatusRequest{})
		var out []string
		for _, st := range resp.GetStreams() {
			out = append(out, st.GetSource())
		}
		return out, err
	}
	testwait.For(t, time.Minute, 10*time.Millisecond, func() error {
		got, err := sources("admin")
		if err != nil || len(got) != 3 {
			return fmt.Errorf("admin sees streams %v (%v), want 3", got, err)
		}
		return nil
	})
	if got, err := sources("acme"); err != nil || fmt.Sprint(got) != "[orgs/acme/apps/chat]" {
		t.Errorf("acme sees streams %v (%v), want its app's only", got, err)
	}
	_, err = sources("rooms")
	wantStatus(t, err, codes.PermissionDenied, ReasonPermissionDenied, nil)
	_, err = sources("")
	wantStatus(t, err, codes.Unauthenticated, ReasonUnauthenticated, nil)
}
