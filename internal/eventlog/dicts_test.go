package eventlog_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/eventlog"
)

var dictWords = strings.Fields(`the of and to in is you that it was for on are as with they at be this have
from or one had by word but not what all were we when your can said there use each which she do how
meeting tomorrow lunch project review 你好 明天 见面 会议 好的 谢谢 收到 晚上 一起 吃饭`)

// chatEvent is a chat:txt event between users of a small team, with about
// 150 bytes of words drawn at random, in the text and in the raw body.
func chatEvent(callID string, rng *rand.Rand) *imbridgev1.Event {
	ev := newEvent(callID, "org#app", "chat:txt")
	var sb strings.Builder
	for sb.Len() < 150 {
		sb.WriteString(dictWords[rng.IntN(len(dictWords))])
		sb.WriteByte(' ')
	}
	ev.SenderUsername = fmt.Sprintf("user%d", rng.IntN(50))
	ev.RecipientUsername = fmt.Sprintf("user%d", rng.IntN(50))
	ev.GetMessage().GetBodies()[0].GetTxt().Msg = sb.String()
	ev.RawBody = fmt.Appendf(nil, `{"callId":%q,"from":%q,"to":%q,"payload":{"bodies":[{"msg":%q,"type":"txt"}]}}`,
		callID, ev.SenderUsername, ev.RecipientUsername, sb.String())
	return ev
}

// storedDict is the format of the event stored at cursor, and the number
// of its learned dictionary (0 for any other format).
func storedDict(t testing.TB, l *eventlog.Log, cursor uint64) (format byte, dict uint64, size int) {
	t.Helper()
	p, err := eventlog.StoredPayload(t.Context(), l, cursor)
	if err != nil {
		t.Fatalf("stored payload %d: %v", cursor, err)
	}
	if p[0] == eventlog.FormatS2Learned {
		dict, _ = binary.Uvarint(p[1:])
	}
	return p[0], dict, len(p)
}

// learnBound says whether a test appending events until a dictionary is
// learned (in the background) should give up: after 5000 events and a
// minute both, so that neither a fast machine nor a starved one ends it
// early.
func learnBound(start time.Time, appended int) bool {
	return appended >= 5000 && time.Since(start) > time.Minute
}

// appendUntilDict appends chat events until one is stored with learned
// dictionary want, and returns them all.
func appendUntilDict(t testing.TB, l *eventlog.Log, prefix string, rng *rand.Rand, want uint64) []*imbridgev1.Event {
	t.Helper()
	var out []*imbridgev1.Event
	for start := time.Now(); !learnBound(start, len(out)); {
		ev := chatEvent(fmt.Sprintf("org#app_%s%d", prefix, len(out)), rng)
		out = append(out, withCursor(ev, mustAppend(t, l, ev)))
		if _, dict, _ := storedDict(t, l, out[len(out)-1].Cursor); dict == want {
			return out
		}
	}
	t.Fatalf("%d events appended, none stored with learned dictionary %d (Append uses %d)", len(out), want, eventlog.LearnedDict(l))
	return nil
}

// A log that compresses each event learns a dictionary from the events it
// appends, stores it, and compresses what follows with it, in fewer bytes
// than with the built-in dictionary. Every event, before and after, reads
// back by Get, List and Follow, and after a reopen under another setting.
func TestLearnedDictionary(t *testing.T) {
	cfg := embedded(t)
	cfg.Logger = quiet
	eventlog.SetDictLearning(t, 1, eventlog.DictSampleBytes, time.Hour)
	l, err := eventlog.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	events := appendUntilDict(t, l, "a", rng, 1)
	for i := range 200 {
		ev := chatEvent(fmt.Sprintf("org#app_b%d", i), rng)
		events = append(events, withCursor(ev, mustAppend(t, l, ev)))
	}

	var sizes [3]struct{ n, bytes int }
	for _, ev := range events {
		format, dict, size := storedDict(t, l, ev.Cursor)
		switch {
		case format == eventlog.FormatS2Dict1:
			sizes[0].n, sizes[0].bytes = sizes[0].n+1, sizes[0].bytes+size
		case dict == 1:
			sizes[1].n, sizes[1].bytes = sizes[1].n+1, sizes[1].bytes+size
		default:
			sizes[2].n++
			t.Errorf("event %d stored as format 0x%02x, dictionary %d", ev.Cursor, format, dict)
		}
	}
	if sizes[0].n == 0 || sizes[1].n < 200 {
		t.Fatalf("%d events with the built-in dictionary, %d with the learned one: want some, and every one after it", sizes[0].n, sizes[1].n)
	}
	builtIn, learned := float64(sizes[0].bytes)/float64(sizes[0].n), float64(sizes[1].bytes)/float64(sizes[1].n)
	t.Logf("bytes per event: %.0f with the built-in dictionary, %.0f with the learned one", builtIn, learned)
	if learned > 0.9*builtIn {
		t.Errorf("%.0f bytes per event with the learned dictionary, want at most 0.9× the built-in one's %.0f", learned, builtIn)
	}

	readAll := func(l *eventlog.Log, what string) {
		t.Helper()
		for _, want := range events {
			got, err := l.Get(t.Context(), want.Cursor)
			if err != nil {
				t.Fatalf("%s: Get %d: %v", what, want.Cursor, err)
			}
			checkEvent(t, got, want)
		}
		checkCursors(t, listAll(t, l, eventlog.Query{Limit: 100, OldestFirst: true}), events)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		fl, err := l.Follow(ctx, eventlog.Filter{}, eventlog.Start{Earliest: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range events {
			it := nextEvent(t, fl.Next)
			got, err := it.Event(true)
			if err != nil {
				t.Fatalf("%s: Follow %d: %v", what, it.Cursor, err)
			}
			checkEvent(t, got, want)
		}
	}
	readAll(l, "learned")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.Compression = eventlog.CompressionS2
	l = openLog(t, cfg)
	readAll(l, "reopened with s2")
	if got := eventlog.LearnedDict(l); got != 0 {
		t.Errorf("a log that does not compress each event compresses with learned dictionary %d", got)
	}
}

// A log opened on a log with learned dictionaries compresses with the
// newest at once, and learns the next when it is due; events written with
// every one of them, more than a process keeps in memory, stay readable.
func TestDictionaryRelearned(t *testing.T) {
	cfg := embedded(t)
	cfg.Logger = quiet
	eventlog.SetDictLearning(t, 1, 4<<10, time.Hour)
	l, err := eventlog.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	events := appendUntilDict(t, l, "a", rng, 1)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	l, err = eventlog.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := eventlog.LearnedDict(l); got != 1 {
		t.Fatalf("reopened: Append compresses with learned dictionary %d, want the stored 1", got)
	}
	ev := chatEvent("org#app_reopened", rng)
	events = append(events, withCursor(ev, mustAppend(t, l, ev)))
	if _, dict, _ := storedDict(t, l, events[len(events)-1].Cursor); dict != 1 {
		t.Fatalf("the first event after a reopen is stored with dictionary %d, want 1", dict)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	// The next is due at once: each one learned is due for replacing.
	eventlog.SetDictLearning(t, 1, 4<<10, 0)
	l, err = eventlog.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	const dicts = 20 // more than a process keeps in memory
	for n := uint64(2); n <= dicts; n++ {
		events = append(events, appendUntilDict(t, l, fmt.Sprintf("d%d_", n), rng, n)...)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.Compression = eventlog.CompressionNone
	l = openLog(t, cfg)
	seen := map[uint64]bool{}
	for _, want := range events {
		got, err := l.Get(t.Context(), want.Cursor)
		if err != nil {
			t.Fatalf("Get %d: %v", want.Cursor, err)
		}
		checkEvent(t, got, want)
		_, dict, _ := storedDict(t, l, want.Cursor)
		seen[dict] = true
	}
	for n := uint64(1); n <= dicts; n++ {
		if !seen[n] {
			t.Errorf("no event stored with dictionary %d", n)
		}
	}
	if n := eventlog.CachedDicts(l); n > 16 {
		t.Errorf("%d dictionaries kept in memory after reading %d, want at most 16", n, dicts)
	}
}

// Processes on one cluster share their dictionaries: each reads what the
// other wrote, and they number them without a gap or a clash.
func TestDictionariesShared(t *testing.T) {
	eventlog.SetDictLearning(t, 1, 4<<10, time.Hour)
	s := startServer(t)
	cfg := func() eventlog.Config {
		return eventlog.Config{NATSURL: s.ClientURL(), DataDir: t.TempDir(), Compression: eventlog.CompressionEvent}
	}
	a, b := openLog(t, cfg()), openLog(t, cfg())
	rng := rand.New(rand.NewPCG(5, 6))
	var events []*imbridgev1.Event
	start := time.Now()
	for i := 0; eventlog.LearnedDict(a) == 0 || eventlog.LearnedDict(b) == 0; i++ {
		if learnBound(start, i) {
			t.Fatalf("%d events appended to each; dictionaries in use: %d and %d", i, eventlog.LearnedDict(a), eventlog.LearnedDict(b))
		}
		for _, l := range []*eventlog.Log{a, b} {
			ev := chatEvent(fmt.Sprintf("org#app_%p_%d", l, i), rng)
			events = append(events, withCursor(ev, mustAppend(t, l, ev)))
		}
	}
	if da, db := eventlog.LearnedDict(a), eventlog.LearnedDict(b); da != 1 || db != 1 {
		t.Errorf("dictionaries in use: %d and %d, want both the first stored", da, db)
	}
	for _, l := range []*eventlog.Log{a, b} {
		readBack(t, l, events...)
	}
	withRawJS(t, s.ClientURL(), func(js jetstream.JetStream) {
		kv, err := js.KeyValue(t.Context(), eventlog.DictBucket)
		if err != nil {
			t.Fatal(err)
		}
		keys, err := kv.Keys(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(keys) != "[1]" {
			t.Errorf("bucket %s holds %v, want [1]", eventlog.DictBucket, keys)
		}
	})
}

// readBack checks that every one of events reads back from l by Get.
func readBack(t *testing.T, l *eventlog.Log, events ...*imbridgev1.Event) {
	t.Helper()
	for _, want := range events {
		got, err := l.Get(t.Context(), want.Cursor)
		if err != nil {
			t.Fatalf("Get %d: %v", want.Cursor, err)
		}
		checkEvent(t, got, want)
	}
}

// pruneDicts prunes l's dictionaries and checks the ones left.
func pruneDicts(t *testing.T, l *eventlog.Log, want string) {
	t.Helper()
	if _, err := eventlog.PruneDicts(t.Context(), l); err != nil {
		t.Fatalf("prune: %v", err)
	}
	keys, err := eventlog.StoredDicts(t.Context(), l)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(keys); got != want {
		t.Errorf("dictionaries stored after pruning: %s, want %s", got, want)
	}
}

// A dictionary holds pieces of the events it was learned from, so it
// goes some time after them. Append stops compressing with one once it is
// too old, and one is deleted once it was stored more than the keeping
// time before the log's oldest event. The newest stays even then.
func TestDictionariesPruned(t *testing.T) {
	cfg := embedded(t)
	eventlog.SetDictLearning(t, 1, 4<<10, 0) // each one learned is due for replacing
	l := openLog(t, cfg)
	rng := rand.New(rand.NewPCG(9, 10))
	// The first event written with dictionary 1 was stored after it and
	// before dictionary 2: the sample of 2 holds the events after it.
	first1 := appendUntilDict(t, l, "d1_", rng, 1)
	first1Cursor := first1[len(first1)-1].Cursor
	appendUntilDict(t, l, "d2_", rng, 2)
	appendUntilDict(t, l, "d3_", rng, 3)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopened learning nothing, every dictionary too old to use, and
	// kept an hour past the events.
	eventlog.SetDictLearning(t, 1, 4<<10, time.Hour)
	eventlog.SetDictLifetime(t, time.Nanosecond, time.Hour)
	l = openLog(t, cfg)
	ev := chatEvent("org#app_last", rng)
	last := withCursor(ev, mustAppend(t, l, ev))
	if format, _, _ := storedDict(t, l, last.Cursor); format != eventlog.FormatS2Dict1 {
		t.Fatalf("appended with every learned dictionary too old: format 0x%02x, want the built-in dictionary's 0x%02x", format, eventlog.FormatS2Dict1)
	}
	if err := eventlog.DropBefore(t.Context(), l, first1Cursor); err != nil {
		t.Fatal(err)
	}
	pruneDicts(t, l, "[1 2 3]") // dictionary 1 is older than the oldest event, but not by an hour
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	// Kept no time past the events: the stored times decide. (An unsafe
	// setting: dictionary 1 is gone although the oldest event uses it.)
	eventlog.SetDictLifetime(t, time.Nanosecond, 0)
	l = openLog(t, cfg)
	pruneDicts(t, l, "[2 3]")
	if err := eventlog.DropBefore(t.Context(), l, last.Cursor); err != nil {
		t.Fatal(err)
	}
	pruneDicts(t, l, "[3]")
	readBack(t, l, last)
}

// A process still using an old dictionary, whose next number another
// process stored and then deleted, does not store that number again:
// readers that met the deleted one keep it in memory by its number. It
// uses the newest instead.
func TestDictionaryNumberNeverReused(t *testing.T) {
	s := startServer(t)
	cfg := func() eventlog.Config {
		return eventlog.Config{NATSURL: s.ClientURL(), DataDir: t.TempDir(), Compression: eventlog.CompressionEvent}
	}
	eventlog.SetDictLifetime(t, time.Hour, 0)
	eventlog.SetDictLearning(t, 1, 4<<10, time.Hour)
	a := openLog(t, cfg())
	rng := rand.New(rand.NewPCG(11, 12))
	appendUntilDict(t, a, "a", rng, 1)

	eventlog.SetDictLearning(t, 1, 4<<10, 0) // b learns one after the other
	b := openLog(t, cfg())
	appendUntilDict(t, b, "b2_", rng, 2)
	first3 := appendUntilDict(t, b, "b3_", rng, 3)
	if err := eventlog.DropBefore(t.Context(), b, first3[len(first3)-1].Cursor); err != nil {
		t.Fatal(err)
	}
	pruneDicts(t, b, "[3]")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	// a, still on 1, learns its next.
	eventlog.SampleNow(a)
	var appended []*imbridgev1.Event
	for start := time.Now(); eventlog.LearnedDict(a) == 1; {
		if learnBound(start, len(appended)) {
			t.Fatalf("%d events appended; a still uses dictionary 1", len(appended))
		}
		ev := chatEvent(fmt.Sprintf("org#app_a_next%d", len(appended)), rng)
		appended = append(appended, withCursor(ev, mustAppend(t, a, ev)))
	}
	if got := eventlog.LearnedDict(a); got < 3 {
		t.Fatalf("a uses dictionary %d, a number stored and deleted before; want 3 or later", got)
	}
	readBack(t, a, appended...)
}

// An event whose dictionary is gone from the bucket is corrupt, named by
// its cursor and the dictionary; the events around it still read.
func TestMissingDictionary(t *testing.T) {
	cfg := embedded(t)
	cfg.ListenAddr = "127.0.0.1:-1"
	eventlog.SetDictLearning(t, 1, 4<<10, time.Hour)
	l, err := eventlog.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	events := appendUntilDict(t, l, "a", rand.New(rand.NewPCG(7, 8)), 1)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.Compression = eventlog.CompressionS2
	l = openLog(t, cfg)
	withRawJS(t, l.ClientURL(), func(js jetstream.JetStream) {
		kv, err := js.KeyValue(t.Context(), eventlog.DictBucket)
		if err == nil {
			err = kv.Purge(t.Context(), "1")
		}
		if err != nil {
			t.Fatal(err)
		}
	})
	last := events[len(events)-1]
	_, err = l.Get(t.Context(), last.Cursor)
	if want := fmt.Sprintf("learned dictionary 1 is not in bucket %s (cursor %d)", eventlog.DictBucket, last.Cursor); !errors.Is(err, eventlog.ErrCorrupt) || !strings.Contains(fmt.Sprint(err), want) {
		t.Errorf("Get of an event whose dictionary is gone: %v, want ErrCorrupt naming %q", err, want)
	}
	got, err := l.Get(t.Context(), events[0].Cursor)
	if err != nil {
		t.Fatalf("an event of the built-in dictionary: %v", err)
	}
	checkEvent(t, got, events[0])
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, _, err := l.List(ctx, eventlog.Query{Limit: min(len(events), 100), OldestFirst: true}); !errors.Is(err, eventlog.ErrCorrupt) {
		t.Errorf("List over it: %v, want ErrCorrupt", err)
	}
}

// A stored dictionary is not used before the servers have surely written
// it to disk (a sync interval later, or at once when every write is
// synced): a power loss must not keep events and lose their dictionary.
func TestDictionaryUsedOnceOnDisk(t *testing.T) {
	cfg := embedded(t)
	cfg.Logger = quiet
	eventlog.SetDictLearning(t, 1, 4<<10, time.Hour)
	eventlog.SetDictSyncWait(t, time.Hour)
	l, err := eventlog.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 10))
	var events []*imbridgev1.Event
	appendSome := func(n int) {
		for range n {
			ev := chatEvent(fmt.Sprintf("org#app_w%d", len(events)), rng)
			events = append(events, withCursor(ev, mustAppend(t, l, ev)))
		}
	}
	appendSome(50) // 4 KiB of events: a sample
	checkFor(t, time.Minute, 10*time.Millisecond, func() error {
		if keys, err := eventlog.StoredDicts(t.Context(), l); err != nil || fmt.Sprint(keys) != "[1]" {
			return fmt.Errorf("dictionaries stored: %v (%v), want [1]", keys, err)
		}
		return nil
	})
	appendSome(20)
	for _, ev := range events {
		if format, _, _ := storedDict(t, l, ev.Cursor); format == eventlog.FormatS2Learned {
			t.Fatalf("event %d uses the learned dictionary before its sync wait", ev.Cursor)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	// Synced writes: in use at once.
	cfg.SyncAlways = true
	l = openLog(t, cfg)
	if got := eventlog.LearnedDict(l); got != 1 {
		t.Fatalf("with every write synced, Append uses dictionary %d, want 1", got)
	}
	appendSome(1)
	if _, dict, _ := storedDict(t, l, events[len(events)-1].Cursor); dict != 1 {
		t.Errorf("with every write synced, an event is stored with dictionary %d, want 1", dict)
	}
}

// A learned dictionary comes into use by itself once its sync wait is
// over.
func TestDictionaryUsedAfterSyncWait(t *testing.T) {
	cfg := embedded(t)
	eventlog.SetDictLearning(t, 1, 4<<10, time.Hour)
	eventlog.SetDictSyncWait(t, 300*time.Millisecond)
	l := openLog(t, cfg)
	rng := rand.New(rand.NewPCG(11, 12))
	for i := range 50 { // 4 KiB of events: a sample
		mustAppend(t, l, chatEvent(fmt.Sprintf("org#app_s%d", i), rng))
	}
	checkFor(t, time.Minute, 10*time.Millisecond, func() error {
		if got := eventlog.LearnedDict(l); got != 1 {
			return fmt.Errorf("Append uses dictionary %d, want 1", got)
		}
		return nil
	})
	appendUntilDict(t, l, "t", rng, 1)
}
