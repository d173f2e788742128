package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/imbridge/imbridge/gateway"
	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/eventlog"
	"github.com/imbridge/imbridge/internal/ingest"
	"github.com/imbridge/imbridge/server"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// stack is imbridge's gRPC server and HTTP gateway, built as internal/app
// builds them, on random loopback ports with the event log in a temp dir.
type stack struct {
	base   string // http://127.0.0.1:port
	events *eventlog.Log
}

func startStack(t *testing.T, opts gateway.Options) *stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	events, err := eventlog.Open(ctx, eventlog.Config{DataDir: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatalf("eventlog.Open: %v", err)
	}
	t.Cleanup(func() {
		if err := events.Close(); err != nil {
			t.Errorf("event log Close: %v", err)
		}
	})
	reg := prometheus.NewRegistry()
	srv, err := server.New(server.Options{
		Logger:     quiet,
		Keys:       server.NewAPIKeys(nil),
		Registerer: reg,
		Events:     &server.EventService{Store: events},
		Chatrooms:  &server.ChatroomService{},
	})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	grpcLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serve(t, func() error { return srv.Serve(grpcLis) }, func(ctx context.Context) error { srv.Shutdown(ctx); return nil })

	if opts.GRPCTarget == "" {
		opts.GRPCTarget = grpcLis.Addr().String()
	}
	opts.Logger, opts.Gatherer = quiet, reg
	gw, err := gateway.New(opts)
	if err != nil {
		t.Fatalf("gateway.New: %v", err)
	}
	ingester, err := ingest.New(nil, events, ingest.Options{Logger: quiet, Registerer: reg})
	if err != nil {
		t.Fatalf("ingest.New: %v", err)
	}
	// As internal/app registers it: POST only.
	if err := gw.HandlePath(http.MethodPost, gateway.WebhookPath, gateway.Webhook(ingester, gateway.WebhookOptions{MaxBodyBytes: 1 << 20, BodyReadTimeout: time.Minute})); err != nil {
		t.Fatalf("HandlePath: %v", err)
	}
	httpLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serve(t, func() error { return gw.Serve(httpLis) }, gw.Shutdown)
	return &stack{base: "http://" + httpLis.Addr().String(), events: events}
}

// serve runs run in a goroutine until the test ends, then stops it with
// stop and waits for run to return.
func serve(t *testing.T, run func() error, stop func(context.Context) error) {
	done := make(chan error, 1)
	go func() { done <- run() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := stop(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-ctx.Done():
			t.Errorf("serve did not return after shutdown")
		}
	})
}

type answer struct {
	code   int
	header http.Header
	body   string
}

var client = &http.Client{Timeout: 20 * time.Second}

func (s *stack) do(t *testing.T, method, path string) answer {
	t.Helper()
	return s.send(t, method, path, "")
}

// send sends a request with a JSON body (none when body is "").
func (s *stack) send(t *testing.T, method, path, body string) answer {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return answer{code: res.StatusCode, header: res.Header, body: string(b)}
}

func (s *stack) get(t *testing.T, path string) answer { return s.do(t, http.MethodGet, path) }

// stream GETs a stream that ends at once with an error. The error is
// either the whole answer or a line {"error": …} of the newline-delimited
// stream; stream returns it as a plain answer, to check its shape.
func (s *stack) stream(t *testing.T, path string) answer {
	t.Helper()
	a := s.get(t, path)
	var line struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal([]byte(strings.TrimSpace(a.body)), &line) == nil && line.Error != nil {
		a.body = string(line.Error)
	}
	return a
}

// statusJSON is the documented error shape.
type statusJSON struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Details []struct {
		Type     string            `json:"@type"`
		Reason   string            `json:"reason"`
		Domain   string            `json:"domain"`
		Metadata map[string]string `json:"metadata"`
	} `json:"details"`
}

// wantError checks that a is an error in the documented shape: HTTP status
// httpCode, gRPC code grpcCode, and exactly one ErrorInfo of domain
// imbridge.dev with reason and (a subset of) metadata.
func wantError(t *testing.T, what string, a answer, httpCode, grpcCode int, reason string, metadata map[string]string) statusJSON {
	t.Helper()
	if a.code != httpCode {
		t.Errorf("%s: HTTP %d %s, want %d", what, a.code, a.body, httpCode)
	}
	if ct := a.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: Content-Type %q, want application/json", what, ct)
	}
	var st statusJSON
	dec := json.NewDecoder(strings.NewReader(a.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		t.Fatalf("%s: body %s is not a status: %v", what, a.body, err)
	}
	if st.Code != grpcCode {
		t.Errorf("%s: code %d, want %d", what, st.Code, grpcCode)
	}
	if st.Message == "" {
		t.Errorf("%s: empty message", what)
	}
	checkMessage(t, what, st.Message)
	if len(st.Details) != 1 {
		t.Fatalf("%s: details %+v, want one ErrorInfo", what, st.Details)
	}
	d := st.Details[0]
	if d.Type != "type.googleapis.com/google.rpc.ErrorInfo" || d.Domain != server.ErrorDomain || d.Reason != reason {
		t.Errorf("%s: detail %+v, want ErrorInfo %s in %s", what, d, reason, server.ErrorDomain)
	}
	for k, v := range metadata {
		if got := d.Metadata[k]; got != v {
			t.Errorf("%s: metadata[%q] = %q, want %q", what, k, got, v)
		}
	}
	return st
}

// checkMessage fails on Go internals in a message meant for people.
func checkMessage(t *testing.T, what, msg string) {
	t.Helper()
	for _, bad := range []string{"strconv.", "invalid syntax", "imbridgev1", "*imbridge", "proto:", "type mismatch", "Go value"} {
		if strings.Contains(msg, bad) {
			t.Errorf("%s: message %q contains %q", what, msg, bad)
		}
	}
}

func TestEmptyListIsAnEmptyArray(t *testing.T) {
	t.Parallel()
	s := startStack(t, gateway.Options{})
	for _, path := range []string{"/v1/orgs/-/apps/-/events", "/v1/orgs/acme/apps/chat/events"} {
		a := s.get(t, path)
		if a.code != http.StatusOK || a.body != `{"events":[]}` {
			t.Errorf("GET %s on an empty log = %d %s, want 200 {\"events\":[]}", path, a.code, a.body)
		}
	}
}

func newEvent(callID string, typ imbridgev1.EventType, name string) *imbridgev1.Event {
	return &imbridgev1.Event{
		CallId:        callID,
		EventType:     typ,
		EventTypeName: name,
		VendorTime:    timestamppb.New(time.UnixMilli(1700000000000)),
		Sender:        "alice",
		Recipient:     "bob",
		MsgId:         "msg-" + callID,
		Appkey:        "org#app",
		ChatType:      "chat",
		ReceiveTime:   timestamppb.Now(),
		Selector:      "chat:txt",
		RawBody:       []byte(`{"callId":"` + callID + `"}`),
	}
}

type listJSON struct {
	Events []struct {
		Cursor        string `json:"cursor"`
		CallID        string `json:"callId"`
		EventType     string `json:"eventType"`
		EventTypeName string `json:"eventTypeName"`
	} `json:"events"`
	NextPageToken string `json:"nextPageToken"`
}

func TestEnumFilterAcceptsWhatEventsShow(t *testing.T) {
	t.Parallel()
	s := startStack(t, gateway.Options{})
	for _, ev := range []*imbridgev1.Event{
		newEvent("org#app_chat", imbridgev1.EventType_EVENT_TYPE_CHAT, "chat"),
		newEvent("org#app_alert", imbridgev1.EventType_EVENT_TYPE_KEYWORD_ALERT, "keyword_alert"),
	} {
		if _, _, err := s.events.Append(t.Context(), ev); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	for _, v := range []string{"keyword_alert", "KEYWORD_ALERT", "Keyword_Alert", "EVENT_TYPE_KEYWORD_ALERT", "event_type_keyword_alert", "3"} {
		for _, key := range []string{"filter.eventTypes", "filter.event_types"} {
			a := s.get(t, "/v1/orgs/org/apps/app/events?"+key+"="+v)
			var l listJSON
			if err := json.Unmarshal([]byte(a.body), &l); err != nil || a.code != http.StatusOK {
				t.Fatalf("%s=%s: %d %s (%v)", key, v, a.code, a.body, err)
			}
			if len(l.Events) != 1 || l.Events[0].CallID != "org#app_alert" || l.Events[0].EventType != "EVENT_TYPE_KEYWORD_ALERT" {
				t.Errorf("%s=%s: %s, want only the keyword alert", key, v, a.body)
			}
		}
	}
	// Two types, and another enum (order) in its short form.
	a := s.get(t, "/v1/orgs/-/apps/-/events?filter.eventTypes=chat&filter.eventTypes=keyword_alert&order=oldest_first")
	var l listJSON
	if err := json.Unmarshal([]byte(a.body), &l); err != nil || a.code != http.StatusOK {
		t.Fatalf("two types: %d %s (%v)", a.code, a.body, err)
	}
	if len(l.Events) != 2 || l.Events[0].CallID != "org#app_chat" || l.Events[1].CallID != "org#app_alert" {
		t.Errorf("two types, oldest first: %s", a.body)
	}
	// A non-empty list is protojson's output: no empty lists added inside
	// events, no "events" twice.
	if strings.Contains(a.body, "[]") || strings.Count(a.body, `"events"`) != 1 {
		t.Errorf("list with events: %s", a.body)
	}

	st := wantError(t, "unknown event type", s.get(t, "/v1/orgs/-/apps/-/events?filter.eventTypes=keyword"),
		http.StatusBadRequest, 3, gateway.ReasonInvalidArgument, map[string]string{"field": "filter.eventTypes"})
	for _, want := range []string{"filter.eventTypes:", "chat, chat_offline, keyword_alert, other", `"keyword"`} {
		if !strings.Contains(st.Message, want) {
			t.Errorf("unknown event type: message %q, want it to contain %q", st.Message, want)
		}
	}
}

func TestErrorsCarryErrorInfo(t *testing.T) {
	t.Parallel()
	s := startStack(t, gateway.Options{})
	cases := []struct {
		name, method, path string
		http, code         int
		reason             string
		metadata           map[string]string
		message            string
	}{
		{"unknown path", "GET", "/v1/nothing/here", 404, 5, gateway.ReasonNotFound, map[string]string{"path": "/v1/nothing/here"}, ""},
		{"unknown verb", "GET", "/v1/events:nothing", 404, 5, gateway.ReasonNotFound, map[string]string{"path": "/v1/events:nothing"}, ""},
		{"bad cursor", "GET", "/v1/events/abc", 400, 3, gateway.ReasonInvalidArgument, map[string]string{"field": "cursor"}, `cursor: want a positive integer, got "abc"`},
		{"negative cursor", "GET", "/v1/events/-1", 400, 3, gateway.ReasonInvalidArgument, map[string]string{"field": "cursor"}, `cursor: want a positive integer, got "-1"`},
		{"bad page size", "GET", "/v1/orgs/-/apps/-/events?pageSize=x", 400, 3, gateway.ReasonInvalidArgument, map[string]string{"field": "pageSize"}, `pageSize: want an integer, got "x"`},
		{"bad page_size", "GET", "/v1/orgs/-/apps/-/events?page_size=x", 400, 3, gateway.ReasonInvalidArgument, map[string]string{"field": "page_size"}, `page_size: want an integer, got "x"`},
		{"page size too large", "GET", "/v1/orgs/-/apps/-/events?pageSize=99999999999", 400, 3, gateway.ReasonInvalidArgument, map[string]string{"field": "pageSize"}, `pageSize: want an integer from -2147483648 to 2147483647, got "99999999999"`},
		{"two page sizes", "GET", "/v1/orgs/-/apps/-/events?pageSize=1&pageSize=2", 400, 3, gateway.ReasonInvalidArgument, map[string]string{"field": "pageSize"}, "pageSize: want one value, got 2"},
		{"page size twice", "GET", "/v1/orgs/-/apps/-/events?pageSize=1&page_size=2", 400, 3, gateway.ReasonInvalidArgument, map[string]string{"field": "page_size"}, "page_size: set twice, as pageSize and as page_size"},
		{"bad time", "GET", "/v1/orgs/-/apps/-/events?startTime=yesterday", 400, 3, gateway.ReasonInvalidArgument, map[string]string{"field": "startTime"}, `startTime: want an RFC 3339 time such as 2025-01-31T15:04:05Z, got "yesterday"`},
		{"bad order", "GET", "/v1/orgs/-/apps/-/events?order=sideways", 400, 3, gateway.ReasonInvalidArgument, map[string]string{"field": "order"}, `order: want one of newest_first, oldest_first, got "sideways"`},
		{"subfield of a scalar", "GET", "/v1/orgs/-/apps/-/events?pageSize.x=1", 400, 3, gateway.ReasonInvalidArgument, map[string]string{"field": "pageSize.x"}, ""},
		{"misspelt parameter", "GET", "/v1/orgs/-/apps/-/events?pagesize=3", 400, 3, gateway.ReasonInvalidArgument, map[string]string{"field": "pagesize"}, "pagesize: no such parameter; this call takes parent, filter, pageSize, pageToken, order, startTime, endTime, view"},
		{"misspelt field of a parameter", "GET", "/v1/orgs/-/apps/-/events?filter.selector=muc", 400, 3, gateway.ReasonInvalidArgument, map[string]string{"field": "filter.selector"}, ""},
		{"misspelt parameter as a map entry", "GET", "/v1/orgs/-/apps/-/events?filter.selector[0]=muc", 400, 3, gateway.ReasonInvalidArgument, map[string]string{"field": "filter.selector[0]"}, "filter.selector[0]: no such parameter; filter has the fields selectors, sender, recipient, groupId, eventTypes, roomKind, msgId"},
		{"map entry of a scalar", "GET", "/v1/orgs/-/apps/-/events?pageSize[x]=3", 400, 3, gateway.ReasonInvalidArgument, map[string]string{"field": "pageSize[x]"}, "pageSize[x]: pageSize is not a map: set it as pageSize=…"},
		{"message as a value", "GET", "/v1/orgs/-/apps/-/events?filter=x", 400, 3, gateway.ReasonInvalidArgument, map[string]string{"field": "filter"}, "filter: want its fields set one at a time, as filter.<field>=…"},
		{"bad call id lookup param", "GET", "/v1/events:lookup?cursor=x", 400, 3, gateway.ReasonInvalidArgument, map[string]string{"field": "cursor"}, `cursor: want a positive integer, got "x"`},
		// Routes with every field in the path or the body, whose handlers
		// read no query.
		{"parameter of a call that takes none", "GET", "/v1/orgs/o/apps/a/subscriptions/s?bogus=1&also=2", 400, 3, gateway.ReasonInvalidArgument, map[string]string{"field": "also"}, "also: no such parameter; this call takes no query parameters"},
		{"parameter of a custom method", "POST", "/v1/orgs/o/apps/a/subscriptions/s:acknowledge?bogus=1", 400, 3, gateway.ReasonInvalidArgument, map[string]string{"field": "bogus"}, ""},
		{"parameter of a delete", "DELETE", "/v1/orgs/o/apps/a/chatrooms/c/members/dave?bogus=1", 400, 3, gateway.ReasonInvalidArgument, map[string]string{"field": "bogus"}, ""},
		{"paging a list that does not page", "GET", "/v1/orgs/o/apps/a/subscriptions?pageSize=2", 400, 3, gateway.ReasonInvalidArgument, map[string]string{"field": "pageSize"}, ""},
		{"parameter of status", "GET", "/v1/status?bogus=1", 400, 3, gateway.ReasonInvalidArgument, map[string]string{"field": "bogus"}, ""},
		// From the server, with its own ErrorInfo, unchanged.
		{"no such event", "GET", "/v1/events/999", 404, 5, server.ReasonEventNotFound, map[string]string{"cursor": "999"}, ""},
		{"bad selector", "GET", "/v1/orgs/-/apps/-/events?filter.selectors=nope:nope", 400, 3, server.ReasonInvalidArgument, nil, ""},
		{"parent half every app", "GET", "/v1/orgs/-/apps/chat/events", 400, 3, server.ReasonInvalidArgument, map[string]string{"field": "parent"}, ""},
		// The old listing path is gone: events are listed by app.
		{"list without parent", "GET", "/v1/events", 404, 5, gateway.ReasonNotFound, map[string]string{"path": "/v1/events"}, ""},
		// Not built yet: UNIMPLEMENTED gets its code's name as reason.
		{"unimplemented", "GET", "/v1/orgs/o/apps/a/chatrooms/c", 501, 12, "UNIMPLEMENTED", nil, ""},
		// The webhook is POST only.
		{"webhook GET", "GET", gateway.WebhookPath, 405, 12, gateway.ReasonMethodNotAllowed, map[string]string{"method": "GET"}, ""},
		{"list DELETE", "DELETE", "/v1/orgs/-/apps/-/events", 405, 12, gateway.ReasonMethodNotAllowed, map[string]string{"method": "DELETE"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := wantError(t, c.method+" "+c.path, s.do(t, c.method, c.path), c.http, c.code, c.reason, c.metadata)
			if c.message != "" && st.Message != c.message {
				t.Errorf("message %q, want %q", st.Message, c.message)
			}
		})
	}
}

// HEAD is answered as GET, without the body, as uptime monitors probe.
func TestHeadIsAnsweredAsGet(t *testing.T) {
	t.Parallel()
	s := startStack(t, gateway.Options{})
	for _, path := range []string{"/healthz", "/openapi.json", "/v1/orgs/-/apps/-/events", "/docs"} {
		get, head := s.do(t, http.MethodGet, path), s.do(t, http.MethodHead, path)
		if head.code != get.code || head.code != http.StatusOK || head.body != "" || head.header.Get("Content-Type") != get.header.Get("Content-Type") {
			t.Errorf("HEAD %s: %d %q (%s), want GET's %d and %s with no body", path, head.code, head.body, head.header.Get("Content-Type"), get.code, get.header.Get("Content-Type"))
		}
	}
}

func TestMethodNotAllowedListsAllowedMethods(t *testing.T) {
	t.Parallel()
	s := startStack(t, gateway.Options{})
	for path, allow := range map[string]string{
		gateway.WebhookPath:             "POST",
		"/v1/orgs/-/apps/-/events":      "GET",
		"/v1/events/1":                  "GET",
		"/v1/orgs/o/apps/a/chatrooms/c": "GET, PATCH, DELETE",
		// Custom methods: a route without a verb, {name=…/chatrooms/*},
		// must not take the verb for part of its name.
		"/v1/orgs/o/apps/a/chatrooms/c:muteAll":         "POST",
		"/v1/orgs/o/apps/a/subscriptions/s:acknowledge": "POST",
	} {
		for _, method := range []string{http.MethodPut, http.MethodGet} {
			if strings.Contains(allow, method) {
				continue
			}
			a := s.do(t, method, path)
			wantError(t, method+" "+path, a, http.StatusMethodNotAllowed, 12, gateway.ReasonMethodNotAllowed, map[string]string{"method": method})
			if got := a.header.Get("Allow"); got != allow {
				t.Errorf("%s %s: Allow %q, want %q", method, path, got, allow)
			}
		}
	}
}

func TestStreamErrorCarriesErrorInfo(t *testing.T) {
	t.Parallel()
	s := startStack(t, gateway.Options{})
	// An error of the server's stream: a cursor of another log.
	wantError(t, "subscribe with another log's cursor", s.stream(t, "/v1/orgs/acme/apps/chat/events:subscribe?afterCursor=5&epoch=another-log"),
		http.StatusBadRequest, 9, server.ReasonEpochMismatch, map[string]string{"epoch": s.events.Epoch(), "after_cursor": "5"})

	// A parent that is not one app nor every app, from the server.
	st := wantError(t, "subscribe with half a wildcard", s.stream(t, "/v1/orgs/acme/apps/-/events:subscribe"),
		http.StatusBadRequest, 3, server.ReasonInvalidArgument, map[string]string{"field": "parent"})
	if !strings.Contains(st.Message, "parent") {
		t.Errorf("half a wildcard: message %q, want it to name parent", st.Message)
	}
	// Parameters that do not parse, from the gateway.
	wantError(t, "subscribe with a bad cursor", s.stream(t, "/v1/orgs/-/apps/-/events:subscribe?afterCursor=x"),
		http.StatusBadRequest, 3, gateway.ReasonInvalidArgument, map[string]string{"field": "afterCursor"})
	st = wantError(t, "subscribe with two starts", s.stream(t, "/v1/orgs/-/apps/-/events:subscribe?afterCursor=1&position=latest"),
		http.StatusBadRequest, 3, gateway.ReasonInvalidArgument, map[string]string{"field": "position"})
	if !strings.Contains(st.Message, "set only one of position, afterCursor, startTime") {
		t.Errorf("two starts: message %q", st.Message)
	}
	// The old path, without an app, is no route.
	wantError(t, "subscribe without parent", s.stream(t, "/v1/events:subscribe?position=earliest"),
		http.StatusNotFound, 5, gateway.ReasonNotFound, nil)
}

// A stream over HTTP is newline-delimited JSON: one {"result": …} line per
// message, an event or a heartbeat, each with the log's epoch.
func TestStreamIsNewlineDelimitedJSON(t *testing.T) {
	t.Parallel()
	s := startStack(t, gateway.Options{})
	if _, _, err := s.events.Append(t.Context(), newEvent("org#app_1", imbridgev1.EventType_EVENT_TYPE_CHAT, "chat")); err != nil {
		t.Fatalf("Append: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		s.base+"/v1/orgs/org/apps/app/events:subscribe?position=earliest&heartbeatInterval=100ms&view=full", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("subscribe: %d %s", res.StatusCode, b)
	}
	dec := json.NewDecoder(res.Body)
	var msgs [2]struct {
		Result struct {
			Epoch string `json:"epoch"`
			Event *struct {
				CallID    string `json:"callId"`
				Sender    string `json:"sender"`
				Recipient string `json:"recipient"`
				RawBody   string `json:"rawBody"`
			} `json:"event"`
			Heartbeat *struct {
				HeadCursor    string `json:"headCursor"`
				ScannedCursor string `json:"scannedCursor"`
			} `json:"heartbeat"`
		} `json:"result"`
	}
	for i := range msgs {
		if err := dec.Decode(&msgs[i]); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if msgs[i].Result.Epoch != s.events.Epoch() {
			t.Errorf("message %d: epoch %q, want the log's %q", i, msgs[i].Result.Epoch, s.events.Epoch())
		}
	}
	ev, hb := msgs[0].Result.Event, msgs[1].Result.Heartbeat
	if ev == nil || ev.CallID != "org#app_1" || ev.Sender != "alice" || ev.Recipient != "bob" || ev.RawBody == "" {
		t.Errorf("first message %+v, want the stored event with its raw body", msgs[0].Result)
	}
	if hb == nil || hb.HeadCursor != "1" || hb.ScannedCursor != "1" {
		t.Errorf("second message %+v, want a heartbeat at cursor 1", msgs[1].Result)
	}
}

// An error raised in the gateway without an ErrorInfo (here: the gRPC
// server cannot be reached) gets one named after its code.
// A body that is not JSON at all, or not the request's, is an
// INVALID_ARGUMENT naming the field "body".
func TestBadBodyNamesTheBody(t *testing.T) {
	t.Parallel()
	s := startStack(t, gateway.Options{})
	for _, body := range []string{`{"filter": {`, `not json`, `{"nothing":1}`} {
		a := s.send(t, http.MethodPost, "/v1/orgs/acme/apps/chat/subscriptions?subscriptionId=billing", body)
		st := wantError(t, "body "+body, a, http.StatusBadRequest, 3, server.ReasonInvalidArgument, map[string]string{"field": "body"})
		if !strings.HasPrefix(st.Message, "body: ") {
			t.Errorf("body %s: message %q, want it to name the body", body, st.Message)
		}
	}
}

func TestGatewaySideErrorGetsErrorInfo(t *testing.T) {
	t.Parallel()
	// A listener that hangs up on every connection: not a gRPC server, and
	// its port stays taken until the test ends.
	hangUp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serve(t, func() error {
		for {
			c, err := hangUp.Accept()
			if err != nil {
				return nil
			}
			_ = c.Close()
		}
	}, func(context.Context) error { return hangUp.Close() })
	s := startStack(t, gateway.Options{GRPCTarget: hangUp.Addr().String()})
	wantError(t, "gRPC server down", s.get(t, "/v1/orgs/-/apps/-/events"), http.StatusServiceUnavailable, 14, "UNAVAILABLE", nil)
}

func TestReadHeaderTimeout(t *testing.T) {
	t.Parallel()
	s := startStack(t, gateway.Options{ReadHeaderTimeout: 50 * time.Millisecond})
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	// Headers never end: the server closes the connection after
	// ReadHeaderTimeout, far before this bound (the default is 10s, the
	// bound 30s only guards against a hang).
	if err := conn.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open: ReadHeaderTimeout not applied")
	}
}

// A REST call's body is bounded before it is read, and so before the call's
// API key is checked: one declared larger than MaxRequestBytes is refused
// unread, one that grows larger (chunked) as soon as it does. The webhook
// keeps its own bound and its own answer.
func TestRESTBodiesAreBounded(t *testing.T) {
	t.Parallel()
	s := startStack(t, gateway.Options{})
	big := `{"displayName":"` + strings.Repeat("a", gateway.MaxRequestBytes) + `"}`
	path := "/v1/orgs/demo/apps/app/chatrooms"
	wantError(t, "declared", s.send(t, http.MethodPost, path, big), 400, 3, gateway.ReasonInvalidArgument, map[string]string{"field": "body"})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.base+path, io.MultiReader(strings.NewReader(big)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := client.Do(req) // no Content-Length: sent chunked
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	wantError(t, "chunked", answer{code: res.StatusCode, header: res.Header, body: string(b)}, 400, 3, gateway.ReasonInvalidArgument, map[string]string{"field": "body"})
	if a := s.send(t, http.MethodPost, gateway.WebhookPath, big); a.code != http.StatusRequestEntityTooLarge || !strings.Contains(a.body, `"result"`) {
		t.Errorf("webhook: %d %s, want its own 413", a.code, a.body)
	}
}

// HEAD on a stream route is answered at once, headers only, and ends the
// stream: the connection it came on then serves the client's next request
// (net/http drops the body of an answer to HEAD, so a stream left running
// would never fail a write, and would hold the connection).
func TestHeadOnAStreamFreesItsConnection(t *testing.T) {
	t.Parallel()
	s := startStack(t, gateway.Options{})
	tr := &http.Transport{MaxConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // only turns a hang into a failure
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodHead, s.base+"/v1/orgs/-/apps/-/events:subscribe", nil)
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("HEAD: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("HEAD: %s, want 200", res.Status)
	}
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/healthz", nil)
	res, err = c.Do(req)
	if err != nil {
		t.Fatalf("GET /healthz after HEAD on a stream, same client: %v", err)
	}
	res.Body.Close()
}

// A body that arrived whole and in time but is wrong (a field whose name
// holds "i/o timeout") is answered with what is wrong with it, not as a
// body too slow to arrive.
func TestBodyErrorNamingIOTimeoutIsNotADeadline(t *testing.T) {
	t.Parallel()
	s := startStack(t, gateway.Options{BodyReadTimeout: time.Minute})
	for _, body := range []string{`{"i/o timeout": 1}`, `{"filter": {"selectors": 5}, "i/o timeout": 1}`} {
		a := s.send(t, http.MethodPost, "/v1/orgs/acme/apps/chat/subscriptions?subscriptionId=billing", body)
		st := wantError(t, "body "+body, a, http.StatusBadRequest, 3, server.ReasonInvalidArgument, map[string]string{"field": "body"})
		if strings.Contains(st.Message, "not received in time") {
			t.Errorf("body %s, sent at once: message %q blames the body's arrival", body, st.Message)
		}
	}
}

// HEAD on a member stream of a shared subscription answers its headers and
// ends: it must not take events from the subscription (they would be
// withheld from every member until the ack deadline, and their delivery
// attempts spent).
func TestHeadOnAMemberStreamTakesNoEvents(t *testing.T) {
	t.Parallel()
	s := startStack(t, gateway.Options{})
	for i := range 20 {
		if _, _, err := s.events.Append(t.Context(), newEvent(fmt.Sprintf("org#app_%d", i), imbridgev1.EventType_EVENT_TYPE_CHAT, "chat")); err != nil {
			t.Fatal(err)
		}
	}
	a := s.send(t, http.MethodPost, "/v1/orgs/org/apps/app/subscriptions?subscriptionId=work", `{"startPosition":"START_POSITION_EARLIEST","ackDeadline":"600s"}`)
	if a.code != http.StatusOK {
		t.Fatalf("create: %d %s", a.code, a.body)
	}
	path := "/v1/orgs/org/apps/app/subscriptions/work/events:subscribe"
	for range 10 {
		if h := s.do(t, http.MethodHead, path); h.code != http.StatusOK {
			t.Fatalf("HEAD: %d", h.code)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // only turns a hang into a failure
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+path, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	got := 0
	for got < 20 && sc.Scan() {
		var line struct {
			Result struct {
				Event           *struct{ Cursor string } `json:"event"`
				DeliveryAttempt int                      `json:"deliveryAttempt"`
			} `json:"result"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.Result.Event == nil {
			continue
		}
		got++
	}
	if got < 20 {
		t.Errorf("a member opened after 10 HEADs got %d of the 20 events (ack deadline 600s): the HEADs took the rest", got)
	}
}
