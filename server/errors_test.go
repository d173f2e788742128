package server

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/eventlog"
)

// fakeStore stands in for failures of the event log that a real NATS
// server cannot be made to produce on demand: each call returns err, or
// panics with panicValue.
type fakeStore struct {
	err        error
	panicValue any
}

func (f *fakeStore) Get(context.Context, uint64) (*imbridgev1.Event, error) { return nil, f.fail() }

func (f *fakeStore) GetByCallID(context.Context, string) (*imbridgev1.Event, error) {
	return nil, f.fail()
}

func (f *fakeStore) List(context.Context, eventlog.Query) ([]*imbridgev1.Event, uint64, error) {
	return nil, 0, f.fail()
}

func (f *fakeStore) Follow(context.Context, eventlog.Filter, eventlog.Start) (*eventlog.Follower, error) {
	if err := f.fail(); err != nil {
		return nil, err
	}
	return nil, errors.New("fakeStore: no follower")
}

func (f *fakeStore) Epoch() string { return "fake-epoch" }

func (f *fakeStore) Head(context.Context) (uint64, error) { return 0, f.fail() }

func (f *fakeStore) CreateSubscription(context.Context, eventlog.SubscriptionConfig) (*eventlog.SubscriptionInfo, error) {
	return nil, f.fail()
}

func (f *fakeStore) GetSubscription(context.Context, string, string) (*eventlog.SubscriptionInfo, error) {
	return nil, f.fail()
}

func (f *fakeStore) ListSubscriptions(context.Context, string) ([]*eventlog.SubscriptionInfo, error) {
	return nil, f.fail()
}

func (f *fakeStore) DeleteSubscription(context.Context, string, string) error { return f.fail() }

func (f *fakeStore) Acknowledge(context.Context, string, string, []uint64) error { return f.fail() }

func (f *fakeStore) Join(context.Context, string, string, int) (*eventlog.Member, error) {
	if err := f.fail(); err != nil {
		return nil, err
	}
	return nil, errors.New("fakeStore: no member")
}

func (f *fakeStore) fail() error {
	if f.panicValue != nil {
		panic(f.panicValue)
	}
	return f.err
}

// subscribe opens a stream of every app's events and reads its first
// message: with a fakeStore, the stream fails as the store's Follow does,
// so that the stream chain is reached too.
func subscribe(ctx context.Context, r *running) error {
	stream, err := r.events().SubscribeEvents(ctx, &imbridgev1.SubscribeEventsRequest{Parent: allApps})
	if err != nil {
		return err
	}
	_, err = stream.Recv()
	return err
}

func TestStoreErrorsMapToCanonicalCodes(t *testing.T) {
	nats := errors.New("nats: no responders available for request")
	cases := []struct {
		name   string
		err    error
		call   string // get (cursor 42), getCallID (call id c-1), list, subscribe
		code   codes.Code
		reason string
		md     map[string]string
		msg    string // the message contains it
	}{
		{"not found by cursor", eventlog.ErrNotFound, "get", codes.NotFound, ReasonEventNotFound, map[string]string{"cursor": "42"}, "no stored event"},
		{"not found by call id", eventlog.ErrNotFound, "getCallID", codes.NotFound, ReasonEventNotFound, map[string]string{"call_id": "c-1"}, "no stored event"},
		{"corrupt by cursor", fmt.Errorf("%w: cursor 42: proto: cannot parse", eventlog.ErrCorrupt), "get", codes.DataLoss, ReasonEventCorrupt, map[string]string{"cursor": "42"}, "will not help"},
		{"corrupt by call id", fmt.Errorf("%w: cursor 9: proto: cannot parse", eventlog.ErrCorrupt), "getCallID", codes.DataLoss, ReasonEventCorrupt, map[string]string{"call_id": "c-1"}, "will not help"},
		{"corrupt in a listing", fmt.Errorf("eventlog: List: %w: cursor 3: bad", eventlog.ErrCorrupt), "list", codes.DataLoss, ReasonEventCorrupt, nil, "will not help"},
		{"unavailable", fmt.Errorf("eventlog: List: %w: %w", eventlog.ErrUnavailable, nats), "list", codes.Unavailable, ReasonStoreUnavailable, nil, "retry"},
		{"unavailable on a stream", fmt.Errorf("%w: %w", eventlog.ErrUnavailable, nats), "subscribe", codes.Unavailable, ReasonStoreUnavailable, nil, "retry"},
		{"deadline", context.DeadlineExceeded, "get", codes.DeadlineExceeded, ReasonDeadlineExceeded, nil, "deadline"},
		{"deadline in a listing", fmt.Errorf("eventlog: List: %w", context.DeadlineExceeded), "list", codes.DeadlineExceeded, ReasonDeadlineExceeded, nil, "deadline"},
		{"cancelled", context.Canceled, "list", codes.Canceled, ReasonCancelled, nil, "cancelled"},
		{"our status passes unchanged", statusError(codes.FailedPrecondition, "SOME_REASON", "as built", map[string]string{"k": "v"}), "get", codes.FailedPrecondition, "SOME_REASON", map[string]string{"k": "v"}, "as built"},
		{"plain status gets ErrorInfo", status.Error(codes.ResourceExhausted, "slow down"), "list", codes.ResourceExhausted, "RESOURCE_EXHAUSTED", nil, "slow down"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := start(t, &EventService{Store: &fakeStore{err: c.err}})
			ctx := ctxT(t)
			var err error
			switch c.call {
			case "get":
				_, err = r.events().GetEvent(ctx, &imbridgev1.GetEventRequest{Cursor: 42})
			case "getCallID":
				_, err = r.events().GetEvent(ctx, &imbridgev1.GetEventRequest{CallId: "c-1"})
			case "list":
				_, err = r.events().ListEvents(ctx, &imbridgev1.ListEventsRequest{Parent: allApps})
			case "subscribe":
				err = subscribe(ctx, r)
			}
			st := wantStatus(t, err, c.code, c.reason, c.md)
			if !strings.Contains(st.Message(), c.msg) {
				t.Errorf("message %q, want it to contain %q", st.Message(), c.msg)
			}
			for _, cause := range []string{"nats", "proto", "cursor 3", "cursor 9"} {
				if strings.Contains(st.Message(), cause) {
					t.Errorf("message %q carries the cause (%q)", st.Message(), cause)
				}
			}
		})
	}
}

var internalMessage = regexp.MustCompile(`^internal error \(id ([0-9a-f]{8})\)$`)

// wantInternal checks that err is INTERNAL with a correlation id and no
// cause, and that the log has exactly one line with the id and the cause.
func wantInternal(t *testing.T, r *running, err error, method, cause string) map[string]any {
	t.Helper()
	st := status.Convert(err)
	m := internalMessage.FindStringSubmatch(st.Message())
	if m == nil {
		t.Fatalf("message %q, want \"internal error (id <8 hex>)\"", st.Message())
	}
	id := m[1]
	wantStatus(t, err, codes.Internal, ReasonInternal, map[string]string{"correlation_id": id})
	if strings.Contains(st.Message(), cause) || strings.Contains(errorInfo(st).String(), cause) {
		t.Errorf("the caller got the cause: %v", st.Proto())
	}
	lines := r.logs.lines(t, id, cause)
	if len(lines) != 1 {
		t.Fatalf("%d log lines with the id and the cause, want 1", len(lines))
	}
	if n := len(r.logs.lines(t, cause)); n != 1 {
		t.Errorf("the cause is logged %d times, want once", n)
	}
	l := lines[0]
	if l["level"] != "ERROR" || l["correlation_id"] != id || l["method"] != method {
		t.Errorf("log line %v, want ERROR with correlation_id %s and method %s", l, id, method)
	}
	return l
}

func TestUnknownErrorsAreInternalWithACorrelationID(t *testing.T) {
	const cause = "secret-cause-7f3e: dial tcp 10.0.0.7:4222"
	cases := []struct {
		name string
		err  error
	}{
		{"plain error", errors.New(cause)},
		{"wrapped", fmt.Errorf("list events: %w", errors.New(cause))},
		// Internal and Unknown statuses may carry internal text: hidden too.
		{"internal status", status.Error(codes.Internal, cause)},
		{"unknown status", status.Error(codes.Unknown, cause)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := start(t, &EventService{Store: &fakeStore{err: c.err}})
			_, err := r.events().ListEvents(ctxT(t), &imbridgev1.ListEventsRequest{Parent: allApps})
			wantInternal(t, r, err, "/imbridge.v1.EventService/ListEvents", cause)
		})
	}
}

func TestLoggedCauseIsBounded(t *testing.T) {
	cause := "start-of-cause " + strings.Repeat("é", 4000)
	r := start(t, &EventService{Store: &fakeStore{err: errors.New(cause)}})
	_, err := r.events().ListEvents(ctxT(t), &imbridgev1.ListEventsRequest{Parent: allApps})
	l := wantInternal(t, r, err, "/imbridge.v1.EventService/ListEvents", "start-of-cause")
	logged, _ := l["cause"].(string)
	if len(logged) > maxLoggedCause+64 || !utf8.ValidString(logged) || !strings.Contains(logged, "more bytes") {
		t.Errorf("logged cause has %d bytes (valid UTF-8 %v), want it cut to about %d and marked", len(logged), utf8.ValidString(logged), maxLoggedCause)
	}
}

func TestPanicsAreInternalWithACorrelationID(t *testing.T) {
	const value = "kaboom-4b1d"
	r := start(t, &EventService{Store: &fakeStore{panicValue: value}})
	t.Run("unary", func(t *testing.T) {
		_, err := r.events().GetEvent(ctxT(t), &imbridgev1.GetEventRequest{Cursor: 1})
		l := wantInternal(t, r, err, "/imbridge.v1.EventService/GetEvent", value)
		if stack, _ := l["stack"].(string); !strings.Contains(stack, "fakeStore") {
			t.Errorf("the panic's log line lacks the stack: %v", l)
		}
	})
	t.Run("stream", func(t *testing.T) {
		err := subscribe(ctxT(t), r)
		st := status.Convert(err)
		id := internalMessage.FindStringSubmatch(st.Message())
		if id == nil {
			t.Fatalf("stream panic: %v, want an internal error with an id", err)
		}
		wantStatus(t, err, codes.Internal, ReasonInternal, map[string]string{"correlation_id": id[1]})
		lines := r.logs.lines(t, id[1], value)
		if len(lines) != 1 || lines[0]["method"] != "/imbridge.v1.EventService/SubscribeEvents" {
			t.Errorf("log lines with the id and the panic: %v, want 1 naming SubscribeEvents", lines)
		}
	})
}

func TestUnimplementedCarriesErrorInfo(t *testing.T) {
	r := start(t, &EventService{Store: &fakeStore{}})
	_, err := imbridgev1.NewChatroomServiceClient(r.conn).GetChatroom(ctxT(t), &imbridgev1.GetChatroomRequest{Name: "orgs/o/apps/a/chatrooms/1"})
	st := wantStatus(t, err, codes.Unimplemented, "UNIMPLEMENTED", nil)
	if !strings.Contains(st.Message(), "method GetChatroom not implemented") {
		t.Errorf("message %q, want gRPC's own", st.Message())
	}
	// A stream stub too (SubscribeEvents is built: a service without it).
	stub := start(t, &stubEvents{})
	st = wantStatus(t, subscribe(ctxT(t), stub), codes.Unimplemented, "UNIMPLEMENTED", nil)
	if !strings.Contains(st.Message(), "method SubscribeEvents not implemented") {
		t.Errorf("stream message %q, want gRPC's own", st.Message())
	}
}

// stubEvents is an EventService with nothing built: every RPC is gRPC's
// UNIMPLEMENTED stub.
type stubEvents struct {
	imbridgev1.UnimplementedEventServiceServer
}

func TestBound(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"0123456789abc", 10, "0123456789… (3 more bytes)"},
		{"ab€cd", 3, "ab… (5 more bytes)"}, // never cuts a character in two
	} {
		if got := bound(c.in, c.n); got != c.want {
			t.Errorf("bound(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
