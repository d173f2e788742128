package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/callback"
	"github.com/imbridge/imbridge/internal/config"
	"github.com/imbridge/imbridge/internal/eventlog"
	"github.com/imbridge/imbridge/internal/testwait"
	"github.com/imbridge/imbridge/internal/trigger"
)

// The scale-out test: several imbridge processes on one external NATS
// JetStream cluster.
const (
	clusterAppkey = "acme#scale"
	clusterParent = "orgs/acme/apps/scale"
	clusterSecret = "cluster-secret-1"
	clusterEvents = 60 // callbacks posted, half before a NATS node stops, half after
	clusterSkips  = 3  // events the member on B leaves unacknowledged at their first delivery
	// clusterResumeEvery: the plain stream drops its connection after so
	// many events, to resume by cursor even when no error forces it to.
	clusterResumeEvery = 20
	// clusterAckDeadline is the subscription's: a skipped event comes
	// again after it.
	clusterAckDeadline = 2 * time.Second
	clusterHeartbeat   = 500 * time.Millisecond
	// clusterWait bounds each wait of the test. It only turns a hang into a
	// failure: far above what a busy 2-core machine under -race needs.
	clusterWait = 60 * time.Second
)

// Three NATS servers in one JetStream cluster on loopback, two imbridge
// processes on it with 3 replicas. Callbacks are posted to A; B streams
// every event plainly, resuming by cursor and epoch on any error; a shared
// subscription has a member on A and one on B, each acknowledging through
// the other instance, and B's member leaves a few events unacknowledged so
// that they come again. Halfway through, the NATS node that leads the event
// stream stops. Every callback answered 200 must reach the plain stream
// exactly once, in cursor order, and the subscription at least once, its
// redeliveries with attempt numbers above 1.
func TestClusterScaleOut(t *testing.T) {
	var apps []*running
	t.Cleanup(func() { // runs last: the logs of the whole run, shutdown included
		if t.Failed() {
			for i, r := range apps {
				t.Logf("imbridge %c log (tail):\n%s", 'A'+i, clusterTail(r.logs.String(), 6000))
			}
		}
	})
	begin := time.Now()
	nodes, urls := startNATSCluster(t, 3) // its cleanup runs after the apps'

	cfg := testConfig(t)
	cfg.Apps = []config.App{{Appkey: clusterAppkey, Secrets: []string{clusterSecret}}}
	cfg.EventLog.NATSURL = urls
	cfg.EventLog.Replicas = 3
	cfg.EventLog.MaxBytes = 256 << 20 // the nodes' JetStream store is 1 GiB
	a := start(t, cfg)
	cfg.DataDir = t.TempDir()
	b := start(t, cfg)
	apps = append(apps, a, b)
	clientA := imbridgev1.NewEventServiceClient(a.conn)
	clientB := imbridgev1.NewEventServiceClient(b.conn)

	created, err := clientA.CreateSubscription(withKey(ctxT(t), testKey), &imbridgev1.CreateSubscriptionRequest{
		Parent:         clusterParent,
		SubscriptionId: "scale-out",
		Subscription: &imbridgev1.Subscription{
			Filter:              &imbridgev1.EventFilter{Selectors: []string{"chat:txt"}},
			AckDeadline:         durationpb.New(clusterAckDeadline),
			MaxDeliveryAttempts: 5,
			StartPosition:       imbridgev1.StartPosition_START_POSITION_EARLIEST,
		},
	})
	if err != nil {
		t.Fatalf("CreateSubscription on A: %v", err)
	}
	subName := created.GetSubscription().GetName()
	if want := clusterParent + "/subscriptions/scale-out"; subName != want {
		t.Fatalf("CreateSubscription named it %q, want %q", subName, want)
	}

	run := newClusterRun()
	ctx, cancel := context.WithCancel(context.Background())
	httpClient := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}}
	var wg sync.WaitGroup
	t.Cleanup(func() { // runs first: no client outlives the apps
		cancel()
		wg.Wait()
		httpClient.CloseIdleConnections()
	})
	wg.Go(func() { run.plain(ctx, "plain@B", clientB) })
	wg.Go(func() { run.member(ctx, "member@A", subName, clientA, clientB, false) })
	wg.Go(func() { run.member(ctx, "member@B", subName, clientB, clientA, true) })
	clusterPoll(t, "a first message (heartbeat) on each of the three streams", func() error {
		return run.opened("plain@B", "member@A", "member@B")
	})

	// Post: the first half, then stop a node, then the second half.
	type post struct {
		callID string
		body   []byte
	}
	var posts []post
	for range clusterEvents {
		bodies, err := trigger.Build("chat:txt", trigger.Options{Appkey: clusterAppkey, Secret: clusterSecret, Now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		cb, err := callback.Parse(bodies[0])
		if err != nil {
			t.Fatal(err)
		}
		posts = append(posts, post{cb.CallID(), bodies[0]})
	}
	webhook := "http://" + a.app.HTTPAddr().String() + "/v1/callbacks/easemob"
	postAll := func(batch []post) {
		queue := make(chan post)
		var posters sync.WaitGroup
		for range 3 {
			posters.Go(func() {
				for p := range queue {
					run.post(ctx, httpClient, webhook, p.callID, p.body)
				}
			})
		}
		for _, p := range batch {
			queue <- p
		}
		close(queue)
		posters.Wait()
	}
	setup := time.Since(begin)
	begin = time.Now()
	postAll(posts[:clusterEvents/2])

	// Stop the node that leads the event stream (any one would do: the
	// other two are a quorum), so that the stream elects a new leader.
	stopped, stoppedName := nodes[1], nodes[1].Name()+" (no stream leader found)"
	for _, s := range nodes {
		// Without accounts configured the stream lives in the global
		// account, $G.
		if s.JetStreamIsStreamLeader("$G", eventlog.StreamName) {
			stopped, stoppedName = s, s.Name()+" (leader of "+eventlog.StreamName+")"
		}
	}
	stopped.Shutdown()
	stopped.WaitForShutdown()

	postAll(posts[clusterEvents/2:])
	posting := time.Since(begin)
	begin = time.Now()

	clusterPoll(t, "every callback answered 200 on the plain stream and the subscription, and every skipped event again", run.complete)
	delivered := time.Since(begin)
	clusterPoll(t, "the subscription with nothing left to deliver or acknowledge", func() error {
		resp, err := clientB.GetSubscription(withKey(ctx, testKey), &imbridgev1.GetSubscriptionRequest{Name: subName})
		if err != nil {
			return err
		}
		if s := resp.GetSubscription(); s.GetBacklog() != 0 || s.GetUnacknowledged() != 0 {
			return fmt.Errorf("backlog %d, unacknowledged %d", s.GetBacklog(), s.GetUnacknowledged())
		}
		return nil
	})
	var stored int
	clusterPoll(t, "ListEvents on B to hold every callback answered 200 exactly once", func() error {
		resp, err := clientB.ListEvents(withKey(ctx, testKey), &imbridgev1.ListEventsRequest{
			Parent: clusterParent, PageSize: 1000, Order: imbridgev1.ListOrder_LIST_ORDER_OLDEST_FIRST,
		})
		if err != nil {
			return err
		}
		var ids []string
		for _, ev := range resp.GetEvents() {
			ids = append(ids, ev.GetCallId())
		}
		stored = len(ids)
		return run.exactlyOnce(ids)
	})

	checks := time.Since(begin) - delivered
	cancel()
	wg.Wait()
	run.mu.Lock()
	defer run.mu.Unlock()
	s := run.summary()
	t.Logf("cluster: posted200=%d retried=%d stored=%d | plain=%d dup=%d lost=%d resumed=%d reconnected=%d | subscription=%d (member@A=%d member@B=%d) redelivered=%d skipped=%d lost=%d | node stopped: %s | epoch %s",
		len(run.posted200), run.retries, stored, s.plain, s.plainDup, s.plainLost, run.resumes["plain@B"], run.reconnects["plain@B"],
		s.subscription, run.events["member@A"], run.events["member@B"], s.redelivered, len(run.skipped), s.subLost, stoppedName, run.epochs["plain@B"])
	t.Logf("cluster: non-200 answers %v; stream errors %v; ack retries %d; deliveries after an acknowledgement %d; took setup %v, posting %v, delivery %v, checks %v",
		run.retryWhy, run.streamErrs, run.ackRetries, run.afterAck, setup.Round(time.Millisecond), posting.Round(time.Millisecond), delivered.Round(time.Millisecond), checks.Round(time.Millisecond))

	if len(run.posted200) != clusterEvents {
		t.Errorf("%d of %d callbacks answered 200 (gave up on %v)", len(run.posted200), clusterEvents, run.gaveUp)
	}
	for _, p := range run.problems {
		t.Error(p)
	}
	if s.plainDup != 0 || s.plainLost != 0 || s.subLost != 0 || s.plainExtra != 0 {
		t.Errorf("plain stream: %d duplicated, %d lost, %d not posted; subscription: %d lost", s.plainDup, s.plainLost, s.plainExtra, s.subLost)
	}
	if len(s.badAttempts) > 0 {
		t.Errorf("subscription deliveries numbered 0 or twice the same: %v", s.badAttempts)
	}
	if s.redelivered < clusterSkips {
		t.Errorf("%d redeliveries, want at least the %d events left unacknowledged", s.redelivered, clusterSkips)
	}
	for _, m := range []string{"member@A", "member@B"} {
		if run.events[m] == 0 {
			t.Errorf("%s received no event: the subscription's events were not divided between the instances", m)
		}
	}
	var epochs []string
	for src, e := range run.epochs {
		epochs = append(epochs, src+"="+e)
	}
	sort.Strings(epochs)
	if len(run.epochs) != 3 || run.epochs["plain@B"] == "" || run.epochs["plain@B"] != run.epochs["member@A"] || run.epochs["member@A"] != run.epochs["member@B"] {
		t.Errorf("the instances report different or empty epochs: %v", epochs)
	}
}

// startNATSCluster starts n clustered JetStream servers on loopback, as
// nats-server's own tests do (jsClusterTempl): every node lists every
// node's route, and the cluster ports are reserved before any starts.
// It waits for a meta leader with every peer current, and shuts the nodes
// down at cleanup. It returns the nodes and their client URLs, comma
// separated.
func startNATSCluster(t *testing.T, n int) ([]*server.Server, string) {
	t.Helper()
	var nodes []*server.Server
	t.Cleanup(func() {
		for _, s := range nodes {
			s.Shutdown()
			s.WaitForShutdown()
		}
	})
	reserved := clusterReservePorts(t, n)
	var routes []*url.URL
	for _, l := range reserved {
		routes = append(routes, &url.URL{Scheme: "nats-route", Host: l.Addr().String()})
	}
	var urls []string
	for i := range n {
		clusterPort := reserved[i].Addr().(*net.TCPAddr).Port
		// Freed only now: no other listener, a node's or another test's,
		// can take it in the seconds the nodes before take to start.
		if err := reserved[i].Close(); err != nil {
			t.Fatal(err)
		}
		s, err := server.NewServer(&server.Options{
			ServerName:         fmt.Sprintf("n%d", i+1),
			Host:               "127.0.0.1",
			Port:               server.RANDOM_PORT,
			NoSigs:             true,
			NoLog:              true,
			MaxPayload:         eventlog.EmbeddedMaxPayload, // as the embedded server: the largest callbacks fit
			JetStream:          true,
			StoreDir:           t.TempDir(),
			JetStreamMaxMemory: 64 << 20,
			JetStreamMaxStore:  1 << 30,
			Cluster:            server.ClusterOpts{Name: "imbridge-test", Host: "127.0.0.1", Port: clusterPort},
			Routes:             routes,
		})
		if err != nil {
			t.Fatalf("NATS node n%d: %v", i+1, err)
		}
		nodes = append(nodes, s)
		s.Start()
		if !s.ReadyForConnections(clusterWait) {
			t.Fatalf("NATS node n%d not ready for connections", i+1)
		}
		urls = append(urls, s.ClientURL())
	}
	clusterPoll(t, "a JetStream meta leader with every peer current", func() error {
		for _, s := range nodes {
			if !s.JetStreamIsLeader() {
				continue
			}
			if peers := s.JetStreamClusterPeers(); len(peers) != n {
				return fmt.Errorf("the meta leader %s knows peers %v", s.Name(), peers)
			}
			for _, s := range nodes {
				if !s.JetStreamIsCurrent() {
					return fmt.Errorf("%s is not current", s.Name())
				}
			}
			return nil
		}
		return errors.New("no meta leader")
	})
	return nodes, strings.Join(urls, ",")
}

// clusterReservePorts listens on n loopback ports, which the nodes' route
// listeners take over one at a time; the listeners still open are closed
// at cleanup.
func clusterReservePorts(t *testing.T, n int) []net.Listener {
	t.Helper()
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Close() })
		ls = append(ls, l)
	}
	return ls
}

// clusterPoll calls cond until it returns nil, and fails the test with its
// last error after clusterWait. A long wait is logged with what it waited
// for.
func clusterPoll(t *testing.T, what string, cond func() error) {
	t.Helper()
	begin := time.Now()
	var last error
	testwait.For(t, clusterWait, 50*time.Millisecond, func() error {
		if err := cond(); err != nil {
			last = err
			return fmt.Errorf("still waiting for %s: %w", what, err)
		}
		return nil
	})
	if waited := time.Since(begin); waited > 5*time.Second {
		t.Logf("waited %v for %s; until then: %v", waited.Round(time.Millisecond), what, last)
	}
}

// clusterRun is what the posters and the streams of the scale-out test
// saw.
type clusterRun struct {
	mu         sync.Mutex
	posted200  map[string]bool // call ids answered 200
	retries    int             // posts answered otherwise, then retried
	retryWhy   map[string]int  // those answers
	gaveUp     []string
	plainSeen  map[string]int     // call id → times on the plain stream
	subSeen    map[string][]int32 // call id → delivery attempts on the subscription
	skipped    map[string]bool    // left unacknowledged by member@B
	events     map[string]int     // stream → events received
	opens      map[string]bool    // stream → a first message arrived
	epochs     map[string]string  // stream → the epoch of its messages
	reconnects map[string]int     // stream → reopened after an error
	resumes    map[string]int     // stream → reopened on purpose
	streamErrs map[string]int     // stream: code → times a stream ended so
	ackRetries int
	acked      map[uint64]bool  // cursors AcknowledgeEvents answered OK for
	afterAck   int              // deliveries of an event already acknowledged OK
	fatal      map[string]error // stream → the error that ended it for good
	problems   []string
}

func newClusterRun() *clusterRun {
	return &clusterRun{
		posted200: map[string]bool{}, retryWhy: map[string]int{}, plainSeen: map[string]int{},
		subSeen: map[string][]int32{}, skipped: map[string]bool{}, events: map[string]int{},
		opens: map[string]bool{}, epochs: map[string]string{}, reconnects: map[string]int{}, resumes: map[string]int{},
		streamErrs: map[string]int{}, fatal: map[string]error{}, acked: map[uint64]bool{},
	}
}

// post posts body until it is answered 200, for clusterWait at most.
func (c *clusterRun) post(ctx context.Context, client *http.Client, webhook, callID string, body []byte) {
	begin := time.Now()
	for {
		why := ""
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhook, bytes.NewReader(body))
		if err != nil {
			panic(err) // a constant URL
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err == nil {
			answer, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				c.mu.Lock()
				c.posted200[callID] = true
				c.mu.Unlock()
				return
			}
			why = fmt.Sprintf("%d %s", resp.StatusCode, clusterFirstWords(string(answer)))
		} else {
			why = "error " + clusterFirstWords(err.Error())
		}
		c.mu.Lock()
		c.retries++
		c.retryWhy[why]++
		c.mu.Unlock()
		if ctx.Err() != nil || time.Since(begin) > clusterWait {
			c.mu.Lock()
			c.gaveUp = append(c.gaveUp, callID+": "+why)
			c.mu.Unlock()
			return
		}
		clusterPause(ctx, 100*time.Millisecond)
	}
}

// plain reads the plain stream of every app's chat:txt events, resuming
// after the last cursor (or heartbeat's scanned cursor) with the epoch on
// any error, and also, on purpose, after every clusterResumeEvery events.
func (c *clusterRun) plain(ctx context.Context, name string, client imbridgev1.EventServiceClient) {
	var after uint64
	var epoch string
	c.follow(ctx, name, func(ctx context.Context) (imbridgev1.EventService_SubscribeEventsClient, error) {
		return client.SubscribeEvents(withKey(ctx, testKey), &imbridgev1.SubscribeEventsRequest{
			Parent:            "orgs/-/apps/-",
			Filter:            &imbridgev1.EventFilter{Selectors: []string{"chat:txt"}},
			Start:             &imbridgev1.SubscribeEventsRequest_AfterCursor{AfterCursor: after},
			Epoch:             epoch,
			HeartbeatInterval: durationpb.New(clusterHeartbeat),
		})
	}, func(msg *imbridgev1.SubscribeEventsResponse) bool {
		epoch = msg.GetEpoch()
		if hb := msg.GetHeartbeat(); hb != nil && hb.GetScannedCursor() > after {
			after = hb.GetScannedCursor()
		}
		ev := msg.GetEvent()
		if ev == nil {
			return false
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if ev.GetCursor() <= after {
			c.problems = append(c.problems, fmt.Sprintf("%s: cursor %d (%s) after cursor %d", name, ev.GetCursor(), ev.GetCallId(), after))
		}
		if msg.GetDeliveryAttempt() != 0 {
			c.problems = append(c.problems, fmt.Sprintf("%s: delivery_attempt %d on a plain stream", name, msg.GetDeliveryAttempt()))
		}
		after = max(after, ev.GetCursor())
		c.plainSeen[ev.GetCallId()]++
		return c.events[name]%clusterResumeEvery == 0
	})
}

// member is one member of the shared subscription. It acknowledges each
// event through ackClient, another instance; with skip it leaves the first
// clusterSkips events it receives at their first attempt unacknowledged.
func (c *clusterRun) member(ctx context.Context, name, sub string, client, ackClient imbridgev1.EventServiceClient, skip bool) {
	c.follow(ctx, name, func(ctx context.Context) (imbridgev1.EventService_SubscribeEventsClient, error) {
		return client.SubscribeEvents(withKey(ctx, testKey), &imbridgev1.SubscribeEventsRequest{
			Subscription:      sub,
			MaxOutstanding:    4,
			HeartbeatInterval: durationpb.New(clusterHeartbeat),
		})
	}, func(msg *imbridgev1.SubscribeEventsResponse) bool {
		ev := msg.GetEvent()
		if ev == nil {
			return false
		}
		attempt := msg.GetDeliveryAttempt()
		c.mu.Lock()
		c.subSeen[ev.GetCallId()] = append(c.subSeen[ev.GetCallId()], attempt)
		if c.acked[ev.GetCursor()] {
			c.afterAck++
		}
		leave := skip && attempt == 1 && len(c.skipped) < clusterSkips
		if leave {
			c.skipped[ev.GetCallId()] = true
		}
		c.mu.Unlock()
		if !leave {
			c.ack(ctx, name, sub, ackClient, ev.GetCursor())
		}
		return false
	})
}

// ack acknowledges one event, retrying for clusterWait at most: an event
// whose acknowledgement is lost only comes again.
func (c *clusterRun) ack(ctx context.Context, name, sub string, client imbridgev1.EventServiceClient, cursor uint64) {
	begin := time.Now()
	for {
		// Each attempt has a deadline, as a careful client's does: an
		// acknowledgement caught in the NATS node's failover is retried.
		actx, cancel := context.WithTimeout(withKey(ctx, testKey), 10*time.Second)
		_, err := client.AcknowledgeEvents(actx, &imbridgev1.AcknowledgeEventsRequest{Subscription: sub, Cursors: []uint64{cursor}})
		cancel()
		if err == nil {
			c.mu.Lock()
			c.acked[cursor] = true
			c.mu.Unlock()
		}
		if err == nil || ctx.Err() != nil {
			return
		}
		c.mu.Lock()
		c.ackRetries++
		if time.Since(begin) > clusterWait {
			c.problems = append(c.problems, fmt.Sprintf("%s: AcknowledgeEvents(%d) failed for %v: %v", name, cursor, clusterWait, err))
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		clusterPause(ctx, 100*time.Millisecond)
	}
}

// follow opens a stream with open and hands each message to handle,
// reopening it when handle asks to drop it and after any error, until ctx
// ends or an error says that retrying cannot help.
func (c *clusterRun) follow(ctx context.Context, name string,
	open func(context.Context) (imbridgev1.EventService_SubscribeEventsClient, error),
	handle func(*imbridgev1.SubscribeEventsResponse) (drop bool)) {
	for {
		sctx, cancel := context.WithCancel(ctx)
		stream, err := open(sctx)
		dropped := false
		for err == nil && !dropped {
			var msg *imbridgev1.SubscribeEventsResponse
			if msg, err = stream.Recv(); err != nil {
				break
			}
			c.mu.Lock()
			c.opens[name] = true
			if msg.GetEvent() != nil {
				c.events[name]++
			}
			if old, ok := c.epochs[name]; ok && old != msg.GetEpoch() {
				c.problems = append(c.problems, fmt.Sprintf("%s: epoch changed from %q to %q", name, old, msg.GetEpoch()))
			}
			c.epochs[name] = msg.GetEpoch()
			c.mu.Unlock()
			dropped = handle(msg)
		}
		cancel()
		if ctx.Err() != nil {
			return
		}
		if dropped {
			c.mu.Lock()
			c.resumes[name]++
			c.mu.Unlock()
			continue
		}
		code := status.Code(err)
		c.mu.Lock()
		c.streamErrs[name+": "+code.String()]++
		c.reconnects[name]++
		switch code {
		case codes.Unimplemented, codes.InvalidArgument, codes.FailedPrecondition, codes.NotFound,
			codes.OutOfRange, codes.PermissionDenied, codes.Unauthenticated:
			c.fatal[name] = err
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		clusterPause(ctx, 100*time.Millisecond)
	}
}

// opened reports which of the streams has neither received a message nor
// failed for good.
func (c *clusterRun) opened(names ...string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.fatalLocked(); err != nil {
		return err
	}
	for _, n := range names {
		if !c.opens[n] {
			return fmt.Errorf("%s has received nothing (stream errors so far: %v)", n, c.streamErrs)
		}
	}
	return nil
}

// complete reports what is still missing: a callback answered 200 not
// yet on the plain stream or the subscription, or a skipped event not yet
// delivered again.
func (c *clusterRun) complete() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.fatalLocked(); err != nil {
		return err
	}
	if len(c.posted200)+len(c.gaveUp) < clusterEvents {
		return fmt.Errorf("%d of %d callbacks answered 200", len(c.posted200), clusterEvents)
	}
	s := c.summary()
	var again int
	for id := range c.skipped {
		if len(c.subSeen[id]) > 1 {
			again++
		}
	}
	if s.plainLost > 0 || s.subLost > 0 || again < len(c.skipped) || len(c.skipped) < clusterSkips {
		return fmt.Errorf("plain stream lacks %d, subscription lacks %d, %d of %d skipped events delivered again (stream errors %v)",
			s.plainLost, s.subLost, again, len(c.skipped), c.streamErrs)
	}
	return nil
}

func (c *clusterRun) fatalLocked() error {
	var errs []error
	for name, err := range c.fatal {
		errs = append(errs, fmt.Errorf("%s ended for good: %w", name, err))
	}
	return errors.Join(errs...)
}

// exactlyOnce reports how ids, a listing, differs from the callbacks
// answered 200: each once, nothing else.
func (c *clusterRun) exactlyOnce(ids []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[string]int{}
	for _, id := range ids {
		seen[id]++
	}
	var missing, twice, other int
	for id := range c.posted200 {
		if seen[id] == 0 {
			missing++
		}
	}
	for id, n := range seen {
		if n > 1 {
			twice++
		}
		if !c.posted200[id] {
			other++
		}
	}
	if missing+twice+other > 0 {
		return fmt.Errorf("%d events: %d callbacks missing, %d stored more than once, %d not answered 200", len(ids), missing, twice, other)
	}
	return nil
}

type clusterSummary struct {
	plain, plainDup, plainLost, plainExtra int
	subscription, redelivered, subLost     int
	badAttempts                            []string // events delivered with attempt 0 or an attempt twice
}

// summary counts what the streams saw; c.mu is held.
func (c *clusterRun) summary() clusterSummary {
	var s clusterSummary
	for id, n := range c.plainSeen {
		s.plain++
		if n > 1 {
			s.plainDup++
		}
		if !c.posted200[id] {
			s.plainExtra++
		}
	}
	for id := range c.posted200 {
		if c.plainSeen[id] == 0 {
			s.plainLost++
		}
		if len(c.subSeen[id]) == 0 {
			s.subLost++
		}
	}
	for id, attempts := range c.subSeen {
		s.subscription++
		for i, a := range attempts {
			if a > 1 {
				s.redelivered++
			}
			if a < 1 || slices.Contains(attempts[:i], a) {
				s.badAttempts = append(s.badAttempts, fmt.Sprintf("%s %v", id, attempts))
				break
			}
		}
	}
	return s
}

// clusterPause waits d or until ctx ends: a retry's backoff, not a wait for an
// event.
func clusterPause(ctx context.Context, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}

func clusterFirstWords(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}

func clusterTail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
