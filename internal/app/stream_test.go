package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/config"
	"github.com/imbridge/imbridge/internal/testwait"
	"github.com/imbridge/imbridge/internal/trigger"
)

// ndjson is a newline-delimited JSON stream read over the gateway.
type ndjson struct {
	resp *http.Response
	sc   *bufio.Scanner
}

// streamLine is one line of the gateway's stream.
type streamLine struct {
	Result *struct {
		Event *struct {
			Cursor string `json:"cursor"`
			CallID string `json:"callId"`
			Raw    string `json:"rawBody"`
		} `json:"event"`
		Heartbeat *struct {
			Head    string `json:"headCursor"`
			Scanned string `json:"scannedCursor"`
		} `json:"heartbeat"`
		Epoch   string `json:"epoch"`
		Attempt int    `json:"deliveryAttempt"`
	} `json:"result"`
	Error *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Reason string `json:"reason"`
		} `json:"details"`
	} `json:"error"`
}

func openNDJSON(t *testing.T, url string) *ndjson {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxT(t), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 8<<20)
	return &ndjson{resp: resp, sc: sc}
}

// next reads one line; it fails the test at the end of the stream.
func (n *ndjson) next(t *testing.T) streamLine {
	t.Helper()
	if !n.sc.Scan() {
		t.Fatalf("stream ended: %v", n.sc.Err())
	}
	var l streamLine
	if err := json.Unmarshal(n.sc.Bytes(), &l); err != nil {
		t.Fatalf("line %q is not JSON: %v", n.sc.Text(), err)
	}
	return l
}

// events reads lines until it has k events, and returns their call ids.
func (n *ndjson) events(t *testing.T, k int) (ids, cursors []string, attempts []int) {
	t.Helper()
	for len(ids) < k {
		l := n.next(t)
		if l.Error != nil {
			t.Fatalf("stream error after %d events: %+v", len(ids), l.Error)
		}
		if ev := l.Result.Event; ev != nil {
			ids, cursors, attempts = append(ids, ev.CallID), append(cursors, ev.Cursor), append(attempts, l.Result.Attempt)
		}
	}
	return ids, cursors, attempts
}

func callIDOf(t *testing.T, body []byte) string {
	t.Helper()
	var b struct {
		CallID string `json:"callId"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatal(err)
	}
	return b.CallID
}

// The REST stream is usable the way curl -N and fetch use it: events as
// JSON lines, heartbeats, resuming after a cursor, and at shutdown a
// last, well-formed error line before the servers stop.
func TestRESTStreamFollowsResumesAndEndsAtShutdown(t *testing.T) {
	cfg := ingestConfig(t)
	cfg.ShutdownTimeout = config.Duration(time.Minute)
	r := start(t, cfg)
	base := "http://" + r.app.HTTPAddr().String()
	var sent []string
	for _, sel := range []string{"chat:txt", "muc:kick", "chat:img"} {
		body := build(t, sel, trigger.Options{})[0]
		if res := r.post(t, body); res.code != http.StatusOK {
			t.Fatalf("post %s: %d %s", sel, res.code, res.body)
		}
		sent = append(sent, callIDOf(t, body))
	}

	s := openNDJSON(t, base+"/v1/"+appParent+"/events:subscribe?filter.selectors=chat&position=START_POSITION_EARLIEST&heartbeatInterval=0.2s")
	ids, cursors, _ := s.events(t, 2)
	if fmt.Sprint(ids) != fmt.Sprint([]string{sent[0], sent[2]}) {
		t.Fatalf("chat events %v, want %v", ids, []string{sent[0], sent[2]})
	}
	var hb streamLine
	for hb = s.next(t); hb.Result == nil || hb.Result.Heartbeat == nil; hb = s.next(t) {
	}
	if hb.Result.Heartbeat.Scanned != "3" || hb.Result.Heartbeat.Head != "3" || hb.Result.Epoch == "" {
		t.Errorf("heartbeat %+v epoch %q: want head and scanned 3", hb.Result.Heartbeat, hb.Result.Epoch)
	}
	live := build(t, "chat:txt", trigger.Options{})[0]
	r.post(t, live)
	if ids, _, _ := s.events(t, 1); ids[0] != callIDOf(t, live) {
		t.Errorf("live event %s, want %s", ids[0], callIDOf(t, live))
	}

	// Resuming after the first cursor, with the epoch, in the full view.
	resumed := openNDJSON(t, base+"/v1/"+appParent+"/events:subscribe?filter.selectors=chat&afterCursor="+cursors[0]+"&epoch="+hb.Result.Epoch+"&view=EVENT_VIEW_FULL")
	if l := resumed.next(t); l.Result == nil || l.Result.Event == nil || l.Result.Event.CallID != sent[2] || l.Result.Event.Raw == "" {
		t.Fatalf("first resumed line %+v: want %s with its raw body", l, sent[2])
	}

	r.stop()
	for _, st := range []*ndjson{s, resumed} {
		var last streamLine
		for st.sc.Scan() {
			if err := json.Unmarshal(st.sc.Bytes(), &last); err != nil {
				t.Fatalf("line %q is not JSON: %v", st.sc.Text(), err)
			}
		}
		if last.Error == nil || last.Error.Code != 14 || len(last.Error.Details) == 0 || last.Error.Details[0].Reason != "SHUTTING_DOWN" {
			t.Errorf("last line %+v: want an UNAVAILABLE SHUTTING_DOWN error", last.Error)
		}
	}
	for _, forced := range []string{"graceful stop timed out", "HTTP shutdown cut requests"} {
		if strings.Contains(r.logs.String(), forced) {
			t.Errorf("shutdown with REST streams open was forced (%q)", forced)
		}
	}
}

// A subscription over REST: created, consumed by two NDJSON members,
// acknowledged with POST …:acknowledge; an event not acknowledged comes
// again with attempt 2.
func TestRESTSubscription(t *testing.T) {
	r := start(t, ingestConfig(t))
	base := "http://" + r.app.HTTPAddr().String()
	res := httpDo(t, http.MethodPost, base+"/v1/"+appParent+"/subscriptions?subscriptionId=workers",
		`{"filter": {"selectors": ["chat"]}, "ackDeadline": "3s", "maxDeliveryAttempts": 3}`, testKey)
	if res.code != http.StatusOK || !strings.Contains(res.body, `"name":"`+appParent+`/subscriptions/workers"`) {
		t.Fatalf("create: %d %s", res.code, res.body)
	}
	if res := httpDo(t, http.MethodPost, base+"/v1/"+appParent+"/subscriptions?subscriptionId=workers", `{}`, testKey); res.code != http.StatusConflict {
		t.Errorf("create again: %d %s, want 409", res.code, res.body)
	}
	var want []string
	for range 6 {
		body := build(t, "chat:txt", trigger.Options{})[0]
		r.post(t, body)
		want = append(want, callIDOf(t, body))
	}
	url := base + "/v1/" + appParent + "/subscriptions/workers/events:subscribe?maxOutstanding=2&heartbeatInterval=0.2s"
	a := openNDJSON(t, url)
	ids, cursors, attempts := a.events(t, 2)
	if fmt.Sprint(attempts) != "[1 1]" {
		t.Errorf("first attempts %v", attempts)
	}
	// Acknowledge the first only: the second comes again, at attempt 2.
	ack := func(cursors ...string) {
		res := httpDo(t, http.MethodPost, base+"/v1/"+appParent+"/subscriptions/workers:acknowledge",
			`{"cursors": ["`+strings.Join(cursors, `","`)+`"]}`, testKey)
		if res.code != http.StatusOK {
			t.Fatalf("acknowledge: %d %s", res.code, res.body)
		}
	}
	ack(cursors[0])
	got := map[string][]int{ids[0]: {1}, ids[1]: {1}}
	for len(got) < len(want) || len(got[ids[1]]) < 2 {
		more, cs, at := a.events(t, 1)
		got[more[0]] = append(got[more[0]], at[0])
		ack(cs[0])
	}
	if fmt.Sprint(got[ids[1]]) != "[1 2]" {
		t.Errorf("unacknowledged event: attempts %v, want [1 2]", got[ids[1]])
	}
	for _, id := range want {
		if len(got[id]) == 0 {
			t.Errorf("%s never delivered", id)
		}
	}
	testwait.For(t, time.Minute, 20*time.Millisecond, func() error {
		res := httpGet(t, base+"/v1/"+appParent+"/subscriptions/workers", testKey)
		if strings.Contains(res.body, `"unacknowledged"`) || strings.Contains(res.body, `"backlog"`) {
			return fmt.Errorf("subscription not drained: %s", res.body)
		}
		return nil
	})
}

// An event past its last delivery attempt is counted in the metric
// imbridge_subscription_events_abandoned_total of its subscription.
func TestAbandonedEventsAreCounted(t *testing.T) {
	r := start(t, ingestConfig(t))
	base := "http://" + r.app.HTTPAddr().String()
	if res := httpDo(t, http.MethodPost, base+"/v1/"+appParent+"/subscriptions?subscriptionId=once",
		`{"ackDeadline": "1s", "maxDeliveryAttempts": 1}`, testKey); res.code != http.StatusOK {
		t.Fatalf("create: %d %s", res.code, res.body)
	}
	r.post(t, build(t, "chat:txt", trigger.Options{})[0])
	s := openNDJSON(t, base+"/v1/"+appParent+"/subscriptions/once/events:subscribe")
	s.events(t, 1) // and never acknowledged
	want := `imbridge_subscription_events_abandoned_total{subscription="` + appParent + `/subscriptions/once"} 1`
	testwait.For(t, time.Minute, 20*time.Millisecond, func() error {
		if res := httpGet(t, base+"/metrics", ""); !strings.Contains(res.body, want) {
			return fmt.Errorf("no %s in /metrics", want)
		}
		return nil
	})
}

// A stream's response starts as soon as the stream is open, before any
// message: over REST the 200 and its content type, over gRPC the headers.
// A client of a quiet stream (here a filter nothing matches yet, with the
// longest heartbeat interval) knows at once that it is open, and an error
// that ends such a stream is its one line.
func TestStreamsStartBeforeTheirFirstMessage(t *testing.T) {
	r := start(t, ingestConfig(t))
	base := "http://" + r.app.HTTPAddr().String()
	if res := httpDo(t, http.MethodPost, base+"/v1/"+appParent+"/subscriptions?subscriptionId=kicks",
		`{"filter": {"selectors": ["muc:kick"]}}`, testKey); res.code != http.StatusOK {
		t.Fatalf("create subscription: %d %s", res.code, res.body)
	}
	// open waits for the response's headers, and fails if they wait for a
	// message: none comes before the 5-minute heartbeat.
	open := func(path string) *ndjson {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		t.Cleanup(cancel)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+testKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: no response before its first message: %v", path, err)
		}
		t.Cleanup(func() { _ = resp.Body.Close() })
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "application/json" {
			t.Fatalf("GET %s: %s, Content-Type %q; want 200 application/json", path, resp.Status, ct)
		}
		return &ndjson{resp: resp, sc: bufio.NewScanner(resp.Body)}
	}
	plain := open("/v1/" + appParent + "/events:subscribe?filter.selectors=muc:kick&heartbeatInterval=300s")
	member := open("/v1/" + appParent + "/subscriptions/kicks/events:subscribe?heartbeatInterval=300s")
	quiet := open("/v1/" + appParent + "/events:subscribe?filter.selectors=roster:add&heartbeatInterval=300s")

	ctx := ctxT(t)
	grpcStream, err := imbridgev1.NewEventServiceClient(r.conn).SubscribeEvents(withKey(ctx, testKey), &imbridgev1.SubscribeEventsRequest{
		Parent:            appParent,
		Filter:            &imbridgev1.EventFilter{Selectors: []string{"muc:kick"}},
		HeartbeatInterval: durationpb.New(5 * time.Minute),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := grpcStream.Header(); err != nil {
		t.Fatalf("gRPC stream: no headers before its first message: %v", err)
	}

	kick := build(t, "muc:kick", trigger.Options{})[0]
	if res := r.post(t, kick); res.code != http.StatusOK {
		t.Fatalf("post muc:kick: %d %s", res.code, res.body)
	}
	for name, s := range map[string]*ndjson{"plain": plain, "member": member} {
		if l := s.next(t); l.Result == nil || l.Result.Event == nil || l.Result.Event.CallID != callIDOf(t, kick) {
			t.Errorf("%s stream: first line %+v, want the kick", name, l)
		}
	}
	if msg, err := grpcStream.Recv(); err != nil || msg.GetEvent().GetCallId() != callIDOf(t, kick) {
		t.Errorf("gRPC stream: first message %v, %v; want the kick", msg, err)
	}

	r.stop()
	l := quiet.next(t)
	if l.Error == nil || l.Error.Code != 14 || len(l.Error.Details) == 0 || l.Error.Details[0].Reason != "SHUTTING_DOWN" {
		t.Errorf("quiet stream's line at shutdown %+v: want an UNAVAILABLE SHUTTING_DOWN error", l)
	}
	if strings.Contains(r.logs.String(), "superfluous") {
		t.Errorf("the gateway wrote a second status:\n%s", r.logs.String())
	}
}
