package eventlog

import (
	"errors"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// A commit that fails while the feeder adds a range it read drops the
// batch: the feeder must stop there and read the range again, and never
// move its checkpoint past events that are not in the index (a
// redelivery of one of them would be stored twice).
func TestDroppedBatchIsReadAgain(t *testing.T) {
	dir := t.TempDir()
	x, _, err := openIndex(filepath.Join(dir, "index"), 0, "epoch", 1<<20, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = x.close() })
	// The batches of a read-only database fail to commit: the feeder's
	// first commit, at 2*indexBatch entries, fails as an I/O error would.
	roDir := filepath.Join(dir, "read-only")
	db, err := pebble.Open(roDir, &pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := pebble.Open(roDir, &pebble.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ro.Close() })

	n := uint64(2*indexBatch + 10)
	r := readResult{end: n, complete: true}
	now := time.Now()
	for c := uint64(1); c <= n; c++ {
		r.got = append(r.got, ownAppend{c, "id" + strconv.FormatUint(c, 10), now, 0})
	}
	x.feedMu.Lock()
	x.batch = ro.NewBatch()
	err = x.addRangeLocked(&r)
	from, readTo := x.batchEnd+1, x.readTo
	x.feedMu.Unlock()
	if !errors.Is(err, errBatchDropped) {
		t.Fatalf("adding a range whose commit fails: %v, want errBatchDropped", err)
	}
	if from != 1 || readTo < n {
		t.Fatalf("after the drop the feeder reads from %d up to %d, want from 1 up to at least %d", from, readTo, n)
	}

	// The next tick reads the range again, and commits.
	x.feedMu.Lock()
	err = x.addRangeLocked(&r)
	x.commitLocked()
	indexed := x.indexed
	x.feedMu.Unlock()
	if err != nil || indexed != n {
		t.Fatalf("reading the range again: %v, checkpoint %d, want nil and %d", err, indexed, n)
	}
	for c := uint64(1); c <= n; c++ {
		if got, _, err := x.lookup("id" + strconv.FormatUint(c, 10)); err != nil || got != c {
			t.Fatalf("lookup of the event at %d: %d, %v", c, got, err)
		}
	}
}

// Once the feeder found that the log lost events it recorded, nothing it
// still holds may be committed, not even by close: that would overwrite
// the mark that makes the next Open rebuild the index.
func TestCloseKeepsTheLostMark(t *testing.T) {
	dir := t.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	x, _, err := openIndex(dir, 0, "epoch", 0, quiet)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	x.feedMu.Lock()
	for c := uint64(1); c <= 10; c++ {
		x.addLocked(ownAppend{c, "id" + strconv.FormatUint(c, 10), now, 0})
	}
	x.commitLocked()
	x.markLostLocked()
	x.feedMu.Unlock()
	// An acknowledgement handed over just before the feeder stopped,
	// which close takes.
	x.appended = append(x.appended, ownAppend{11, "id11", now, 0})
	x.takeAppended()
	if err := x.close(); err != nil {
		t.Fatal(err)
	}
	// The log has grown back past the old checkpoint by the restart.
	y, checkpoint, err := openIndex(dir, 0, "epoch", 20, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = y.close() }()
	if checkpoint != 0 {
		t.Fatalf("reopened at checkpoint %d after the log lost events, want 0 (rebuilt)", checkpoint)
	}
}

// A duplicate window reaches back as far as the server surely remembers:
// a raise fills as time passes, from what the old window reached; a lower
// forgets at once.
func TestDupWindowReach(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	w := newDupWindow(20 * time.Second)
	for _, step := range []struct {
		at      time.Duration // after t0
		observe time.Duration // the stream's window seen then; 0: none
		want    time.Duration
	}{
		{0, 0, 20 * time.Second},
		{0, 3 * time.Minute, 20 * time.Second},                           // raised
		{time.Minute, 0, 80 * time.Second},                               // filling
		{3 * time.Minute, 0, 3 * time.Minute},                            // full
		{3 * time.Minute, 30 * time.Second, 30 * time.Second},            // lowered: at once
		{3*time.Minute + time.Second, 2 * time.Minute, 30 * time.Second}, // raised again
		{3*time.Minute + 61*time.Second, 0, 90 * time.Second},
		{time.Hour, 0, 2 * time.Minute},
	} {
		now := t0.Add(step.at)
		if step.observe != 0 {
			w.set(step.observe, now)
		}
		if got := w.reach(now); got != step.want {
			t.Errorf("at +%v (seen %v): reach %v, want %v", step.at, step.observe, got, step.want)
		}
	}
}
