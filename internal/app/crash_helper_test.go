//go:build unix

package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imbridge/imbridge/internal/app"
	"github.com/imbridge/imbridge/internal/config"
	"github.com/imbridge/imbridge/internal/testwait"
)

// crashChildEnv, set, makes TestCrashChild run imbridge from the control
// directory it names instead of skipping.
const crashChildEnv = "IMBRIDGE_CRASH_CHILD"

// The control directory: the parent writes the configuration, the child
// its addresses once it listens.
const (
	crashConfigFile = "config.json"
	crashAddrsFile  = "addrs.json"
)

// crashAddrs is where a child imbridge listens.
type crashAddrs struct {
	GRPC string `json:"grpc"`
	HTTP string `json:"http"`
	PID  int    `json:"pid"`
}

// TestCrashChild is not a test: run as a child by TestCrashLosesNoCallback,
// it runs imbridge from the configuration in $IMBRIDGE_CRASH_CHILD, writes
// its addresses there, and serves until it is killed or its stdin closes
// (then it shuts down cleanly). It never returns.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("child process of TestCrashLosesNoCallback")
	}
	os.Exit(crashChildMain(dir))
}

func crashChildMain(dir string) int {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	b, err := os.ReadFile(filepath.Join(dir, crashConfigFile))
	if err != nil {
		log.Error("crash child: read config", "err", err)
		return 2
	}
	var cfg config.Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		log.Error("crash child: decode config", "err", err)
		return 2
	}
	a, err := app.New(cfg, log)
	if err != nil {
		log.Error("crash child: app.New", "err", err)
		return 2
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The parent closes stdin to stop us cleanly; if the parent dies, so
	// does the pipe, and we do not outlive it.
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	addrs, _ := json.Marshal(crashAddrs{GRPC: a.GRPCAddr().String(), HTTP: a.HTTPAddr().String(), PID: os.Getpid()})
	tmp := filepath.Join(dir, crashAddrsFile+".tmp")
	if err := os.WriteFile(tmp, addrs, 0o600); err != nil {
		log.Error("crash child: write addresses", "err", err)
		return 2
	}
	if err := os.Rename(tmp, filepath.Join(dir, crashAddrsFile)); err != nil {
		log.Error("crash child: write addresses", "err", err)
		return 2
	}
	if err := a.Run(ctx); err != nil {
		log.Error("crash child: Run", "err", err)
		return 1
	}
	return 0
}

// crashChild is one imbridge process started by the parent.
type crashChild struct {
	n      int // 1 for the first process, 2 for the next…
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	logs   string        // its stdout and stderr
	exited chan struct{} // closed once Wait returned
	err    error         // Wait's result, once exited is closed
	addrs  crashAddrs
}

// crashStartChild starts imbridge as a child process on ctl's
// configuration and waits, in a bounded poll, until it answers /healthz.
// t.Cleanup kills it if the test leaves it running.
func crashStartChild(t *testing.T, ctl string, n int, client *http.Client) *crashChild {
	t.Helper()
	addrsPath := filepath.Join(ctl, crashAddrsFile)
	if err := os.Remove(addrsPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	c := &crashChild{n: n, logs: filepath.Join(ctl, fmt.Sprintf("child-%03d.log", n)), exited: make(chan struct{})}
	logFile, err := os.Create(c.logs)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close() // the child has its own copy
	// -test.timeout: should both the stdin pipe and the parent's cleanup
	// fail, the child still ends on its own.
	c.cmd = exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.timeout=10m")
	c.cmd.Env = append(os.Environ(), crashChildEnv+"="+ctl)
	c.cmd.Stdout, c.cmd.Stderr = logFile, logFile
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start child %d: %v", n, err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(c.kill)

	crashPoll(t, 2*time.Minute, func() string {
		return fmt.Sprintf("child %d to listen and answer /healthz; its log ends:\n%s", n, crashTail(c.logs, 30))
	}, func() bool {
		if c.hasExited() {
			t.Fatalf("child %d exited before it was ready: %v; its log ends:\n%s", n, c.err, crashTail(c.logs, 30))
		}
		if c.addrs.HTTP == "" {
			b, err := os.ReadFile(addrsPath)
			if err != nil || json.Unmarshal(b, &c.addrs) != nil {
				return false
			}
			if c.addrs.PID != c.cmd.Process.Pid {
				t.Fatalf("child %d: addresses written by pid %d, want %d", n, c.addrs.PID, c.cmd.Process.Pid)
			}
		}
		return crashHealthy(client, c.addrs.HTTP)
	})
	return c
}

func crashHealthy(client *http.Client, httpAddr string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+httpAddr+"/healthz", nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (c *crashChild) hasExited() bool {
	select {
	case <-c.exited:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL (no shutdown, no lock release, no flush) and waits for
// the process to be gone. Killing a child that already exited does nothing.
func (c *crashChild) kill() {
	if !c.hasExited() {
		_ = c.cmd.Process.Kill()
	}
	<-c.exited
}

// stop closes the child's stdin, which shuts it down cleanly, and waits
// for it in a bounded poll.
func (c *crashChild) stop(t *testing.T) {
	t.Helper()
	_ = c.stdin.Close()
	crashPoll(t, 2*time.Minute, func() string {
		return fmt.Sprintf("child %d to shut down after its stdin closed; its log ends:\n%s", c.n, crashTail(c.logs, 30))
	}, c.hasExited)
}

// checkLog fails the test if the child's log shows a data race or a panic:
// a killed child never reaches the exit status that would report them.
func (c *crashChild) checkLog(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(c.logs)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"WARNING: DATA RACE", "panic: ", "fatal error: "} {
		if i := strings.Index(string(b), bad); i >= 0 {
			t.Errorf("child %d logged %q:\n%s", c.n, bad, string(b[i:min(len(b), i+4000)]))
		}
	}
}

// crashTarget is the imbridge that is up now, if any. Senders and the
// subscriber wait on it while the process is down.
type crashTarget struct {
	mu    sync.Mutex
	addrs *crashAddrs
	up    chan struct{} // closed while addrs is set
}

func newCrashTarget() *crashTarget { return &crashTarget{up: make(chan struct{})} }

func (g *crashTarget) set(a crashAddrs) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.addrs = &a
	close(g.up)
}

// down is called before a kill: new requests wait for the next process.
func (g *crashTarget) down() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.addrs != nil {
		g.addrs = nil
		g.up = make(chan struct{})
	}
}

// get returns the addresses of the process that is up, waiting for one
// until ctx ends.
func (g *crashTarget) get(ctx context.Context) (crashAddrs, error) {
	for {
		g.mu.Lock()
		a, up := g.addrs, g.up
		g.mu.Unlock()
		if a != nil {
			return *a, nil
		}
		select {
		case <-up:
		case <-ctx.Done():
			return crashAddrs{}, ctx.Err()
		}
	}
}

// crashPoll calls cond until it holds, and fails the test naming what it
// waited for when it does not within limit: a bound far above what any
// wait takes, even on a busy machine under -race, so only a hang trips it.
func crashPoll(t *testing.T, limit time.Duration, what func() string, cond func() bool) {
	t.Helper()
	testwait.For(t, limit, 5*time.Millisecond, func() error {
		if cond() {
			return nil
		}
		return errors.New(what())
	})
}

// crashSleep waits d or until ctx ends: a retry's backoff.
func crashSleep(ctx context.Context, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}

// crashTail is the last n lines of a file.
func crashTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
