package server

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/eventlog"
	"github.com/imbridge/imbridge/internal/selector"
)

// EventStore is the event log as EventService reads it.
type EventStore interface {
	Get(ctx context.Context, cursor uint64) (*imbridgev1.Event, error)
	GetByCallID(ctx context.Context, callID string) (*imbridgev1.Event, error)
	List(ctx context.Context, q eventlog.Query) ([]*imbridgev1.Event, uint64, error)
	Follow(ctx context.Context, f eventlog.Filter, start eventlog.Start) (*eventlog.Follower, error)
	Head(ctx context.Context) (uint64, error)
	Epoch() string
	CreateSubscription(ctx context.Context, c eventlog.SubscriptionConfig) (*eventlog.SubscriptionInfo, error)
	GetSubscription(ctx context.Context, appkey, id string) (*eventlog.SubscriptionInfo, error)
	ListSubscriptions(ctx context.Context, appkey string) ([]*eventlog.SubscriptionInfo, error)
	DeleteSubscription(ctx context.Context, appkey, id string) error
	Acknowledge(ctx context.Context, appkey, id string, cursors []uint64) error
	Join(ctx context.Context, appkey, id string, maxOutstanding int) (*eventlog.Member, error)
}

// EventService serves stored callbacks: history, streams and shared
// subscriptions.
type EventService struct {
	imbridgev1.UnimplementedEventServiceServer
	Store EventStore
	// Streams tunes SubscribeEvents; zero fields take their defaults.
	Streams StreamOptions

	open streamRegistry // the open SubscribeEvents streams, for StatusService
}

// Page sizes of ListEvents; a page's bytes are bounded by
// eventlog.MaxPageBytes.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// ListEvents returns one page of stored events.
func (s *EventService) ListEvents(ctx context.Context, req *imbridgev1.ListEventsRequest) (*imbridgev1.ListEventsResponse, error) {
	f, err := filterOf(req.GetParent(), req.GetFilter())
	if err != nil {
		return nil, err
	}
	q := eventlog.Query{Filter: f}
	switch size := req.GetPageSize(); {
	case size < 0:
		return nil, invalidArgument("page_size", fmt.Sprintf("page_size %d must not be negative", size))
	case size == 0:
		q.Limit = defaultPageSize
	case size > maxPageSize:
		q.Limit = maxPageSize
	default:
		q.Limit = int(size)
	}
	q.OldestFirst = req.GetOrder() == imbridgev1.ListOrder_LIST_ORDER_OLDEST_FIRST
	if t := req.GetStartTime(); t != nil {
		q.StartTime = t.AsTime()
	}
	if t := req.GetEndTime(); t != nil {
		q.EndTime = t.AsTime()
	}
	if q.After, err = readPageToken(req); err != nil {
		return nil, err
	}
	events, next, err := s.Store.List(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	// A page stays within what a gRPC client receives by default (4 MiB):
	// the events past the budget come on the next page.
	size := 0
	for i, ev := range events {
		if size += proto.Size(ev) + 8; size > eventlog.MaxPageBytes && i > 0 {
			events, next = events[:i], events[i-1].GetCursor()
			break
		}
	}
	if req.GetView() == imbridgev1.EventView_EVENT_VIEW_BASIC {
		for _, ev := range events {
			ev.RawBody = nil
		}
	}
	resp := &imbridgev1.ListEventsResponse{Events: events}
	if next != 0 {
		resp.NextPageToken = pageToken(req, next)
	}
	return resp, nil
}

// GetEvent returns one stored event by cursor or call id.
func (s *EventService) GetEvent(ctx context.Context, req *imbridgev1.GetEventRequest) (*imbridgev1.GetEventResponse, error) {
	var (
		ev  *imbridgev1.Event
		err error
	)
	switch {
	case req.GetCursor() != 0 && req.GetCallId() != "":
		return nil, invalidArgument("cursor", "set exactly one of cursor and call_id, not both")
	case req.GetCursor() != 0:
		ev, err = s.Store.Get(ctx, req.GetCursor())
	case req.GetCallId() != "":
		ev, err = s.Store.GetByCallID(ctx, req.GetCallId())
	default:
		return nil, invalidArgument("cursor", "set one of cursor and call_id")
	}
	if err != nil {
		return nil, &eventError{cursor: req.GetCursor(), callID: req.GetCallId(), err: err}
	}
	if req.GetView() == imbridgev1.EventView_EVENT_VIEW_BASIC {
		ev.RawBody = nil
	}
	return &imbridgev1.GetEventResponse{Event: ev}, nil
}

// allApps is the parent that names every app.
const allApps = "orgs/-/apps/-"

// eventsApp reads the app events belong to off parent: its appkey, or ""
// for allApps.
func eventsApp(field, parent string) (string, error) {
	if parent == allApps {
		return "", nil
	}
	if p := strings.Split(parent, "/"); len(p) == 4 && (p[1] == "-" || p[3] == "-") {
		return "", invalidArgument(field, field+": name one app, or every app with "+allApps)
	}
	var v violations
	a := v.app(field, parent)
	if err := v.err(); err != nil {
		return "", err
	}
	return a.appkey(), nil
}

// filterOf checks a parent and a filter and turns them into an event log
// filter.
func filterOf(parent string, f *imbridgev1.EventFilter) (eventlog.Filter, error) {
	appkey, err := eventsApp("parent", parent)
	if err != nil {
		return eventlog.Filter{}, err
	}
	return selectFilter(appkey, "filter", f)
}

// selectFilter turns f into an event log filter for appkey; field names f
// in errors.
func selectFilter(appkey, field string, f *imbridgev1.EventFilter) (eventlog.Filter, error) {
	out := eventlog.Filter{Appkey: appkey, Sender: f.GetSender(), Recipient: f.GetRecipient(), GroupID: f.GetGroupId(),
		EventTypes: f.GetEventTypes(), RoomKind: f.GetRoomKind(), MsgID: f.GetMsgId()}
	for i, s := range f.GetSelectors() {
		sel, err := selector.Parse(s)
		if err != nil {
			name := fmt.Sprintf("%s.selectors[%d]", field, i)
			return out, invalidArgument(name, name+": "+err.Error())
		}
		out.Selectors = append(out.Selectors, sel)
	}
	return out, nil
}

// A page token is the cursor to continue from and a digest of the request
// it belongs to, so that a token cannot silently be reused with another
// filter or order.
func pageToken(req *imbridgev1.ListEventsRequest, next uint64) string {
	b := binary.BigEndian.AppendUint64(nil, next)
	b = append(b, requestDigest(req)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func readPageToken(req *imbridgev1.ListEventsRequest) (uint64, error) {
	if req.GetPageToken() == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(req.GetPageToken())
	if err != nil || len(b) != 16 || string(b[8:]) != string(requestDigest(req)) {
		return 0, invalidArgument("page_token", "page_token is not one this listing returned: keep every other field as in the call that returned it")
	}
	return binary.BigEndian.Uint64(b[:8]), nil
}

func requestDigest(req *imbridgev1.ListEventsRequest) []byte {
	r := proto.Clone(req).(*imbridgev1.ListEventsRequest)
	r.PageToken, r.PageSize = "", 0
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(r)
	sum := sha256.Sum256(b)
	return sum[:8]
}
