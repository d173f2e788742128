package eventlog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
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
// number (Create: the key must be new). It compresses with it, as
// formatS2Learned with the number, from dictSyncWait after it was stored
// (by then the servers have written it to disk, so that a power loss
// cannot keep events while losing their dictionary), until the next is
// learned dictRelearnEvery after it was stored, so that the dictionary
// follows what the deployment's users write. Several processes on one
// cluster share them: the one whose Create comes first stores number n,
// and the others, whose Create finds n taken, use that one instead of
// their own. A process that opens the log uses the newest stored.
//
// A dictionary holds pieces of the events it was learned from, message
// text included, so it must not outlive them by much. Append stops using
// one dictUseFor after it was stored, when the next has normally long
// replaced it (the built-in dictionary serves until another is learned).
// Every process deletes, every dictPruneEvery, the dictionaries stored
// more than dictKeepFor before the log's oldest event: no event left can
// need them. dictKeepFor is dictUseFor and a day, which covers clocks
// apart and appends under way. The newest stays whatever its age (on a
// log that takes no events, it outlives them), so that a number is never
// used twice: a process that met a dictionary keeps it in memory, and new
// numbers follow the newest stored. Readers fetch the
// dictionaries they meet from the stream leader (a replica may not have
// the newest yet) and keep the dictCacheMax used last in memory.
//
// Variables only for the tests.
var (
	dictSampleEvery  uint64 = 8
	dictSampleBytes         = s2.MaxDictSize
	dictRelearnEvery        = 24 * time.Hour
	// dictSyncWait is JetStream's default sync interval (2 minutes), and
	// some room.
	dictSyncWait = 2*time.Minute + 15*time.Second
	// dictRetryAfter is how long a process that could not store a
	// dictionary waits before it samples again.
	dictRetryAfter = time.Minute
	// dictUseFor is how long after it was stored Append may compress with
	// a dictionary: two relearns.
	dictUseFor = 48 * time.Hour
	// dictKeepFor is how long after it was stored a dictionary is kept
	// while the log holds events stored before then: dictUseFor and a day
	// for clocks of processes and servers apart, an append under way, a
	// sync wait counted from a later clock. It must exceed dictUseFor.
	dictKeepFor = dictUseFor + 24*time.Hour
	// dictPruneEvery is how often a process deletes the dictionaries no
	// stored event can use.
	dictPruneEvery = time.Hour
)

// dictCacheMax is how many learned dictionaries a process keeps in
// memory.
const dictCacheMax = 16

// learned is a stored learned dictionary: its number, its encoder, the
// frame prefix of the events it compresses, and until when Append may
// use it.
type learned struct {
	id     uint64
	d      *s2.Dict
	prefix []byte // formatS2Learned, then id as a uvarint
	until  time.Time
}

// dicts holds the log's learned dictionaries: the one Append compresses
// with, the ones readers met, and the sample the next is learned from. A
// nil *dicts reads and writes only the built-in dictionary.
type dicts struct {
	kv jetstream.KeyValue
	// get reads a message of the bucket's stream through its leader.
	get func(context.Context, msgGetRequest) (*storedMsg, error)
	// oldest is when the log's oldest event was stored, by the servers'
	// clock: of an empty log, when its last was.
	oldest func(context.Context) (time.Time, error)
	log    *slog.Logger
	// ctx ends at close: it bounds the background learning.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// The variables above at newDicts; syncWait 0 when every write is
	// synced before it is acknowledged.
	sampleEvery               uint64
	sampleBytes               int
	relearnEvery, syncWait    time.Duration
	useFor, keepFor, pruneGap time.Duration

	cur      atomic.Pointer[learned] // Append's dictionary; nil before the first
	sampling atomic.Bool
	offered  atomic.Uint64
	fetch    singleflight.Group

	mu       sync.Mutex
	sample   []byte
	learning bool
	// timer starts the next sample (relearn, retry) or puts a stored
	// dictionary to use.
	timer  *time.Timer
	cache  map[uint64]*cached
	used   uint64 // the cache's clock
	closed bool
}

type cached struct {
	d    *s2.Dict
	used uint64
}

func newDicts(kv jetstream.KeyValue, get func(context.Context, msgGetRequest) (*storedMsg, error),
	oldest func(context.Context) (time.Time, error), log *slog.Logger, syncAlways bool) *dicts {
	ctx, cancel := context.WithCancel(context.Background())
	d := &dicts{
		kv: kv, get: get, oldest: oldest, log: log, ctx: ctx, cancel: cancel,
		sampleEvery: dictSampleEvery, sampleBytes: dictSampleBytes,
		relearnEvery: dictRelearnEvery, syncWait: dictSyncWait,
		useFor: dictUseFor, keepFor: dictKeepFor, pruneGap: dictPruneEvery,
		cache: map[uint64]*cached{},
	}
	if syncAlways {
		d.syncWait = 0
	}
	return d
}

// dictKey is the bucket key of dictionary id.
func dictKey(id uint64) string { return strconv.FormatUint(id, 10) }

// start makes the newest stored dictionary Append's, or, when there is
// none, starts sampling for the first. learn says whether Append
// compresses with learned dictionaries (CompressionEvent): otherwise the
// log only reads them. Either way it deletes, in the background, the
// dictionaries no event needs any more.
func (d *dicts) start(ctx context.Context, learn bool) error {
	d.wg.Add(1)
	go d.pruneLoop()
	if !learn {
		return nil
	}
	switch newest, err := d.useNewest(ctx); {
	case errors.Is(err, ErrCorrupt):
		// Appends go on with the built-in dictionary.
		d.log.Error("eventlog: not learning dictionaries", "err", err)
	case err != nil:
		return err
	case newest == 0:
		d.sampling.Store(true)
	}
	return nil
}

// useNewest puts the newest stored dictionary to use (useFrom), and
// returns its number: 0 when there is none.
func (d *dicts) useNewest(ctx context.Context) (uint64, error) {
	for tries := 0; ; tries++ {
		ids, err := d.stored(ctx)
		if err != nil || len(ids) == 0 {
			return 0, err
		}
		newest := slices.Max(ids)
		dict, stored, err := d.load(ctx, newest)
		if errors.Is(err, ErrCorrupt) && tries == 0 {
			// Deleted since the listing: another process stored a newer
			// one and deleted this one as too old. List again.
			continue
		}
		if err != nil {
			return 0, unavailable(err)
		}
		// stored is by the servers' clock. Its use ends useFor after it
		// by our clock: the age is measured by ours, so that a clock
		// behind the servers' cannot stretch it (one ahead shortens it).
		until := time.Now().Add(d.useFor - max(0, time.Since(stored)))
		// Unless it is old by our clock too, the whole sync wait is
		// counted from now.
		if time.Since(stored) < d.syncWait+time.Hour {
			stored = time.Now()
		}
		d.useFrom(newest, dict, stored, until)
		return newest, nil
	}
}

// useFrom makes dictionary id Append's dictSyncWait after it was stored
// (at once when that has passed), until until.
func (d *dicts) useFrom(id uint64, dict *s2.Dict, stored, until time.Time) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.remember(id, dict)
	later := d.schedule(time.Until(stored.Add(d.syncWait)), func() { d.use(id, dict, stored, until) })
	d.mu.Unlock()
	if !later {
		d.use(id, dict, stored, until)
	}
}

// use makes dictionary id Append's until until, and sets when the next is
// learned.
func (d *dicts) use(id uint64, dict *s2.Dict, stored, until time.Time) {
	dict.Encode(nil, make([]byte, 64)) // its encoder's table, made now rather than in an Append
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	if c := d.cur.Load(); c != nil && c.id >= id {
		return
	}
	d.remember(id, dict)
	d.cur.Store(&learned{id: id, d: dict, prefix: binary.AppendUvarint([]byte{formatS2Learned}, id), until: until})
	if !d.schedule(time.Until(stored.Add(d.relearnEvery)), func() { d.sampling.Store(true) }) {
		d.sampling.Store(true) // due already
	}
}

// schedule replaces the pending timer with one that calls f after wait,
// and reports true; when wait has passed it reports false, and the caller
// calls f itself (without d.mu: f may lock it). d.mu is held.
func (d *dicts) schedule(wait time.Duration, f func()) bool {
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if wait <= 0 {
		return false
	}
	d.timer = time.AfterFunc(wait, f)
	return true
}

// remember keeps dict in the cache, forgetting the one used longest ago
// (never Append's) when it is full. d.mu is held.
func (d *dicts) remember(id uint64, dict *s2.Dict) {
	d.used++
	if c, ok := d.cache[id]; ok {
		c.used = d.used
		return
	}
	if len(d.cache) >= dictCacheMax {
		var oldest uint64
		cur := d.cur.Load()
		for k, c := range d.cache {
			if (cur == nil || k != cur.id) && (oldest == 0 || c.used < d.cache[oldest].used) {
				oldest = k
			}
		}
		delete(d.cache, oldest)
	}
	d.cache[id] = &cached{d: dict, used: d.used}
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
// stored instead. When that fails, it samples again dictRetryAfter later.
func (d *dicts) learn(sample []byte) {
	defer d.wg.Done()
	err := d.store(sample)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.learning = false
	if err != nil && !d.closed {
		d.log.Warn("eventlog: could not store a learned dictionary; sampling again in a while", "err", err, "retry_after", dictRetryAfter)
		d.schedule(dictRetryAfter, func() { d.sampling.Store(true) })
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
	// Another process learned one first: use the newest.
	adopt := func() error {
		newest, err := d.useNewest(ctx)
		if err == nil && newest < id {
			err = fmt.Errorf("dictionary %d is taken, but the newest listed is %d", id, newest)
		}
		return err
	}
	// A number is never used twice, nor one deleted: the newest stored,
	// which is never deleted, is below it.
	ids, err := d.stored(ctx)
	if err != nil {
		return err
	}
	if len(ids) > 0 && slices.Max(ids) >= id {
		return adopt()
	}
	_, err = d.kv.Create(ctx, dictKey(id), dict.Bytes())
	if errors.Is(err, jetstream.ErrKeyExists) {
		return adopt()
	}
	if err != nil {
		return fmt.Errorf("dictionary %d: %w", id, err)
	}
	now := time.Now()
	d.useFrom(id, dict, now, now.Add(d.useFor))
	d.log.Info("eventlog: learned a compression dictionary from the events appended", "dictionary", id, "bytes", len(dict.Bytes()), "in_use_after", d.syncWait)
	return nil
}

// stored lists the numbers of the stored dictionaries.
func (d *dicts) stored(ctx context.Context) ([]uint64, error) {
	keys, err := d.kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("eventlog: list the dictionaries: %w", unavailable(err))
	}
	var ids []uint64
	for k := range keys.Keys() {
		if id, err := strconv.ParseUint(k, 10, 64); err == nil && id > 0 {
			ids = append(ids, id)
		}
	}
	if err := ctx.Err(); err != nil {
		// The listing was cut short.
		return nil, fmt.Errorf("eventlog: list the dictionaries: %w", err)
	}
	return ids, nil
}

// pruneLoop prunes at once, then about every pruneGap (up to a tenth
// more, so that the processes of a cluster spread out), until close.
func (d *dicts) pruneLoop() {
	defer d.wg.Done()
	for {
		ctx, cancel := context.WithTimeout(d.ctx, defaultTimeout)
		if _, err := d.prune(ctx); err != nil && d.ctx.Err() == nil {
			d.log.Warn("eventlog: could not delete the dictionaries no event needs; trying again later", "err", err, "retry_after", d.pruneGap)
		}
		cancel()
		select {
		case <-d.ctx.Done():
			return
		case <-time.After(d.pruneGap + rand.N(d.pruneGap/10+1)):
		}
	}
}

// prune deletes the dictionaries that no stored event can use: all but
// the newest, stored more than keepFor before the log's oldest event
// (before its last one when it is empty: any event to come is later). It
// returns how many it deleted.
func (d *dicts) prune(ctx context.Context) (int, error) {
	ids, err := d.stored(ctx)
	if err != nil || len(ids) < 2 {
		return 0, err
	}
	// Read after the listing: a dictionary stored after the oldest event
	// read here is newer than every event it may be compared with.
	oldest, err := d.oldest(ctx)
	if err != nil {
		return 0, fmt.Errorf("eventlog: the log's oldest event: %w", unavailable(err))
	}
	// Oldest first, all but the newest. A number is stored only above
	// every number stored before it, so the first one too young to
	// delete ends the pass: every later one is younger.
	slices.Sort(ids)
	deleted := 0
	for _, id := range ids[:len(ids)-1] {
		e, err := d.kv.Get(ctx, dictKey(id))
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return deleted, fmt.Errorf("eventlog: learned dictionary %d: %w", id, unavailable(err))
		}
		if !oldest.After(e.Created().Add(d.keepFor)) {
			break
		}
		if err := d.kv.Purge(ctx, dictKey(id)); err != nil {
			return deleted, fmt.Errorf("eventlog: delete learned dictionary %d: %w", id, unavailable(err))
		}
		deleted++
		d.log.Info("eventlog: deleted a learned dictionary no stored event uses", "dictionary", id, "stored", e.Created(), "oldest_event", oldest)
	}
	return deleted, nil
}

// load reads dictionary id from the bucket, through the stream leader,
// and the time the servers stored it. An error is ErrCorrupt when the
// bucket has no such dictionary, else the bucket's or ctx's.
func (d *dicts) load(ctx context.Context, id uint64) (*s2.Dict, time.Time, error) {
	m, err := d.get(ctx, msgGetRequest{LastFor: dictSubjects + dictKey(id)})
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound) || (err == nil && len(m.Data) == 0):
		// Never stored, or deleted.
		return nil, time.Time{}, fmt.Errorf("%w: learned dictionary %d is not in bucket %s", ErrCorrupt, id, DictBucket)
	case err != nil:
		return nil, time.Time{}, fmt.Errorf("learned dictionary %d: %w", id, err)
	}
	dict := s2.NewDict(m.Data)
	if dict == nil {
		return nil, time.Time{}, fmt.Errorf("%w: learned dictionary %d in bucket %s is not an S2 dictionary", ErrCorrupt, id, DictBucket)
	}
	return dict, m.Time, nil
}

// dict returns dictionary id, from memory or the bucket.
func (d *dicts) dict(id uint64) (*s2.Dict, error) {
	if d == nil {
		return nil, fmt.Errorf("learned dictionary %d, but no dictionaries", id)
	}
	if c := d.cur.Load(); c != nil && c.id == id {
		return c.d, nil
	}
	d.mu.Lock()
	c := d.cache[id]
	if c != nil {
		d.used++
		c.used = d.used
	}
	d.mu.Unlock()
	if c != nil {
		return c.d, nil
	}
	v, err, _ := d.fetch.Do(dictKey(id), func() (any, error) {
		ctx, cancel := context.WithTimeout(d.ctx, defaultTimeout)
		defer cancel()
		dict, _, err := d.load(ctx, id)
		if err != nil && !errors.Is(err, ErrCorrupt) {
			// The fetch's own time ran out, or the bucket did not answer.
			err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		if err != nil {
			return nil, err
		}
		d.mu.Lock()
		d.remember(id, dict)
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
	if d.timer != nil {
		d.timer.Stop()
	}
	d.mu.Unlock()
	d.cancel()
	d.wg.Wait()
}
