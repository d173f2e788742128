//go:build unix

package datadir_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/imbridge/imbridge/internal/datadir"
)

const helperEnv = "IMBRIDGE_DATADIR_HELPER_DIR"

// TestHelperProcess is not a test: run as a child by lockInChild, it locks
// the directory named in $IMBRIDGE_DATADIR_HELPER_DIR, prints "locked", and
// holds the lock until its stdin closes.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		t.Skip("helper process for TestLockHeldByAnotherProcess")
	}
	l, err := datadir.Lock(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Println("locked")
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = l.Release()
	os.Exit(0)
}

func TestLockExcludesSecondLock(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first, err := datadir.Lock(dir)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	before := time.Now().UTC().Truncate(time.Second)
	_, err = datadir.Lock(dir)
	var inUse *datadir.InUseError
	if !errors.As(err, &inUse) || inUse.Holder == nil || inUse.Holder.PID != os.Getpid() {
		t.Fatalf("second Lock = %v, want an InUseError naming pid %d", err, os.Getpid())
	}
	host, _ := os.Hostname()
	if h := inUse.Holder; h.Host != host || h.Since.After(before) || time.Since(h.Since) > time.Hour {
		t.Errorf("holder %+v, want host %q and a start time just before now", h, host)
	}
	msg := err.Error()
	for _, want := range []string{
		fmt.Sprintf("data_dir %q is in use by another imbridge (pid %d on host %s, since ", dir, os.Getpid(), host),
		"stop it or choose another data_dir",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}

	if err := first.Release(); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if err := first.Release(); err != nil {
		t.Errorf("second Release = %v, want nil", err)
	}
	again, err := datadir.Lock(dir)
	if err != nil {
		t.Fatalf("Lock after Release: %v", err)
	}
	defer again.Release()
	// The file stays, describing the new holder in one JSON line.
	b, err := os.ReadFile(filepath.Join(dir, datadir.FileName))
	if err != nil {
		t.Fatal(err)
	}
	var h datadir.Holder
	if err := json.Unmarshal(b, &h); err != nil || h.PID != os.Getpid() || !strings.HasSuffix(string(b), "}\n") || strings.Count(string(b), "\n") != 1 {
		t.Errorf("lock file holds %q (%v), want one JSON line naming pid %d", b, err, os.Getpid())
	}
}

func TestLockCreatesMissingDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "a", "b")
	l, err := datadir.Lock(dir)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	defer l.Release()
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() || fi.Mode().Perm()&^0o750 != 0 {
		t.Fatalf("Lock left %v (%v), want a directory with mode at most 0750", fi, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != datadir.FileName {
		t.Errorf("directory holds %v, want only %s (the write probe is removed)", entries, datadir.FileName)
	}
}

func TestLockRejectsBadPaths(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, dir, want string
	}{
		{"regular file", file, fmt.Sprintf("data_dir %q: not a directory", file)},
		{"under a regular file", filepath.Join(file, "sub"), fmt.Sprintf("data_dir %q: %q is not a directory", filepath.Join(file, "sub"), file)},
		{"deeper under a regular file", filepath.Join(file, "a", "b"), fmt.Sprintf("data_dir %q: %q is not a directory", filepath.Join(file, "a", "b"), file)},
		{"empty", "", "data_dir is empty"},
	} {
		l, err := datadir.Lock(c.dir)
		if err == nil {
			_ = l.Release()
			t.Errorf("%s: Lock(%q) succeeded", c.name, c.dir)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("%s: Lock(%q) = %q, want %q", c.name, c.dir, err, c.want)
		}
	}
}

// A lock held in another process, even one killed without cleanup, is
// reported with that process's pid; once it is gone the lock is free again
// although its file remains.
func TestLockHeldByAnotherProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Bounded: the context kills the child after a minute, which ends the read.
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("helper process did not report \"locked\" within a minute: %q, %v", line, err)
	}

	_, err = datadir.Lock(dir)
	var inUse *datadir.InUseError
	if !errors.As(err, &inUse) || inUse.Holder == nil || inUse.Holder.PID != cmd.Process.Pid {
		t.Errorf("Lock while another process holds it = %v, want an InUseError naming pid %d", err, cmd.Process.Pid)
	} else if want := fmt.Sprintf("(pid %d on host ", cmd.Process.Pid); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q lacks %q", err, want)
	}

	// kill -9: no Release, the file stays, the kernel drops the lock.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	l, err := datadir.Lock(dir)
	if err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	_ = l.Release()
}

// A lock file that is locked but holds no description still stops Lock.
func TestLockHolderUnknown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, datadir.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	_, err = datadir.Lock(dir)
	var inUse *datadir.InUseError
	if !errors.As(err, &inUse) || inUse.Holder != nil || !strings.Contains(err.Error(), "is in use by another imbridge (holder unknown") {
		t.Errorf("Lock = %v, want an InUseError with the holder unknown", err)
	}
}

func TestLockUnwritableDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	if canCreate(dir) {
		// Root (CAP_DAC_OVERRIDE) writes despite the mode, as in CI. sysfs
		// refuses to create files even for root, with EACCES.
		dir = "/sys"
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() || canCreate(dir) {
			t.Skipf("this process writes into a mode 0500 directory (running as root?) and %s is not an unwritable directory here (%v): no directory to test with", dir, err)
		}
	}
	_, err := datadir.Lock(dir)
	if want := fmt.Sprintf("data_dir %q: cannot write: open %s%c", dir, dir, filepath.Separator); err == nil ||
		!strings.HasPrefix(err.Error(), want) || !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("Lock(%q) = %v, want a permission error beginning %q", dir, err, want)
	}
	if _, err := os.Stat(filepath.Join(dir, datadir.FileName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Lock left a lock file in an unwritable directory: %v", err)
	}
}

func canCreate(dir string) bool {
	f, err := os.CreateTemp(dir, "probe-*")
	if err != nil {
		return false
	}
	_ = f.Close()
	_ = os.Remove(f.Name())
	return true
}
