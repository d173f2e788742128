package eventlog

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/selector"
)

// Shared subscriptions: a durable JetStream consumer per subscription, on
// the event stream, with explicit acknowledgement. JetStream keeps the
// position and the unacknowledged events (on every replica, so they
// survive restarts), redelivers after the ack deadline and stops after the
// last attempt. A Member is one stream's share: it pulls at most its
// max outstanding events at a time. Acknowledgements are by cursor, from
// any process: an explicit ack names the stream sequence, and the server
// takes the rest from its own pending record.
//
// The subscription's settings live in the consumer's metadata, so there
// is nothing to keep in step beside it.

// Metadata keys of a subscription's consumer.
const (
	metaApp    = "imbridge_app"
	metaID     = "imbridge_id"
	metaFilter = "imbridge_filter"
	// metaCreate is a random token of the call that created it: JetStream
	// answers a create of an identical consumer with the consumer, so
	// without it every one of concurrent creates would succeed.
	metaCreate = "imbridge_create"
)

// Subjects of acknowledgement notices (core NATS, not stored) and of the
// server's advisory when an event reached its last delivery attempt.
const (
	ackNoticePrefix   = "imbridge.acks."
	maxDeliveriesSubj = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + StreamName + ".*"
)

// SubscriptionConfig is a shared subscription's settings.
type SubscriptionConfig struct {
	// Appkey and ID name it; ID is the last part of its resource name.
	Appkey, ID string
	// Filter chooses its events; its Appkey is ignored (always Appkey).
	Filter Filter
	// AckDeadline is how long a member has to acknowledge an event.
	AckDeadline time.Duration
	// MaxDeliveries is how many times an event is delivered at most.
	MaxDeliveries int
	// Earliest starts a new subscription at the oldest event kept instead
	// of the newest end.
	Earliest bool
}

// SubscriptionInfo is a subscription as stored, with its counts.
type SubscriptionInfo struct {
	SubscriptionConfig
	Created time.Time
	// Backlog is how many matching events wait to be delivered;
	// Unacknowledged how many were delivered and not acknowledged.
	Backlog, Unacknowledged uint64
}

// consumerName is the consumer of a subscription: a digest, because
// appkeys hold characters consumer names may not.
func consumerName(appkey, id string) string {
	sum := sha256.Sum256([]byte(appkey + "\x00" + id))
	return "SUB_" + hex.EncodeToString(sum[:12])
}

// filterJSON is a Filter as consumer metadata holds it.
type filterJSON struct {
	Selectors  []string `json:"selectors,omitempty"`
	Sender     string   `json:"sender,omitempty"`
	Recipient  string   `json:"recipient,omitempty"`
	GroupID    string   `json:"group_id,omitempty"`
	EventTypes []int32  `json:"event_types,omitempty"`
	RoomKind   int32    `json:"room_kind,omitempty"`
	MsgID      string   `json:"msg_id,omitempty"`
}

func encodeFilter(f Filter) string {
	j := filterJSON{Sender: f.Sender, Recipient: f.Recipient, GroupID: f.GroupID, RoomKind: int32(f.RoomKind), MsgID: f.MsgID}
	for _, s := range f.Selectors {
		j.Selectors = append(j.Selectors, s.String())
	}
	for _, t := range f.EventTypes {
		j.EventTypes = append(j.EventTypes, int32(t))
	}
	b, _ := json.Marshal(j)
	return string(b)
}

func decodeFilter(appkey, s string) (Filter, error) {
	var j filterJSON
	if err := json.Unmarshal([]byte(s), &j); err != nil {
		return Filter{}, err
	}
	sels, err := selector.ParseAll(j.Selectors)
	if err != nil {
		return Filter{}, err
	}
	f := Filter{Selectors: sels, Appkey: appkey, Sender: j.Sender, Recipient: j.Recipient, GroupID: j.GroupID, RoomKind: imbridgev1.RoomKind(j.RoomKind), MsgID: j.MsgID}
	for _, t := range j.EventTypes {
		f.EventTypes = append(f.EventTypes, imbridgev1.EventType(t))
	}
	return f, nil
}

// CreateSubscription creates a shared subscription;
// ErrSubscriptionExists when the name is taken.
func (l *Log) CreateSubscription(ctx context.Context, c SubscriptionConfig) (*SubscriptionInfo, error) {
	c.Filter.Appkey = c.Appkey
	name := consumerName(c.Appkey, c.ID)
	switch _, err := l.stream.Consumer(ctx, name); {
	case err == nil:
		return nil, ErrSubscriptionExists
	case !errors.Is(err, jetstream.ErrConsumerNotFound):
		return nil, fmt.Errorf("eventlog: create subscription: %w", unavailable(err))
	}
	token := rand.Text()
	deliver := jetstream.DeliverNewPolicy
	if c.Earliest {
		deliver = jetstream.DeliverAllPolicy
	}
	cons, err := l.stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:        name,
		Description:    "imbridge subscription " + c.Appkey + "/" + c.ID,
		FilterSubjects: c.Filter.subjects(),
		DeliverPolicy:  deliver,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        c.AckDeadline,
		MaxDeliver:     c.MaxDeliveries,
		MaxAckPending:  -1, // each member bounds its own share
		MaxWaiting:     4096,
		Replicas:       l.replicas,
		Metadata:       map[string]string{metaApp: c.Appkey, metaID: c.ID, metaFilter: encodeFilter(c.Filter), metaCreate: token},
	})
	if errors.Is(err, jetstream.ErrConsumerExists) {
		return nil, ErrSubscriptionExists
	}
	if err != nil {
		return nil, fmt.Errorf("eventlog: create subscription: %w", unavailable(err))
	}
	if cons.CachedInfo().Config.Metadata[metaCreate] != token {
		return nil, ErrSubscriptionExists // another call's, answered as ours
	}
	return subscriptionInfo(cons.CachedInfo())
}

// subscriptionInfo reads a subscription off its consumer.
func subscriptionInfo(ci *jetstream.ConsumerInfo) (*SubscriptionInfo, error) {
	md := ci.Config.Metadata
	app, id := md[metaApp], md[metaID]
	if app == "" || id == "" {
		return nil, ErrSubscriptionNotFound // a consumer that is not a subscription
	}
	f, err := decodeFilter(app, md[metaFilter])
	if err != nil {
		return nil, fmt.Errorf("%w: subscription %s/%s: filter: %v", ErrCorrupt, app, id, err)
	}
	return &SubscriptionInfo{
		SubscriptionConfig: SubscriptionConfig{
			Appkey: app, ID: id, Filter: f, AckDeadline: ci.Config.AckWait, MaxDeliveries: ci.Config.MaxDeliver,
			Earliest: ci.Config.DeliverPolicy == jetstream.DeliverAllPolicy,
		},
		Created: ci.Created, Backlog: ci.NumPending, Unacknowledged: uint64(ci.NumAckPending),
	}, nil
}

// consumer finds a subscription's consumer; ErrSubscriptionNotFound when
// there is none.
func (l *Log) consumer(ctx context.Context, appkey, id string) (jetstream.Consumer, error) {
	cons, err := l.stream.Consumer(ctx, consumerName(appkey, id))
	switch {
	case errors.Is(err, jetstream.ErrConsumerNotFound):
		return nil, ErrSubscriptionNotFound
	case err != nil:
		return nil, unavailable(err)
	}
	return cons, nil
}

// GetSubscription returns a subscription with its counts.
func (l *Log) GetSubscription(ctx context.Context, appkey, id string) (*SubscriptionInfo, error) {
	cons, err := l.consumer(ctx, appkey, id)
	if err != nil {
		return nil, fmt.Errorf("eventlog: get subscription: %w", err)
	}
	return subscriptionInfo(cons.CachedInfo())
}

// ListSubscriptions returns an app's subscriptions (every app's, for
// appkey ""), by ID.
func (l *Log) ListSubscriptions(ctx context.Context, appkey string) ([]*SubscriptionInfo, error) {
	lister := l.stream.ListConsumers(ctx)
	var out []*SubscriptionInfo
	for ci := range lister.Info() {
		if app := ci.Config.Metadata[metaApp]; app == "" || appkey != "" && app != appkey {
			continue // not a subscription, or another app's
		}
		if s, err := subscriptionInfo(ci); err == nil {
			out = append(out, s)
		}
	}
	if err := lister.Err(); err != nil {
		return nil, fmt.Errorf("eventlog: list subscriptions: %w", unavailable(err))
	}
	slices.SortFunc(out, func(a, b *SubscriptionInfo) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// DeleteSubscription deletes a subscription and its position.
func (l *Log) DeleteSubscription(ctx context.Context, appkey, id string) error {
	err := l.stream.DeleteConsumer(ctx, consumerName(appkey, id))
	switch {
	case errors.Is(err, jetstream.ErrConsumerNotFound):
		return ErrSubscriptionNotFound
	case err != nil:
		return fmt.Errorf("eventlog: delete subscription: %w", unavailable(err))
	}
	return nil
}

// Acknowledge acknowledges a subscription's events by cursor, and
// returns once the server applied every acknowledgement (on a cluster,
// once the consumer's replicas agreed), so that an acknowledged event is
// not delivered again. Cursors the subscription never delivered are
// skipped; acknowledging one twice does nothing. An error means some may
// not be applied: acknowledging again is always safe.
func (l *Log) Acknowledge(ctx context.Context, appkey, id string, cursors []uint64) error {
	name := consumerName(appkey, id)
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	cons, err := l.consumer(ctx, appkey, id)
	if err != nil {
		return fmt.Errorf("eventlog: acknowledge: %w", err)
	}
	// The server answers an acknowledgement of a delivered event, and
	// ignores, silently, one past what it delivered.
	delivered := cons.CachedInfo().Delivered.Stream
	// A channel with room for every answer: SubscribeSync's would be
	// nats.go's default 64k messages, half a megabyte allocated and
	// cleared on every call.
	inbox := l.nc.NewInbox()
	answers := make(chan *nats.Msg, len(cursors))
	replies, err := l.nc.ChanSubscribe(inbox, answers)
	if err != nil {
		return fmt.Errorf("eventlog: acknowledge: %w", unavailable(err))
	}
	defer func() { _ = replies.Unsubscribe() }()
	notice := make([]byte, 0, 12*len(cursors))
	sent := 0
	for _, c := range cursors {
		if c == 0 || c > delivered {
			continue
		}
		// $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>:
		// the server finds the delivery by its stream sequence.
		subj := "$JS.ACK." + StreamName + "." + name + ".1." + strconv.FormatUint(c, 10) + ".1.0.0"
		if err := l.nc.PublishRequest(subj, inbox, nil); err != nil {
			return fmt.Errorf("eventlog: acknowledge: %w", unavailable(err))
		}
		if sent > 0 {
			notice = append(notice, ',')
		}
		notice = strconv.AppendUint(notice, c, 10)
		sent++
	}
	for range sent {
		select {
		case <-answers:
		case <-ctx.Done():
			return fmt.Errorf("eventlog: acknowledge: %w", unavailable(ctx.Err()))
		}
	}
	// Members free the slots of these events (any process).
	if sent > 0 {
		if err := l.nc.Publish(ackNoticePrefix+name, notice); err != nil {
			return fmt.Errorf("eventlog: acknowledge: %w", unavailable(err))
		}
	}
	return nil
}

// Member is one stream's share of a subscription. It is not safe for
// concurrent use; Close it when the stream ends.
type Member struct {
	l           *Log
	cons        jetstream.Consumer
	filter      Filter
	max         int
	ackDeadline time.Duration
	// outstanding are the events this member returned and that are not
	// acknowledged, by cursor. Acknowledgement notices, from any process,
	// remove theirs as they come (noticeSub's handler), and wake Next.
	mu          sync.Mutex
	outstanding map[uint64]heldEvent
	wake        chan struct{}
	noticeSub   *nats.Subscription
	// created is when the subscription this member joined was created:
	// one of the same name created since is another, whose filter the
	// member does not hold. deleted receives the server's advisory that
	// the subscription was deleted.
	created    time.Time
	deleted    chan *nats.Msg
	deletedSub *nats.Subscription
	wasDeleted bool
	batch      jetstream.MessageBatch
	endBatch   context.CancelFunc
	// batchDue is when the server's ack deadline of the events of the
	// current pull passes, at the earliest: it starts at each delivery,
	// after the pull was sent.
	batchDue  time.Time
	idle, due *time.Timer
	// ctx bounds every pull; Close ends it.
	ctx    context.Context
	cancel context.CancelFunc
}

// heldEvent is an event a member returned: when it becomes due again,
// and the delivery, to hand it back.
type heldEvent struct {
	due time.Time
	msg jetstream.Msg
}

// Join makes a member of the subscription that holds at most
// maxOutstanding unacknowledged events at once.
func (l *Log) Join(ctx context.Context, appkey, id string, maxOutstanding int) (*Member, error) {
	cons, err := l.consumer(ctx, appkey, id)
	if err != nil {
		return nil, fmt.Errorf("eventlog: join subscription: %w", err)
	}
	info, err := subscriptionInfo(cons.CachedInfo())
	if err != nil {
		return nil, fmt.Errorf("eventlog: join subscription: %w", err)
	}
	m := &Member{
		l: l, cons: cons, filter: info.Filter, max: maxOutstanding, ackDeadline: info.AckDeadline,
		outstanding: map[uint64]heldEvent{}, wake: make(chan struct{}, 1),
		created: cons.CachedInfo().Created, deleted: make(chan *nats.Msg, 1),
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	// Subscribed before the consumer is checked again below, so that a
	// deletion in between is not missed. A member that holds its
	// max_outstanding events pulls nothing, and would otherwise notice
	// only at its next check (a heartbeat).
	m.deletedSub, err = l.nc.ChanSubscribe(server.JSAdvisoryConsumerDeletedPre+"."+StreamName+"."+consumerName(appkey, id), m.deleted)
	if err != nil {
		return nil, fmt.Errorf("eventlog: join subscription: %w", unavailable(err))
	}
	// A handler, not a channel: a full channel would drop notices, this
	// member's among every member's, and hold their slots until the
	// deadline.
	m.noticeSub, err = l.nc.Subscribe(ackNoticePrefix+consumerName(appkey, id), func(n *nats.Msg) { m.applyNotice(n.Data) })
	if err != nil {
		_ = m.deletedSub.Unsubscribe()
		return nil, fmt.Errorf("eventlog: join subscription: %w", unavailable(err))
	}
	if err := m.check(ctx); err != nil {
		m.Close()
		return nil, fmt.Errorf("eventlog: join subscription: %w", err)
	}
	return m, nil
}

// Close leaves the subscription. The events this member had pulled and
// not returned are handed back (see Member.handBack); those it returned and that
// the stream did not send should be handed back with Release first. An
// event delivered in the instant of the close goes to another member
// after the ack deadline, as if a client had received it and died. Every
// delivery counts as an attempt.
func (m *Member) Close() {
	m.cancel()
	_ = m.noticeSub.Unsubscribe()
	_ = m.deletedSub.Unsubscribe()
	if m.batch != nil && !m.gone() {
		// Cancelled, the pull closes its channel; what it holds was
		// delivered to this member.
		for msg := range m.batch.Messages() {
			m.handBack(msg, m.batchDue)
		}
		m.batch = nil
	}
}

// handBack returns an event whose ack deadline passes at due to the
// subscription, for another member; unless the deadline is (about to be)
// past: then the server gives it to another member by itself, or already
// did, and a hand-back would make it deliver the event again while that
// member holds it.
//
// Not at once: the server would deliver it to this member's pull if that
// were still open (cancelled here, it lives on in the server until it
// expires or its inbox's unsubscription arrives), where nobody takes it
// and it would spend an attempt until the ack deadline. After the pull's
// window it goes to another member.
func (m *Member) handBack(msg jetstream.Msg, due time.Time) {
	if !m.stale(due) {
		_ = msg.NakWithDelay(m.pullWindow())
	}
}

// stale reports whether an ack deadline passing at due is too near, or
// past, for this member to still count on the event: the server may give
// it to another member before this member's word reaches it.
func (m *Member) stale(due time.Time) bool {
	return time.Until(due) < min(time.Second, m.ackDeadline/4)
}

// pullWindow is how long one pull waits for events: fetchWait, or half
// the ack deadline if shorter, so that an event of a pull taken as soon
// as it comes is never stale.
func (m *Member) pullWindow() time.Duration { return min(fetchWait, m.ackDeadline/2) }

// Release hands back events Next returned that the stream did not send
// (see Member.handBack): they go to another member in seconds instead of
// after the ack deadline. Unlike the other methods, it may be called from
// any goroutine, also after Close.
func (m *Member) Release(cursors ...uint64) {
	var back []heldEvent
	m.mu.Lock()
	for _, c := range cursors {
		if h, ok := m.outstanding[c]; ok {
			delete(m.outstanding, c)
			back = append(back, h)
		}
	}
	m.mu.Unlock()
	for _, h := range back {
		m.handBack(h.msg, h.due)
	}
}

// check asks the server whether the subscription the member joined is
// still there: ErrSubscriptionNotFound when it was deleted, or deleted
// and created again (another subscription under the same name, whose
// events the member must not take under its filter).
func (m *Member) check(ctx context.Context) error {
	info, err := m.cons.Info(ctx)
	switch {
	case errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrConsumerDeleted):
		return ErrSubscriptionNotFound
	case err != nil:
		return unavailable(err)
	case !info.Created.Equal(m.created):
		return ErrSubscriptionNotFound
	}
	return nil
}

// gone reports whether the server advised that the subscription was
// deleted.
func (m *Member) gone() bool {
	if !m.wasDeleted {
		select {
		case <-m.deleted:
			m.wasDeleted = true
		default:
		}
	}
	return m.wasDeleted
}

// fetchWait is how long one pull waits for events at most (pullWindow).
const fetchWait = 5 * time.Second

// Next returns the next event of the subscription for this member (with
// its delivery attempt), or a heartbeat when none came within idle.
// ErrSubscriptionNotFound when the subscription was deleted (or deleted
// and created again: another one, under the same name).
func (m *Member) Next(ctx context.Context, idle time.Duration) (Item, error) {
	if m.idle == nil {
		m.idle, m.due = time.NewTimer(idle), time.NewTimer(time.Hour)
	} else {
		m.idle.Reset(idle)
	}
	defer m.idle.Stop()
	defer m.due.Stop()
	for {
		if m.gone() {
			return Item{}, ErrSubscriptionNotFound
		}
		now := time.Now()
		next := time.Time{}
		m.mu.Lock()
		for c, h := range m.outstanding {
			if !h.due.After(now) {
				delete(m.outstanding, c) // due again: the server redelivers it
			} else if next.IsZero() || h.due.Before(next) {
				next = h.due
			}
		}
		held := len(m.outstanding)
		m.mu.Unlock()
		if m.batch == nil && held < m.max {
			window := m.pullWindow()
			fctx, cancel := context.WithTimeout(m.ctx, window)
			// Heartbeats every second: a pull lost with a cluster node is
			// noticed in about 2s, and pulled again. A pull shorter than
			// that ends before it would notice.
			opts := []jetstream.FetchOpt{jetstream.FetchContext(fctx)}
			if window >= 3*time.Second {
				opts = append(opts, jetstream.FetchHeartbeat(time.Second))
			}
			m.batchDue = time.Now().Add(m.ackDeadline)
			b, err := m.cons.Fetch(m.max-held, opts...)
			if err != nil {
				cancel()
				return Item{}, m.fetchError(err)
			}
			m.batch, m.endBatch = b, cancel
		}
		var msgs <-chan jetstream.Msg
		if m.batch != nil {
			msgs = m.batch.Messages()
		}
		if !next.IsZero() {
			m.due.Reset(time.Until(next))
		}
		select {
		case msg, ok := <-msgs:
			if !ok {
				err := m.batch.Error()
				m.batch = nil
				m.endBatch()
				if err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) &&
					!errors.Is(err, context.Canceled) && !errors.Is(err, jetstream.ErrNoHeartbeat) {
					return Item{}, m.fetchError(err)
				}
				continue
			}
			if m.gone() {
				// Left to the deadline: it may be another subscription's
				// under the same name.
				return Item{}, ErrSubscriptionNotFound
			}
			if it, ok := m.take(msg); ok {
				return it, nil
			}
		case <-m.wake: // acknowledgements freed slots
		case <-m.deleted:
			m.wasDeleted = true // the loop ends it
		case <-m.due.C:
		case <-m.idle.C:
			if err := m.check(ctx); errors.Is(err, ErrSubscriptionNotFound) {
				return Item{}, err
			}
			head, _ := m.l.Head(ctx)
			return Item{Heartbeat: true, Head: head}, nil
		case <-ctx.Done():
			return Item{}, ctx.Err()
		}
	}
}

func (m *Member) fetchError(err error) error {
	if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) {
		return ErrSubscriptionNotFound
	}
	// A pull from a consumer deleted meanwhile fails in other ways too
	// (no responders): ask, briefly, as the servers may be what failed.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if cerr := m.check(ctx); errors.Is(cerr, ErrSubscriptionNotFound) {
		return cerr
	}
	return fmt.Errorf("eventlog: subscription: %w", unavailable(err))
}

// take turns a delivered message into an item. Events the field
// conditions leave out are acknowledged here and not returned; a corrupt
// one is terminated (it stays in the log), since no member could send it
// and every one that took it would end.
func (m *Member) take(msg jetstream.Msg) (Item, bool) {
	md, err := msg.Metadata()
	if err != nil || m.stale(m.batchDue) {
		// Waited in the pull while the stream was busy: the server gives
		// it to another member, or did already.
		return Item{}, false
	}
	e := &entry{seq: md.Sequence.Stream, subject: msg.Subject(), data: msg.Data(), dicts: m.l.dicts}
	ev, err := e.event(false) // kept in e: the stream reads it again
	if errors.Is(err, ErrUnavailable) {
		// Its dictionary could not be fetched: try again later.
		m.l.log.Warn("eventlog: subscription: event not readable now, redelivered later", "cursor", e.seq, "err", err)
		_ = msg.NakWithDelay(time.Second)
		return Item{}, false
	}
	if err != nil {
		m.l.log.Warn("eventlog: subscription: unreadable event, not delivered", "cursor", e.seq, "err", err)
		_ = msg.Term()
		return Item{}, false
	}
	if m.filter.HasFieldConditions() && !m.filter.Matches(ev) {
		_ = msg.Ack()
		return Item{}, false
	}
	m.mu.Lock()
	m.outstanding[e.seq] = heldEvent{due: m.batchDue, msg: msg}
	m.mu.Unlock()
	return Item{entry: e, Cursor: e.seq, Attempt: int(md.NumDelivered)}, true
}

// applyNotice frees the slots of the acknowledged cursors in data,
// "c1,c2,…", and wakes Next when one was this member's.
func (m *Member) applyNotice(data []byte) {
	freed := false
	m.mu.Lock()
	for s := range strings.SplitSeq(string(data), ",") {
		if c, err := strconv.ParseUint(s, 10, 64); err == nil {
			if _, ok := m.outstanding[c]; ok {
				delete(m.outstanding, c)
				freed = true
			}
		}
	}
	m.mu.Unlock()
	if freed {
		select {
		case m.wake <- struct{}{}:
		default: // already woken
		}
	}
}

// maxDeliveriesAdvisory is the part of JetStream's advisory that matters.
type maxDeliveriesAdvisory struct {
	Consumer   string `json:"consumer"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries int    `json:"deliveries"`
}

// watchAbandoned reports, through Config.OnAbandoned, every event a
// subscription stopped delivering after its last attempt.
func (l *Log) watchAbandoned() error {
	if l.cfg.OnAbandoned == nil {
		return nil
	}
	sub, err := l.nc.Subscribe(maxDeliveriesSubj, func(msg *nats.Msg) {
		var a maxDeliveriesAdvisory
		if json.Unmarshal(msg.Data, &a) != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
		defer cancel()
		app, id := "", a.Consumer
		if cons, err := l.stream.Consumer(ctx, a.Consumer); err == nil {
			md := cons.CachedInfo().Config.Metadata
			app, id = md[metaApp], md[metaID]
		}
		l.cfg.OnAbandoned(app, id, a.StreamSeq, a.Deliveries)
	})
	if err != nil {
		return fmt.Errorf("eventlog: watch abandoned events: %w", err)
	}
	l.abandoned = sub
	return nil
}
