package server

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/types/known/timestamppb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/eventlog"
	"github.com/imbridge/imbridge/internal/ingest"
)

// StatusStore is the event log as StatusService reads it.
type StatusStore interface {
	Head(ctx context.Context) (uint64, error)
	Epoch() string
	ListSubscriptions(ctx context.Context, appkey string) ([]*eventlog.SubscriptionInfo, error)
}

// StatusService tells what this process is doing: its callback counters,
// the log's head, its open streams and the subscriptions' backlog.
type StatusService struct {
	imbridgev1.UnimplementedStatusServiceServer
	Store StatusStore
	// Metrics gathers the callback counters (ingest.Ingester.Counters):
	// GetStatus reads them from it, and ignores every other metric.
	Metrics prometheus.Gatherer
	// Events is the EventService whose open streams are listed.
	Events *EventService
	// StartTime is when the process started, and its counters with it.
	StartTime time.Time
}

// maxStatusSubscriptions bounds the subscriptions one GetStatus lists (the
// first by name), so that its answer stays small whatever the log holds.
const maxStatusSubscriptions = 100

// GetStatus reads the process's counters and the log's head.
func (s *StatusService) GetStatus(ctx context.Context, _ *imbridgev1.GetStatusRequest) (*imbridgev1.GetStatusResponse, error) {
	apps := grantedApps(ctx)
	visible := func(app string) bool { return apps == nil || slices.Contains(apps, app) }
	head, err := s.Store.Head(ctx)
	if err != nil {
		return nil, err
	}
	callbacks, refusals, err := readCounters(s.Metrics)
	if err != nil {
		return nil, err
	}
	resp := &imbridgev1.GetStatusResponse{
		ReadTime:   timestamppb.Now(),
		StartTime:  timestamppb.New(s.StartTime),
		HeadCursor: head,
		Epoch:      s.Store.Epoch(),
		Callbacks:  callbacks,
		Refusals:   refusals,
	}

	// Every app's for a key of every app: not only the apps this process
	// takes callbacks for, as a subscription may be of any app.
	listApps := []string{""}
	if apps != nil {
		listApps = apps
	}
	filters := map[string]*imbridgev1.EventFilter{} // by subscription name, for member streams
	for _, app := range listApps {
		list, err := s.Store.ListSubscriptions(ctx, app)
		if err != nil {
			return nil, err
		}
		for _, info := range list {
			sub := subscriptionOf(info)
			sub.Backlog, sub.Unacknowledged = info.Backlog, info.Unacknowledged // as GetSubscription
			resp.Subscriptions = append(resp.Subscriptions, sub)
			filters[sub.GetName()] = sub.GetFilter()
		}
	}
	slices.SortFunc(resp.Subscriptions, func(a, b *imbridgev1.Subscription) int { return strings.Compare(a.GetName(), b.GetName()) })
	resp.Subscriptions = resp.Subscriptions[:min(len(resp.Subscriptions), maxStatusSubscriptions)]

	if s.Events != nil {
		for _, st := range s.Events.open.list() {
			if !visible(st.app) {
				continue
			}
			scanned := st.scanned.Load()
			f := st.filter
			if st.subscription != "" {
				f = filters[st.subscription]
			}
			resp.Streams = append(resp.Streams, &imbridgev1.StreamStatus{
				Source: st.source, Filter: f, OpenTime: timestamppb.New(st.opened),
				ScannedCursor: scanned, Lag: head - min(scanned, head), Sent: st.sent.Load(),
			})
		}
	}
	return resp, nil
}

// readCounters reads the callback counters off g: the counts by family,
// sorted by family, and the refusals, sorted by reason then family; only
// those with a count.
func readCounters(g prometheus.Gatherer) ([]*imbridgev1.CallbackCounts, []*imbridgev1.RefusalCount, error) {
	families, err := g.Gather()
	// Gather returns what it could gather along with the errors of other
	// collectors; those of ingest cannot fail.
	if err != nil && len(families) == 0 {
		return nil, nil, fmt.Errorf("gather metrics: %w", err)
	}
	byFamily := map[string]*imbridgev1.CallbackCounts{}
	var refusals []*imbridgev1.RefusalCount
	for _, mf := range families {
		var field func(c *imbridgev1.CallbackCounts) *uint64
		switch mf.GetName() {
		case ingest.MetricReceived:
			field = func(c *imbridgev1.CallbackCounts) *uint64 { return &c.Received }
		case ingest.MetricStored:
			field = func(c *imbridgev1.CallbackCounts) *uint64 { return &c.Stored }
		case ingest.MetricDuplicate:
			field = func(c *imbridgev1.CallbackCounts) *uint64 { return &c.Duplicate }
		case ingest.MetricDropped:
			field = func(c *imbridgev1.CallbackCounts) *uint64 { return &c.Dropped }
		case ingest.MetricRejected:
		default:
			continue
		}
		for _, m := range mf.GetMetric() {
			n := uint64(m.GetCounter().GetValue())
			if n == 0 {
				continue
			}
			var family, reason string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case ingest.LabelFamily:
					family = l.GetValue()
				case ingest.LabelReason:
					reason = l.GetValue()
				}
			}
			if field == nil {
				if family == ingest.NoFamily {
					family = ""
				}
				refusals = append(refusals, &imbridgev1.RefusalCount{Reason: reason, Family: family, Count: n})
				continue
			}
			c := byFamily[family]
			if c == nil {
				c = &imbridgev1.CallbackCounts{Family: family}
				byFamily[family] = c
			}
			*field(c) += n
		}
	}
	callbacks := make([]*imbridgev1.CallbackCounts, 0, len(byFamily))
	for _, c := range byFamily {
		callbacks = append(callbacks, c)
	}
	slices.SortFunc(callbacks, func(a, b *imbridgev1.CallbackCounts) int { return strings.Compare(a.GetFamily(), b.GetFamily()) })
	slices.SortFunc(refusals, func(a, b *imbridgev1.RefusalCount) int {
		return cmp.Or(strings.Compare(a.GetReason(), b.GetReason()), strings.Compare(a.GetFamily(), b.GetFamily()))
	})
	return callbacks, refusals, nil
}
