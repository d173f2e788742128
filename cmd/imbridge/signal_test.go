package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imbridge/imbridge/internal/testlog"
	"github.com/imbridge/imbridge/internal/testwait"
)

// childEnv makes the test binary run main() itself, as `imbridge serve`.
const childEnv = "IMBRIDGE_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Args = append([]string{"imbridge"}, strings.Fields(os.Getenv(childEnv+"_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A first SIGINT starts a graceful shutdown, which waits for the request
// in flight up to shutdown_timeout; a second one ends the process at once.
func TestSecondInterruptEndsTheProcess(t *testing.T) {
	const wait = 2 * time.Minute // far below the 10 minutes a graceful shutdown would take
	grpcAddr, httpAddr := freeAddr(t), freeAddr(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", childEnv+"_ARGS="+strings.Join([]string{
		"serve", "--config", "../../configs/dev.yaml", "--grpc-addr", grpcAddr, "--http-addr", httpAddr,
		"--data-dir", t.TempDir(), "--shutdown-timeout", "10m", "--body-read-timeout", "10m",
		"--log-format", "text",
	}, " "))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{}) // closed once waitErr is set
	var waitErr error
	shuttingDown := make(chan struct{})
	var log testlog.Buffer
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			_, _ = log.Write([]byte(sc.Text() + "\n"))
			if strings.Contains(sc.Text(), "shutting down") {
				close(shuttingDown)
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // fails once it has exited
		<-exited
	})
	testwait.For(t, wait, 50*time.Millisecond, func() error {
		resp, err := http.Get("http://" + httpAddr + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/healthz %d", resp.StatusCode)
		}
		return nil
	})
	// A webhook request whose body never comes keeps the graceful
	// shutdown waiting.
	conn, err := net.Dial("tcp", httpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := fmt.Fprintf(conn, "POST /v1/callbacks/easemob HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{", httpAddr); err != nil {
		t.Fatal(err)
	}

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-shuttingDown:
	case <-exited:
		t.Fatalf("exited on the first interrupt (%v), with a request in flight:\n%s", waitErr, log.String())
	case <-time.After(wait):
		t.Fatalf("no shutdown %v after the first interrupt:\n%s", wait, log.String())
	}
	// The handler lets go of the signals just after the shutdown begins:
	// interrupt until the process ends.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(wait)
	for {
		if err := cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Fatal(err)
		}
		select {
		case <-tick.C:
			continue
		case <-exited:
			var ee *exec.ExitError
			if !errors.As(waitErr, &ee) {
				t.Fatalf("exit after the second interrupt: %v, want killed by it", waitErr)
			}
			if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
				t.Fatalf("exit after the second interrupt: %v, want killed by SIGINT", waitErr)
			}
		case <-deadline:
			t.Fatalf("still running %v after the second interrupt:\n%s", wait, log.String())
		}
		return
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Ctrl-C ends `imbridge emulate` promptly and cleanly (exit 0) even while
// a request waits out an injected latency.
func TestEmulateInterruptDuringLatency(t *testing.T) {
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"emulate", "-addr", addr, "-callback-url", ""}, func(string) string { return "" }, io.Discard, io.Discard)
	}()
	base := "http://" + addr
	for {
		res, err := http.Post(base+"/_emulator/faults", "application/json", strings.NewReader(`{"latency":"1m"}`))
		if err == nil {
			res.Body.Close()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	go func() {
		res, err := http.Get(base + "/demo/imbridge/chatrooms")
		if err == nil {
			res.Body.Close()
		}
	}()
	time.Sleep(200 * time.Millisecond) // the request waits out the latency
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("emulate ended with %v after Ctrl-C, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("emulate did not stop")
	}
}
