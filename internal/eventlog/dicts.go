package eventlog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/singleflight"
)

// Learned dictionaries. With CompressionEvent, Append compresses each event
// with an S2 dictionary made from this deployment's own events: its
// appkey, its users' names, the words its users write. The built-in
// dictionary (eventdict1.s2dict) knows only the vendor's examples; a
// chat callback of about 530 bytes whose text it has never seen stores
// about 370 bytes with it, and about 250 with a learned one.
//
// A process learns a dictionary from a sample of the events it appends
// (one in dictSampleEvery, until dictSampleBytes are together), in the
// background, and stores it in the bucket DictBucket under the next
// number (Create: the key must be new). It then compresses with it, as
// formatS2Learned with the number, until the next is learned
// dictRelearnEvery after this one was stored, so that the dictionary
// follows what the deployment's users write. Several processes on one
// cluster share them: the one whose Create comes first stores number n,
// and the others, whose Create finds n taken, use that one instead of
// their own. A process that opens the log uses the newest stored.
//
// Dictionaries are never deleted: every event written with one needs it
// to be read. They are at most 64 KiB each, one a day: 23 MiB a year.
// Readers fetch the ones they meet from the bucket and keep at most
// dictCacheMax in memory.
//
// Variables only for the tests.
var (
	dictSampleEvery  uint64 = 8
	dictSampleBytes         = s2.MaxDictSize
	dictRelearnEvery        = 24 * time.Hour
)

const (
	// dictCacheMax is how many learned dictionaries a process keeps in
	// memory.
	dictCacheMax = 16
	// dictRetryAfter is how long a process that could not store a
	// dictionary waits before it samples again.
	dictRetryAfter = time.Minute
)

// learned is a stored learned dictionary: its number, its encoder and
// the frame prefix of the events it compresses.
type learned struct {
	id     uint64
	d      *s2.Dict
	prefix []byte // formatS2Learned, then id as a uvarint
}

// dicts holds the log's learned dictionaries: the one Append compresses
// with, the ones readers met, and the sample the next is learned from. A
// nil *dicts reads and writes only the built-in dictionary.
type dicts struct {
	kv  jetstream.KeyValue
	log *slog.Logger
	// ctx ends at close: it bounds the background learning.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// dictSampleEvery, dictSampleBytes and dictRelearnEvery at newDicts.
	sampleEvery  uint64
	sampleBytes  int
	relearnEvery time.Duration

	cur      atomic.Pointer[learned] // Append's dictionary; nil before the first
	sampling atomic.Bool
	offered  atomic.Uint64
	fetch    singleflight.Group

	mu       sync.Mutex
	sample   []byte
	learning bool
	relearn  *time.Timer
	cache    map[uint64]*s2.Dict
	closed   bool
}

func newDicts(kv jetstream.KeyValue, log *slog.Logger) *dicts {
	ctx, cancel := context.WithCancel(context.Background())
	return &dicts{
		kv: kv, log: log, ctx: ctx, cancel: cancel,
		sampleEvery: dictSampleEvery, sampleBytes: dictSampleBytes, relearnEvery: dictRelearnEvery,
		cache: map[uint64]*s2.Dict{},
	}
}

// dictKey is the bucket key of dictionary id.
func dictKey(id uint64) string { return strconv.FormatUint(id, 10) }

// start makes the newest stored dictionary Append's, or, when there is
// none, starts sampling for the first. learn says whether Append
// compresses with learned dictionaries (CompressionEvent): otherwise the
// log only reads them.
func (d *dicts) start(ctx context.Context, learn bool) error {
	if !learn {
		return nil
	}
	switch err := d.useNewest(ctx); {
	case errors.Is(err, ErrCorrupt):
		// Appends go on with the built-in dictionary.
		d.log.Error("eventlog: not learning dictionaries", "err", err)
		return nil
	case err != nil:
		return err
	}
	if d.cur.Load() == nil {
		d.sampling.Store(true)
	}
	return nil
}

// useNewest makes the newest stored dictionary Append's, when it is newer
// than Append's.
func (d *dicts) useNewest(ctx context.Context) error {
	keys, err := d.kv.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("eventlog: list the dictionaries: %w", unavailable(err))
	}
	var newest uint64
	for k := range keys.Keys() {
		if id, err := strconv.ParseUint(k, 10, 64); err == nil {
			newest = max(newest, id)
		}
	}
	if c := d.cur.Load(); newest == 0 || (c != nil && c.id >= newest) {
		return nil
	}
	e, err := d.kv.Get(ctx, dictKey(newest))
	if err != nil {
		return fmt.Errorf("eventlog: dictionary %d: %w", newest, unavailable(err))
	}
	dict := s2.NewDict(e.Value())
	if dict == nil {
		return fmt.Errorf("%w: dictionary %d in bucket %s is not an S2 dictionary", ErrCorrupt, newest, DictBucket)
	}
	d.use(newest, dict, e.Created())
	return nil
}

// use makes dictionary id Append's, and sets when the next is learned.
func (d *dicts) use(id uint64, dict *s2.Dict, stored time.Time) {
	dict.Encode(nil, make([]byte, 64)) // its encoder's table, made now rather than in an Append
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	if c := d.cur.Load(); c != nil && c.id >= id {
		return
	}
	d.cache[id] = dict
	d.cur.Store(&learned{id: id, d: dict, prefix: binary.AppendUvarint([]byte{formatS2Learned}, id)})
	if d.relearn != nil {
		d.relearn.Stop()
	}
	d.relearn = time.AfterFunc(time.Until(stored.Add(d.relearnEvery)), func() { d.sampling.Store(true) })
}

// offer hands Append's plain encoded event to the sample, when one is
// being taken; the last one it needs starts the learning. Appends pay one
// atomic load when no sample is being taken, which is almost always.
func (d *dicts) offer(plain []byte) {
	if d == nil || !d.sampling.Load() || d.offered.Add(1)%d.sampleEvery != 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || d.learning || !d.sampling.Load() {
		return
	}
	d.sample = append(d.sample, plain...)
	if len(d.sample) < d.sampleBytes {
		return
	}
	sample := d.sample
	d.sample, d.learning = nil, true
	d.sampling.Store(false)
	d.wg.Add(1)
	go d.learn(sample)
}

// learn makes a dictionary of sample and stores it as the next number;
// when another process stored that number first, Append uses the newest
// stored instead. When the bucket cannot be written, the next sample
// tries again.
func (d *dicts) learn(sample []byte) {
	defer d.wg.Done()
	err := d.store(sample)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.learning = false
	if err != nil && !d.closed {
		d.log.Warn("eventlog: could not store a learned dictionary; sampling again in a while", "err", err, "retry_after", dictRetryAfter)
		if d.relearn != nil {
			d.relearn.Stop()
		}
		d.relearn = time.AfterFunc(dictRetryAfter, func() { d.sampling.Store(true) })
	}
}

func (d *dicts) store(sample []byte) error {
	dict := s2.MakeDict(sample, nil)
	if dict == nil {
		return fmt.Errorf("a sample of %d bytes made no dictionary", len(sample))
	}
	ctx, cancel := context.WithTimeout(d.ctx, defaultTimeout)
	defer cancel()
	var id uint64 = 1
	if c := d.cur.Load(); c != nil {
		id = c.id + 1
	}
	_, err := d.kv.Create(ctx, dictKey(id), dict.Bytes())
	if errors.Is(err, jetstream.ErrKeyExists) {
		// Another process learned one first.
		return d.useNewest(ctx)
	}
	if err != nil {
		return fmt.Errorf("dictionary %d: %w", id, err)
	}
	d.use(id, dict, time.Now())
	d.log.Info("eventlog: learned a compression dictionary from the events appended", "dictionary", id, "bytes", len(dict.Bytes()))
	return nil
}

// dict returns dictionary id, from memory or the bucket. An error is
// ErrUnavailable when the bucket did not answer; otherwise the events
// that need the dictionary cannot be read (every stored dictionary is
// kept, so it is not a matter of time).
func (d *dicts) dict(id uint64) (*s2.Dict, error) {
	if d == nil {
		return nil, fmt.Errorf("learned dictionary %d, but no dictionaries", id)
	}
	if c := d.cur.Load(); c != nil && c.id == id {
		return c.d, nil
	}
	d.mu.Lock()
	dict := d.cache[id]
	d.mu.Unlock()
	if dict != nil {
		return dict, nil
	}
	v, err, _ := d.fetch.Do(dictKey(id), func() (any, error) {
		ctx, cancel := context.WithTimeout(d.ctx, defaultTimeout)
		defer cancel()
		e, err := d.kv.Get(ctx, dictKey(id))
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, fmt.Errorf("learned dictionary %d is not in bucket %s", id, DictBucket)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: learned dictionary %d: %w", ErrUnavailable, id, err)
		}
		dict := s2.NewDict(e.Value())
		if dict == nil {
			return nil, fmt.Errorf("learned dictionary %d in bucket %s is not an S2 dictionary", id, DictBucket)
		}
		d.mu.Lock()
		if len(d.cache) >= dictCacheMax {
			cur := d.cur.Load()
			for k := range d.cache {
				if cur == nil || k != cur.id {
					delete(d.cache, k)
					break
				}
			}
		}
		d.cache[id] = dict
		d.mu.Unlock()
		return dict, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*s2.Dict), nil
}

// close stops the learning and waits for a learning under way.
func (d *dicts) close() {
	if d == nil {
		return
	}
	d.mu.Lock()
	d.closed = true
	d.sampling.Store(false)
	if d.relearn != nil {
		d.relearn.Stop()
	}
	d.mu.Unlock()
	d.cancel()
	d.wg.Wait()
}
