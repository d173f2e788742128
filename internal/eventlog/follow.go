package eventlog

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
)

// Following the log: a Follower reads the events a Filter chooses in log
// order, from a Start, and then each new one as it is stored.
//
// History comes from batched direct gets filtered by subject, as List
// reads. The live end comes from the tail: one ordered consumer per Log,
// started by the first Follow, that keeps the newest stored events in
// memory (tailMaxEntries, tailMaxBytes). Every follower of the process
// reads the tail, so a new event crosses from NATS and is decoded once
// however many streams follow it, and no follower holds anything of its
// own in NATS: a follower that stops reading costs nothing but its
// position. One that falls behind the tail's window reads history again
// until it catches up.

// Bounds of the tail and of one history read (variables for the tests).
var (
	tailMaxEntries = 8192
	tailMaxBytes   = 32 << 20
)

const historyBatch = 64

// entry is one stored event as followers share it: its bytes as stored
// and, each decoded at most once, the event with and without raw_body.
type entry struct {
	seq     uint64
	subject string
	data    []byte
	dicts   *dicts // what reads data

	// decodeMu guards the decoded forms, kept once decoded (or known
	// corrupt): an unavailable learned dictionary is asked for again.
	decodeMu          sync.Mutex
	full, basic       *imbridgev1.Event
	fullErr, basicErr error

	// memo holds forms derived from the event that every follower can
	// share (see Item.Memo).
	memo [MemoSlots]struct {
		once sync.Once
		v    any
		err  error
	}
}

// MemoSlots is how many derived forms an event can hold (Item.Memo).
const MemoSlots = 2

// event returns the entry's event, with raw_body when full. It is shared:
// callers must not modify it.
func (e *entry) event(full bool) (*imbridgev1.Event, error) {
	e.decodeMu.Lock()
	defer e.decodeMu.Unlock()
	ev, err := &e.basic, &e.basicErr
	if full {
		ev, err = &e.full, &e.fullErr
	}
	if *ev == nil && *err == nil {
		got, gotErr := e.dicts.decodeEvent(e.data, e.seq, full)
		if errors.Is(gotErr, ErrUnavailable) {
			return nil, gotErr
		}
		*ev, *err = got, gotErr
	}
	return *ev, *err
}

// tail is the in-memory window of the newest stored events.
type tail struct {
	mu sync.RWMutex
	// entries are in stream order; every message stored with a sequence
	// in [first, head] is among them.
	entries     []*entry
	first, head uint64
	bytes       int
	// wake is closed, and replaced, whenever an entry is added.
	wake  chan struct{}
	cc    jetstream.ConsumeContext
	dicts *dicts
}

// ensureTail starts the tail on first use.
func (l *Log) ensureTail(ctx context.Context) (*tail, error) {
	l.tailMu.Lock()
	defer l.tailMu.Unlock()
	if l.tail != nil {
		return l.tail, nil
	}
	info, err := l.stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("eventlog: start the tail: %w", unavailable(err))
	}
	last := info.State.LastSeq
	t := &tail{first: last + 1, head: last, wake: make(chan struct{}), dicts: l.dicts}
	// The newest stored events first, so that streams starting a little
	// back (a fan-out from the start of a young log, a restart) read them
	// from memory too, decoded once for all.
	if err := l.backfill(ctx, t, max(info.State.FirstSeq, 1), last); err != nil {
		return nil, fmt.Errorf("eventlog: start the tail: %w", unavailable(err))
	}
	cons, err := l.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{allEvents},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    last + 1,
	})
	if err != nil {
		return nil, fmt.Errorf("eventlog: start the tail: %w", unavailable(err))
	}
	// Heartbeats every 2s: when a cluster's stream leader goes away the
	// consumer notices two missed ones and recreates itself, so the live
	// end stalls about 4s instead of the default 10s.
	t.cc, err = cons.Consume(t.add, jetstream.PullHeartbeat(2*time.Second), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		l.log.Debug("eventlog: tail consumer", "err", err)
	}))
	if err != nil {
		return nil, fmt.Errorf("eventlog: start the tail: %w", unavailable(err))
	}
	l.tail = t
	return t, nil
}

// backfill loads the newest stored events up to last, within the tail's
// bounds, into t before it starts.
func (l *Log) backfill(ctx context.Context, t *tail, first, last uint64) error {
	if last == 0 || last < first {
		return nil
	}
	from := first
	if n := uint64(tailMaxEntries); last-first+1 > n {
		from = last - n + 1
	}
	t.first = from
	for seq := from; seq <= last; {
		var got uint64
		pending, err := l.directBatch(ctx, msgGetRequest{Seq: seq, NextFor: allEvents, Batch: batchSize}, false,
			func(m *rawMsg) (bool, error) {
				if m.seq > last {
					return false, nil
				}
				got = m.seq
				t.push(&entry{seq: m.seq, subject: m.subject, data: m.data, dicts: l.dicts})
				return true, nil
			})
		switch {
		case errors.Is(err, jetstream.ErrMsgNotFound) || err == nil && (got == 0 || pending == 0):
			if got < last {
				// The answer ended before last: it may come from a replica
				// that lags (see Log.leaderNext), and the tail must hold
				// every message in [first, head]. Start empty instead:
				// followers read history until the consumer's first message.
				t.entries, t.bytes, t.first = nil, 0, last+1
			}
			return nil
		case err != nil:
			return err
		case got >= last:
			return nil
		}
		seq = got + 1
	}
	return nil
}

// add is the tail consumer's handler: it appends a stored message and
// drops the oldest beyond the bounds.
func (t *tail) add(msg jetstream.Msg) {
	md, err := msg.Metadata()
	if err != nil {
		return
	}
	e := &entry{seq: md.Sequence.Stream, subject: msg.Subject(), data: msg.Data(), dicts: t.dicts}
	t.mu.Lock()
	defer t.mu.Unlock()
	if e.seq <= t.head {
		return // delivered again after the consumer was reset
	}
	t.push(e)
	t.head = e.seq
	close(t.wake)
	t.wake = make(chan struct{})
}

// push appends e and drops the oldest entries beyond the bounds. Lock
// held, or t not shared yet.
func (t *tail) push(e *entry) {
	t.entries = append(t.entries, e)
	t.bytes += len(e.data)
	for len(t.entries) > 1 && (len(t.entries) > tailMaxEntries || t.bytes > tailMaxBytes) {
		old := t.entries[0]
		t.entries[0] = nil
		t.entries = t.entries[1:]
		t.bytes -= len(old.data)
		t.first = old.seq + 1
	}
}

func (t *tail) stop() {
	if t != nil && t.cc != nil {
		t.cc.Stop()
	}
}

// Head is the newest cursor the log knows of: the tail's when it runs,
// else the stream's.
func (l *Log) Head(ctx context.Context) (uint64, error) {
	l.tailMu.Lock()
	t := l.tail
	l.tailMu.Unlock()
	if t != nil {
		t.mu.RLock()
		defer t.mu.RUnlock()
		return t.head, nil
	}
	info, err := l.stream.Info(ctx)
	if err != nil {
		return 0, unavailable(err)
	}
	return info.State.LastSeq, nil
}

// Epoch is the log's identity: it changes only when the stream is created
// anew (its data wiped, or another cluster), never on restarts. Cursors
// of one epoch mean nothing in another.
func (l *Log) Epoch() string { return l.epoch }

// epochOf spells a stream's creation time as an epoch.
func epochOf(created time.Time) string { return strconv.FormatInt(created.UnixNano(), 36) }

// Start is where a Follower starts. The zero Start is the newest end of
// the log: only events stored after Follow.
type Start struct {
	// Earliest starts at the oldest event kept when the follower first
	// reads.
	Earliest bool
	// Resume starts right after the cursor After (0: as Earliest). When
	// Epoch is set it must be the log's.
	Resume bool
	After  uint64
	Epoch  string
	// Time, when set, starts at the first event stored at or after it;
	// when none is yet, at the first one received at or after it.
	Time time.Time
}

// Item is what Follower.Next returns: an event, or a heartbeat.
type Item struct {
	entry *entry
	// Cursor is the event's cursor (0 for a heartbeat).
	Cursor uint64
	// Heartbeat is set when no event came for the idle time; Head and
	// Scanned say where the follower stands: every event up to Scanned was
	// examined, and those that match were returned before.
	Heartbeat     bool
	Head, Scanned uint64
	// Attempt is the delivery attempt on a shared subscription (Member);
	// 0 on a Follower.
	Attempt int
}

// Memo returns the form of the item's event in slot (0 to MemoSlots-1),
// built by build on the first call for this event by any follower: a
// stream's encoded message, built once however many streams send it. The
// value is shared: callers must not modify it.
func (it Item) Memo(slot int, build func() (any, error)) (any, error) {
	if it.entry == nil {
		return build()
	}
	m := &it.entry.memo[slot]
	m.once.Do(func() { m.v, m.err = build() })
	return m.v, m.err
}

// Size is the size of the event as stored (0 for a heartbeat).
func (it Item) Size() int {
	if it.entry == nil {
		return 0
	}
	return len(it.entry.data)
}

// Event returns the item's event, with raw_body when full. It may be
// shared with other followers: callers must not modify it.
func (it Item) Event(full bool) (*imbridgev1.Event, error) {
	if it.entry == nil {
		return nil, errors.New("eventlog: a heartbeat has no event")
	}
	return it.entry.event(full)
}

// Follower reads the log in order and then follows it. It is not safe for
// concurrent use, and holds nothing that needs closing.
type Follower struct {
	l       *Log
	t       *tail
	filter  Filter
	filters []string // subject filters
	pos     uint64   // every message up to pos was examined
	buf     []*entry // subject matches after the examined ones, in order
	timer   *time.Timer
	// oldest: the follower starts at the oldest event kept, and has not
	// read yet: retention dropping events ahead of it moves its start,
	// at its first read only.
	oldest bool
	// notBefore, when set, is a start time no event had reached when the
	// follower started: events received before it are passed over, until
	// one is not.
	notBefore time.Time
}

// Follow starts following the events f chooses from start. Resuming after
// a cursor whose successors retention dropped is a *CursorExpiredError;
// after a cursor of another log (another epoch, or past this log's head) a
// *EpochMismatchError.
func (l *Log) Follow(ctx context.Context, f Filter, start Start) (*Follower, error) {
	t, err := l.ensureTail(ctx)
	if err != nil {
		return nil, err
	}
	info, err := l.stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("eventlog: Follow: %w", unavailable(err))
	}
	first, last := info.State.FirstSeq, info.State.LastSeq
	fl := &Follower{l: l, t: t, filter: f, filters: f.subjects()}
	switch {
	case start.Resume:
		if start.Epoch != "" && start.Epoch != l.epoch || start.After > last {
			return nil, &EpochMismatchError{After: start.After, Got: start.Epoch, Epoch: l.epoch, Head: last}
		}
		if start.After == 0 { // before every event: the oldest kept
			fl.startAtOldest(first)
			break
		}
		if first > start.After+1 && first <= last {
			return nil, &CursorExpiredError{After: start.After, Oldest: first}
		}
		fl.pos = start.After
	case !start.Time.IsZero():
		seq, err := l.seqAtTime(ctx, start.Time)
		if err != nil {
			return nil, fmt.Errorf("eventlog: Follow: %w", unavailable(err))
		}
		fl.pos = last
		if seq != 0 {
			fl.pos = seq - 1
		} else {
			fl.notBefore = start.Time // later than every event: maybe ahead
		}
	case start.Earliest:
		fl.startAtOldest(first)
	default:
		fl.pos = last
	}
	return fl, nil
}

// startAtOldest starts the follower before first, the oldest cursor the
// log keeps (0 when it holds none).
func (fl *Follower) startAtOldest(first uint64) {
	fl.pos, fl.oldest = max(first, 1)-1, true
}

// Next returns the next event the filter chooses, or a heartbeat when none
// came within idle. It returns an error only when ctx ends (ctx's error),
// the log fails (ErrUnavailable), a stored event cannot be read
// (ErrCorrupt, naming its cursor: resume after it to skip it), or
// retention dropped events the follower had not read yet, while it was
// behind (a *CursorExpiredError: nothing is passed over silently).
func (fl *Follower) Next(ctx context.Context, idle time.Duration) (Item, error) {
	if fl.timer == nil {
		fl.timer = time.NewTimer(idle)
	} else {
		fl.timer.Reset(idle)
	}
	defer fl.timer.Stop()
	for {
		if it, ok, err := fl.pop(); ok || err != nil {
			return it, err
		}
		if err := ctx.Err(); err != nil {
			return Item{}, err
		}
		t := fl.t
		t.mu.RLock()
		first, head, wake := t.first, t.head, t.wake
		live := fl.pos+1 >= first
		if live {
			fl.oldest = false // whatever it reads now was stored after it started
			i := sort.Search(len(t.entries), func(i int) bool { return t.entries[i].seq > fl.pos })
			for ; i < len(t.entries) && len(fl.buf) < historyBatch; i++ {
				e := t.entries[i]
				fl.pos = e.seq
				if matchesAnySubject(fl.filters, e.subject) {
					fl.buf = append(fl.buf, e)
				}
			}
			if i == len(t.entries) {
				fl.pos = max(fl.pos, head)
			}
		}
		t.mu.RUnlock()
		if !live {
			if err := fl.history(ctx, head); err != nil {
				return Item{}, err
			}
		}
		if len(fl.buf) > 0 {
			continue
		}
		if !live || fl.pos < head {
			select { // a long scan still sends heartbeats
			case <-fl.timer.C:
				return fl.heartbeat(), nil
			default:
			}
			continue
		}
		select {
		case <-wake:
		case <-fl.timer.C:
			return fl.heartbeat(), nil
		case <-ctx.Done():
			return Item{}, ctx.Err()
		}
	}
}

// pop returns the next buffered entry that passes the field conditions.
func (fl *Follower) pop() (Item, bool, error) {
	for len(fl.buf) > 0 {
		e := fl.buf[0]
		fl.buf[0] = nil
		fl.buf = fl.buf[1:]
		if fl.filter.HasFieldConditions() || !fl.notBefore.IsZero() {
			ev, err := e.event(false)
			if err != nil {
				return Item{}, false, err
			}
			if !fl.notBefore.IsZero() {
				if ev.GetReceiveTime().AsTime().Before(fl.notBefore) {
					continue
				}
				fl.notBefore = time.Time{}
			}
			if !fl.filter.Matches(ev) {
				continue
			}
		}
		return Item{entry: e, Cursor: e.seq}, true, nil
	}
	return Item{}, false, nil
}

func (fl *Follower) heartbeat() Item {
	fl.t.mu.RLock()
	head := fl.t.head
	fl.t.mu.RUnlock()
	return Item{Heartbeat: true, Head: max(head, fl.pos), Scanned: fl.pos}
}

// history reads the next batch of stored messages after pos with a direct
// get. h0 is the tail's head read before the request: every message up to
// it was stored by then, so an answer of "nothing more" that the leader
// confirms covers it.
func (fl *Follower) history(ctx context.Context, h0 uint64) error {
	filter := fl.filters[0]
	if len(fl.filters) > 1 {
		filter = appFilter(fl.filter.Appkey)
	}
	var first, last uint64
	// Only the first read may move an earliest start past what retention
	// dropped: after it, a gap is one the client must hear of.
	oldest := fl.oldest
	fl.oldest = false
	pending, err := fl.l.directBatch(ctx, msgGetRequest{Seq: fl.pos + 1, NextFor: filter, Batch: historyBatch}, false,
		func(m *rawMsg) (bool, error) {
			if first == 0 {
				first = m.seq
			}
			last = m.seq
			if matchesAnySubject(fl.filters, m.subject) {
				fl.buf = append(fl.buf, &entry{seq: m.seq, subject: m.subject, data: m.data, dicts: fl.l.dicts})
			}
			return true, nil
		})
	notFound := errors.Is(err, jetstream.ErrMsgNotFound)
	if err != nil && !notFound {
		return fmt.Errorf("eventlog: follow: %w", unavailable(err))
	}
	// Something after pos was passed over: events the filter leaves out,
	// or events retention dropped while this follower was behind. Only
	// the stream knows which.
	if (notFound || first > fl.pos+1) && !oldest {
		if err := fl.checkRetention(ctx); err != nil {
			fl.buf = fl.buf[:0]
			return err
		}
	}
	fl.pos = max(fl.pos, last)
	if pending > 0 || fl.pos >= h0 || len(fl.buf) > 0 {
		// More follows, or events came: the end, if it is one, is
		// confirmed by a later read, once they are delivered.
		return nil
	}
	// Nothing more up to h0, says whoever answered, which may lag (see
	// Log.leaderNext): pass over the rest only when the leader agrees.
	// Otherwise take the leader's next message, and read on from there:
	// a copy that always lags cannot stall the follower.
	m, err := fl.l.leaderNext(ctx, msgGetRequest{Seq: fl.pos + 1, NextFor: filter})
	if err != nil {
		return fmt.Errorf("eventlog: follow: %w", unavailable(err))
	}
	if (m == nil || m.Sequence > fl.pos+1) && !oldest {
		// The leader passes over events too, which retention may have
		// dropped since the check above (or before it, where a copy
		// that still held them answered).
		if err := fl.checkRetention(ctx); err != nil {
			return err
		}
	}
	if m == nil || m.Sequence > h0 {
		fl.pos = h0
		return nil
	}
	if matchesAnySubject(fl.filters, m.Subject) {
		fl.buf = append(fl.buf, &entry{seq: m.Sequence, subject: m.Subject, data: m.Data, dicts: fl.l.dicts})
	}
	fl.pos = m.Sequence
	return nil
}

// checkRetention fails with a *CursorExpiredError when retention dropped
// events after the follower's position: a gap it must not pass silently.
func (fl *Follower) checkRetention(ctx context.Context) error {
	info, err := fl.l.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("eventlog: follow: %w", unavailable(err))
	}
	if st := info.State; st.FirstSeq > fl.pos+1 && fl.pos < st.LastSeq {
		return &CursorExpiredError{After: fl.pos, Oldest: st.FirstSeq}
	}
	return nil
}
