package app_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/config"
	"github.com/imbridge/imbridge/internal/testwait"
	"github.com/imbridge/imbridge/internal/trigger"
)

// Keys of TestStatus besides testKey.
const (
	acmeReader  = "acme-reader-key"  // events, acme#chat only
	roomsReader = "rooms-reader-key" // chatrooms:read only
)

// getStatus calls GetStatus over gRPC with key.
func (r *running) getStatus(t *testing.T, key string) *imbridgev1.GetStatusResponse {
	t.Helper()
	resp, err := imbridgev1.NewStatusServiceClient(r.conn).GetStatus(withKey(ctxT(t), key), &imbridgev1.GetStatusRequest{})
	if err != nil {
		t.Fatalf("GetStatus: %v", err)
	}
	return resp
}

// restStatus calls GET /v1/status with key.
func (r *running) restStatus(t *testing.T, key string) (*imbridgev1.GetStatusResponse, string) {
	t.Helper()
	res := httpGet(t, "http://"+r.app.HTTPAddr().String()+"/v1/status", key)
	if res.code != http.StatusOK {
		t.Fatalf("GET /v1/status = %d %s", res.code, res.body)
	}
	resp := &imbridgev1.GetStatusResponse{}
	if err := protojson.Unmarshal([]byte(res.body), resp); err != nil {
		t.Fatalf("GET /v1/status: %v in %s", err, res.body)
	}
	return resp, res.body
}

// The counters, the head, the open streams and the subscriptions, over
// gRPC and REST, as each key may see them.
func TestStatus(t *testing.T) {
	cfg := ingestConfig(t)
	cfg.Apps = append(cfg.Apps, config.App{Appkey: "beta#app", Secrets: []string{"beta-secret"}})
	cfg.APIKeys = append(cfg.APIKeys,
		config.APIKey{Key: acmeReader, Scopes: []string{"events"}, Apps: []string{appkey}},
		config.APIKey{Key: roomsReader, Scopes: []string{"chatrooms:read"}})
	r := start(t, cfg)
	events := imbridgev1.NewEventServiceClient(r.conn)

	empty := r.getStatus(t, testKey)
	if empty.GetHeadCursor() != 0 || empty.GetEpoch() == "" || len(empty.GetCallbacks())+len(empty.GetRefusals())+len(empty.GetStreams())+len(empty.GetSubscriptions()) != 0 {
		t.Errorf("status of a new process: %v", empty)
	}
	if st, rt := empty.GetStartTime().AsTime(), empty.GetReadTime().AsTime(); st.IsZero() || rt.Before(st) {
		t.Errorf("start_time %v, read_time %v: want a start before the read", st, rt)
	}

	// Two families, a retry of the same callback, and one with a bad
	// signature.
	chat := build(t, "chat:txt", trigger.Options{})[0]
	for _, body := range [][]byte{chat, chat, build(t, "muc:kick", trigger.Options{})[0]} {
		if res := r.post(t, body); res.code != http.StatusOK {
			t.Fatalf("POST = %d %s", res.code, res.body)
		}
	}
	if res := r.post(t, build(t, "chat:txt", trigger.Options{Tamper: true})[0]); res.code != http.StatusUnauthorized {
		t.Fatalf("POST tampered = %d %s, want 401", res.code, res.body)
	}
	want := &imbridgev1.GetStatusResponse{
		HeadCursor: 2,
		Epoch:      empty.GetEpoch(),
		Callbacks: []*imbridgev1.CallbackCounts{
			{Family: "chat", Received: 2, Stored: 1, Duplicate: 1},
			{Family: "muc", Received: 1, Stored: 1},
		},
		Refusals: []*imbridgev1.RefusalCount{{Reason: "bad_signature", Count: 1}},
	}
	ignoreTimes := protocmp.IgnoreFields(&imbridgev1.GetStatusResponse{}, "read_time", "start_time")
	got := r.getStatus(t, testKey)
	if d := cmp.Diff(want, got, protocmp.Transform(), ignoreTimes); d != "" {
		t.Errorf("GetStatus (-want +got):\n%s", d)
	}
	if !proto.Equal(got.GetStartTime(), empty.GetStartTime()) || got.GetReadTime().AsTime().Before(empty.GetReadTime().AsTime()) {
		t.Errorf("start_time %v then %v, read_time %v then %v", empty.GetStartTime().AsTime(), got.GetStartTime().AsTime(),
			empty.GetReadTime().AsTime(), got.GetReadTime().AsTime())
	}
	rest, body := r.restStatus(t, testKey)
	if d := cmp.Diff(want, rest, protocmp.Transform(), ignoreTimes); d != "" {
		t.Errorf("GET /v1/status (-want +got):\n%s", d)
	}
	if !strings.Contains(body, `"streams":[]`) || !strings.Contains(body, `"headCursor":"2"`) {
		t.Errorf("GET /v1/status = %s: want headCursor \"2\" and an empty streams list", body)
	}

	// Keys: none, or one without the events scope, is refused.
	_, err := imbridgev1.NewStatusServiceClient(r.conn).GetStatus(ctxT(t), &imbridgev1.GetStatusRequest{})
	if status.Code(err) != codes.Unauthenticated || errorReason(err) != "UNAUTHENTICATED" {
		t.Errorf("GetStatus without a key = %v, want UNAUTHENTICATED", err)
	}
	_, err = imbridgev1.NewStatusServiceClient(r.conn).GetStatus(withKey(ctxT(t), roomsReader), &imbridgev1.GetStatusRequest{})
	if status.Code(err) != codes.PermissionDenied || errorReason(err) != "PERMISSION_DENIED" {
		t.Errorf("GetStatus with a chatrooms:read key = %v, want PERMISSION_DENIED", err)
	}
	base := "http://" + r.app.HTTPAddr().String()
	if res := httpGet(t, base+"/v1/status", ""); res.code != http.StatusUnauthorized {
		t.Errorf("GET /v1/status without a key = %d %s, want 401", res.code, res.body)
	}
	if res := httpGet(t, base+"/v1/status", roomsReader); res.code != http.StatusForbidden || !strings.Contains(res.body, "PERMISSION_DENIED") {
		t.Errorf("GET /v1/status with a chatrooms:read key = %d %s, want 403 PERMISSION_DENIED", res.code, res.body)
	}

	// Subscriptions of both apps, and of an app this process does not take
	// callbacks for (another process's on a cluster), with their backlog
	// as GetSubscription tells it; an app-limited key sees its app's only.
	var subs []*imbridgev1.Subscription
	for _, c := range []struct{ parent, id string }{{"orgs/beta/apps/app", "s2"}, {appParent, "s1"}, {"orgs/gamma/apps/elsewhere", "s3"}} {
		_, err := events.CreateSubscription(withKey(ctxT(t), testKey), &imbridgev1.CreateSubscriptionRequest{
			Parent: c.parent, SubscriptionId: c.id, Subscription: &imbridgev1.Subscription{
				Filter: &imbridgev1.EventFilter{Selectors: []string{"chat"}}, StartPosition: imbridgev1.StartPosition_START_POSITION_EARLIEST,
			}})
		if err != nil {
			t.Fatalf("CreateSubscription %s: %v", c.id, err)
		}
		resp, err := events.GetSubscription(withKey(ctxT(t), testKey), &imbridgev1.GetSubscriptionRequest{Name: c.parent + "/subscriptions/" + c.id})
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, resp.GetSubscription())
	}
	slices.SortFunc(subs, func(a, b *imbridgev1.Subscription) int { return strings.Compare(a.GetName(), b.GetName()) }) // acme's first
	if subs[0].GetBacklog() != 1 {
		t.Errorf("%s backlog %d, want 1 (the chat event)", subs[0].GetName(), subs[0].GetBacklog())
	}
	if d := cmp.Diff(subs, r.getStatus(t, testKey).GetSubscriptions(), protocmp.Transform()); d != "" {
		t.Errorf("subscriptions (-GetSubscription +GetStatus):\n%s", d)
	}
	if d := cmp.Diff(subs[:1], r.getStatus(t, acmeReader).GetSubscriptions(), protocmp.Transform()); d != "" {
		t.Errorf("subscriptions an acme key sees (-want +got):\n%s", d)
	}

	// Streams: one of chat events in acme, one of every app; each is
	// listed with its filter, in the order they opened, and catches up.
	chatFilter := &imbridgev1.EventFilter{Selectors: []string{"chat"}}
	plain, stopPlain := r.subscribe(t, &imbridgev1.SubscribeEventsRequest{Parent: appParent, Filter: chatFilter,
		Start: &imbridgev1.SubscribeEventsRequest_Position{Position: imbridgev1.StartPosition_START_POSITION_EARLIEST}})
	if ev := nextEvent(t, plain); ev.GetCursor() != 1 {
		t.Fatalf("first event of the chat stream: cursor %d, want 1", ev.GetCursor())
	}
	every, stopEvery := r.subscribe(t, &imbridgev1.SubscribeEventsRequest{Parent: allApps})
	defer stopEvery()
	streams := func(key string, want ...*imbridgev1.StreamStatus) func() error {
		return func() error {
			got := r.getStatus(t, key).GetStreams()
			for i, st := range got {
				if i > 0 && st.GetOpenTime().AsTime().Before(got[i-1].GetOpenTime().AsTime()) {
					return fmt.Errorf("streams not in the order they opened: %v", got)
				}
			}
			return diff(want, got, protocmp.IgnoreFields(&imbridgev1.StreamStatus{}, "open_time"))
		}
	}
	testwait.For(t, time.Minute, 20*time.Millisecond, streams(testKey,
		&imbridgev1.StreamStatus{Source: appParent, Filter: chatFilter, ScannedCursor: 2, Sent: 1},
		&imbridgev1.StreamStatus{Source: allApps, ScannedCursor: 2}))
	// An app-limited key sees the streams of its app only.
	testwait.For(t, time.Minute, 20*time.Millisecond, streams(acmeReader,
		&imbridgev1.StreamStatus{Source: appParent, Filter: chatFilter, ScannedCursor: 2, Sent: 1}))

	// A new event: both streams send it, and their lag goes back to 0.
	if res := r.post(t, build(t, "chat:txt", trigger.Options{})[0]); res.code != http.StatusOK {
		t.Fatalf("POST = %d %s", res.code, res.body)
	}
	if ev := nextEvent(t, every); ev.GetCursor() != 3 {
		t.Fatalf("event of the every-app stream: cursor %d, want 3", ev.GetCursor())
	}
	testwait.For(t, time.Minute, 20*time.Millisecond, streams(testKey,
		&imbridgev1.StreamStatus{Source: appParent, Filter: chatFilter, ScannedCursor: 3, Sent: 2},
		&imbridgev1.StreamStatus{Source: allApps, ScannedCursor: 3, Sent: 1}))

	// A member of a subscription is listed by its subscription, with its
	// filter; a stream that ends is not listed any more.
	member, stopMember := r.subscribe(t, &imbridgev1.SubscribeEventsRequest{Subscription: subs[0].GetName()})
	defer stopMember()
	if ev := nextEvent(t, member); ev.GetCursor() != 1 {
		t.Fatalf("first event of the member: cursor %d, want 1", ev.GetCursor())
	}
	stopPlain()
	testwait.For(t, time.Minute, 20*time.Millisecond, func() error {
		got := r.getStatus(t, testKey).GetStreams()
		if len(got) != 2 || got[0].GetSource() != allApps || got[1].GetSource() != subs[0].GetName() ||
			!proto.Equal(got[1].GetFilter(), chatFilter) || got[1].GetSent() == 0 {
			return fmt.Errorf("streams %v: want the every-app stream, then the member of %s with its filter", got, subs[0].GetName())
		}
		return nil
	})
	rest, _ = r.restStatus(t, testKey)
	if len(rest.GetStreams()) != 2 || rest.GetStreams()[1].GetSource() != subs[0].GetName() {
		t.Errorf("GET /v1/status streams %v: want the every-app stream and the member", rest.GetStreams())
	}
}

// subscribe opens a stream with testKey and 250ms heartbeats (few enough
// that a stream the test does not read never fills its flow-control
// window); stop ends it (also at the end of the test).
func (r *running) subscribe(t *testing.T, req *imbridgev1.SubscribeEventsRequest) (grpc.ServerStreamingClient[imbridgev1.SubscribeEventsResponse], func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(withKey(ctxT(t), testKey))
	t.Cleanup(cancel)
	req.HeartbeatInterval = durationpb.New(250 * time.Millisecond)
	s, err := imbridgev1.NewEventServiceClient(r.conn).SubscribeEvents(ctx, req)
	if err != nil {
		t.Fatalf("SubscribeEvents: %v", err)
	}
	return s, cancel
}

// nextEvent reads a stream up to its next event.
func nextEvent(t *testing.T, s grpc.ServerStreamingClient[imbridgev1.SubscribeEventsResponse]) *imbridgev1.Event {
	t.Helper()
	for {
		m, err := s.Recv()
		if err != nil {
			t.Fatalf("Recv: %v", err)
		}
		if ev := m.GetEvent(); ev != nil {
			return ev
		}
	}
}

// diff is cmp.Diff of protos as an error.
func diff(want, got any, opts ...cmp.Option) error {
	if d := cmp.Diff(want, got, append(opts, protocmp.Transform())...); d != "" {
		return fmt.Errorf("(-want +got):\n%s", d)
	}
	return nil
}
