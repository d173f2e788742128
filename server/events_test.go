package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/eventlog"
)

// openLog opens an embedded event log in a temporary directory.
func openLog(t *testing.T) *eventlog.Log {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := eventlog.Open(ctx, eventlog.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("eventlog.Open: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("eventlog Close: %v", err)
		}
	})
	return l
}

func TestGetEventAgainstARealLog(t *testing.T) {
	l := openLog(t)
	// Registered after openLog: the server stops before the log closes.
	r := start(t, &EventService{Store: l})
	ctx := ctxT(t)
	cursor, _, err := l.Append(ctx, &imbridgev1.Event{
		CallId: "org#app_1", Appkey: "org#app", Selector: "chat:txt",
		EventType: imbridgev1.EventType_EVENT_TYPE_CHAT, ReceiveTime: timestamppb.Now(),
	})
	if err != nil {
		t.Fatalf("Append: %v", err)
	}

	got, err := r.events().GetEvent(ctx, &imbridgev1.GetEventRequest{Cursor: cursor})
	if err != nil || got.GetEvent().GetCallId() != "org#app_1" {
		t.Fatalf("GetEvent(%d) = %v, %v", cursor, got, err)
	}
	if got, err := r.events().GetEvent(ctx, &imbridgev1.GetEventRequest{CallId: "org#app_1"}); err != nil || got.GetEvent().GetCursor() != cursor {
		t.Fatalf("GetEvent(call id) = %v, %v", got, err)
	}

	_, err = r.events().GetEvent(ctx, &imbridgev1.GetEventRequest{Cursor: cursor + 41})
	wantStatus(t, err, codes.NotFound, ReasonEventNotFound, map[string]string{"cursor": "42"})
	_, err = r.events().GetEvent(ctx, &imbridgev1.GetEventRequest{CallId: "org#app_never"})
	wantStatus(t, err, codes.NotFound, ReasonEventNotFound, map[string]string{"call_id": "org#app_never"})

	// A closed log is what a lost NATS connection looks like: retry.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = r.events().GetEvent(ctx, &imbridgev1.GetEventRequest{Cursor: cursor})
	wantStatus(t, err, codes.Unavailable, ReasonStoreUnavailable, nil)
}

// firstOf opens a stream and reads its first message.
func firstOf(ctx context.Context, r *running, req *imbridgev1.SubscribeEventsRequest) error {
	stream, err := r.events().SubscribeEvents(ctx, req)
	if err != nil {
		return err
	}
	_, err = stream.Recv()
	return err
}

func TestInvalidArgumentsNameTheField(t *testing.T) {
	r := start(t, &EventService{Store: &fakeStore{}})
	ctx := ctxT(t)
	cases := []struct {
		name  string
		call  func() error
		field string
	}{
		{"negative page size", func() error {
			_, err := r.events().ListEvents(ctx, &imbridgev1.ListEventsRequest{Parent: allApps, PageSize: -1})
			return err
		}, "page_size"},
		{"bad selector", func() error {
			_, err := r.events().ListEvents(ctx, &imbridgev1.ListEventsRequest{Parent: "orgs/acme/apps/chat", Filter: &imbridgev1.EventFilter{Selectors: []string{"chat", "no:such:thing"}}})
			return err
		}, "filter.selectors[1]"},
		{"foreign page token", func() error {
			_, err := r.events().ListEvents(ctx, &imbridgev1.ListEventsRequest{Parent: allApps, PageToken: "bm90LWEtdG9rZW4"})
			return err
		}, "page_token"},
		{"no parent", func() error {
			_, err := r.events().ListEvents(ctx, &imbridgev1.ListEventsRequest{})
			return err
		}, "parent"},
		{"parent not an app", func() error {
			_, err := r.events().ListEvents(ctx, &imbridgev1.ListEventsRequest{Parent: "orgs/acme"})
			return err
		}, "parent"},
		{"parent half every app", func() error {
			_, err := r.events().ListEvents(ctx, &imbridgev1.ListEventsRequest{Parent: "orgs/-/apps/chat"})
			return err
		}, "parent"},
		{"stream without parent", func() error {
			return firstOf(ctx, r, &imbridgev1.SubscribeEventsRequest{})
		}, "parent"},
		{"stream parent not an app", func() error {
			return firstOf(ctx, r, &imbridgev1.SubscribeEventsRequest{Parent: "orgs/acme/apps"})
		}, "parent"},
		{"stream bad selector", func() error {
			return firstOf(ctx, r, &imbridgev1.SubscribeEventsRequest{Parent: allApps, Filter: &imbridgev1.EventFilter{Selectors: []string{"no:such:thing"}}})
		}, "filter.selectors[0]"},
		{"stream epoch without after_cursor", func() error {
			return firstOf(ctx, r, &imbridgev1.SubscribeEventsRequest{Parent: allApps, Epoch: "e"})
		}, "epoch"},
		{"stream heartbeat too short", func() error {
			return firstOf(ctx, r, &imbridgev1.SubscribeEventsRequest{Parent: allApps, HeartbeatInterval: durationpb.New(time.Millisecond)})
		}, "heartbeat_interval"},
		{"max_outstanding on a plain stream", func() error {
			return firstOf(ctx, r, &imbridgev1.SubscribeEventsRequest{Parent: allApps, MaxOutstanding: 5})
		}, "max_outstanding"},
		{"bad subscription name", func() error {
			return firstOf(ctx, r, &imbridgev1.SubscribeEventsRequest{Subscription: "orgs/acme/apps/chat/subscriptions/Not_Valid"})
		}, "subscription"},
		{"subscription with a filter", func() error {
			return firstOf(ctx, r, &imbridgev1.SubscribeEventsRequest{Subscription: "orgs/acme/apps/chat/subscriptions/x", Filter: &imbridgev1.EventFilter{}})
		}, "filter"},
		{"subscription with a cursor", func() error {
			return firstOf(ctx, r, &imbridgev1.SubscribeEventsRequest{Subscription: "orgs/acme/apps/chat/subscriptions/x",
				Start: &imbridgev1.SubscribeEventsRequest_AfterCursor{AfterCursor: 3}})
		}, "after_cursor"},
		{"subscription with an epoch", func() error {
			return firstOf(ctx, r, &imbridgev1.SubscribeEventsRequest{Subscription: "orgs/acme/apps/chat/subscriptions/x", Epoch: "e"})
		}, "epoch"},
		{"neither cursor nor call id", func() error {
			_, err := r.events().GetEvent(ctx, &imbridgev1.GetEventRequest{})
			return err
		}, "cursor"},
		{"both cursor and call id", func() error {
			_, err := r.events().GetEvent(ctx, &imbridgev1.GetEventRequest{Cursor: 1, CallId: "x"})
			return err
		}, "cursor"},
		// Enum numbers no value has: not read as the default.
		{"undefined order", func() error {
			_, err := r.events().ListEvents(ctx, &imbridgev1.ListEventsRequest{Parent: allApps, Order: 7})
			return err
		}, "order"},
		{"undefined event type", func() error {
			_, err := r.events().ListEvents(ctx, &imbridgev1.ListEventsRequest{Parent: allApps,
				Filter: &imbridgev1.EventFilter{EventTypes: []imbridgev1.EventType{imbridgev1.EventType_EVENT_TYPE_CHAT, 999}}})
			return err
		}, "filter.event_types[1]"},
		{"undefined view", func() error {
			_, err := r.events().GetEvent(ctx, &imbridgev1.GetEventRequest{Cursor: 1, View: 9})
			return err
		}, "view"},
		{"undefined stream position", func() error {
			return firstOf(ctx, r, &imbridgev1.SubscribeEventsRequest{Parent: allApps, Start: &imbridgev1.SubscribeEventsRequest_Position{Position: 7}})
		}, "position"},
		{"undefined subscription start", func() error {
			_, err := r.events().CreateSubscription(ctx, &imbridgev1.CreateSubscriptionRequest{Parent: "orgs/acme/apps/chat", SubscriptionId: "x",
				Subscription: &imbridgev1.Subscription{StartPosition: 9}})
			return err
		}, "subscription.start_position"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := wantStatus(t, c.call(), codes.InvalidArgument, ReasonInvalidArgument, map[string]string{"field": c.field})
			if !strings.Contains(st.Message(), c.field) {
				t.Errorf("message %q, want it to name %q", st.Message(), c.field)
			}
		})
	}
}
