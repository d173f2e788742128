package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
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

func TestInvalidArgumentsNameTheField(t *testing.T) {
	r := start(t, &EventService{Store: &fakeStore{}})
	ctx := ctxT(t)
	cases := []struct {
		name  string
		call  func() error
		field string
	}{
		{"negative page size", func() error {
			_, err := r.events().ListEvents(ctx, &imbridgev1.ListEventsRequest{PageSize: -1})
			return err
		}, "page_size"},
		{"bad selector", func() error {
			_, err := r.events().ListEvents(ctx, &imbridgev1.ListEventsRequest{Filter: &imbridgev1.EventFilter{Selectors: []string{"chat", "no:such:thing"}}})
			return err
		}, "filter.selectors[1]"},
		{"foreign page token", func() error {
			_, err := r.events().ListEvents(ctx, &imbridgev1.ListEventsRequest{PageToken: "bm90LWEtdG9rZW4"})
			return err
		}, "page_token"},
		{"neither cursor nor call id", func() error {
			_, err := r.events().GetEvent(ctx, &imbridgev1.GetEventRequest{})
			return err
		}, "cursor"},
		{"both cursor and call id", func() error {
			_, err := r.events().GetEvent(ctx, &imbridgev1.GetEventRequest{Cursor: 1, CallId: "x"})
			return err
		}, "cursor"},
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
