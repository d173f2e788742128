package eventlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/selector"
)

// MaxLimit is the largest Query.Limit.
const MaxLimit = 1000

// ClockSlack is how far ahead of the NATS server's clock an event's
// receive_time may be. List skips events stored more than ClockSlack
// before Query.StartTime without reading them: their receive_time
// (stamped by imbridge before Append) is earlier than StartTime.
const ClockSlack = time.Minute

// batchSize is how many messages one direct-get batch request asks for.
const batchSize = 256

// Filter chooses events, for List and for streams. Every condition that
// is set must hold.
type Filter struct {
	// Selectors choose events by selector; empty = all.
	Selectors []selector.Selector
	// Appkey chooses one application; "" = all.
	Appkey string
	// Sender, Recipient and GroupID match Event.sender_username,
	// recipient_username and group_id exactly; "" = any.
	Sender, Recipient, GroupID string
	// EventTypes choose event types; empty = any.
	EventTypes []imbridgev1.EventType
	// RoomKind chooses events about groups or about chatrooms (see
	// RoomKindOf); unspecified = any.
	RoomKind imbridgev1.RoomKind
	// MsgID chooses the events of one message: its own (msg_id) and those
	// about it (related_msg_id: edits, recall); "" = any.
	MsgID string
}

// RoomKindOf is whether ev is about a group or a chatroom: a group or
// chatroom operation of either format, or a message in one; unspecified
// for every other event.
func RoomKindOf(ev *imbridgev1.Event) imbridgev1.RoomKind {
	switch {
	case ev.GetGroupOp() != nil:
		return ev.GetGroupOp().GetKind()
	case ev.GetMuc() != nil && ev.GetMuc().GetIsChatroom():
		return imbridgev1.RoomKind_ROOM_KIND_CHATROOM
	case ev.GetMuc() != nil:
		return imbridgev1.RoomKind_ROOM_KIND_GROUP
	}
	switch ev.GetMessage().GetConversation() {
	case imbridgev1.Conversation_CONVERSATION_CHATROOM:
		return imbridgev1.RoomKind_ROOM_KIND_CHATROOM
	case imbridgev1.Conversation_CONVERSATION_GROUPCHAT:
		return imbridgev1.RoomKind_ROOM_KIND_GROUP
	}
	return imbridgev1.RoomKind_ROOM_KIND_UNSPECIFIED
}

// subjects is the set of subject filters that choose what f's selectors
// and app choose.
func (f *Filter) subjects() []string { return filterSubjects(f.Appkey, f.Selectors) }

// HasFieldConditions reports whether f has conditions a subject filter
// cannot express: they are checked on the decoded event (Matches).
func (f *Filter) HasFieldConditions() bool {
	return f.Sender != "" || f.Recipient != "" || f.GroupID != "" || len(f.EventTypes) > 0 ||
		f.RoomKind != imbridgev1.RoomKind_ROOM_KIND_UNSPECIFIED || f.MsgID != ""
}

// Matches applies the conditions a subject filter cannot express.
func (f *Filter) Matches(ev *imbridgev1.Event) bool {
	return (f.Sender == "" || ev.GetSenderUsername() == f.Sender) &&
		(f.Recipient == "" || ev.GetRecipientUsername() == f.Recipient) &&
		(f.GroupID == "" || ev.GetGroupId() == f.GroupID) &&
		(len(f.EventTypes) == 0 || slices.Contains(f.EventTypes, ev.GetEventType())) &&
		(f.RoomKind == imbridgev1.RoomKind_ROOM_KIND_UNSPECIFIED || RoomKindOf(ev) == f.RoomKind) &&
		(f.MsgID == "" || ev.GetMsgId() == f.MsgID || ev.GetRelatedMsgId() == f.MsgID)
}

// Query chooses events for List.
type Query struct {
	Filter
	// StartTime and EndTime bound Event.receive_time to [start, end); zero
	// = unbounded. An event without receive_time matches only when both are
	// zero.
	StartTime, EndTime time.Time
	// OldestFirst lists in storage order; the default is newest first.
	OldestFirst bool
	// After continues a listing: only cursors strictly after (oldest
	// first) or strictly before (newest first) this one; 0 = from the
	// chosen end of the log.
	After uint64
	// Limit is the most events to return: 1 to MaxLimit.
	Limit int
	// MaxScan bounds the work: List stops after examining this many stored
	// messages (0 = 10*Limit+1000), and reports where to continue.
	// Oldest first JetStream filters by subject before List sees a
	// message, so only messages of the chosen selector (of one) or app (of
	// several selectors) count; newest first every stored message walked
	// over counts.
	MaxScan int
}

// List returns up to q.Limit events matching q, in the requested order,
// and next: the cursor to put in q.After to continue, or 0 when the end of
// the log was reached. A page may be shorter than Limit, even empty, with
// next != 0 when MaxScan was reached. Events appended after the end was
// reached are found by listing again oldest first with After set to the
// last cursor seen.
func (l *Log) List(ctx context.Context, q Query) (events []*imbridgev1.Event, next uint64, err error) {
	if q.Limit < 1 || q.Limit > MaxLimit {
		return nil, 0, fmt.Errorf("eventlog: List: Limit %d: want 1 to %d", q.Limit, MaxLimit)
	}
	if q.MaxScan < 0 {
		return nil, 0, fmt.Errorf("eventlog: List: MaxScan %d must not be negative", q.MaxScan)
	}
	if q.MaxScan == 0 {
		q.MaxScan = 10*q.Limit + 1000
	}
	if !q.StartTime.IsZero() && !q.EndTime.IsZero() && !q.EndTime.After(q.StartTime) {
		return nil, 0, nil // an empty range
	}
	s := &scan{l: l, q: &q, filters: q.subjects()}
	if q.OldestFirst {
		err = s.forward(ctx)
	} else {
		err = s.backward(ctx)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("eventlog: List: %w", unavailable(err))
	}
	return s.events, s.next, nil
}

// scan is one List call's state.
type scan struct {
	l       *Log
	q       *Query
	filters []string
	scanned int
	events  []*imbridgev1.Event
	next    uint64
}

// take examines one stored message and reports whether the page is full.
func (s *scan) take(m *rawMsg) (bool, error) {
	s.scanned++
	if !matchesAnySubject(s.filters, m.subject) {
		return false, nil
	}
	ev, err := s.l.dicts.decodeEvent(m.data, m.seq, true)
	if err != nil {
		return false, err
	}
	if !s.q.matches(ev) {
		return false, nil
	}
	s.events = append(s.events, ev)
	return len(s.events) == s.q.Limit, nil
}

// forward lists oldest first with batched direct gets filtered by subject.
func (s *scan) forward(ctx context.Context) error {
	start := s.q.After + 1
	if !s.q.StartTime.IsZero() {
		// Nothing stored before StartTime-ClockSlack can match.
		seq, err := s.l.seqAtTime(ctx, s.q.StartTime.Add(-ClockSlack))
		if err != nil {
			return err
		}
		if seq == 0 {
			return nil // nothing stored since
		}
		start = max(start, seq)
	}
	filter := s.filters[0]
	if len(s.filters) > 1 { // one request filter covering them all
		filter = appFilter(s.q.Appkey)
	}
	for {
		n := min(batchSize, max(s.q.MaxScan-s.scanned, 1))
		var full bool
		var last uint64
		pending, err := s.l.directBatch(ctx, msgGetRequest{Seq: start, NextFor: filter, Batch: n}, false,
			func(m *rawMsg) (bool, error) {
				last = m.seq
				var err error
				full, err = s.take(m)
				return !full, err
			})
		switch {
		case errors.Is(err, jetstream.ErrMsgNotFound):
			return nil // nothing at or after start
		case err != nil:
			return err
		case full:
			// Whether anything matching follows is not known without reading
			// on: the next page may be empty (with next 0).
			s.next = last
			return nil
		case pending == 0 || last == 0:
			return nil // the end of the log
		case s.scanned >= s.q.MaxScan:
			s.next = last
			return nil
		}
		start = last + 1
	}
}

// backward lists newest first: JetStream has no reverse read, so it walks
// windows of sequences downward, each read in one batched direct get, and
// checks subjects here.
func (s *scan) backward(ctx context.Context) error {
	info, err := s.l.stream.Info(ctx)
	if err != nil {
		return err
	}
	first, hi := max(info.State.FirstSeq, 1), info.State.LastSeq
	if s.q.After > 0 && s.q.After-1 < hi {
		hi = s.q.After - 1
	}
	var notBefore time.Time // stored earlier than this: cannot match
	if !s.q.StartTime.IsZero() {
		notBefore = s.q.StartTime.Add(-ClockSlack)
	}
	window := make([]*rawMsg, 0, batchSize)
	for hi >= first {
		n := min(uint64(batchSize), uint64(max(s.q.MaxScan-s.scanned, 1)), hi-first+1)
		lo := hi - n + 1
		window = window[:0]
		if err := s.readWindow(ctx, lo, hi, !notBefore.IsZero(), &window); err != nil {
			return err
		}
		if len(window) == 0 {
			s.scanned++ // an empty window still costs a request
		}
		for i := len(window) - 1; i >= 0; i-- {
			m := window[i]
			if !notBefore.IsZero() && m.time.Before(notBefore) {
				return nil // everything older is older still
			}
			full, err := s.take(m)
			if err != nil {
				return err
			}
			if full {
				if m.seq > first {
					s.next = m.seq
				}
				return nil
			}
		}
		if lo <= first {
			return nil
		}
		if s.scanned >= s.q.MaxScan {
			s.next = lo
			return nil
		}
		hi = lo - 1
	}
	return nil
}

// readWindow appends the messages stored from lo to hi to window, in
// order. A batch ends early when its messages reach the server's byte
// limit (large events): the rest of the window is read with more.
func (s *scan) readWindow(ctx context.Context, lo, hi uint64, withTime bool, window *[]*rawMsg) error {
	for from := lo; from <= hi; {
		var last uint64
		past := false
		pending, err := s.l.directBatch(ctx, msgGetRequest{Seq: from, Batch: int(hi - from + 1)}, withTime,
			func(m *rawMsg) (bool, error) {
				if m.seq > hi { // past deleted sequences, into the previous window
					past = true
					return false, nil
				}
				*window = append(*window, m)
				last = m.seq
				return true, nil
			})
		switch {
		case errors.Is(err, jetstream.ErrMsgNotFound):
			return nil
		case err != nil:
			return err
		case past || pending == 0 || last == 0:
			return nil
		}
		from = last + 1
	}
	return nil
}

// matches applies the conditions JetStream cannot.
func (q *Query) matches(ev *imbridgev1.Event) bool {
	if !q.Filter.Matches(ev) {
		return false
	}
	if q.StartTime.IsZero() && q.EndTime.IsZero() {
		return true
	}
	rt := ev.GetReceiveTime()
	if rt == nil {
		return false
	}
	t := rt.AsTime()
	return (q.StartTime.IsZero() || !t.Before(q.StartTime)) && (q.EndTime.IsZero() || t.Before(q.EndTime))
}

// matchesAnySubject reports whether subj matches any of the subject
// filters, by NATS's own rules.
func matchesAnySubject(filters []string, subj string) bool {
	for _, f := range filters {
		if server.SubjectMatchesFilter(subj, f) {
			return true
		}
	}
	return false
}

// rawMsg is one stored message read by a direct get.
type rawMsg struct {
	seq     uint64
	subject string
	msgID   string
	time    time.Time // only when asked for
	data    []byte
}

// msgGetRequest is JetStream's message get request, direct or through the
// stream leader.
type msgGetRequest = server.JSApiMsgGetRequest

const (
	numPendingHeader = "Nats-Num-Pending"
	defaultTimeout   = 10 * time.Second
)

// withDefaultTimeout bounds ctx by defaultTimeout when it has no deadline:
// a server that cannot answer a request sends nothing at all.
func withDefaultTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, defaultTimeout)
}

// batchMaxBytes, when set, is the most bytes a batched direct get asks
// for (tests: the server's default is its max_pending, 64 MiB).
var batchMaxBytes = 0

// directBatch sends a direct get and hands each message to fn in stream
// order until fn returns false. For batch requests it returns the number
// of matching messages after the last one sent (when fn did not stop
// early); a batch may end early, at the server's byte limit, with some
// pending. No message at all is jetstream.ErrMsgNotFound.
func (l *Log) directBatch(ctx context.Context, req msgGetRequest, withTime bool, fn func(*rawMsg) (bool, error)) (pending uint64, err error) {
	if req.Batch > 0 && req.MaxBytes == 0 {
		req.MaxBytes = batchMaxBytes
	}
	body, err := json.Marshal(req)
	if err != nil {
		return 0, err
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	// A channel as long as the answer (the messages and the end-of-batch
	// status): SubscribeSync would allocate 64Ki slots per call.
	inbox := l.nc.NewInbox()
	answers := make(chan *nats.Msg, req.Batch+2)
	sub, err := l.nc.ChanSubscribe(inbox, answers)
	if err != nil {
		return 0, err
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := l.nc.PublishRequest(directGetSubject, inbox, body); err != nil {
		return 0, err
	}
	got := 0
	for {
		var m *nats.Msg
		select {
		case m = <-answers:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		switch status, err := directStatus(m); {
		case status == statusEndOfBatch:
			pending, _ = strconv.ParseUint(m.Header.Get(numPendingHeader), 10, 64)
			return pending, nil
		case errors.Is(err, jetstream.ErrMsgNotFound) && got > 0:
			return 0, nil
		case err != nil:
			return 0, err
		}
		got++
		rm := &rawMsg{subject: m.Header.Get(jetstream.SubjectHeader), msgID: m.Header.Get(jetstream.MsgIDHeader), data: m.Data}
		if rm.seq, err = strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64); err != nil {
			return 0, fmt.Errorf("direct get: bad %s header %q", jetstream.SequenceHeader, m.Header.Get(jetstream.SequenceHeader))
		}
		if withTime {
			if rm.time, err = time.Parse(time.RFC3339Nano, m.Header.Get(jetstream.TimeStampHeaer)); err != nil {
				return 0, fmt.Errorf("direct get: bad %s header: %w", jetstream.TimeStampHeaer, err)
			}
		}
		more, err := fn(rm)
		if err != nil {
			return 0, err
		}
		if !more || req.Batch == 0 {
			return 0, nil
		}
	}
}

// seqAtTime returns the first sequence stored at or after t, or 0 when
// nothing was.
func (l *Log) seqAtTime(ctx context.Context, t time.Time) (uint64, error) {
	var seq uint64
	_, err := l.directBatch(ctx, msgGetRequest{NextFor: allEvents, StartTime: &t}, false,
		func(m *rawMsg) (bool, error) { seq = m.seq; return false, nil })
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return l.leaderFirst(ctx, msgGetRequest{NextFor: allEvents, StartTime: &t})
	}
	return seq, err
}

// leaderNext is the first message req (NextFor, from Seq or StartTime on)
// chooses, without headers, as the stream's leader knows it: nil when
// none.
//
// A direct get may be answered by any replica of the stream, or by a
// mirror of it (mirror_direct), and any of them may lag: what it sends was
// stored, but its "nothing more" (404, or nothing pending) covers only
// what it holds. A reader that would pass over events on such an answer
// asks the leader first, which does not lag.
func (l *Log) leaderNext(ctx context.Context, req msgGetRequest) (*storedMsg, error) {
	req.NoHeaders = true
	m, err := l.leaderGetMsg(ctx, StreamName, req)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	}
	return m, err
}

// leaderFirst is leaderNext's cursor: 0 when none.
func (l *Log) leaderFirst(ctx context.Context, req msgGetRequest) (uint64, error) {
	m, err := l.leaderNext(ctx, req)
	if m == nil || err != nil {
		return 0, err
	}
	return m.Sequence, nil
}

// leaderMsgID is the message id of the event stored at cursor, as the
// stream's leader knows it: jetstream.ErrMsgNotFound when none is.
func (l *Log) leaderMsgID(ctx context.Context, cursor uint64) (string, error) {
	m, err := l.leaderGetMsg(ctx, StreamName, msgGetRequest{Seq: cursor})
	if err != nil || len(m.Header) == 0 {
		return "", err
	}
	h, err := nats.DecodeHeadersMsg(m.Header)
	if err != nil {
		return "", fmt.Errorf("message get response: %w", err)
	}
	return h.Get(jetstream.MsgIDHeader), nil
}

// readBatch, leaderFirst and leaderMsgID, with seqAtTime, are how the
// call id index's feeder reads the log (logReader).
func (l *Log) readBatch(ctx context.Context, from uint64, n int, fn func(cursor uint64, msgID string, stored time.Time) bool) error {
	_, err := l.directBatch(ctx, msgGetRequest{Seq: from, NextFor: allEvents, Batch: n}, true,
		func(m *rawMsg) (bool, error) { return fn(m.seq, m.msgID, m.time), nil })
	return err
}

// Status codes of direct get answers.
const (
	statusEndOfBatch = "204"
	statusNotFound   = "404"
	statusNoServer   = "503"
)

// directStatus reads the status header of a direct get answer: "" for a
// message, statusEndOfBatch, or an error (jetstream.ErrMsgNotFound for
// 404, ErrUnavailable for the rest).
func directStatus(m *nats.Msg) (string, error) {
	switch status := m.Header.Get("Status"); status {
	case "", statusEndOfBatch:
		return status, nil
	case statusNotFound:
		return status, jetstream.ErrMsgNotFound
	case statusNoServer:
		return status, fmt.Errorf("%w: direct get: %w", ErrUnavailable, nats.ErrNoResponders)
	default:
		return status, fmt.Errorf("%w: direct get: %s %s", ErrUnavailable, status, m.Header.Get("Description"))
	}
}
