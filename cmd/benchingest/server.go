package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/imbridge/imbridge/internal/app"
	"github.com/imbridge/imbridge/internal/config"
	"github.com/imbridge/imbridge/internal/procstat"
)

// server is imbridge under test: in this process, or (-imbridge) a
// separate one, pinned to -server-cpus.
type server struct {
	base    string // http://host:port
	pprof   string // http://host:port of its profiler (-imbridge with -cpuprofile), or ""
	pid     int
	dataDir string
	stop    func() error // graceful: SIGTERM or context cancel, then wait
}

// startImbridge starts imbridge on dataDir, as o says, and waits until
// /healthz answers 200.
func startImbridge(o options, dataDir string) (*server, error) {
	if o.imbridge == "" {
		return startInProcess(o, dataDir)
	}
	httpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	grpcAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(filepath.Join(filepath.Dir(dataDir), "imbridge.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	var pprofAddr string
	if o.cpuprofile != "" {
		if pprofAddr, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	cmd := pinned(o.serverCPUs, o.imbridge, "serve")
	cmd.Env = append(os.Environ(),
		"IMBRIDGE_DATA_DIR="+dataDir,
		"IMBRIDGE_HTTP_ADDR="+httpAddr,
		"IMBRIDGE_GRPC_ADDR="+grpcAddr,
		"IMBRIDGE_API_KEYS="+apiKey,
		"IMBRIDGE_APP_KEY="+appkey,
		"IMBRIDGE_CALLBACK_SECRETS="+secret,
		"IMBRIDGE_SYNC_ALWAYS="+strconv.FormatBool(o.syncAlways),
		"IMBRIDGE_COMPRESSION="+o.compression,
		"IMBRIDGE_LOG_LEVEL=warn",
	)
	if pprofAddr != "" {
		cmd.Env = append(cmd.Env, "IMBRIDGE_PPROF_ADDR="+pprofAddr)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", o.imbridge, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); logf.Close() }()
	s := &server{base: "http://" + httpAddr, pid: cmd.Process.Pid, dataDir: dataDir}
	if pprofAddr != "" {
		s.pprof = "http://" + pprofAddr
	}
	s.stop = func() error {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			return err
		case <-time.After(time.Minute):
			_ = cmd.Process.Kill()
			return errors.New("imbridge did not stop within a minute of SIGTERM; killed")
		}
	}
	if err := waitReady(s.base+"/healthz", exited); err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("%w (log: %s)", err, logf.Name())
	}
	return s, nil
}

func startInProcess(o options, dataDir string) (*server, error) {
	cfg := config.Default()
	cfg.GRPCAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.DataDir = dataDir
	cfg.APIKeys = config.Keys(apiKey)
	cfg.Apps = []config.App{{Appkey: appkey, Secrets: []string{secret}}}
	cfg.EventLog.SyncAlways = o.syncAlways
	cfg.EventLog.Compression = o.compression
	a, err := app.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, fmt.Errorf("starting imbridge: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	s := &server{base: "http://" + a.HTTPAddr().String(), pid: os.Getpid(), dataDir: dataDir}
	s.stop = func() error { cancel(); return <-done }
	if err := waitReady(s.base+"/healthz", done); err != nil {
		_ = s.stop()
		return nil, err
	}
	return s, nil
}

// startBaseline starts the baseline server: in this process, or with
// -imbridge as this program in -serve-baseline mode, pinned like imbridge.
// It returns the baseline's URL, its process (0 when in this one) and how
// to stop it.
func startBaseline(o options) (url string, pid int, stop func(), err error) {
	if o.imbridge == "" {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", 0, nil, err
		}
		srv := &http.Server{Handler: http.HandlerFunc(baselineHandler), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
		go func() { _ = srv.Serve(lis) }()
		return "http://" + lis.Addr().String(), 0, func() { _ = srv.Close() }, nil
	}
	addr, err := freeAddr()
	if err != nil {
		return "", 0, nil, err
	}
	pid, stop, err = spawnSelf(o, addr, "-serve-baseline", addr)
	if err != nil {
		return "", 0, nil, fmt.Errorf("baseline: %w", err)
	}
	return "http://" + addr, pid, stop, nil
}

// spawnSelf runs this program with args as a server process pinned to
// -server-cpus, and waits until it accepts connections on addr (for at
// most a minute, or until it exits). It returns its pid and how to stop
// it.
func spawnSelf(o options, addr string, args ...string) (pid int, stop func(), err error) {
	self, err := os.Executable()
	if err != nil {
		return 0, nil, err
	}
	cmd := pinned(o.serverCPUs, self, args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return 0, nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	kill := func() { _ = cmd.Process.Kill(); <-exited }
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return cmd.Process.Pid, kill, nil
		}
		select {
		case werr := <-exited:
			return 0, nil, fmt.Errorf("%s exited before it listened: %v", args[0], werr)
		default:
		}
		if time.Now().After(deadline) {
			kill()
			return 0, nil, fmt.Errorf("%s not listening on %s after a minute: %w", args[0], addr, err)
		}
	}
}

// serveBaseline is the -serve-baseline mode: the baseline alone, until
// killed.
func serveBaseline(addr string) error {
	srv := &http.Server{Addr: addr, Handler: http.HandlerFunc(baselineHandler), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	return srv.ListenAndServe()
}

// baselineHandler does the HTTP work any webhook receiver must do: read the
// whole body under the same limit imbridge uses, answer 200 with a small
// JSON body.
func baselineHandler(w http.ResponseWriter, r *http.Request) {
	if _, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody)); err != nil {
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, `{"result":"ok"}`+"\n")
}

// pinned is the command name args, under `taskset -c cpus` when cpus is
// set.
func pinned(cpus, name string, args ...string) *exec.Cmd {
	if cpus == "" {
		return exec.Command(name, args...)
	}
	return exec.Command("taskset", append([]string{"-c", cpus, name}, args...)...)
}

// pinSelf pins every thread of this process (the generator) to cpus;
// threads started later inherit it.
func pinSelf(cpus string) error {
	out, err := exec.Command("taskset", "-a", "-p", "-c", cpus, strconv.Itoa(os.Getpid())).CombinedOutput()
	if err != nil {
		return fmt.Errorf("taskset -a -p -c %s: %v: %s", cpus, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr() (string, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer lis.Close()
	return lis.Addr().String(), nil
}

// waitReady polls url until it answers 200, for at most a minute, or
// until exited says the server is gone.
func waitReady(url string, exited <-chan error) error {
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		select {
		case werr := <-exited:
			return fmt.Errorf("server at %s exited before it was ready: %v", url, werr)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready at %s: %w", url, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// rssWatch samples a process's resident memory every interval and keeps
// the peak since the last reset.
type rssWatch struct {
	pid  int
	stop chan struct{}

	mu         sync.Mutex
	last, peak int64 // bytes
}

func watchRSS(pid int, every time.Duration) *rssWatch {
	w := &rssWatch{pid: pid, stop: make(chan struct{})}
	w.sample()
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
				w.sample()
			}
		}
	}()
	return w
}

func (w *rssWatch) sample() {
	v, _, err := procstat.Memory(w.pid)
	if err != nil {
		return
	}
	w.mu.Lock()
	w.last, w.peak = v, max(w.peak, v)
	w.mu.Unlock()
}

// read returns the latest sample and the peak since the last read, and
// starts a new peak.
func (w *rssWatch) read() (last, peak int64) {
	w.sample()
	w.mu.Lock()
	defer w.mu.Unlock()
	last, peak = w.last, w.peak
	w.peak = w.last
	return last, peak
}

func (w *rssWatch) close() { close(w.stop) }

// diskUsage is the space dir takes on disk (allocated blocks), with the
// call id index (callid-index) apart.
func diskUsage(dir string) (total, index int64, err error) {
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) { // a file removed while walking
				return nil
			}
			return err
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		n := info.Size()
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			n = st.Blocks * 512
		}
		total += n
		if strings.Contains(path, string(filepath.Separator)+"callid-index"+string(filepath.Separator)) {
			index += n
		}
		return nil
	})
	return total, index, err
}

func mib(b int64) string { return fmt.Sprintf("%.0f", float64(b)/(1<<20)) }

// profileImbridge asks the separate imbridge process for a CPU profile of
// the next d and writes it to path; halfway through, the stacks of all its
// goroutines to path.goroutines.txt; at the end, its mutex and blocking
// profiles (since it started) to path.mutex and path.block. The returned
// function waits for them all. It needs a binary built with -tags pprof
// (cmd/imbridge/pprof.go).
func profileImbridge(s *server, d time.Duration, path string) (wait func() error) {
	secs := max(int(d.Round(time.Second)/time.Second), 1)
	cpu := make(chan error, 1)
	go func() { cpu <- fetchProfile(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", s.pprof, secs), path) }()
	stacks := make(chan error, 1)
	go func() {
		time.Sleep(d / 2)
		stacks <- fetchProfile(s.pprof+"/debug/pprof/goroutine?debug=1", path+".goroutines.txt")
	}()
	return func() error {
		err := errors.Join(<-cpu, <-stacks)
		for _, p := range []string{"mutex", "block"} {
			err = errors.Join(err, fetchProfile(s.pprof+"/debug/pprof/"+p, path+"."+p))
		}
		if err != nil {
			return fmt.Errorf("profiling imbridge (is it built with -tags pprof?): %w", err)
		}
		return nil
	}
}

func fetchProfile(url, path string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s: %s: %s", url, resp.Status, msg)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
