//go:build unix

// Package datadir guards imbridge's data directory: one process at a time.
//
// The embedded NATS server keeps its JetStream store (stream blocks, index
// files, the KV buckets) in the data directory, and every imbridge process,
// embedded or on an external cluster, keeps its call id index there (a
// Pebble store, which locks it too); each assumes it is the only writer.
// Two servers on one store directory do not notice each other: each hands
// out the same sequence numbers (cursors) for different callbacks, and each
// overwrites the other's index and block files, so acknowledged events
// disappear after a restart. Lock stops the second process before it starts
// its server, with an error that names the process holding the directory.
//
// The lock is an advisory flock(2) on [FileName] in the directory. The kernel
// drops it when the holder's process ends however it ends (crash and kill -9
// included), so a stale lock file never blocks a restart. flock does not
// guard a directory shared over NFS between machines; the holder's host name
// in the file says where the other process runs.
//
// Lock also checks first that the directory exists (creating it), is a
// directory and is writable, so a bad data_dir fails at once with its real
// cause rather than later as an embedded server that never becomes ready.
package datadir

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// FileName is the lock file inside the data directory.
const FileName = "imbridge.lock"

// Holder describes the process that holds a data directory. It is written
// into the lock file as one JSON object on one line, for example
//
//	{"pid":1234,"host":"h","since":"2026-11-22T19:00:00Z"}
//
// and read back only to name the holder in [InUseError].
type Holder struct {
	// PID is the holder's process id (on Host).
	PID int `json:"pid"`
	// Host is the holder's host name.
	Host string `json:"host"`
	// Since is when the holder took the lock (RFC 3339, UTC, seconds).
	Since time.Time `json:"since"`
}

func (h Holder) String() string {
	return fmt.Sprintf("pid %d on host %s, since %s", h.PID, h.Host, h.Since.Format(time.RFC3339))
}

// InUseError is returned by [Lock] when another process holds the directory.
type InUseError struct {
	// Dir is the data directory as passed to Lock.
	Dir string
	// Holder is read from the lock file; nil when it could not be read.
	Holder *Holder
}

func (e *InUseError) Error() string {
	who := "holder unknown: " + FileName + " has no readable description"
	if e.Holder != nil {
		who = e.Holder.String()
	}
	return fmt.Sprintf("data_dir %q is in use by another imbridge (%s); stop it or choose another data_dir", e.Dir, who)
}

// Held is a data directory locked by [Lock].
type Held struct {
	dir string
	mu  sync.Mutex
	f   *os.File // nil once released
}

// Lock creates dir if missing (mode 0o750, parents too), checks that it is a
// writable directory, and locks it for the life of the process, or until
// Release. Every error names dir and the real cause; when another process
// holds the directory the error is an [*InUseError] naming it. Lock does not
// wait.
func Lock(dir string) (*Held, error) {
	if dir == "" {
		return nil, errors.New("data_dir is empty")
	}
	if err := prepare(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("data_dir %q: lock file: %w", dir, err)
	}
	if err := flock(f, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, &InUseError{Dir: dir, Holder: readHolder(f)}
		}
		return nil, fmt.Errorf("data_dir %q: lock %s: %w", dir, path, err)
	}
	if err := writeHolder(f); err != nil {
		_ = f.Close() // also drops the lock
		return nil, fmt.Errorf("data_dir %q: write %s: %w", dir, path, err)
	}
	return &Held{dir: dir, f: f}, nil
}

// Dir is the locked directory, as passed to Lock.
func (l *Held) Dir() string { return l.dir }

// Release unlocks the directory. It is safe to call more than once (later
// calls return nil) and on a nil Held.
//
// The lock file stays: deleting it would race with the next holder. A
// process that opened the file just before the unlink would lock the
// deleted inode while a third process creates and locks a new file under
// the same name, and both would then believe they hold the directory. The
// stale description inside is harmless: it is read only while some process
// holds the lock, and every holder rewrites it first.
func (l *Held) Release() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := flock(l.f, unix.LOCK_UN)
	if cerr := l.f.Close(); err == nil {
		err = cerr // closing drops the lock even when LOCK_UN failed
	}
	l.f = nil
	if err != nil {
		return fmt.Errorf("data_dir %q: release: %w", l.dir, err)
	}
	return nil
}

// prepare creates dir if needed and checks that it is a writable directory.
func prepare(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o750); err != nil {
			if parent := fileAncestor(dir); parent != "" {
				return fmt.Errorf("data_dir %q: %q is not a directory", dir, parent)
			}
			return fmt.Errorf("data_dir %q: cannot create: %w", dir, err)
		}
	case errors.Is(err, unix.ENOTDIR):
		// Stat fails this way when a parent is a file.
		if parent := fileAncestor(dir); parent != "" {
			return fmt.Errorf("data_dir %q: %q is not a directory", dir, parent)
		}
		return fmt.Errorf("data_dir %q: %w", dir, err)
	case err != nil:
		return fmt.Errorf("data_dir %q: %w", dir, err)
	case !fi.IsDir():
		return fmt.Errorf("data_dir %q: not a directory", dir)
	}
	probe, err := os.CreateTemp(dir, ".imbridge-write-probe-*")
	if err != nil {
		return fmt.Errorf("data_dir %q: cannot write: %w", dir, err)
	}
	name := probe.Name()
	err = probe.Close()
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("data_dir %q: cannot write: %w", dir, err)
	}
	return nil
}

// fileAncestor returns the nearest existing ancestor of dir that is not a
// directory, or "" when there is none.
func fileAncestor(dir string) string {
	for p := filepath.Dir(filepath.Clean(dir)); ; p = filepath.Dir(p) {
		if fi, err := os.Stat(p); err == nil {
			if !fi.IsDir() {
				return p
			}
			return "" // the nearest existing ancestor is a directory
		}
		if next := filepath.Dir(p); next == p {
			return ""
		}
	}
}

func flock(f *os.File, how int) error {
	conn, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := conn.Control(func(fd uintptr) {
		for {
			ferr = unix.Flock(int(fd), how)
			if !errors.Is(ferr, unix.EINTR) {
				return
			}
		}
	}); err != nil {
		return err
	}
	return ferr
}

// writeHolder describes this process in the locked file. The new text is
// written over the old before the file is cut to length, so a reader never
// sees an empty file, only possibly a stale tail after the first line,
// which readHolder ignores.
func writeHolder(f *os.File) error {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	b, err := json.Marshal(Holder{PID: os.Getpid(), Host: host, Since: time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if _, err := f.WriteAt(b, 0); err != nil {
		return err
	}
	return f.Truncate(int64(len(b)))
}

// readHolder reads the holder's description; nil when it cannot.
func readHolder(f *os.File) *Holder {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil
	}
	var h Holder
	if err := json.NewDecoder(f).Decode(&h); err != nil || h.PID == 0 {
		return nil
	}
	return &h
}
