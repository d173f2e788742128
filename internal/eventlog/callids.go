package eventlog

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/nats-io/nats.go/jetstream"
)

// The call id index: which call ids the log holds, and at which cursor. It
// lives on the local disk of every process (Pebble, an LSM key-value
// store, in DataDir/callid-index), so that its memory is a fixed budget
// however many call ids it holds, and it is a projection of the log: a
// headers-only ordered consumer (the feeder) reads every stored event's
// message id and records it, from a checkpoint kept in the index itself.
// Several processes on one cluster therefore each hold every call id,
// whichever process stored it, a moment (at most indexFlushEvery while
// events flow) after it was stored.
//
// Keys, all fixed-width:
//
//	'k' hash              → uvarint cursor, uvarint partition
//	'p' partition hash    → (empty): the expiry order
//	'm'                   → the log's epoch and the checkpoint
//
// hash is the first 16 bytes of the SHA-256 of the event's message id
// (MsgID): exact in practice (a collision of 128-bit hashes is not a
// concern at any rate imbridge sees, and GetByCallID checks the stored
// event's call id anyway). partition is the receipt time in
// indexPartition slots; entries of a partition older than the TTL are
// deleted together.
const (
	indexDirName = "callid-index"
	// indexPartition is the width of an expiry slot: entries live between
	// the TTL and the TTL plus this.
	indexPartition = 10 * time.Minute
	// indexCacheBytes and indexMemTableBytes are the index's memory
	// budget: Pebble's block cache (index and Bloom filter blocks
	// included), plus at most indexMemTables memtables.
	indexCacheBytes    = 16 << 20
	indexMemTableBytes = 4 << 20
	indexMemTables     = 4
	// indexBatch is the most entries the feeder commits at once.
	indexBatch = 4096
	// indexFlushEvery is how often the feeder commits what it read: a
	// commit per event would cost as much as the lookups.
	indexFlushEvery = 50 * time.Millisecond
	// indexExpireEvery is how often expired partitions are deleted.
	indexExpireEvery = time.Minute
	hashLen          = 16
)

var (
	metaKey     = []byte{'m'}
	errIndexOff = errors.New("eventlog: call id index closed")
)

// callIDIndex is the local call id index and its feeder.
type callIDIndex struct {
	db  *pebble.DB
	ttl time.Duration // 0: entries never expire
	log *slog.Logger

	mu     sync.RWMutex // held for reading by every use of db; Lock in close
	closed bool

	// The feeder's state. batch and batchEnd are the feeder's uncommitted
	// entries; indexed is the cursor up to which every stored event is
	// committed, wake is closed and replaced when it advances, and
	// caughtUp is closed when the feeder first reached the log's head.
	feedMu   sync.Mutex
	batch    *pebble.Batch
	batchEnd uint64
	indexed  uint64
	wake     chan struct{}
	caughtUp chan struct{}
	upOnce   sync.Once
	epoch    string
	stopped  bool // the feeder's handler must not run on

	cc   jetstream.ConsumeContext
	stop chan struct{}
	done chan struct{}
}

// openIndex opens (creating) the index in dir for the log of epoch. An
// index of another epoch (the stream was recreated) is emptied. It returns
// the checkpoint: every event up to it is indexed.
func openIndex(dir string, ttl time.Duration, epoch string, log *slog.Logger) (*callIDIndex, uint64, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, 0, fmt.Errorf("eventlog: call id index: %w", err)
	}
	cache := pebble.NewCache(indexCacheBytes)
	defer cache.Unref()
	opts := &pebble.Options{
		Cache:                       cache,
		MemTableSize:                indexMemTableBytes,
		MemTableStopWritesThreshold: indexMemTables,
		Logger:                      pebbleLogger{log},
	}
	for i := range opts.Levels {
		// Most lookups are of new call ids: a Bloom filter per table
		// answers "not here" without reading its blocks.
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(filepath.Clean(dir), opts)
	if err != nil {
		return nil, 0, fmt.Errorf("eventlog: call id index %s: %w", dir, err)
	}
	x := &callIDIndex{db: db, ttl: ttl, log: log, epoch: epoch,
		wake: make(chan struct{}), caughtUp: make(chan struct{}),
		stop: make(chan struct{}), done: make(chan struct{})}
	gotEpoch, checkpoint, err := x.meta()
	if err == nil && gotEpoch != epoch {
		if gotEpoch != "" {
			log.Warn("eventlog: the call id index belongs to another log (the stream was recreated): rebuilding it",
				"index_epoch", gotEpoch, "log_epoch", epoch)
		}
		checkpoint = 0
		err = x.reset()
	}
	if err != nil {
		_ = db.Close()
		return nil, 0, fmt.Errorf("eventlog: call id index %s: %w", dir, err)
	}
	x.indexed = checkpoint
	return x, checkpoint, nil
}

func (x *callIDIndex) meta() (epoch string, checkpoint uint64, err error) {
	v, closer, err := x.db.Get(metaKey)
	if errors.Is(err, pebble.ErrNotFound) {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, err
	}
	defer closer.Close()
	n, k := binary.Uvarint(v)
	if k <= 0 || uint64(len(v)-k) < n {
		return "", 0, fmt.Errorf("%w: call id index meta", ErrCorrupt)
	}
	epoch = string(v[k : k+int(n)])
	checkpoint, k2 := binary.Uvarint(v[k+int(n):])
	if k2 <= 0 {
		return "", 0, fmt.Errorf("%w: call id index meta", ErrCorrupt)
	}
	return epoch, checkpoint, nil
}

func (x *callIDIndex) metaValue(checkpoint uint64) []byte {
	v := binary.AppendUvarint(nil, uint64(len(x.epoch)))
	v = append(v, x.epoch...)
	return binary.AppendUvarint(v, checkpoint)
}

// reset empties the index and records the epoch, checkpoint 0.
func (x *callIDIndex) reset() error {
	b := x.db.NewBatch()
	defer b.Close()
	if err := b.DeleteRange([]byte{0}, []byte{0xff}, nil); err != nil {
		return err
	}
	if err := b.Set(metaKey, x.metaValue(0), nil); err != nil {
		return err
	}
	return b.Commit(pebble.Sync)
}

func indexHash(msgID string) [hashLen]byte {
	sum := sha256.Sum256([]byte(msgID))
	return [hashLen]byte(sum[:hashLen])
}

func partitionOf(t time.Time) uint64 { return uint64(t.UnixNano()) / uint64(indexPartition) }

func entryKey(h [hashLen]byte) []byte { return append([]byte{'k'}, h[:]...) }

func expiryKey(p uint64, h [hashLen]byte) []byte {
	k := binary.BigEndian.AppendUint64([]byte{'p'}, p)
	return append(k, h[:]...)
}

// lookup returns the cursor recorded for msgID: ErrNotFound when none,
// ErrCorrupt when the entry is unreadable.
func (x *callIDIndex) lookup(msgID string) (uint64, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return 0, errIndexOff
	}
	v, closer, err := x.db.Get(entryKey(indexHash(msgID)))
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, err
	}
	defer closer.Close()
	seq, n := binary.Uvarint(v)
	if n <= 0 || seq == 0 {
		return 0, fmt.Errorf("%w: call id index entry %x for %s", ErrCorrupt, v, ShortID(msgID))
	}
	return seq, nil
}

// addEntry adds msgID → cursor, received at t, to b.
func addEntry(b *pebble.Batch, msgID string, cursor uint64, t time.Time) error {
	h, p := indexHash(msgID), partitionOf(t)
	v := binary.AppendUvarint(make([]byte, 0, 20), cursor)
	v = binary.AppendUvarint(v, p)
	if err := b.Set(entryKey(h), v, nil); err != nil {
		return err
	}
	return b.Set(expiryKey(p, h), nil, nil)
}

// feed is the feeder's handler: it adds one stored message's id to the
// batch and commits the batch, with the checkpoint, when it is full, or
// when the feeder reaches the log's head for the first time; the loop
// commits the rest every indexFlushEvery.
func (x *callIDIndex) feed(msg jetstream.Msg) {
	md, err := msg.Metadata()
	if err != nil {
		return
	}
	x.feedMu.Lock()
	defer x.feedMu.Unlock()
	seq := md.Sequence.Stream
	if x.stopped || seq <= max(x.indexed, x.batchEnd) {
		return // delivered again after the consumer was reset
	}
	if x.batch == nil {
		x.batch = x.db.NewBatch()
	}
	if id := msg.Headers().Get(jetstream.MsgIDHeader); id != "" {
		if err := addEntry(x.batch, id, seq, md.Timestamp); err != nil {
			x.log.Error("eventlog: call id index: add entry", "cursor", seq, "err", err)
			return
		}
	}
	x.batchEnd = seq
	up := md.NumPending == 0 && !x.isCaughtUp()
	if up || x.batch.Count() >= 2*indexBatch {
		x.commitLocked()
	}
	if up && x.indexed == seq {
		x.upOnce.Do(func() { close(x.caughtUp) })
	}
}

// commitLocked commits the feeder's batch with its checkpoint. feedMu held.
func (x *callIDIndex) commitLocked() {
	if x.batch == nil || x.batchEnd <= x.indexed {
		return
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return
	}
	err := x.batch.Set(metaKey, x.metaValue(x.batchEnd), nil)
	if err == nil {
		err = x.batch.Commit(pebble.NoSync)
	}
	_ = x.batch.Close()
	x.batch = nil
	if err != nil {
		// The checkpoint stays where it was: these events are read again
		// after a restart.
		x.log.Error("eventlog: call id index: commit", "cursor", x.batchEnd, "err", err)
		x.batchEnd = x.indexed
		return
	}
	x.indexed = x.batchEnd
	close(x.wake)
	x.wake = make(chan struct{})
}

// start runs the feeder from after checkpoint (or, with an empty index,
// from the oldest event the TTL keeps) and the expiry loop. last is the
// log's newest cursor now: with nothing after the checkpoint the index is
// caught up at once.
func (x *callIDIndex) start(ctx context.Context, s jetstream.Stream, checkpoint, last uint64) error {
	cfg := jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{allEvents},
		HeadersOnly:    true,
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    checkpoint + 1,
	}
	if checkpoint == 0 && x.ttl > 0 {
		from := time.Now().Add(-x.ttl - indexPartition)
		cfg.DeliverPolicy, cfg.OptStartSeq, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, 0, &from
	}
	if checkpoint >= last {
		x.upOnce.Do(func() { close(x.caughtUp) })
	}
	cons, err := s.OrderedConsumer(ctx, cfg)
	if err != nil {
		return fmt.Errorf("eventlog: call id index feeder: %w", unavailable(err))
	}
	x.cc, err = cons.Consume(x.feed, jetstream.PullHeartbeat(2*time.Second), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		x.log.Debug("eventlog: call id index feeder", "err", err)
	}))
	if err != nil {
		return fmt.Errorf("eventlog: call id index feeder: %w", unavailable(err))
	}
	go x.loop()
	return nil
}

// loop commits partial batches and deletes expired partitions.
func (x *callIDIndex) loop() {
	defer close(x.done)
	flush := time.NewTicker(indexFlushEvery)
	defer flush.Stop()
	var expire <-chan time.Time
	if x.ttl > 0 {
		t := time.NewTicker(indexExpireEvery)
		defer t.Stop()
		expire = t.C
		x.expire(time.Now())
	}
	for {
		select {
		case <-x.stop:
			return
		case <-flush.C:
			x.feedMu.Lock()
			x.commitLocked()
			x.feedMu.Unlock()
		case now := <-expire:
			x.expire(now)
		}
	}
}

// expire deletes the entries of every partition that ended more than the
// TTL ago. An entry recorded again in a later partition (a duplicate
// recorded twice) stays until that one expires.
func (x *callIDIndex) expire(now time.Time) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return
	}
	end := partitionOf(now.Add(-x.ttl)) // partitions before end are expired
	lo, hi := []byte{'p'}, binary.BigEndian.AppendUint64([]byte{'p'}, end)
	it, err := x.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		x.log.Error("eventlog: call id index: expire", "err", err)
		return
	}
	b := x.db.NewBatch()
	n := 0
	commit := func() error {
		err := b.Commit(pebble.NoSync)
		_ = b.Close()
		b = x.db.NewBatch()
		return err
	}
	for ok := it.First(); ok && err == nil; ok = it.Next() {
		k := it.Key()
		if len(k) != 1+8+hashLen {
			continue
		}
		p := binary.BigEndian.Uint64(k[1:9])
		ek := append([]byte{'k'}, k[9:]...)
		if v, closer, gerr := x.db.Get(ek); gerr == nil {
			_, c := binary.Uvarint(v)
			if ep, pn := binary.Uvarint(v[max(c, 0):]); c <= 0 || pn <= 0 || ep <= p {
				err = b.Delete(ek, nil)
			}
			_ = closer.Close()
		}
		if n++; err == nil && n%indexBatch == 0 {
			err = commit()
		}
	}
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = b.DeleteRange(lo, hi, nil)
	}
	if err == nil {
		err = b.Commit(pebble.NoSync)
	}
	_ = b.Close()
	if err != nil {
		x.log.Error("eventlog: call id index: expire", "err", err)
	} else if n > 0 {
		x.log.Debug("eventlog: call id index: expired entries", "entries", n)
	}
}

func (x *callIDIndex) isCaughtUp() bool {
	select {
	case <-x.caughtUp:
		return true
	default:
		return false
	}
}

// waitCaughtUp waits until the feeder has reached the log's head once
// since the index opened: before that, a call id stored long ago by
// another process, or just before a crash, may be missing.
func (x *callIDIndex) waitCaughtUp(ctx context.Context) error {
	if x.isCaughtUp() {
		return nil
	}
	select {
	case <-x.caughtUp:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("eventlog: the call id index is still catching up with the log: %w", ctx.Err())
	}
}

// waitIndexed waits until every event up to cursor is indexed.
func (x *callIDIndex) waitIndexed(ctx context.Context, cursor uint64) error {
	for {
		x.feedMu.Lock()
		done, wake := x.indexed >= cursor, x.wake
		x.feedMu.Unlock()
		if done {
			return nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// close stops the feeder, commits what it read, and closes the store.
func (x *callIDIndex) close() error {
	if x == nil {
		return nil
	}
	if x.cc != nil {
		x.cc.Stop()
		close(x.stop)
		<-x.done
	}
	x.feedMu.Lock()
	x.commitLocked()
	x.stopped = true
	x.feedMu.Unlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return nil
	}
	x.closed = true
	return x.db.Close()
}

// pebbleLogger sends Pebble's messages to the log: its info lines (table
// and WAL housekeeping) at debug level.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug("pebble: " + fmt.Sprintf(format, args...))
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error("pebble: " + fmt.Sprintf(format, args...))
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error("pebble fatal: " + msg)
	panic("pebble: " + msg)
}
