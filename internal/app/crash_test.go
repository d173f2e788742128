//go:build unix

package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/callback"
	"github.com/imbridge/imbridge/internal/config"
	"github.com/imbridge/imbridge/internal/trigger"
)

// crashKillsEnv sets how many times TestCrashLosesNoCallback kills imbridge
// (default crashKills), for a long run:
//
//	IMBRIDGE_CRASH_KILLS=200 go test -race -run TestCrash -count=1 -v -timeout 30m ./internal/app/
const crashKillsEnv = "IMBRIDGE_CRASH_KILLS"

const (
	crashKills   = 10
	crashSenderN = 4  // concurrent senders, so that kills land mid-request
	crashMaxRun  = 40 // a process lives for 1 to this many more 200 answers
	crashAppkey  = "crash#imbridge"
	crashSecret  = "crash-callback-secret"
	crashParent  = "orgs/-/apps/-"
)

// imbridge killed with SIGKILL again and again, while a sender that
// retries every non-200 posts callbacks and a subscriber resumes from its
// last cursor, loses no callback it answered 200 and repeats none: each is
// delivered to the subscriber exactly once, in strictly rising cursors.
func TestCrashLosesNoCallback(t *testing.T) {
	kills := crashKills
	if s := os.Getenv(crashKillsEnv); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number of kills", crashKillsEnv, s)
		}
		kills = n
	}
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("crash: seed=%d kills=%d", seed, kills)

	ctl := t.TempDir()
	cfg := testConfig(t)
	cfg.Apps = []config.App{{Appkey: crashAppkey, Secrets: []string{crashSecret}}}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ctl, crashConfigFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := crashBody(); err != nil {
		t.Fatal(err)
	}

	transport := &http.Transport{MaxIdleConnsPerHost: crashSenderN}
	client := &http.Client{Transport: transport, Timeout: time.Minute} // the bound only turns a hang into an error
	target := newCrashTarget()
	senders := &crashSenders{answered: map[string]crashAnswer{}, failed: map[string]int{}}
	sub := &crashSubscriber{delivered: map[string][]uint64{}, ended: map[string]int{}}

	// Every goroutine ends before the test does: the cleanup cancels them
	// and waits, after any child still running was killed.
	ctx, cancel := context.WithCancel(context.Background())
	subCtx, subCancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		transport.CloseIdleConnections()
	})
	for range crashSenderN {
		senders.active.Add(1)
		wg.Go(func() {
			defer senders.active.Add(-1)
			senders.run(ctx, target, client)
		})
	}
	sub.active.Store(true)
	wg.Go(func() {
		defer sub.active.Store(false)
		sub.run(subCtx, target)
	})

	// runFor lets the process up now answer k more callbacks 200.
	runFor := func(c *crashChild, k int) {
		t.Helper()
		want := senders.count() + k
		crashPoll(t, 2*time.Minute, func() string {
			return fmt.Sprintf("%d answers 200 from child %d (have %d; failed attempts %v; sender error %v; subscriber error %v); its log ends:\n%s",
				want, c.n, senders.count(), senders.failures(), senders.fatal(), sub.fatal(), crashTail(c.logs, 30))
		}, func() bool {
			if err := sub.fatal(); err != nil {
				t.Fatalf("subscriber gave up: %v", err)
			}
			if err := senders.fatal(); err != nil {
				t.Fatalf("sender gave up: %v", err)
			}
			return senders.count() >= want
		})
	}

	for n := 1; n <= kills; n++ {
		c := crashStartChild(t, ctl, n, client)
		target.set(c.addrs)
		runFor(c, 1+rng.IntN(crashMaxRun))
		target.down()
		c.kill()
		if c.err == nil || !strings.Contains(c.err.Error(), "killed") {
			t.Fatalf("child %d: Wait = %v, want killed", n, c.err)
		}
		c.checkLog(t)
	}

	// A last process, stopped cleanly: the senders finish the callback each
	// has in hand, and the subscriber catches up with the head of the log.
	last := crashStartChild(t, ctl, kills+1, client)
	target.set(last.addrs)
	runFor(last, 1+rng.IntN(crashMaxRun))
	senders.stop.Store(true)
	crashPoll(t, 2*time.Minute, func() string {
		return fmt.Sprintf("%d senders to finish their last callback (failed attempts %v)", senders.active.Load(), senders.failures())
	}, func() bool { return senders.active.Load() == 0 })
	head := crashHead(t, last.addrs.GRPC)
	crashPoll(t, 2*time.Minute, func() string {
		return fmt.Sprintf("the subscriber to reach the head of the log, cursor %d (it is at %d; subscriber error %v)", head, sub.position(), sub.fatal())
	}, func() bool { return sub.position() >= head || sub.fatal() != nil })
	subCancel()
	crashPoll(t, 2*time.Minute, func() string { return "the subscriber to end" }, func() bool { return !sub.active.Load() })
	last.stop(t)
	if last.err != nil {
		t.Errorf("last child, stopped by closing its stdin: %v; its log ends:\n%s", last.err, crashTail(last.logs, 30))
	}
	if logs, _ := os.ReadFile(last.logs); !bytes.Contains(logs, []byte("shutdown complete")) {
		t.Errorf("last child: no clean shutdown in its log:\n%s", crashTail(last.logs, 30))
	}
	last.checkLog(t)

	crashCheck(t, kills, head, senders, sub)
}

// crashCheck compares what was answered 200 with what was delivered.
func crashCheck(t *testing.T, kills int, head uint64, senders *crashSenders, sub *crashSubscriber) {
	t.Helper()
	if err := sub.fatal(); err != nil {
		t.Errorf("subscriber: %v", err)
	}
	if err := senders.fatal(); err != nil {
		t.Errorf("sender: %v", err)
	}
	// Both have ended; the locks only make that plain.
	senders.mu.Lock()
	defer senders.mu.Unlock()
	sub.mu.Lock()
	defer sub.mu.Unlock()
	var lost, duplicated, moved, unanswered, retried, storedBefore []string
	for id, a := range senders.answered {
		cursors := sub.delivered[id]
		switch {
		case len(cursors) == 0:
			lost = append(lost, fmt.Sprintf("%s (answered %s at cursor %d after %d attempts)", id, a.result, a.cursor, a.attempts))
		case len(cursors) > 1:
			duplicated = append(duplicated, fmt.Sprintf("%s at cursors %v", id, cursors))
		case cursors[0] != a.cursor:
			moved = append(moved, fmt.Sprintf("%s answered cursor %d, delivered at %d", id, a.cursor, cursors[0]))
		}
		if a.attempts > 1 {
			retried = append(retried, id)
		}
		if a.result == "duplicate" {
			// The first 200 said duplicate: an attempt the kill cut
			// short had stored it.
			storedBefore = append(storedBefore, id)
		}
	}
	delivered := 0
	for id, cursors := range sub.delivered {
		delivered += len(cursors)
		if _, ok := senders.answered[id]; !ok {
			unanswered = append(unanswered, id)
		}
	}
	t.Logf("crash: kills=%d answered200=%d delivered=%d duplicated=%d lost=%d stored_unanswered=%d",
		kills, len(senders.answered), delivered, len(duplicated), len(lost), len(unanswered))
	t.Logf("crash: retried=%d stored_before_kill=%d head=%d reconnects=%v failed_attempts=%v",
		len(retried), len(storedBefore), head, sub.ended, senders.failed)
	for _, list := range [][]string{lost, duplicated, moved, unanswered, sub.disorder} {
		slices.Sort(list)
	}
	if len(lost) > 0 {
		t.Errorf("%d callbacks answered 200 were never delivered: %s", len(lost), crashFirst(lost))
	}
	if len(duplicated) > 0 {
		t.Errorf("%d callbacks were delivered more than once: %s", len(duplicated), crashFirst(duplicated))
	}
	if len(moved) > 0 {
		t.Errorf("%d callbacks were delivered at another cursor than the one answered: %s", len(moved), crashFirst(moved))
	}
	if len(sub.disorder) > 0 {
		t.Errorf("the stream broke its order %d times: %s", len(sub.disorder), crashFirst(sub.disorder))
	}
	if len(unanswered) > 0 {
		// Every sender retried its callback until it was answered, so
		// nothing stored can be left unanswered here.
		t.Errorf("%d events delivered whose callback was never answered 200: %s", len(unanswered), crashFirst(unanswered))
	}
}

func crashFirst(list []string) string {
	if len(list) > 10 {
		return strings.Join(list[:10], "; ") + fmt.Sprintf("; and %d more", len(list)-10)
	}
	return strings.Join(list, "; ")
}

// crashHead is the cursor of the newest event in the log.
func crashHead(t *testing.T, grpcAddr string) uint64 {
	t.Helper()
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, err := imbridgev1.NewEventServiceClient(conn).ListEvents(withKey(ctxT(t), testKey), &imbridgev1.ListEventsRequest{
		Parent: crashParent, PageSize: 1, Order: imbridgev1.ListOrder_LIST_ORDER_NEWEST_FIRST,
	})
	if err != nil || len(resp.GetEvents()) != 1 {
		t.Fatalf("ListEvents for the head of the log: %d events, %v", len(resp.GetEvents()), err)
	}
	return resp.GetEvents()[0].GetCursor()
}

// crashBody is a fresh signed chat:txt callback and its callId.
func crashBody() ([]byte, error) {
	bodies, err := trigger.Build("chat:txt", trigger.Options{Appkey: crashAppkey, Secret: crashSecret, Now: time.Now()})
	if err != nil {
		return nil, err
	}
	if len(bodies) != 1 {
		return nil, fmt.Errorf("trigger.Build(chat:txt) made %d bodies, want 1", len(bodies))
	}
	return bodies[0], nil
}

// crashAnswer is the first 200 a callback got.
type crashAnswer struct {
	cursor   uint64
	result   string // stored or duplicate
	attempts int    // posts it took, this one included
}

// crashSenders post callbacks, each retried with the same body until it is
// answered 200, and record those answers.
type crashSenders struct {
	stop   atomic.Bool  // finish the callback in hand, then return
	active atomic.Int32 // senders still running

	mu       sync.Mutex
	answered map[string]crashAnswer // by callId
	failed   map[string]int         // failed attempts, by what failed
	err      error                  // why a sender gave up
}

func (s *crashSenders) run(ctx context.Context, target *crashTarget, client *http.Client) {
	for !s.stop.Load() && ctx.Err() == nil {
		body, err := crashBody()
		var cb *callback.Callback
		if err == nil {
			cb, err = callback.Parse(body)
		}
		if err != nil {
			s.giveUp(err)
			return
		}
		for attempt, backoff := 1, 5*time.Millisecond; ; attempt++ {
			addrs, err := target.get(ctx)
			if err != nil {
				return
			}
			a, failure := crashPost(ctx, client, addrs.HTTP, body)
			if failure == "" {
				a.attempts = attempt
				if err := s.record(cb.CallID(), a); err != nil {
					s.giveUp(err)
					return
				}
				break
			}
			if ctx.Err() != nil {
				return
			}
			s.fail(failure)
			crashSleep(ctx, backoff)
			backoff = min(2*backoff, 200*time.Millisecond)
		}
	}
}

// crashPost posts body once; failure says why it was not answered 200.
func crashPost(ctx context.Context, client *http.Client, httpAddr string, body []byte) (crashAnswer, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+httpAddr+"/v1/callbacks/easemob", bytes.NewReader(body))
	if err != nil {
		return crashAnswer{}, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return crashAnswer{}, "no answer"
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return crashAnswer{}, "answer cut"
	}
	var out struct{ Result, Cursor string }
	if err := json.Unmarshal(b, &out); err != nil {
		return crashAnswer{}, fmt.Sprintf("%d %q", resp.StatusCode, b)
	}
	if resp.StatusCode != http.StatusOK {
		return crashAnswer{}, fmt.Sprintf("%d %s", resp.StatusCode, out.Result)
	}
	cursor, err := strconv.ParseUint(out.Cursor, 10, 64)
	if err != nil || (out.Result != "stored" && out.Result != "duplicate") {
		return crashAnswer{}, fmt.Sprintf("200 %q", b)
	}
	return crashAnswer{cursor: cursor, result: out.Result}, ""
}

func (s *crashSenders) record(callID string, a crashAnswer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.answered[callID]; ok {
		return fmt.Errorf("callId %s made twice (answered cursor %d before)", callID, prev.cursor)
	}
	s.answered[callID] = a
	return nil
}

func (s *crashSenders) fail(why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failed[why]++
}

func (s *crashSenders) giveUp(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

func (s *crashSenders) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.answered)
}

func (s *crashSenders) failures() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprint(s.failed)
}

func (s *crashSenders) fatal() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// crashSubscriber reads SubscribeEvents and, whenever the stream ends,
// resumes after the last cursor it received, with its epoch.
type crashSubscriber struct {
	active atomic.Bool

	mu        sync.Mutex
	epoch     string
	last      uint64              // the last cursor received
	delivered map[string][]uint64 // by callId, the cursors it came with
	disorder  []string            // cursors out of order, epoch changes
	ended     map[string]int      // how streams ended, by code
	err       error               // why it gave up
}

func (s *crashSubscriber) run(ctx context.Context, target *crashTarget) {
	backoff := 5 * time.Millisecond
	for {
		addrs, err := target.get(ctx)
		if err != nil {
			return
		}
		received, err := s.stream(ctx, addrs.GRPC)
		if ctx.Err() != nil {
			return
		}
		code := status.Code(err)
		if errors.Is(err, io.EOF) {
			code = codes.OK // the server ended the stream without an error
		}
		s.mu.Lock()
		s.ended[code.String()]++
		s.mu.Unlock()
		switch code {
		case codes.Unimplemented, codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange,
			codes.Unauthenticated, codes.PermissionDenied, codes.NotFound:
			// Retrying cannot help: the test fails with this.
			s.mu.Lock()
			s.err = fmt.Errorf("SubscribeEvents after cursor %d: %w", s.last, err)
			s.mu.Unlock()
			return
		}
		if received {
			backoff = 5 * time.Millisecond
		}
		crashSleep(ctx, backoff)
		backoff = min(2*backoff, 500*time.Millisecond)
	}
}

// stream reads one stream until it ends, resuming where the last one left
// off; received says whether any message came.
func (s *crashSubscriber) stream(ctx context.Context, grpcAddr string) (received bool, _ error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return false, err
	}
	defer conn.Close()
	req := &imbridgev1.SubscribeEventsRequest{Parent: crashParent}
	s.mu.Lock()
	if s.last == 0 {
		req.Start = &imbridgev1.SubscribeEventsRequest_Position{Position: imbridgev1.StartPosition_START_POSITION_EARLIEST}
	} else {
		req.Start = &imbridgev1.SubscribeEventsRequest_AfterCursor{AfterCursor: s.last}
		req.Epoch = s.epoch
	}
	s.mu.Unlock()
	stream, err := imbridgev1.NewEventServiceClient(conn).SubscribeEvents(withKey(ctx, testKey), req)
	if err != nil {
		return false, err
	}
	for {
		msg, err := stream.Recv()
		if err != nil {
			return received, err
		}
		received = true
		s.receive(msg)
	}
}

func (s *crashSubscriber) receive(msg *imbridgev1.SubscribeEventsResponse) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.epoch == "" {
		s.epoch = msg.GetEpoch()
	} else if msg.GetEpoch() != s.epoch {
		s.disorder = append(s.disorder, fmt.Sprintf("epoch %q after %q", msg.GetEpoch(), s.epoch))
		s.epoch = msg.GetEpoch()
	}
	ev := msg.GetEvent()
	if ev == nil {
		return // a heartbeat
	}
	if ev.GetCursor() <= s.last {
		s.disorder = append(s.disorder, fmt.Sprintf("cursor %d (callId %s) after %d", ev.GetCursor(), ev.GetCallId(), s.last))
	}
	s.last = max(s.last, ev.GetCursor())
	s.delivered[ev.GetCallId()] = append(s.delivered[ev.GetCallId()], ev.GetCursor())
}

func (s *crashSubscriber) position() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func (s *crashSubscriber) fatal() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}
