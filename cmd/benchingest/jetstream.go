package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/imbridge/imbridge/internal/eventlog"
)

// The JetStream ceiling: what an embedded JetStream server alone stores
// per second on the servers' cores, with the stream settings imbridge uses
// (file storage, the block compression -compression gives it, message-id
// deduplication over imbridge's default window), the bodies as messages.
// imbridge cannot beat it; the issue asks for 0.6× its asynchronous figure.

// jsResult is one JetStream-alone run.
type jsResult struct {
	mode     string // "sync, N publishers" or "async"
	stored   int64  // acknowledged within the window
	window   time.Duration
	failures int64
	cpu      cpuUse
}

func (r *jsResult) rate() float64 { return float64(r.stored) / r.window.Seconds() }

// serveJetStream is the -serve-jetstream mode: an embedded JetStream
// server alone on addr, storing in dir, until killed.
func serveJetStream(addr, dir string) error {
	s, err := newJetStreamServer(addr, dir)
	if err != nil {
		return err
	}
	s.WaitForShutdown()
	return nil
}

func newJetStreamServer(addr, dir string) (*natsserver.Server, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return nil, err
	}
	s, err := natsserver.NewServer(&natsserver.Options{
		Host: host, Port: port, JetStream: true, StoreDir: dir,
		NoLog: true, NoSigs: true, MaxPayload: 8 << 20,
	})
	if err != nil {
		return nil, err
	}
	s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("JetStream server not ready on %s", addr)
	}
	return s, nil
}

// startJetStream starts the JetStream-alone server: in this process, or
// with -imbridge as this program in -serve-jetstream mode, pinned like
// imbridge. It returns its URL, its process (0 when in this one) and how
// to stop it.
func startJetStream(o options, dir string) (url string, pid int, stop func(), err error) {
	addr, err := freeAddr()
	if err != nil {
		return "", 0, nil, err
	}
	if o.imbridge == "" {
		s, err := newJetStreamServer(addr, dir)
		if err != nil {
			return "", 0, nil, err
		}
		return "nats://" + addr, 0, func() { s.Shutdown(); s.WaitForShutdown() }, nil
	}
	pid, stop, err = spawnSelf(o, addr, "-serve-jetstream", addr+","+dir)
	if err != nil {
		return "", 0, nil, fmt.Errorf("JetStream server: %w", err)
	}
	return "nats://" + addr, pid, stop, nil
}

// runJetStream publishes bodies to a fresh stream on url for warmup plus
// d, each with its own message id (bodies repeat once the set is used up), and counts the acknowledgements within
// d: with workers synchronous publishers, or (workers 0) asynchronously
// from one goroutine with up to 4096 in flight.
func runJetStream(url string, bodies bodySet, workers int, warmup, d time.Duration, name, compression string) (*jsResult, error) {
	nc, err := nats.Connect(url)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: name, Subjects: []string{name + ".>"}, Storage: jetstream.FileStorage,
		Compression: eventlog.Compression(compression).Store(), Duplicates: eventlog.DefaultDuplicateWindow, AllowDirect: true,
	}); err != nil {
		return nil, err
	}
	r := &jsResult{mode: "async, up to 4096 in flight"}
	if workers > 0 {
		r.mode = fmt.Sprintf("sync, %d publishers", workers)
	}
	var next atomic.Int64
	var stored, failures atomic.Int64
	var counting atomic.Bool
	done := make(chan struct{})
	subject := name + ".chat.txt"
	// Message i is body i modulo the set (more bodies than an 8 MB block
	// holds, so a block never repeats one) with its own message id.
	msg := func() *nats.Msg {
		i := next.Add(1) - 1
		return &nats.Msg{Subject: subject, Data: bodies.at(int(i) % bodies.len()),
			Header: nats.Header{jetstream.MsgIDHeader: []string{name + "-" + strconv.FormatInt(i, 10)}}}
	}
	acked := func(err error) {
		switch {
		case err != nil:
			failures.Add(1)
		case counting.Load():
			stored.Add(1)
		}
	}
	// publishUntilDone hands publish one message after another until the
	// run ends.
	publishUntilDone := func(publish func(*nats.Msg)) {
		for {
			select {
			case <-done:
				return
			default:
				publish(msg())
			}
		}
	}
	var wg sync.WaitGroup
	if workers > 0 {
		for range workers {
			wg.Go(func() {
				publishUntilDone(func(m *nats.Msg) {
					_, err := js.PublishMsg(ctx, m)
					acked(err)
				})
			})
		}
	} else {
		// Acknowledgements come back in order: one goroutine waits for
		// each in turn.
		futures := make(chan jetstream.PubAckFuture, 4096)
		wg.Go(func() {
			for f := range futures {
				select {
				case <-f.Ok():
					acked(nil)
				case err := <-f.Err():
					acked(err)
				}
			}
		})
		wg.Go(func() {
			defer close(futures)
			publishUntilDone(func(m *nats.Msg) {
				if f, err := js.PublishMsgAsync(m); err != nil {
					acked(err)
				} else {
					futures <- f
				}
			})
		})
	}
	time.Sleep(warmup)
	counting.Store(true)
	cpu0, t0 := sampleCPU(), time.Now()
	time.Sleep(d)
	counting.Store(false)
	r.cpu, r.window = cpuBetween(cpu0, sampleCPU()), time.Since(t0)
	close(done)
	wg.Wait()
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
	}
	r.stored, r.failures = stored.Load(), failures.Load()
	return r, nil
}
