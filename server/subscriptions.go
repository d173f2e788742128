package server

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/eventlog"
)

// Settings of shared subscriptions: defaults and bounds.
const (
	defaultAckDeadline   = 30 * time.Second
	minAckDeadline       = time.Second
	maxAckDeadline       = time.Hour
	defaultMaxDeliveries = 5
	maxMaxDeliveries     = 1000
	maxAckCursors        = 1000
)

// CreateSubscription creates a shared subscription.
func (s *EventService) CreateSubscription(ctx context.Context, req *imbridgev1.CreateSubscriptionRequest) (*imbridgev1.CreateSubscriptionResponse, error) {
	var v violations
	app := v.app("parent", req.GetParent())
	id := req.GetSubscriptionId()
	if !subscriptionIDRE.MatchString(id) {
		v.add("subscription_id", "%q must be 1 to 48 lowercase letters, digits and -, starting with a letter", bound(id, 64))
	}
	sub := req.GetSubscription()
	if sub == nil {
		v.add("subscription", "required")
	}
	c := eventlog.SubscriptionConfig{Appkey: app.appkey(), ID: id, AckDeadline: defaultAckDeadline, MaxDeliveries: defaultMaxDeliveries,
		Earliest: sub.GetStartPosition() == imbridgev1.StartPosition_START_POSITION_EARLIEST}
	if d := sub.GetAckDeadline(); d != nil {
		if d.CheckValid() != nil || d.AsDuration() < minAckDeadline || d.AsDuration() > maxAckDeadline {
			v.add("subscription.ack_deadline", "must be %v to %v", minAckDeadline, maxAckDeadline)
		}
		c.AckDeadline = d.AsDuration()
	}
	switch n := sub.GetMaxDeliveryAttempts(); {
	case n < 0 || n > maxMaxDeliveries:
		v.add("subscription.max_delivery_attempts", "%d must be 1 to %d (0 = %d)", n, maxMaxDeliveries, defaultMaxDeliveries)
	case n > 0:
		c.MaxDeliveries = int(n)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	f, err := selectFilter(c.Appkey, "subscription.filter", sub.GetFilter())
	if err != nil {
		return nil, err
	}
	c.Filter = f
	info, err := s.Store.CreateSubscription(ctx, c)
	if err != nil {
		return nil, err
	}
	return &imbridgev1.CreateSubscriptionResponse{Subscription: subscriptionOf(info)}, nil
}

// GetSubscription returns a subscription with its backlog.
func (s *EventService) GetSubscription(ctx context.Context, req *imbridgev1.GetSubscriptionRequest) (*imbridgev1.GetSubscriptionResponse, error) {
	var v violations
	ref := v.subscription("name", req.GetName())
	if err := v.err(); err != nil {
		return nil, err
	}
	info, err := s.Store.GetSubscription(ctx, ref.appkey(), ref.id)
	if err != nil {
		return nil, err
	}
	sub := subscriptionOf(info)
	sub.Backlog, sub.Unacknowledged = info.Backlog, info.Unacknowledged
	return &imbridgev1.GetSubscriptionResponse{Subscription: sub}, nil
}

// ListSubscriptions returns an app's subscriptions.
func (s *EventService) ListSubscriptions(ctx context.Context, req *imbridgev1.ListSubscriptionsRequest) (*imbridgev1.ListSubscriptionsResponse, error) {
	var v violations
	app := v.app("parent", req.GetParent())
	if err := v.err(); err != nil {
		return nil, err
	}
	list, err := s.Store.ListSubscriptions(ctx, app.appkey())
	if err != nil {
		return nil, err
	}
	resp := &imbridgev1.ListSubscriptionsResponse{}
	for _, info := range list {
		resp.Subscriptions = append(resp.Subscriptions, subscriptionOf(info))
	}
	return resp, nil
}

// DeleteSubscription deletes a subscription.
func (s *EventService) DeleteSubscription(ctx context.Context, req *imbridgev1.DeleteSubscriptionRequest) (*imbridgev1.DeleteSubscriptionResponse, error) {
	var v violations
	ref := v.subscription("name", req.GetName())
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := s.Store.DeleteSubscription(ctx, ref.appkey(), ref.id); err != nil {
		return nil, err
	}
	return &imbridgev1.DeleteSubscriptionResponse{}, nil
}

// AcknowledgeEvents acknowledges a subscription's events by cursor.
func (s *EventService) AcknowledgeEvents(ctx context.Context, req *imbridgev1.AcknowledgeEventsRequest) (*imbridgev1.AcknowledgeEventsResponse, error) {
	var v violations
	ref := v.subscription("subscription", req.GetSubscription())
	switch n := len(req.GetCursors()); {
	case n == 0:
		v.add("cursors", "required: 1 to %d cursors", maxAckCursors)
	case n > maxAckCursors:
		v.add("cursors", "%d cursors: at most %d per call", n, maxAckCursors)
	}
	for i, c := range req.GetCursors() {
		if c == 0 {
			v.add("cursors", "cursors[%d] is 0: cursors start at 1", i)
			break
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := s.Store.Acknowledge(ctx, ref.appkey(), ref.id, req.GetCursors()); err != nil {
		return nil, err
	}
	return &imbridgev1.AcknowledgeEventsResponse{}, nil
}

// SubscriptionName is the resource name of subscription id of appkey.
func SubscriptionName(appkey, id string) string { return subRef{appRefOf(appkey), id}.name() }

// subscriptionOf is a stored subscription as the API shows it.
func subscriptionOf(info *eventlog.SubscriptionInfo) *imbridgev1.Subscription {
	f := &imbridgev1.EventFilter{Sender: info.Filter.Sender, Recipient: info.Filter.Recipient, GroupId: info.Filter.GroupID,
		EventTypes: info.Filter.EventTypes, RoomKind: info.Filter.RoomKind, MsgId: info.Filter.MsgID}
	for _, sel := range info.Filter.Selectors {
		f.Selectors = append(f.Selectors, sel.String())
	}
	app := appRefOf(info.Appkey)
	return &imbridgev1.Subscription{
		Name:                subRef{app, info.ID}.name(),
		Filter:              f,
		AckDeadline:         durationpb.New(info.AckDeadline),
		MaxDeliveryAttempts: int32(info.MaxDeliveries),
		CreateTime:          timestamppb.New(info.Created),
	}
}
