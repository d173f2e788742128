package eventlog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The call id index: which call ids the log holds, and at which cursor. It
// lives on the local disk of every process (Pebble, an LSM key-value
// store, in DataDir/callid-index), so that its memory is a fixed budget
// however many call ids it holds, and it is a projection of the log, kept
// with a checkpoint in the index itself. Its feeder records:
//
//   - this process's own appends from their acknowledgements (Append hands
//     each one over), reading nothing back: a process alone on its log
//     never reads the log to keep its index;
//   - every other stored event by reading the log with batched direct
//     gets: the gaps between its own cursors that are still open
//     indexGapGrace later (events of other processes on the same cluster,
//     or appends whose acknowledgement never came), the log up to the
//     head a probe saw, and, after a restart, everything after the
//     checkpoint.
//
// Several processes on one cluster therefore each hold every call id,
// whichever process stored it, a moment after it was stored: within a tick
// (indexFlushEvery) for its own, within indexGapGrace and a tick for those
// stored between them, within indexProbeEvery otherwise.
//
// Far behind (a new process, a restart after a long stop) it reads through
// a headers-only ordered consumer, deleted once it has caught up. The
// feeder used to be such a consumer all the time: a consumer that follows
// the head is signalled under the stream's lock for every stored message
// and loads each one under the store's, and on 8 cores it held the stream
// to about 30,000 appends a second, half what it does without one.
//
// Keys, all fixed-width:
//
//	'e' end hash          → uvarint cursor
//	'M'                   → the log's epoch, the checkpoint, the partition width
//
// hash is the first 16 bytes of the SHA-256 of the event's message id
// (MsgID): exact in practice (a collision of 128-bit hashes is not a
// concern at any rate imbridge sees, and GetByCallID checks the stored
// event's call id anyway). end names the entry's partition: the end of
// the slot of its receipt time, in Unix nanoseconds, slots being an
// indexPartitions-th of the TTL (all entries in one, ending never, when
// they never expire). It comes first so that a partition is one key
// range, and the partitions are in time order: expiring every partition
// that ended a TTL ago is one range deletion, and each call id is written
// once. A lookup probes the partitions the index holds (at most
// indexPartitions+2), newest first, each a seek that the tables' Bloom
// filters mostly answer without reading a block. Because a partition is
// named by its end, a TTL changed between runs (a different width) needs
// no rebuild: the old partitions expire by their own ends. Only an index
// kept while the TTL was unlimited is rebuilt once a TTL is set.
//
// The layout before this one ('k' hash → cursor and partition, plus a
// 'p' partition hash key to expire by, with its meta under 'm') wrote
// every call id twice, and expiring it cost a read and a deletion each:
// an index that finds the old meta key is rebuilt from the log. An older
// binary finds no 'm' in this layout and rebuilds as well.
const (
	indexDirName = "callid-index"
	// indexPartitions is the TTL over the width of an expiry slot:
	// entries live between the TTL and the TTL plus a slot (72 to 81
	// hours at the default TTL), and a lookup probes up to this many
	// partitions and two.
	indexPartitions = 8
	// indexCacheBytes and indexMemTableBytes are the index's memory
	// budget: Pebble's block cache (index and Bloom filter blocks
	// included), plus at most indexMemTables memtables.
	indexCacheBytes    = 16 << 20
	indexMemTableBytes = 4 << 20
	indexMemTables     = 4
	// indexBatch is the most entries the feeder commits at once.
	indexBatch = 4096
	// indexMaxPassed bounds the acknowledgements at cursors the feeder
	// had passed that it holds until checkPassed looks into them: one is
	// enough to notice a loss.
	indexMaxPassed = 1024
	// indexMaxOwn bounds the acknowledged appends the feeder holds while
	// a gap before them stays open (about 20 MiB, a minute at 2,000/s);
	// past it, it forgets them and reads them back from the log.
	indexMaxOwn = 1 << 17
	// indexFlushEvery is how often the feeder commits what it read: a
	// commit per event would cost as much as the lookups.
	indexFlushEvery = 50 * time.Millisecond
	// indexExpireEvery is how often expired partitions are deleted.
	indexExpireEvery = time.Minute
	// indexProbeEvery is how often an idle feeder asks the server whether
	// it is at the log's head (and so current), when nobody waits for it,
	// and how often a busy one checks that the log is still the one it
	// recorded (checkLog).
	indexProbeEvery = time.Second
	hashLen         = 16
	// lostCheckpoint, as the stored checkpoint, says that the log lost
	// events the index had recorded: the next Open rebuilds it.
	lostCheckpoint = math.MaxUint64
)

// The feeder's reads (variables for the tests).
var (
	// indexGapGrace is how long a gap between this process's own appends
	// may stay open, and how long a probe's head waits, before the feeder
	// reads them from the log. Most such events are appends of this
	// process whose appender has not yet handed the acknowledgement over,
	// which on a busy machine takes more than a tick. Reading them instead
	// costs direct gets, each of which holds the stream's writes back; and
	// when the event's block has just been closed and compressed, the
	// server loads that whole block for it: 60 ms on the 2-core machine,
	// every append waiting (the stalls behind its p99 at 2,000/s).
	indexGapGrace = time.Second

	// indexReadBatch is the most messages one direct get of the feeder
	// asks for: the server holds the stream's writes back while it
	// answers one (about 8 µs a message on the 2-core machine).
	// indexCatchUpBatch is the most when it is further behind than
	// indexCatchUpFrom (a new process, a restart after a while): then
	// the larger batch reads 85,000 to 100,000 messages a second, against
	// 58,000 (a new process indexing 192,000 events).
	//
	// indexConsumerFrom is how far behind the feeder reads through a
	// headers-only ordered consumer instead: 133,000 to 160,000 messages
	// a second on the same test. The consumer is deleted once it has
	// read up to the head it was asked for, because a consumer that
	// follows the head slows every append (the first comment above).
	indexReadBatch    uint64 = 256
	indexCatchUpBatch uint64 = 2048
	indexCatchUpFrom         = 16 * indexReadBatch
	indexConsumerFrom uint64 = 1 << 16
)

var (
	metaKey     = []byte{'M'}
	oldMetaKey  = []byte{'m'} // the meta of the layout before this one
	errIndexOff = errors.New("eventlog: call id index closed")
	// errBatchDropped: the feeder dropped its batch while adding a range
	// it read, and reads from where the batch began again.
	errBatchDropped = errors.New("eventlog: call id index: batch dropped")
)

const (
	entryPrefix = 'e'
	entryKeyLen = 1 + 8 + hashLen
)

// probeAlways makes the loop probe at every tick, busy or not (tests).
var probeAlways = false

// skipTailCheck keeps checkLog from comparing the log's head with the
// checkpoint, so that a test sees what checkPassed notices alone.
var skipTailCheck = false

// callIDIndex is the local call id index and its feeder.
type callIDIndex struct {
	db       *pebble.DB
	fsCloser io.Closer     // of db's file system, closed after db
	ttl      time.Duration // 0: entries never expire
	width    time.Duration // of a partition; 0: one partition, which never ends
	log      *slog.Logger
	epoch    string
	stream   jetstream.Stream
	window   *dupWindow // told the stream's duplicate window at each check (nil in tests)
	reader   logReader

	mu     sync.RWMutex // held for reading by every use of db; Lock in close
	closed bool

	// parts are the ends of the partitions the index may hold entries
	// in, ascending: those a lookup probes. Replaced, never changed, under
	// feedMu, which addEntry and expire hold; read without it.
	parts atomic.Pointer[[]uint64]

	// The feeder's state, under feedMu; only the loop changes it. batch
	// holds what it learnt and has not committed, up to cursor batchEnd;
	// every event stored before batchAsOf is in the index or the batch.
	// indexed is the cursor up to which every event is in the index
	// (committed) or gone from the log, and asOf the time before which
	// every stored event is; wake is closed and replaced when they
	// advance. readTo is the cursor up to which the feeder must read the
	// log now, probedTo the newest a probe saw, read once it settled
	// (indexGapGrace); mark, once indexed reaches it, says the feeder
	// reached the head a probe saw. fed counts the entries added, read
	// those read back from the log.
	feedMu    sync.Mutex
	batch     *pebble.Batch
	batchEnd  uint64
	batchAsOf time.Time
	indexed   uint64
	asOf      atomic.Int64 // Unix nanoseconds; read without feedMu by Append
	wake      chan struct{}
	readTo    uint64
	probedTo  uint64
	mark      *headMark
	fed       uint64
	read      uint64
	stopped   bool                  // closed, or the log lost what it recorded: nothing more is committed
	broken    atomic.Pointer[error] // the feeder cannot go on: Append fails with it

	// This process's appends, as Append hands them over (appendedMu), and,
	// the loop's alone, those past batchEnd that a gap still keeps out of
	// the batch, the newest cursor among them, and that cursor at each
	// tick of the last indexGapGrace; and those acknowledged at a cursor
	// the feeder had passed already, which checkPassed looks into.
	appendedMu sync.Mutex
	appended   []ownAppend
	own        map[uint64]ownAppend
	ownNewest  uint64
	newestAt   []cursorAt
	passed     []ownAppend

	up      atomic.Bool  // set when the feeder first reached the head
	waiters atomic.Int32 // callers waiting for the feeder: probe at once

	// ctx bounds the loop's requests to the servers; close cancels it,
	// so that a server that stopped answering cannot hold it. done is
	// closed when the loop has ended.
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// logReader is how the feeder reads the log.
type logReader interface {
	// readBatch hands fn, in stream order, up to n stored events from
	// cursor from on, until fn returns false; jetstream.ErrMsgNotFound
	// when none is stored from there on. It may be answered by a replica.
	readBatch(ctx context.Context, from uint64, n int, fn func(cursor uint64, msgID string, stored time.Time) bool) error
	// leaderFirst is the first cursor req chooses, as the stream's
	// leader knows it: 0 when none.
	leaderFirst(ctx context.Context, req msgGetRequest) (uint64, error)
	// leaderMsgID is the message id of the event at cursor, as the
	// stream's leader knows it: jetstream.ErrMsgNotFound when none.
	leaderMsgID(ctx context.Context, cursor uint64) (string, error)
	// seqAtTime is the first cursor stored at or after t, 0 when none
	// (confirmed by the leader).
	seqAtTime(ctx context.Context, t time.Time) (uint64, error)
}

// ownAppend is one of this process's appends, acknowledged at cursor:
// everything stored before at has a smaller cursor.
type ownAppend struct {
	cursor uint64
	msgID  string
	at     time.Time
	key    uint64 // the event's callback key (keyHash); 0 when not known
}

// headMark is a head a probe saw: the log's newest cursor, and when the
// probe began.
type headMark struct {
	cursor uint64
	at     time.Time
}

// openIndex opens (creating) the index in dir for the log of epoch whose
// newest cursor is last. An index of another epoch (the stream was
// recreated), with a checkpoint past last (the log lost events the index
// recorded: a power loss, a restore) or unreadable is emptied and rebuilt.
// It returns the checkpoint: every event up to it is indexed.
func openIndex(dir string, ttl time.Duration, epoch string, last uint64, log *slog.Logger) (*callIDIndex, uint64, error) {
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
	// Pebble's own disk health checker, which a failed Open would leak.
	openDB := func() (*pebble.DB, io.Closer, error) {
		fs, fsCloser := vfs.WithDiskHealthChecks(vfs.Default, 5*time.Second, nil, func(info vfs.DiskSlowInfo) {
			log.Warn("eventlog: call id index: slow disk", "info", info.String())
		})
		opts.FS = fs
		db, err := pebble.Open(filepath.Clean(dir), opts)
		if err != nil {
			_ = fsCloser.Close()
			return nil, nil, err
		}
		return db, fsCloser, nil
	}
	db, fsCloser, err := openDB()
	if err != nil && pebble.IsCorruptionError(err) {
		// Damaged files (a disk error, a partial copy): the index is a
		// projection of the log, so start it anew and rebuild it rather
		// than keep imbridge from starting.
		log.Warn("eventlog: rebuilding the call id index from the log: its files are damaged", "dir", dir, "err", err)
		if err = os.RemoveAll(dir); err == nil {
			if err = os.MkdirAll(dir, 0o750); err == nil {
				db, fsCloser, err = openDB()
			}
		}
	}
	if err != nil {
		return nil, 0, fmt.Errorf("eventlog: call id index %s: %w", dir, err)
	}
	x := &callIDIndex{db: db, fsCloser: fsCloser, ttl: ttl, log: log, epoch: epoch,
		wake: make(chan struct{}), own: make(map[uint64]ownAppend),
		done: make(chan struct{})}
	x.ctx, x.cancel = context.WithCancel(context.Background())
	if ttl > 0 {
		x.width = max(ttl/indexPartitions, time.Second).Truncate(time.Second)
	}
	gotEpoch, checkpoint, gotWidth, err := x.meta()
	rebuild := ""
	switch {
	case errors.Is(err, ErrCorrupt):
		rebuild = "its checkpoint is unreadable"
	case err != nil:
	case gotEpoch == "" && x.has(oldMetaKey):
		rebuild = "it was written in an older layout"
	case gotEpoch == "":
		rebuild = "new" // not worth a warning
	case gotEpoch != epoch:
		rebuild = "it belongs to another log (the stream was recreated)"
	case checkpoint == lostCheckpoint:
		rebuild = "the log lost events it had recorded while imbridge ran (a power loss, or a restore)"
	case checkpoint > last:
		rebuild = fmt.Sprintf("it recorded events up to cursor %d, but the log ends at %d (events lost in a power loss, or a restore)", checkpoint, last)
	case gotWidth == 0 && x.width != 0:
		// Its entries are in one partition that never ends.
		rebuild = "call_id_index_ttl was unlimited, and the entries recorded then would never expire"
	}
	if rebuild != "" {
		if rebuild != "new" {
			log.Warn("eventlog: rebuilding the call id index from the log: "+rebuild, "index_epoch", gotEpoch, "log_epoch", epoch)
		}
		checkpoint = 0
		err = x.reset()
	}
	if err != nil {
		_ = x.closeDB()
		return nil, 0, fmt.Errorf("eventlog: call id index %s: %w", dir, err)
	}
	if err == nil {
		err = x.loadPartitions()
	}
	if err != nil {
		_ = x.closeDB()
		return nil, 0, fmt.Errorf("eventlog: call id index %s: %w", dir, err)
	}
	x.indexed, x.batchEnd = checkpoint, checkpoint
	return x, checkpoint, nil
}

// has reports whether key is stored.
func (x *callIDIndex) has(key []byte) bool {
	_, closer, err := x.db.Get(key)
	if err != nil {
		return false
	}
	_ = closer.Close()
	return true
}

// loadPartitions lists the partitions the index holds: a seek to the
// next partition's first key at a time.
func (x *callIDIndex) loadPartitions() error {
	it, err := x.db.NewIter(&pebble.IterOptions{LowerBound: []byte{entryPrefix}, UpperBound: []byte{entryPrefix + 1}})
	if err != nil {
		return err
	}
	var parts []uint64
	for ok := it.First(); ok; {
		k := it.Key()
		if len(k) != entryKeyLen {
			ok = it.Next() // not written by imbridge: never probed
			continue
		}
		end := binary.BigEndian.Uint64(k[1:])
		parts = append(parts, end)
		if end == math.MaxUint64 {
			break
		}
		next := entryKey(end+1, [hashLen]byte{})
		ok = it.SeekGE(next[:])
	}
	x.parts.Store(&parts)
	return it.Close()
}

// meta reads the index's epoch, checkpoint and partition width: epoch ""
// when it has none.
func (x *callIDIndex) meta() (epoch string, checkpoint uint64, width time.Duration, err error) {
	v, closer, err := x.db.Get(metaKey)
	if errors.Is(err, pebble.ErrNotFound) {
		return "", 0, 0, nil
	}
	if err != nil {
		return "", 0, 0, err
	}
	defer closer.Close()
	corrupt := fmt.Errorf("%w: call id index meta", ErrCorrupt)
	n, k := binary.Uvarint(v)
	if k <= 0 || uint64(len(v)-k) < n {
		return "", 0, 0, corrupt
	}
	epoch, v = string(v[k:k+int(n)]), v[k+int(n):]
	checkpoint, k = binary.Uvarint(v)
	if k <= 0 {
		return "", 0, 0, corrupt
	}
	w, k2 := binary.Uvarint(v[k:])
	if k2 <= 0 || w > math.MaxInt64 {
		return "", 0, 0, corrupt
	}
	return epoch, checkpoint, time.Duration(w), nil
}

func (x *callIDIndex) metaValue(checkpoint uint64) []byte {
	v := binary.AppendUvarint(nil, uint64(len(x.epoch)))
	v = append(v, x.epoch...)
	v = binary.AppendUvarint(v, checkpoint)
	return binary.AppendUvarint(v, uint64(x.width))
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

// partitionEnd is the end of the partition of an entry stored at t.
func (x *callIDIndex) partitionEnd(t time.Time) uint64 {
	if x.width == 0 {
		return math.MaxUint64
	}
	w := uint64(x.width)
	return uint64(t.UnixNano())/w*w + w
}

// entryKey is the key of hash h in the partition ending at end.
func entryKey(end uint64, h [hashLen]byte) [entryKeyLen]byte {
	var k [entryKeyLen]byte
	k[0] = entryPrefix
	binary.BigEndian.PutUint64(k[1:], end)
	copy(k[9:], h[:])
	return k
}

// lookup returns the cursor recorded for msgID, in the newest partition
// that holds it, and the event's callback key when the entry has it (0
// when not: an event another process stored, or an entry of an earlier
// version): ErrNotFound when none, ErrCorrupt when the entry is
// unreadable.
func (x *callIDIndex) lookup(msgID string) (uint64, uint64, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return 0, 0, errIndexOff
	}
	h := indexHash(msgID)
	parts := *x.parts.Load()
	if len(parts) == 0 {
		return 0, 0, ErrNotFound
	}
	// One iterator for every probe: a Get would set one up each time.
	// SeekPrefixGE consults each table's Bloom filter, as Get does.
	it, err := x.db.NewIter(&pebble.IterOptions{LowerBound: []byte{entryPrefix}, UpperBound: []byte{entryPrefix + 1}})
	if err != nil {
		return 0, 0, err
	}
	defer it.Close()
	for i := len(parts) - 1; i >= 0; i-- {
		k := entryKey(parts[i], h)
		if it.SeekPrefixGE(k[:]) && bytes.Equal(it.Key(), k[:]) {
			v, err := it.ValueAndErr()
			if err != nil {
				return 0, 0, err
			}
			seq, n := binary.Uvarint(v)
			if n <= 0 || seq == 0 || len(v) != n && len(v) != n+8 {
				return 0, 0, fmt.Errorf("%w: call id index entry for %s", ErrCorrupt, ShortID(msgID))
			}
			var key uint64
			if len(v) == n+8 {
				key = binary.LittleEndian.Uint64(v[n:])
			}
			return seq, key, nil
		}
		if err := it.Error(); err != nil {
			return 0, 0, err
		}
	}
	return 0, 0, ErrNotFound
}

// holdsLocked adds the partition ending at end to those lookups probe.
// feedMu held.
func (x *callIDIndex) holdsLocked(end uint64) {
	parts := *x.parts.Load()
	i, found := slices.BinarySearch(parts, end)
	if found {
		return
	}
	parts = slices.Insert(slices.Clip(parts), i, end)
	x.parts.Store(&parts)
}

// addEntry adds msgID → cursor, stored at t, to b, with the event's
// callback key when known (key not 0): the value is the cursor as a
// uvarint, then the key's 8 bytes. feedMu held.
func (x *callIDIndex) addEntry(b *pebble.Batch, msgID string, cursor uint64, t time.Time, key uint64) error {
	end := x.partitionEnd(t)
	x.holdsLocked(end)
	k := entryKey(end, indexHash(msgID))
	var v [binary.MaxVarintLen64 + 8]byte
	val := binary.AppendUvarint(v[:0], cursor)
	if key != 0 {
		val = binary.LittleEndian.AppendUint64(val, key)
	}
	return b.Set(k[:], val, nil)
}

// appendedAt hands the feeder one of this process's appends, acknowledged
// at cursor, of callback key key; published is when it was sent. It takes a moment: the loop
// adds it at its next tick. A stopped feeder takes nothing, so that
// nothing piles up until the restart it asks for.
func (x *callIDIndex) appendedAt(cursor uint64, msgID string, published time.Time, key uint64) {
	if x.broken.Load() != nil {
		return
	}
	x.appendedMu.Lock()
	x.appended = append(x.appended, ownAppend{cursor, msgID, published, key})
	x.appendedMu.Unlock()
}

// takeAppended moves what Append handed over into own. Loop only.
func (x *callIDIndex) takeAppended() {
	x.appendedMu.Lock()
	got := x.appended
	x.appended = nil
	x.appendedMu.Unlock()
	x.feedMu.Lock()
	defer x.feedMu.Unlock()
	for _, a := range got {
		switch {
		case a.cursor > x.batchEnd:
			x.own[a.cursor] = a
			x.ownNewest = max(x.ownNewest, a.cursor)
		case len(x.passed) < indexMaxPassed:
			x.passed = append(x.passed, a)
		}
	}
	if len(x.own) > indexMaxOwn {
		// A gap that reading cannot close (the log unavailable): forget
		// them, in a new map (a cleared one keeps its size), and read
		// them back once it can.
		x.readTo = max(x.readTo, x.ownNewest)
		x.own = make(map[uint64]ownAppend)
	}
	x.addOwnLocked()
}

// addOwnLocked adds the own appends that follow batchEnd without a gap.
// feedMu held.
func (x *callIDIndex) addOwnLocked() {
	for {
		a, ok := x.own[x.batchEnd+1]
		if !ok {
			return
		}
		if !x.addLocked(a) {
			return
		}
	}
}

// addLocked adds the event stored at cursor, the one after batchEnd or a
// later one when those between are gone, to the batch. False when the
// batch was dropped instead (dropBatchLocked): batchEnd went back, and the
// caller must add nothing after cursor, or batchEnd would pass the events
// dropped. feedMu held.
func (x *callIDIndex) addLocked(a ownAppend) bool {
	cursor, msgID, stored := a.cursor, a.msgID, a.at
	if cursor <= x.batchEnd {
		return true
	}
	delete(x.own, cursor)
	x.fed++
	if x.batch == nil {
		x.batch = x.db.NewBatch()
	}
	if msgID != "" {
		if err := x.addEntry(x.batch, msgID, cursor, stored, a.key); err != nil {
			// Only a closed batch fails here: start it again.
			x.log.Error("eventlog: call id index: add entry: reading again", "cursor", cursor, "err", err)
			x.dropBatchLocked()
			return false
		}
	}
	x.batchEnd = cursor
	x.batchAsOf = stored
	if x.batch.Count() >= 2*indexBatch {
		x.commitLocked() // drops the batch if it fails
	}
	return x.batchEnd >= cursor
}

// dropBatchLocked forgets what the batch held: the feeder reads it again
// from the log. feedMu held.
func (x *callIDIndex) dropBatchLocked() {
	x.readTo = max(x.readTo, x.batchEnd)
	if x.batch != nil {
		_ = x.batch.Close()
		x.batch = nil
	}
	x.batchEnd = x.indexed
}

// commitLocked commits the feeder's batch with its checkpoint. On failure
// the batch is dropped and the feeder reads it again. feedMu held.
func (x *callIDIndex) commitLocked() {
	if x.stopped {
		return
	}
	if x.batchEnd > x.indexed {
		x.mu.RLock()
		defer x.mu.RUnlock()
		if x.closed {
			return
		}
		if x.batch == nil {
			x.batch = x.db.NewBatch()
		}
		err := x.batch.Set(metaKey, x.metaValue(x.batchEnd), nil)
		if err == nil {
			err = x.batch.Commit(pebble.NoSync)
		}
		if err != nil {
			x.log.Error("eventlog: call id index: commit: reading again", "cursor", x.batchEnd, "err", err)
			x.dropBatchLocked()
			return
		}
		_ = x.batch.Close()
		x.batch = nil
		x.advanceLocked(x.batchEnd, x.batchAsOf, false)
	}
	if m := x.mark; m != nil && x.indexed >= m.cursor {
		x.mark = nil
		x.advanceLocked(x.indexed, m.at, true)
	}
}

// advanceLocked moves indexed and asOf forward and wakes the waiters;
// atHead: the feeder is at the log's head. feedMu held.
func (x *callIDIndex) advanceLocked(indexed uint64, asOf time.Time, atHead bool) {
	x.indexed = max(x.indexed, indexed)
	if n := asOf.UnixNano(); n > x.asOf.Load() {
		x.asOf.Store(n)
	}
	close(x.wake)
	x.wake = make(chan struct{})
	if atHead {
		x.up.Store(true)
	}
}

// start runs the feeder from after checkpoint, up to the log's newest
// cursor last (with an empty index and a TTL: from the oldest event the
// TTL keeps), and the loop.
func (x *callIDIndex) start(ctx context.Context, s jetstream.Stream, r logReader, checkpoint, last uint64) error {
	if checkpoint == 0 && x.ttl > 0 && last > 0 {
		from, err := r.seqAtTime(ctx, time.Now().Add(-x.ttl-x.width))
		if err != nil {
			return fmt.Errorf("eventlog: call id index feeder: %w", unavailable(err))
		}
		if from == 0 {
			from = last + 1 // nothing the TTL keeps
		}
		checkpoint = from - 1
	}
	// Set only now: with a reader, close waits for the loop to end.
	x.stream, x.reader = s, r
	x.feedMu.Lock()
	x.batchEnd, x.readTo = checkpoint, last
	x.feedMu.Unlock()
	x.probe() // with nothing to read, the index is current at once
	go x.loop()
	return nil
}

// loop feeds the index every indexFlushEvery: it adds this process's
// appends, reads what else the log holds, commits, probes whether an idle
// feeder is at the head, and deletes expired partitions.
func (x *callIDIndex) loop() {
	defer close(x.done)
	flush := time.NewTicker(indexFlushEvery)
	defer flush.Stop()
	var expire <-chan time.Time
	if x.ttl > 0 {
		t := time.NewTicker(indexExpireEvery)
		defer t.Stop()
		expire = t.C
	}
	var lastFed uint64
	var lastProbe, lastCheck time.Time
	for {
		select {
		case <-x.ctx.Done():
			return
		case <-flush.C:
			if x.broken.Load() != nil {
				continue
			}
			x.step()
			x.feedMu.Lock()
			fed := x.fed
			x.feedMu.Unlock()
			switch {
			case probeAlways || !x.isCaughtUp() || fed == lastFed && (x.waiters.Load() > 0 || time.Since(lastProbe) >= indexProbeEvery):
				x.probe()
				lastProbe, lastCheck = time.Now(), time.Now()
			case time.Since(lastCheck) >= indexProbeEvery:
				// Busy: the appends bring the head; only check that the
				// log is still the one recorded.
				x.checkLog()
				lastCheck = time.Now()
			}
			lastFed = fed
		case now := <-expire:
			x.expire(now)
		}
	}
}

// cursorAt is a cursor and when the feeder noted it.
type cursorAt struct {
	cursor uint64
	at     time.Time
}

// step adds this process's appends, reads from the log what the index
// lacks up to readTo and to the newest own append of indexGapGrace ago (a
// gap still open after that is not an acknowledgement on its way), and
// commits.
func (x *callIDIndex) step() {
	x.takeAppended()
	now := time.Now()
	x.feedMu.Lock()
	x.newestAt = append(x.newestAt, cursorAt{max(x.ownNewest, x.probedTo), now})
	var settled uint64
	for len(x.newestAt) > 0 && now.Sub(x.newestAt[0].at) >= indexGapGrace {
		settled = x.newestAt[0].cursor
		x.newestAt = x.newestAt[1:]
	}
	target := max(x.readTo, settled)
	x.feedMu.Unlock()
	x.readLog(target)
	x.feedMu.Lock()
	x.commitLocked()
	x.feedMu.Unlock()
	x.checkPassed()
}

// checkPassed looks into the own appends acknowledged at cursors the
// feeder had passed already, once those are committed. Such an
// acknowledgement is rare: it came more than indexGapGrace late, and the
// feeder read the event from the log meanwhile, so the index holds its
// call id at that cursor. When the index does not hold the call id at all
// but the stream's leader holds the event at that cursor, the feeder
// recorded something else there (or nothing): the log lost those writes
// and stored new events under their cursors since. checkLog sees such a
// loss only while the log is shorter than it was; at a few thousand
// appends a second it grows back past the checkpoint within its second,
// and then this process's own acknowledgements at the reused cursors are
// what tells. The feeder stops as checkLog's does.
func (x *callIDIndex) checkPassed() {
	x.feedMu.Lock()
	var due []ownAppend
	keep := x.passed[:0]
	for _, a := range x.passed {
		if a.cursor <= x.indexed {
			due = append(due, a)
		} else {
			keep = append(keep, a) // in the batch: looked up once committed
		}
	}
	x.passed = keep
	x.feedMu.Unlock()
	for _, a := range due {
		if _, _, err := x.lookup(a.msgID); !errors.Is(err, ErrNotFound) {
			continue // recorded; or unreadable, which lookups report
		}
		ctx, cancel := context.WithTimeout(x.ctx, defaultTimeout)
		held, err := x.reader.leaderMsgID(ctx, a.cursor)
		cancel()
		if err != nil || held != a.msgID {
			// Not there as acknowledged (gone by retention since), or
			// no answer: nothing certain to tell.
			continue
		}
		x.lost(fmt.Errorf("%w: the stream %s stored event %s at cursor %d, where the call id index recorded another one: the servers lost their newest writes; restart imbridge to rebuild the index", ErrUnavailable, StreamName, ShortID(a.msgID), a.cursor))
		return
	}
}

// readLog reads the log after batchEnd up to target, a batch at a time.
func (x *callIDIndex) readLog(target uint64) {
	for {
		x.feedMu.Lock()
		from := x.batchEnd + 1
		x.feedMu.Unlock()
		if from > target {
			return
		}
		ctx, cancel := context.WithTimeout(x.ctx, defaultTimeout)
		var err error
		switch behind := target - from; {
		case behind >= indexConsumerFrom:
			err = x.readThroughConsumer(ctx, from, target)
		case behind >= indexCatchUpFrom:
			err = x.readRange(ctx, from, min(target, from+indexCatchUpBatch-1))
		default:
			err = x.readRange(ctx, from, min(target, from+indexReadBatch-1))
		}
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			// Nothing stored from there on, says whoever answered, which
			// may lag (see Log.leaderNext). When the leader has nothing up
			// to target either, those events are gone (purged, or past
			// retention); otherwise, read again at the next tick.
			var next uint64
			next, err = x.reader.leaderFirst(ctx, msgGetRequest{Seq: from, NextFor: allEvents})
			if err == nil && (next == 0 || next > target) {
				x.feedMu.Lock()
				x.batchEnd = max(x.batchEnd, target)
				x.feedMu.Unlock()
			}
		}
		cancel()
		if err != nil {
			if !errors.Is(err, errBatchDropped) && x.ctx.Err() == nil { // logged as it was dropped; or closing
				x.log.Warn("eventlog: call id index: reading the log", "from", from, "err", err)
			}
			return // again at the next tick
		}
		x.takeAppended()
		x.feedMu.Lock()
		advanced := x.batchEnd >= from
		x.feedMu.Unlock()
		if !advanced {
			return
		}
	}
}

// readRange reads the events from cursor from (batchEnd+1) to end, and
// adds them.
func (x *callIDIndex) readRange(ctx context.Context, from, end uint64) error {
	r := x.fetchRange(ctx, from, end)
	if r.err != nil {
		return r.err
	}
	x.feedMu.Lock()
	defer x.feedMu.Unlock()
	return x.addRangeLocked(&r)
}

// readThroughConsumer reads the events from cursor from up to target
// through a headers-only ordered consumer, a fetch of up to indexBatch at
// a time, until it has read up to target, the log has nothing more, or the
// index closes; then it deletes the consumer. Each fetch's events are
// added at once.
func (x *callIDIndex) readThroughConsumer(ctx context.Context, from, target uint64) error {
	cons, err := x.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects:    []string{allEvents},
		HeadersOnly:       true,
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       from,
		InactiveThreshold: 5 * time.Minute, // should the deletion below fail
	})
	if err != nil {
		return err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(x.ctx, 5*time.Second)
		defer cancel()
		if info := cons.CachedInfo(); info != nil {
			_ = x.stream.DeleteConsumer(ctx, info.Name)
		}
	}()
	for {
		select {
		case <-x.ctx.Done():
			return errIndexOff
		default:
		}
		batch, err := cons.FetchNoWait(indexBatch)
		if err != nil {
			return err
		}
		r := readResult{end: target}
		for m := range batch.Messages() {
			md, err := m.Metadata()
			if err != nil {
				return err
			}
			if r.complete {
				continue // drained, so that the fetch ends
			}
			cursor := md.Sequence.Stream
			if cursor > target {
				r.next, r.complete = cursor, true
				continue
			}
			r.got = append(r.got, ownAppend{cursor, m.Headers().Get(jetstream.MsgIDHeader), md.Timestamp, 0})
			r.complete = cursor == target
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return err
		}
		x.feedMu.Lock()
		err = x.addRangeLocked(&r)
		x.feedMu.Unlock()
		if err != nil {
			return err
		}
		x.takeAppended()
		if r.complete || len(r.got) == 0 {
			return nil
		}
	}
}

// readResult is what a read of the cursors up to end found: the events,
// and whether it saw all of them (complete: it found end itself, or the
// first event past it, next).
type readResult struct {
	end      uint64
	got      []ownAppend
	next     uint64
	complete bool
	err      error
}

// fetchRange reads the events from cursor from to end.
func (x *callIDIndex) fetchRange(ctx context.Context, from, end uint64) readResult {
	r := readResult{end: end}
	r.err = x.reader.readBatch(ctx, from, int(end-from+1), func(cursor uint64, msgID string, stored time.Time) bool {
		if cursor > end {
			r.next, r.complete = cursor, true
			return false
		}
		r.got = append(r.got, ownAppend{cursor, msgID, stored, 0})
		r.complete = cursor == end
		return !r.complete
	})
	return r
}

// addRangeLocked adds the events read of a range, in order, and moves
// batchEnd past the range when it was complete: nothing is stored between
// its last event and the first one past it. When the batch is dropped on
// the way it stops, and the range is read again from batchEnd:
// errBatchDropped. feedMu held.
func (x *callIDIndex) addRangeLocked(r *readResult) error {
	for _, e := range r.got {
		if !x.addLocked(e) {
			x.readTo = max(x.readTo, r.end)
			return errBatchDropped
		}
		x.read++
	}
	if r.complete {
		x.batchEnd = max(x.batchEnd, r.end)
	}
	if r.next > 0 {
		x.batchEnd = max(x.batchEnd, r.next-1)
	}
	return nil
}

// probe asks the server for the log's head, which the feeder then reads up
// to: once it is indexed, every event stored before the probe began is,
// and the index is current. It checks the log first (checkLog).
func (x *callIDIndex) probe() {
	asOf := time.Now()
	info := x.checkLog()
	if info == nil {
		return
	}
	x.feedMu.Lock()
	defer x.feedMu.Unlock()
	last := info.State.LastSeq
	// Read once it settled, as the gaps between own appends are: up to
	// the head may be appends of this process on their way.
	x.probedTo = max(x.probedTo, last)
	if x.mark == nil {
		// The oldest unreached mark stays: a newer one every tick would
		// never be reached while events flow.
		x.mark = &headMark{cursor: last, at: asOf}
	}
	x.commitLocked()
}

// checkLog asks the server for the log's state, and stops the feeder when
// the log is no longer the one the index recorded: the stream was
// recreated, or it lost events the index recorded. It returns the state,
// or nil when the feeder stopped or the server did not answer.
func (x *callIDIndex) checkLog() *jetstream.StreamInfo {
	x.feedMu.Lock()
	recorded := x.indexed // all stored before the server is asked
	x.feedMu.Unlock()
	ctx, cancel := context.WithTimeout(x.ctx, 5*time.Second)
	defer cancel()
	info, err := x.stream.Info(ctx)
	if err != nil || info.Cluster != nil && info.Cluster.Leader == "" {
		// A stream without a leader has every replica answer from its
		// own state, which may lag: no answer.
		return nil
	}
	if x.window != nil {
		x.window.adopt(info.Config, time.Now())
	}
	switch {
	case epochOf(info.Created) != x.epoch:
		x.stopFeeding(fmt.Errorf("%w: the stream %s was recreated (epoch %s, was %s): restart imbridge", ErrUnavailable, StreamName, epochOf(info.Created), x.epoch))
		return nil
	case info.State.LastSeq < recorded && !skipTailCheck:
		// The servers lost their newest writes (a power loss, a restore)
		// and will store new events under those cursors: entries naming
		// them would take redeliveries of the lost events, the one way
		// to store them again, for duplicates. Only a rebuild can tell
		// which, and the next Open must rebuild even if the log has grown
		// back past the checkpoint by then.
		x.lost(fmt.Errorf("%w: the stream %s ends at %d, but the call id index recorded events up to %d: the servers lost their newest writes; restart imbridge to rebuild the index", ErrUnavailable, StreamName, info.State.LastSeq, recorded))
		return nil
	}
	return info
}

// stopFeeding stops the feeder for good with err, which Append then fails
// with where it needs the index, and wakes whoever waits for it.
func (x *callIDIndex) stopFeeding(err error) {
	x.broken.Store(&err)
	x.log.Error("eventlog: call id index stopped", "err", err)
	x.feedMu.Lock()
	close(x.wake)
	x.wake = make(chan struct{})
	x.feedMu.Unlock()
}

// lost marks the index for a rebuild (markLostLocked) and stops the
// feeder with err: the log lost events the index recorded.
func (x *callIDIndex) lost(err error) {
	x.feedMu.Lock()
	x.markLostLocked()
	x.feedMu.Unlock()
	x.stopFeeding(err)
}

// markLostLocked records lostCheckpoint as the checkpoint, durably, and
// commits nothing more (not even at close, which would overwrite it): the
// next Open rebuilds the index. feedMu held.
func (x *callIDIndex) markLostLocked() {
	x.stopped = true
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return
	}
	if err := x.db.Set(metaKey, x.metaValue(lostCheckpoint), pebble.Sync); err != nil {
		x.log.Error("eventlog: call id index: marking it for a rebuild", "err", err)
	}
}

func (x *callIDIndex) isCaughtUp() bool { return x.up.Load() }

// ready waits until the index is current: the feeder reached the log's
// head once since the index opened (before that a call id stored long
// ago, or just before a crash, may be missing), and every event stored
// more than maxLag ago is in the index. maxLag is well under the
// duplicate window, which covers the newest events.
func (x *callIDIndex) ready(ctx context.Context, maxLag time.Duration) error {
	if err := x.current(maxLag); err == nil || !errors.Is(err, errBehind) {
		return err // the fast path takes no lock: Append calls it every time
	}
	x.waiters.Add(1)
	defer x.waiters.Add(-1)
	for {
		x.feedMu.Lock()
		wake := x.wake
		x.feedMu.Unlock()
		err := x.current(maxLag)
		if err == nil || !errors.Is(err, errBehind) {
			return err
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", err, ctx.Err())
		}
	}
}

var errBehind = errors.New("eventlog: the call id index is behind the log")

// current is nil when the index is current (see ready), an error wrapping
// errBehind when it is not yet, and the feeder's error when it stopped.
func (x *callIDIndex) current(maxLag time.Duration) error {
	if err := x.broken.Load(); err != nil {
		return *err
	}
	if !x.isCaughtUp() {
		return fmt.Errorf("%w: still reading the log", errBehind)
	}
	if lag := time.Since(time.Unix(0, x.asOf.Load())); lag > maxLag {
		return fmt.Errorf("%w by %v", errBehind, lag.Round(time.Millisecond))
	}
	return nil
}

// waitIndexed waits until every event up to cursor is indexed (or gone).
func (x *callIDIndex) waitIndexed(ctx context.Context, cursor uint64) error {
	x.waiters.Add(1)
	defer x.waiters.Add(-1)
	x.feedMu.Lock()
	x.readTo = max(x.readTo, cursor)
	x.feedMu.Unlock()
	for {
		x.feedMu.Lock()
		done, wake, broken := x.indexed >= cursor, x.wake, x.broken.Load()
		x.feedMu.Unlock()
		if broken != nil {
			return *broken
		}
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

// expire deletes the partitions that ended more than the TTL before now:
// one range deletion. An entry the feeder records again in a later
// partition (a duplicate recorded twice) stays until that one expires.
// feedMu, which orders it with addEntry, is taken before mu, as
// commitLocked takes them.
func (x *callIDIndex) expire(now time.Time) {
	if x.ttl == 0 {
		return
	}
	x.feedMu.Lock()
	defer x.feedMu.Unlock()
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return
	}
	cutoff := uint64(now.Add(-x.ttl).UnixNano())
	parts := *x.parts.Load()
	n, _ := slices.BinarySearch(parts, cutoff+1) // parts[:n] ended by cutoff
	if n == 0 {
		return
	}
	lo, hi := entryKey(0, [hashLen]byte{}), entryKey(parts[n-1]+1, [hashLen]byte{})
	if err := x.db.DeleteRange(lo[:1], hi[:9], pebble.NoSync); err != nil {
		x.log.Error("eventlog: call id index: expire", "err", err)
		return
	}
	rest := slices.Clone(parts[n:])
	x.parts.Store(&rest)
	x.log.Debug("eventlog: call id index: expired partitions", "partitions", n, "ended_by", time.Unix(0, int64(parts[n-1])))
}

// close stops the feeder, commits what it read, and closes the store.
func (x *callIDIndex) close() error {
	if x == nil {
		return nil
	}
	x.cancel()
	if x.reader != nil {
		<-x.done
		x.takeAppended()
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
	return x.closeDB()
}

// closeDB closes the store and its file system.
func (x *callIDIndex) closeDB() error {
	err := x.db.Close()
	_ = x.fsCloser.Close()
	return err
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
