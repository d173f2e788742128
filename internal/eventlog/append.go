package eventlog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/selector"
)

// Field numbers of Event that the log handles in encoded form: the cursor
// is never stored; streams leave raw_body out unless asked.
const (
	cursorField  protowire.Number = 1
	rawBodyField protowire.Number = 16
)

var marshalOpts = proto.MarshalOptions{}

// bufPool holds marshalling buffers: the connection copies a message out
// before the publish returns, so a buffer can be reused after each Append.
const maxPooledBuf = 64 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// Append stores ev under its subject (subjects.go) with MsgID(ev.CallId)
// as its JetStream message id, and returns once JetStream has acknowledged
// it. ev.Cursor is not stored (the cursor is the stream sequence), and ev
// is not modified.
//
// duplicate is true when the callback was stored before; cursor is then
// the original event's. A callback is known by its call id, unless an
// earlier, different callback holds that (callbackKey): it is then stored
// under a message id of its own. The call id index (callids.go), checked before
// publishing unless the event's vendor time is recent (withinWindow),
// knows every call id stored within CallIDIndexTTL except the newest,
// which its feeder records a moment later; JetStream's duplicate window
// catches those, and the same call id appended twice at once, by this
// process or another.
//
// An error means the event may or may not be stored: appending the same
// event again is always safe. ctx bounds the whole call. Errors name the
// call id shortened (ShortID), never whole.
func (l *Log) Append(ctx context.Context, ev *imbridgev1.Event) (cursor uint64, duplicate bool, err error) {
	callID := ev.GetCallId()
	if callID == "" {
		return 0, false, errors.New("eventlog: Append: empty call id")
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	key := callbackKey(ev)
	hash := keyHash(key)
	cursor, duplicate, firstKey, err := l.appendAs(ctx, ev, MsgID(callID), hash)
	if err != nil || !duplicate {
		return cursor, duplicate, err
	}
	// The vendor sends one operation to several users under one callId: a
	// message's uplink callback and each offline recipient's copy, both
	// sides of an answered contact request. A retry is the same callback
	// again; a sibling differs in what callbackKey reads, and is stored
	// under an id of its own. The call id index keeps the key of this
	// process's appends (asked here too when the duplicate window caught
	// the copy); the key of another process's is read from the event.
	// Reading every duplicate instead kept the blocks of the events read
	// in the server's cache: 30 MiB more at 20 retries a second, the
	// whole log while old redeliveries came.
	if firstKey == 0 {
		if seq, key, err := l.index.lookup(MsgID(callID)); err == nil && seq == cursor {
			firstKey = key
		}
	}
	if firstKey == 0 {
		first, err := l.Get(ctx, cursor)
		switch {
		case errors.Is(err, ErrNotFound) || errors.Is(err, ErrCorrupt):
			// Gone to retention, or unreadable: nothing to compare
			// with, and the call id was stored.
			return cursor, true, nil
		case err != nil:
			return 0, false, fmt.Errorf("eventlog: Append %s: %w", ShortID(callID), err)
		}
		firstKey = keyHash(callbackKey(first))
	}
	if firstKey == hash {
		return cursor, true, nil
	}
	cursor, duplicate, _, err = l.appendAs(ctx, ev, MsgID(callID+"\x00"+key), hash)
	return cursor, duplicate, err
}

// keyHash is the 64-bit FNV-1a hash of a callbackKey, never 0 (which the
// call id index takes for a key it does not know).
func keyHash(key string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	return max(h.Sum64(), 1)
}

// callbackKey tells the vendor's callbacks under one callId apart: what
// differs between siblings (the recipient and eventType of a message's
// offline copies; the recipient and operation of a contact request's two
// answers) and what a retry, the same body again, keeps. It reads only the
// body's own text, never what imbridge learned (whether a group is a
// chatroom), so that every process makes the same key of a retry. With
// the callId, it is the message id of a sibling.
func callbackKey(ev *imbridgev1.Event) string {
	var op string
	switch b := ev.GetBody().(type) {
	case *imbridgev1.Event_Roster:
		op = b.Roster.GetOperationName()
	case *imbridgev1.Event_Muc:
		op = b.Muc.GetOperationName()
	case *imbridgev1.Event_GroupOp:
		op = b.GroupOp.GetOperationName() + "/" + b.GroupOp.GetSubEvent()
	}
	return strings.Join([]string{ev.GetAppkey(), ev.GetEventTypeName(), ev.GetChatType(),
		ev.GetSender(), ev.GetRecipient(), ev.GetMsgId(), op}, "\x00")
}

// appendAs is Append under the message id msgID of an event of callback
// key hash key, within ctx. On a duplicate, firstKey is the key hash of
// the event stored under msgID when the call id index knows it, else 0.
func (l *Log) appendAs(ctx context.Context, ev *imbridgev1.Event, msgID string, key uint64) (cursor uint64, duplicate bool, firstKey uint64, err error) {
	callID := ev.GetCallId()
	subject, err := l.subjects.get(ev.GetAppkey(), ev.GetSelector())
	if err != nil {
		return 0, false, 0, err
	}
	if !l.withinWindow(ev.GetVendorTime(), time.Now()) {
		// The index must know every event stored before the duplicate
		// window began; half the window leaves room for clocks and slow
		// commits.
		if err := l.index.ready(ctx, l.window.reach(time.Now())/2); err != nil {
			return 0, false, 0, fmt.Errorf("eventlog: Append %s: %w", ShortID(callID), err)
		}
		switch seq, firstKey, err := l.index.lookup(msgID); {
		case err == nil:
			return seq, true, firstKey, nil
		case errors.Is(err, ErrCorrupt):
			// An unreadable entry cannot say the call id was stored:
			// append (the duplicate window still catches a recent copy),
			// and the new entry replaces the bad one.
			l.log.Warn("eventlog: replacing a corrupt call id index entry", "call_id", ShortID(callID), "err", err)
		case !errors.Is(err, ErrNotFound):
			return 0, false, 0, fmt.Errorf("eventlog: Append %s: call id index: %w", ShortID(callID), unavailable(err))
		}
	}

	// pending: nats.go may still publish the message again (it retries a
	// "no responders" answer 250 ms later, from the message it holds): its
	// buffers must not go back to the pool, where another Append would
	// write over them before that retry sends them.
	pending := false
	bp := bufPool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledBuf && !pending {
			bufPool.Put(bp)
		}
	}()
	data, err := marshalOpts.MarshalAppend((*bp)[:0], ev)
	if err != nil {
		return 0, false, 0, fmt.Errorf("eventlog: Append %s: marshal: %w", ShortID(callID), err)
	}
	*bp = data
	if ev.GetCursor() != 0 {
		data = stripField(data, cursorField)
	}
	if l.cfg.Compression.perEvent() {
		l.dicts.offer(data)
		sp := bufPool.Get().(*[]byte)
		defer func() {
			if cap(*sp) <= maxPooledBuf && !pending {
				bufPool.Put(sp)
			}
		}()
		data = l.dicts.seal(*sp, data)
		*sp = data
	}

	// A call whose time is up publishes nothing: its caller answers that
	// the event was not stored. The deadline is read as well as Err, whose
	// timer may not have fired yet.
	if d, ok := ctx.Deadline(); ctx.Err() != nil || (ok && !time.Now().Before(d)) {
		err := ctx.Err()
		if err == nil {
			err = context.DeadlineExceeded
		}
		return 0, false, 0, fmt.Errorf("eventlog: Append %s: %w", ShortID(callID), unavailable(err))
	}

	// Published asynchronously: many appends share each connection's
	// writes and its one reply subscription, and each waits only for its
	// own acknowledgement. The publish copies the message out, but nats.go
	// keeps the message itself for its retries until the future resolves:
	// the buffers go back to the pool only then.
	c := &l.appendConns[l.nextConn.Add(1)%uint32(len(l.appendConns))]
	published := time.Now()
	f, err := c.js.PublishMsgAsync(&nats.Msg{
		Subject: subject,
		Data:    data,
		Header:  nats.Header{jetstream.MsgIDHeader: []string{msgID}},
	})
	if err != nil {
		return 0, false, 0, fmt.Errorf("eventlog: Append %s: %w", ShortID(callID), unavailable(err))
	}
	select {
	case ack := <-f.Ok():
		// The index records the call id at its next tick, long before
		// the duplicate window forgets it.
		if !ack.Duplicate {
			l.index.appendedAt(ack.Sequence, msgID, published, key)
		}
		return ack.Sequence, ack.Duplicate, 0, nil
	case err := <-f.Err():
		return 0, false, 0, fmt.Errorf("eventlog: Append %s: %w", ShortID(callID), unavailable(err))
	case <-ctx.Done():
		// The acknowledgement may still come, or time out
		// (WithPublishAsyncTimeout): either way its future is dropped,
		// and nats.go may still send the message again.
		pending = true
		return 0, false, 0, fmt.Errorf("eventlog: Append %s: %w", ShortID(callID), unavailable(ctx.Err()))
	}
}

// withinWindow says whether every earlier copy of an event with this
// vendor time is surely still in JetStream's duplicate window, so that the
// call id index need not be asked. The vendor sends a callback after its
// timestamp, and a retry or a redelivery from its exception storage is the
// stored callback as it was, timestamp included (its signature covers the
// timestamp; an unsigned callback's call id is its body's hash): so any
// earlier copy arrived after vendorTime. When that is under half the window
// ago, and not more than a quarter of the window ahead (the vendor's clock
// may run ahead of ours by that much), the window holds every earlier copy.
// Live traffic skips the index this way; redeliveries, with their old
// timestamps, are looked up.
func (l *Log) withinWindow(vendorTime *timestamppb.Timestamp, now time.Time) bool {
	if vendorTime == nil {
		return false
	}
	t, w := vendorTime.AsTime(), l.window.reach(now)
	return t.After(now.Add(-w/2)) && t.Before(now.Add(w/4))
}

// Get returns the event stored at cursor, with Cursor set; ErrNotFound when
// there is none (never stored, or dropped by retention).
func (l *Log) Get(ctx context.Context, cursor uint64) (*imbridgev1.Event, error) {
	if cursor == 0 {
		return nil, ErrNotFound
	}
	var data []byte
	m, err := l.stream.GetMsg(ctx, cursor)
	if err == nil {
		data = m.Data
	} else if errors.Is(err, jetstream.ErrMsgNotFound) {
		// Answered by a replica or a mirror that may not have caught up
		// with a just-acknowledged append (see leaderNext): ask the leader.
		data, err = l.leaderGet(ctx, StreamName, msgGetRequest{Seq: cursor})
	}
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("eventlog: Get %d: %w", cursor, unavailable(err))
	}
	return l.dicts.decodeEvent(data, cursor, true)
}

// GetByCallID returns the event stored for callID, found through the call id
// index; ErrNotFound when there is none. It sees every event stored before
// it was called, by any process: when the index does not know the call id
// it waits until the index has caught up with the log's head (within ctx,
// or 10 s when ctx has no deadline).
func (l *Log) GetByCallID(ctx context.Context, callID string) (*imbridgev1.Event, error) {
	if callID == "" {
		return nil, ErrNotFound
	}
	// The wait for the index below must end, as Append's does.
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	msgID := MsgID(callID)
	seq, _, err := l.index.lookup(msgID)
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrCorrupt) {
		var info *jetstream.StreamInfo
		if info, err = l.stream.Info(ctx); err == nil {
			if err = l.index.waitIndexed(ctx, info.State.LastSeq); err == nil {
				seq, _, err = l.index.lookup(msgID)
			}
		}
	}
	if err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrCorrupt) {
			return nil, err
		}
		return nil, fmt.Errorf("eventlog: GetByCallID %s: %w", ShortID(callID), unavailable(err))
	}
	ev, err := l.Get(ctx, seq)
	if err != nil {
		return nil, err
	}
	if ev.GetCallId() != callID { // a hash collision: not this call id
		return nil, ErrNotFound
	}
	return ev, nil
}

// leaderGet reads one message through the stream leader
// ($JS.API.STREAM.MSG.GET), which, unlike a direct get, every replica of
// which may answer, sees every acknowledged write. It returns the payload,
// or jetstream.ErrMsgNotFound.
func (l *Log) leaderGet(ctx context.Context, stream string, req msgGetRequest) ([]byte, error) {
	m, err := l.leaderGetMsg(ctx, stream, req)
	if err != nil {
		return nil, err
	}
	return m.Data, nil
}

// storedMsg is a message as the stream leader returns it.
type storedMsg struct {
	Subject  string    `json:"subject"`
	Sequence uint64    `json:"seq"`
	Header   []byte    `json:"hdrs"`
	Data     []byte    `json:"data"`
	Time     time.Time `json:"time"`
}

// leaderGetMsg is leaderGet with the time the message was stored.
func (l *Log) leaderGetMsg(ctx context.Context, stream string, req msgGetRequest) (*storedMsg, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	resp, err := l.nc.RequestWithContext(ctx, msgGetPrefix+stream, body)
	if err != nil {
		return nil, err
	}
	var r struct {
		Error   *jetstream.APIError `json:"error"`
		Message *storedMsg          `json:"message"`
	}
	if err := json.Unmarshal(resp.Data, &r); err != nil {
		return nil, fmt.Errorf("message get response: %w", err)
	}
	switch {
	case r.Error != nil && r.Error.ErrorCode == jetstream.JSErrCodeMessageNotFound:
		return nil, jetstream.ErrMsgNotFound
	case r.Error != nil:
		return nil, r.Error
	case r.Message == nil:
		return nil, errors.New("message get response without a message")
	}
	return r.Message, nil
}

// stripField removes every occurrence of top-level field num from the
// encoded message b, in place.
func stripField(b []byte, num protowire.Number) []byte { return appendWithout(b[:0], b, num) }

// appendWithout appends the encoded message b without its top-level field
// num to dst; dst may be b[:0]. From a field that does not parse on (not
// in proto.Marshal output; a corrupt stored event) it appends the rest of
// b as it is, for Unmarshal to reject.
func appendWithout(dst, b []byte, num protowire.Number) []byte {
	for rest := b; len(rest) > 0; {
		n, typ, tagLen := protowire.ConsumeTag(rest)
		if tagLen < 0 {
			return append(dst, rest...)
		}
		valLen := protowire.ConsumeFieldValue(n, typ, rest[tagLen:])
		if valLen < 0 {
			return append(dst, rest...)
		}
		field := rest[:tagLen+valLen]
		rest = rest[tagLen+valLen:]
		if n != num {
			dst = append(dst, field...)
		}
	}
	return dst
}

// subjectCache maps (appkey, canonical selector) to the event subject, so
// that Append neither re-validates nor rebuilds it. It stops growing at
// maxCachedSubjects entries (appkeys are configured, so it never should).
type subjectCache struct {
	mu sync.RWMutex
	m  map[subjectKey]string
}

type subjectKey struct{ appkey, selector string }

const maxCachedSubjects = 1 << 14

func (c *subjectCache) get(appkey, sel string) (string, error) {
	k := subjectKey{appkey, sel}
	c.mu.RLock()
	s, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return s, nil
	}
	if !selector.IsCanonical(sel) {
		return "", fmt.Errorf("eventlog: Append: selector %q is not canonical", sel)
	}
	s = eventSubject(appkey, sel)
	c.mu.Lock()
	if c.m == nil {
		c.m = map[subjectKey]string{}
	}
	if len(c.m) < maxCachedSubjects {
		c.m[k] = s
	}
	c.mu.Unlock()
	return s, nil
}

// maxMsgIDBytes bounds a JetStream message id: NATS headers are limited
// (64 KiB in all), and the id is kept in server memory for the duplicate
// window.
const maxMsgIDBytes = 128

// MsgID is the JetStream message id a call id is stored under: the call id
// itself when it is at most 128 bytes of printable ASCII without spaces
// (every call id the vendor documents), otherwise `sha256:` and the hex of
// its SHA-256. Either way the same call id always gives the same id, so
// deduplication is exact; the event keeps the whole call id.
func MsgID(callID string) string {
	if len(callID) <= maxMsgIDBytes && !strings.ContainsFunc(callID, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		return callID
	}
	sum := sha256.Sum256([]byte(callID))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ShortID is a call id fit for an error or a log line: at most 64 bytes,
// with invalid UTF-8 and control characters replaced.
func ShortID(callID string) string {
	const max = 64
	if len(callID) > max {
		callID = callID[:max] + "…"
	}
	return strconv.QuoteToGraphic(callID)
}
