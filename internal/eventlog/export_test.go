package eventlog

import (
	"context"
	"encoding/binary"
	"strconv"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Exported for the tests in package eventlog_test.
var StripField = stripField

// CorruptIndexEntry writes an entry for callID, in the current
// partition, of bytes that are no entry.
func CorruptIndexEntry(l *Log, callID string) error {
	x := l.index
	x.feedMu.Lock()
	defer x.feedMu.Unlock()
	end := x.partitionEnd(time.Now())
	x.holdsLocked(end)
	k := entryKey(end, indexHash(MsgID(callID)))
	return x.db.Set(k[:], []byte{0xff}, nil)
}

// IndexPartitions is the call id index's TTL over the width of an expiry
// slot.
const IndexPartitions = indexPartitions

// IndexedCursor is the cursor up to which the call id index's feeder has
// recorded every stored event.
func IndexedCursor(l *Log) uint64 {
	l.index.feedMu.Lock()
	defer l.index.feedMu.Unlock()
	return l.index.indexed
}

// IndexReads is how many events the call id index's feeder has read back
// from the log (rather than learnt from this process's appends).
func IndexReads(l *Log) uint64 {
	l.index.feedMu.Lock()
	defer l.index.feedMu.Unlock()
	return l.index.read
}

// SetTailMaxEntries bounds the tail of logs opened afterwards, until the
// test ends.
func SetTailMaxEntries(t interface{ Cleanup(func()) }, n int) {
	old := tailMaxEntries
	tailMaxEntries = n
	t.Cleanup(func() { tailMaxEntries = old })
}

// ExpireIndex deletes the call id index entries that have expired at now.
func ExpireIndex(l *Log, now time.Time) { l.index.expire(now) }

// SetIndexCheckpoint overwrites the call id index's checkpoint.
func SetIndexCheckpoint(l *Log, cursor uint64) error {
	return l.index.db.Set(metaKey, l.index.metaValue(cursor), nil)
}

// WithinWindow is Log.withinWindow: whether Append skips the call id index
// for an event of this vendor time.
func WithinWindow(l *Log, vendorTime *timestamppb.Timestamp, now time.Time) bool {
	return l.withinWindow(vendorTime, now)
}

// ProbeAlways makes the call id index's feeder ask the server whether it
// is at the head at every tick, busy or not, until the test ends.
func ProbeAlways(t interface{ Cleanup(func()) }) {
	probeAlways = true
	t.Cleanup(func() { probeAlways = false })
}

// SkipTailCheck keeps the call id index's feeder from comparing the log's
// head with its checkpoint until the test ends.
func SkipTailCheck(t interface{ Cleanup(func()) }) {
	skipTailCheck = true
	t.Cleanup(func() { skipTailCheck = false })
}

// SetIndexReads makes the call id index's feeder read batches of read
// events, of catchUp once more than from behind, and through a consumer
// once more than consumerFrom behind, until the test ends.
func SetIndexReads(t interface{ Cleanup(func()) }, read, catchUp, from, consumerFrom uint64) {
	r, c, f, cf := indexReadBatch, indexCatchUpBatch, indexCatchUpFrom, indexConsumerFrom
	indexReadBatch, indexCatchUpBatch, indexCatchUpFrom, indexConsumerFrom = read, catchUp, from, consumerFrom
	t.Cleanup(func() { indexReadBatch, indexCatchUpBatch, indexCatchUpFrom, indexConsumerFrom = r, c, f, cf })
}

// SetIndexGapGrace sets how long the call id index's feeder leaves a gap
// between this process's appends open before reading it, for logs opened
// afterwards, until the test ends.
func SetIndexGapGrace(t interface{ Cleanup(func()) }, d time.Duration) {
	old := indexGapGrace
	indexGapGrace = d
	t.Cleanup(func() { indexGapGrace = old })
}

// HandOverAppend hands the call id index an acknowledged append of callID
// at cursor, as Append does once the log acknowledged it.
func HandOverAppend(l *Log, cursor uint64, callID string) {
	l.index.appendedAt(cursor, MsgID(callID), time.Now(), 0)
}

// SetDictLearning makes logs opened afterwards, until the test ends, put
// one appended event in every `every` in the sample, learn a dictionary
// once it holds size bytes, use it at once, and learn the next one
// relearn after that; after a failure, they sample again 100ms later.
func SetDictLearning(t interface{ Cleanup(func()) }, every uint64, size int, relearn time.Duration) {
	oldEvery, oldSize, oldRelearn, oldWait, oldRetry := dictSampleEvery, dictSampleBytes, dictRelearnEvery, dictSyncWait, dictRetryAfter
	dictSampleEvery, dictSampleBytes, dictRelearnEvery, dictSyncWait, dictRetryAfter = every, size, relearn, 0, 100*time.Millisecond
	t.Cleanup(func() {
		dictSampleEvery, dictSampleBytes, dictRelearnEvery, dictSyncWait, dictRetryAfter = oldEvery, oldSize, oldRelearn, oldWait, oldRetry
	})
}

// SetDictSyncWait makes logs opened afterwards, until the test ends, use
// a dictionary they stored wait after it was stored.
func SetDictSyncWait(t interface{ Cleanup(func()) }, wait time.Duration) {
	old := dictSyncWait
	dictSyncWait = wait
	t.Cleanup(func() { dictSyncWait = old })
}

// SetDictLifetime makes logs opened afterwards, until the test ends, stop
// compressing with a learned dictionary useFor after it was stored, and
// delete one once the oldest event was stored more than keepFor after it.
func SetDictLifetime(t interface{ Cleanup(func()) }, useFor, keepFor time.Duration) {
	oldUse, oldKeep := dictUseFor, dictKeepFor
	dictUseFor, dictKeepFor = useFor, keepFor
	t.Cleanup(func() { dictUseFor, dictKeepFor = oldUse, oldKeep })
}

// SampleNow makes l start taking the sample of its next dictionary.
func SampleNow(l *Log) { l.dicts.sampling.Store(true) }

// PruneDicts deletes the learned dictionaries no stored event can use,
// and says how many it deleted.
func PruneDicts(ctx context.Context, l *Log) (int, error) { return l.dicts.prune(ctx) }

// DropBefore removes the events before cursor, as retention does.
func DropBefore(ctx context.Context, l *Log, cursor uint64) error {
	return l.stream.Purge(ctx, jetstream.WithPurgeSequence(cursor))
}

// CachedDicts is how many learned dictionaries l keeps in memory.
func CachedDicts(l *Log) int {
	l.dicts.mu.Lock()
	defer l.dicts.mu.Unlock()
	return len(l.dicts.cache)
}

// StoredDicts are the keys of the dictionary bucket.
func StoredDicts(ctx context.Context, l *Log) ([]string, error) {
	return l.dicts.kv.Keys(ctx)
}

// DictSampleBytes is the sample a dictionary is learned from, by default.
var DictSampleBytes = dictSampleBytes

// LearnedDict is the number of the dictionary Append compresses with: 0
// before the first is learned.
func LearnedDict(l *Log) uint64 {
	if c := l.dicts.cur.Load(); c != nil {
		return c.id
	}
	return 0
}

// StoredPayload is the payload of the message stored at cursor, as the
// stream holds it.
func StoredPayload(ctx context.Context, l *Log, cursor uint64) ([]byte, error) {
	m, err := l.stream.GetMsg(ctx, cursor)
	if err != nil {
		return nil, err
	}
	return m.Data, nil
}

// Stored formats, for StoredPayload's first byte.
const (
	FormatS2Dict1   = formatS2Dict1
	FormatS2Learned = formatS2Learned
)

// IndexEntry records callID → cursor in the call id index as stored at t,
// and commits it.
func IndexEntry(l *Log, callID string, cursor uint64, t time.Time) error {
	x := l.index
	x.feedMu.Lock()
	defer x.feedMu.Unlock()
	b := x.db.NewBatch()
	defer b.Close()
	if err := x.addEntry(b, MsgID(callID), cursor, t, 0); err != nil {
		return err
	}
	return b.Commit(pebble.NoSync)
}

// IndexLookup is the cursor the call id index records for callID.
func IndexLookup(l *Log, callID string) (uint64, error) {
	seq, _, err := l.index.lookup(MsgID(callID))
	return seq, err
}

// WriteOldIndexLayout empties the call id index and writes what the layout
// before partitioned keys held for callID at cursor: its meta under 'm'
// with the index's epoch and checkpoint, and the entry and expiry keys.
func WriteOldIndexLayout(l *Log, callID string, cursor uint64) error {
	x := l.index
	x.feedMu.Lock()
	defer x.feedMu.Unlock()
	b := x.db.NewBatch()
	defer b.Close()
	meta := binary.AppendUvarint(nil, uint64(len(x.epoch)))
	meta = append(meta, x.epoch...)
	meta = binary.AppendUvarint(meta, x.indexed)
	h := indexHash(MsgID(callID))
	p := uint64(time.Now().UnixNano()) / uint64(10*time.Minute)
	entry := binary.AppendUvarint(binary.AppendUvarint(nil, cursor), p)
	for _, err := range []error{
		b.DeleteRange([]byte{0}, []byte{0xff}, nil),
		b.Set(oldMetaKey, meta, nil),
		b.Set(append([]byte{'k'}, h[:]...), entry, nil),
		b.Set(append(binary.BigEndian.AppendUint64([]byte{'p'}, p), h[:]...), nil, nil),
	} {
		if err != nil {
			return err
		}
	}
	return b.Commit(pebble.Sync)
}

// IndexEntries records n call ids, prefix plus 1…n, at cursors from 1 as
// stored at t, committing them as the feeder does, a batch at a time.
func IndexEntries(l *Log, prefix string, n int, t time.Time) error {
	x := l.index
	for i := 0; i < n; {
		x.feedMu.Lock()
		b := x.db.NewBatch()
		var err error
		for end := min(i+indexBatch, n); i < end && err == nil; i++ {
			err = x.addEntry(b, MsgID(prefix+strconv.Itoa(i+1)), uint64(i+1), t, 0)
		}
		if err == nil {
			err = b.Commit(pebble.NoSync)
		}
		_ = b.Close()
		x.feedMu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// IndexWrites flushes the call id index's memtable and reports the bytes
// it has written to its write-ahead log and, by flushes, to tables.
func IndexWrites(l *Log) (wal, flushed uint64, err error) {
	if err := l.index.db.Flush(); err != nil {
		return 0, 0, err
	}
	m := l.index.db.Metrics()
	for _, lv := range m.Levels {
		flushed += lv.TableBytesFlushed
	}
	return m.WAL.BytesWritten, flushed, nil
}

// SetBatchMaxBytes makes batched direct gets ask for at most n bytes each
// until the test ends, as the server's limit cuts batches of large events.
func SetBatchMaxBytes(t interface{ Cleanup(func()) }, n int) {
	old := batchMaxBytes
	batchMaxBytes = n
	t.Cleanup(func() { batchMaxBytes = old })
}
