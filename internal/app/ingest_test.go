package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/callback"
	"github.com/imbridge/imbridge/internal/config"
	"github.com/imbridge/imbridge/internal/selector"
	"github.com/imbridge/imbridge/internal/trigger"
)

const (
	appkey = "acme#chat"
	secret = "callback-secret-1"
	// appParent is appkey's resource name, the parent of its events.
	appParent = "orgs/acme/apps/chat"
	// allApps is the parent of every app's events.
	allApps = "orgs/-/apps/-"
)

func ingestConfig(t *testing.T) config.Config {
	cfg := testConfig(t)
	cfg.Apps = []config.App{{Appkey: appkey, Secrets: []string{"old-secret", secret}}}
	return cfg
}

func (r *running) post(t *testing.T, body []byte) httpResult {
	t.Helper()
	return httpDo(t, http.MethodPost, "http://"+r.app.HTTPAddr().String()+"/v1/callbacks/easemob", string(body), "")
}

// list lists the events of every app that filter chooses, oldest first.
func (r *running) list(t *testing.T, filter *imbridgev1.EventFilter) []*imbridgev1.Event {
	t.Helper()
	return r.listIn(t, allApps, filter)
}

// listIn is list in parent: one app, or every app.
func (r *running) listIn(t *testing.T, parent string, filter *imbridgev1.EventFilter) []*imbridgev1.Event {
	t.Helper()
	resp, err := imbridgev1.NewEventServiceClient(r.conn).ListEvents(withKey(ctxT(t), testKey),
		&imbridgev1.ListEventsRequest{Parent: parent, Filter: filter, PageSize: 1000, Order: imbridgev1.ListOrder_LIST_ORDER_OLDEST_FIRST})
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	return resp.GetEvents()
}

func build(t *testing.T, sel string, o trigger.Options) [][]byte {
	t.Helper()
	if o.Appkey == "" {
		o.Appkey, o.Secret = appkey, secret
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	bodies, err := trigger.Build(sel, o)
	if err != nil {
		t.Fatal(err)
	}
	return bodies
}

// A signed callback of every selector is answered 200 and read back as the
// right typed event with the right selector.
func TestEveryFamilyIsStoredAndReadBack(t *testing.T) {
	r := start(t, ingestConfig(t))
	for _, sel := range selector.List() {
		bodies := build(t, sel, trigger.Options{})
		for _, body := range bodies {
			if res := r.post(t, body); res.code != http.StatusOK || !strings.Contains(res.body, `"stored"`) {
				t.Fatalf("%s: POST = %d %s", sel, res.code, res.body)
			}
		}
		last := bodies[len(bodies)-1]
		cb, _ := callback.Parse(last)
		resp, err := imbridgev1.NewEventServiceClient(r.conn).GetEvent(withKey(ctxT(t), testKey), &imbridgev1.GetEventRequest{CallId: cb.CallID()})
		if err != nil {
			t.Fatalf("%s: GetEvent by call id: %v", sel, err)
		}
		ev := resp.GetEvent()
		if ev.GetSelector() != sel || ev.GetCallId() != cb.CallID() || !bytes.Equal(ev.GetRawBody(), last) ||
			ev.GetVerification() != imbridgev1.Verification_VERIFICATION_SIGNED || ev.GetCursor() == 0 {
			t.Errorf("%s: stored %s callId %q cursor %d verification %v", sel, ev.GetSelector(), ev.GetCallId(), ev.GetCursor(), ev.GetVerification())
		}
		listed := false
		for _, e := range r.list(t, &imbridgev1.EventFilter{Selectors: []string{sel}}) {
			listed = listed || e.GetCursor() == ev.GetCursor()
			if e.GetSelector() != sel {
				t.Errorf("%s: listing returned a %s event", sel, e.GetSelector())
			}
		}
		if !listed {
			t.Errorf("%s: ListEvents with its selector does not return it", sel)
		}
		oneof := ev.ProtoReflect().Descriptor().Oneofs().ByName("body")
		if got, want := ev.ProtoReflect().WhichOneof(oneof), typedBody(sel); got == nil || string(got.Name()) != want {
			t.Errorf("%s: typed body %v, want %s", sel, got, want)
		}
	}
	// Whole families and * choose what they should.
	// Every muc selector, and the 9 chatroom presences sent before chatroom messages.
	mucs := 0
	for _, s := range selector.List() {
		if strings.HasPrefix(s, "muc:") {
			mucs++
		}
	}
	if n := len(r.list(t, &imbridgev1.EventFilter{Selectors: []string{"muc"}})); n != mucs+9 {
		t.Errorf("family muc: %d events, want %d", n, mucs+9)
	}
	if n := len(r.listIn(t, appParent, &imbridgev1.EventFilter{Selectors: []string{"*"}})); n != len(selector.List())+9 {
		t.Errorf("*: %d events, want %d", n, len(selector.List())+9)
	}
	if n := len(r.listIn(t, "orgs/other/apps/app", &imbridgev1.EventFilter{Selectors: []string{"*"}})); n != 0 {
		t.Errorf("*, another app: %d events, want 0", n)
	}
}

func typedBody(sel string) string {
	family, _, _ := strings.Cut(sel, ":")
	switch family {
	case "chat", "groupchat", "chatroom":
		return "message"
	case "userStatus":
		return "user_status"
	}
	switch sel {
	case "muc:disable", "muc:enable", "muc:add_super_admin", "muc:remove_super_admin":
		return "group_op" // only the current format has these
	}
	return family
}

// The same call over REST: what was stored can be inspected with curl.
func TestEventsOverREST(t *testing.T) {
	r := start(t, ingestConfig(t))
	body := build(t, "chat:txt", trigger.Options{})[0]
	if res := r.post(t, body); res.code != http.StatusOK {
		t.Fatalf("POST = %d %s", res.code, res.body)
	}
	cb, _ := callback.Parse(body)
	base := "http://" + r.app.HTTPAddr().String()
	res := httpGet(t, base+"/v1/"+appParent+"/events?filter.selectors=chat:txt", testKey)
	var list imbridgev1.ListEventsResponse
	if err := protojson.Unmarshal([]byte(res.body), &list); err != nil || len(list.GetEvents()) != 1 {
		t.Fatalf("GET /v1/%s/events = %d %s (%v)", appParent, res.code, res.body, err)
	}
	if !strings.Contains(res.body, `"selector":"chat:txt"`) || !strings.Contains(res.body, `"callId":"`+cb.CallID()+`"`) || !strings.Contains(res.body, `"txt":{"msg":"rr"}`) {
		t.Errorf("event JSON lacks selector, callId or typed body: %s", res.body)
	}
	cursor := list.GetEvents()[0].GetCursor()
	for _, path := range []string{fmt.Sprintf("/v1/events/%d", cursor), "/v1/events:lookup?call_id=" + strings.ReplaceAll(cb.CallID(), "#", "%23")} {
		res := httpGet(t, base+path, testKey)
		var ev imbridgev1.Event
		if err := protojson.Unmarshal([]byte(res.body), &ev); err != nil || ev.GetCursor() != cursor {
			t.Errorf("GET %s = %d %s", path, res.code, res.body)
		}
	}
	if res := httpGet(t, base+"/v1/events/999999", testKey); res.code != http.StatusNotFound {
		t.Errorf("GET a missing cursor = %d, want 404", res.code)
	}
	if res := httpGet(t, base+"/v1/orgs/-/apps/-/events?filter.selectors=chat:text", testKey); res.code != http.StatusBadRequest || !strings.Contains(res.body, "chat:text") {
		t.Errorf("GET with a bad selector = %d %s, want 400 naming it", res.code, res.body)
	}
}

func TestBadInput(t *testing.T) {
	cfg := ingestConfig(t)
	cfg.Webhook.MaxBodyBytes = 64 << 10
	r := start(t, cfg)
	good := build(t, "chat:txt", trigger.Options{})[0]
	var m map[string]any
	_ = json.Unmarshal(good, &m)
	with := func(key string, v any) []byte {
		c := map[string]any{}
		for k, x := range m {
			c[k] = x
		}
		if v == nil {
			delete(c, key)
		} else {
			c[key] = v
		}
		b, _ := json.Marshal(c)
		return b
	}
	sig := m["security"].(string)
	cases := []struct {
		name string
		body []byte
		code int
	}{
		{"malformed JSON", []byte(`{"callId": "x",`), 400},
		{"not an object", []byte(`["callId"]`), 400},
		// Nesting past callback.MaxDepth: refused as malformed, signed or
		// not, before anything recurses into it.
		{"deeply nested JSON, signed", append(bytes.TrimSuffix(with("payload", nil), []byte("}")), `,"payload":`+strings.Repeat(`[`, 12000)+strings.Repeat(`]`, 12000)+`}`...), 400},
		{"deeply nested JSON, no appkey", []byte(`{"callId":"n","payload":` + strings.Repeat(`[`, 12000) + strings.Repeat(`]`, 12000) + `}`), 400},
		{"body over the limit", bytes.Repeat([]byte(" "), 65<<10), 413},
		{"missing callId", with("callId", nil), 400},
		{"wrong signature", with("security", strings.Repeat("0", 32)), 401},
		{"empty signature", with("security", ""), 401},
		{"missing signature", with("security", nil), 401},
		{"truncated signature", with("security", sig[:31]), 401},
		{"signature of another secret", build(t, "chat:txt", trigger.Options{Appkey: appkey, Secret: "not-it"})[0], 401},
		{"tampered body", bytes.Replace(good, []byte(`"rr"`), []byte(`"RR"`), 1), 200}, // the signature covers callId+timestamp only
		{"unknown appkey", with("appkey", "evil#app"), 401},
		{"missing appkey", with("appkey", nil), 401},
		{"upper-case hex signature", with("security", strings.ToUpper(sig)), 200},
	}
	for _, c := range cases {
		res := r.post(t, c.body)
		if res.code != c.code {
			t.Errorf("%s: %d %s, want %d", c.name, res.code, res.body, c.code)
		}
		if len(res.body) > 1000 {
			t.Errorf("%s: answer of %d bytes; the vendor counts over 1,000 as a failure", c.name, len(res.body))
		}
	}
	// Only the two accepted bodies share the one callId: stored once.
	if got := r.list(t, nil); len(got) != 1 {
		t.Errorf("%d events stored, want 1", len(got))
	}
}

// The vendor retries: the same callId 100 times is answered 200 each time
// and stored once, and still once after a restart.
func TestSameCallIDStoredOnce(t *testing.T) {
	cfg := ingestConfig(t)
	r := start(t, cfg)
	body := build(t, "muc:kick", trigger.Options{})[0]
	results := map[string]int{}
	for i := 0; i < 100; i++ {
		res := r.post(t, body)
		if res.code != http.StatusOK {
			t.Fatalf("delivery %d: %d %s", i, res.code, res.body)
		}
		var a struct{ Result string }
		_ = json.Unmarshal([]byte(res.body), &a)
		results[a.Result]++
	}
	if results["stored"] != 1 || results["duplicate"] != 99 {
		t.Errorf("results = %v, want 1 stored and 99 duplicate", results)
	}
	r.stop()
	r2 := start(t, cfg)
	if res := r2.post(t, body); res.code != http.StatusOK || !strings.Contains(res.body, "duplicate") {
		t.Errorf("after restart: %d %s, want a 200 duplicate", res.code, res.body)
	}
	if n := len(r2.list(t, nil)); n != 1 {
		t.Errorf("after restart: %d events, want the 1 stored before", n)
	}
}

func TestUnsignedSelectorsAreOptIn(t *testing.T) {
	cfg := ingestConfig(t)
	r := start(t, cfg)
	reaction := build(t, "reaction", trigger.Options{Unsigned: true})[0]
	// Not stored, but answered 200: the vendor sends reactions unsigned,
	// and counts a refusal towards a ban of the app's callback rules.
	if res := r.post(t, reaction); res.code != http.StatusOK || !strings.Contains(res.body, "dropped") {
		t.Errorf("unsigned reaction by default: %d %s, want a 200 dropped", res.code, res.body)
	}
	if got := r.list(t, &imbridgev1.EventFilter{Selectors: []string{"reaction"}}); len(got) != 0 {
		t.Errorf("unsigned reaction by default stored: %v", got)
	}
	if res := r.post(t, build(t, "chat:txt", trigger.Options{Unsigned: true})[0]); res.code != http.StatusUnauthorized {
		t.Errorf("unsigned chat:txt by default: %d, want 401", res.code)
	}
	r.stop()
	cfg.Apps[0].UnsignedSelectors = []string{"reaction"}
	r = start(t, cfg)
	if res := r.post(t, reaction); res.code != http.StatusOK {
		t.Errorf("unsigned reaction, opted in: %d %s", res.code, res.body)
	}
	if res := r.post(t, build(t, "chat:txt", trigger.Options{Unsigned: true})[0]); res.code != http.StatusUnauthorized {
		t.Errorf("unsigned chat:txt with only reaction opted in: %d, want 401", res.code)
	}
	got := r.list(t, &imbridgev1.EventFilter{Selectors: []string{"reaction"}})
	if len(got) != 1 || got[0].GetVerification() != imbridgev1.Verification_VERIFICATION_UNSIGNED_ALLOWED || got[0].GetCallId() == "" {
		t.Errorf("stored unsigned reaction: %v", got)
	}
	// A retried unsigned delivery (no callId to go by) is still stored once.
	_ = r.post(t, reaction)
	if got := r.list(t, &imbridgev1.EventFilter{Selectors: []string{"reaction"}}); len(got) != 1 {
		t.Errorf("retried unsigned reaction stored %d times", len(got))
	}
}

func TestFilterRulesDropWithout200Loss(t *testing.T) {
	cfg := ingestConfig(t)
	cfg.Apps[0].Drop = []string{"muc", "userStatus:logout"}
	r := start(t, cfg)
	for _, sel := range []string{"muc:kick", "userStatus:logout", "userStatus:login"} {
		res := r.post(t, build(t, sel, trigger.Options{})[0])
		if res.code != http.StatusOK {
			t.Errorf("%s: %d", sel, res.code)
		}
	}
	got := r.list(t, nil)
	if len(got) != 1 || got[0].GetSelector() != "userStatus:login" {
		t.Errorf("stored %v, want only userStatus:login", got)
	}
	metrics := httpGet(t, "http://"+r.app.HTTPAddr().String()+"/metrics", "").body
	for _, want := range []string{
		`imbridge_callbacks_dropped_total{family="muc"} 1`,
		`imbridge_callbacks_dropped_total{family="userStatus"} 1`,
		`imbridge_callbacks_stored_total{family="userStatus"} 1`,
		`imbridge_callbacks_received_total{family="muc"} 1`,
		`imbridge_callbacks_append_seconds_count 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// Chatrooms learned from muc events classify later group messages, also
// after a restart.
func TestChatroomsAreLearnedDurably(t *testing.T) {
	cfg := ingestConfig(t)
	r := start(t, cfg)
	bodies := build(t, "chatroom:txt", trigger.Options{}) // a chatroom presence, then a message in it
	if res := r.post(t, bodies[0]); res.code != http.StatusOK {
		t.Fatal(res.body)
	}
	r.stop()
	r = start(t, cfg)
	if res := r.post(t, bodies[1]); res.code != http.StatusOK {
		t.Fatal(res.body)
	}
	if got := r.list(t, &imbridgev1.EventFilter{Selectors: []string{"chatroom"}}); len(got) != 1 || got[0].GetMessage().GetConversation() != imbridgev1.Conversation_CONVERSATION_CHATROOM {
		t.Errorf("message in a learned chatroom: %v", got)
	}
}

func TestStoreTooSlowAnswers503(t *testing.T) {
	cfg := ingestConfig(t)
	cfg.Webhook.AppendTimeout = config.Duration(time.Nanosecond)
	r := start(t, cfg)
	if res := r.post(t, build(t, "chat:txt", trigger.Options{})[0]); res.code != http.StatusServiceUnavailable {
		t.Errorf("append past its deadline: %d %s, want 503 so the vendor retries", res.code, res.body)
	}
}

func TestGetEventErrors(t *testing.T) {
	r := start(t, ingestConfig(t))
	events := imbridgev1.NewEventServiceClient(r.conn)
	for name, req := range map[string]*imbridgev1.GetEventRequest{
		"neither": {},
		"both":    {Cursor: 1, CallId: "x"},
	} {
		if _, err := events.GetEvent(withKey(ctxT(t), testKey), req); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
	if _, err := events.GetEvent(withKey(ctxT(t), testKey), &imbridgev1.GetEventRequest{CallId: "nope"}); status.Code(err) != codes.NotFound {
		t.Errorf("unknown call id: %v, want NotFound", err)
	}
	_, err := events.ListEvents(withKey(ctxT(t), testKey), &imbridgev1.ListEventsRequest{Parent: allApps, PageToken: "garbage"})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "page_token") {
		t.Errorf("bad page token: %v", err)
	}
}

// Paging newest first walks every event once, and a token only works with
// the request it came from.
func TestListEventsPaging(t *testing.T) {
	r := start(t, ingestConfig(t))
	for i := 0; i < 7; i++ {
		if res := r.post(t, build(t, "chat:txt", trigger.Options{})[0]); res.code != http.StatusOK {
			t.Fatal(res.body)
		}
	}
	events := imbridgev1.NewEventServiceClient(r.conn)
	req := &imbridgev1.ListEventsRequest{Parent: appParent, PageSize: 3}
	var cursors []uint64
	for {
		resp, err := events.ListEvents(withKey(ctxT(t), testKey), req)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range resp.GetEvents() {
			cursors = append(cursors, e.GetCursor())
		}
		if resp.GetNextPageToken() == "" {
			break
		}
		req.PageToken = resp.GetNextPageToken()
		other := &imbridgev1.ListEventsRequest{Parent: appParent, PageSize: 3, PageToken: req.PageToken, Order: imbridgev1.ListOrder_LIST_ORDER_OLDEST_FIRST}
		if _, err := events.ListEvents(withKey(ctxT(t), testKey), other); status.Code(err) != codes.InvalidArgument {
			t.Errorf("token reused with another order: %v", err)
		}
		other = &imbridgev1.ListEventsRequest{Parent: allApps, PageSize: 3, PageToken: req.PageToken}
		if _, err := events.ListEvents(withKey(ctxT(t), testKey), other); status.Code(err) != codes.InvalidArgument {
			t.Errorf("token reused with another parent: %v", err)
		}
	}
	if len(cursors) != 7 {
		t.Fatalf("paged %d events, want 7: %v", len(cursors), cursors)
	}
	for i := 1; i < len(cursors); i++ {
		if cursors[i] >= cursors[i-1] {
			t.Errorf("not newest first: %v", cursors)
		}
	}
}

// A body just under the limit whose JSON numbers grow several times when
// decoded is still stored: the raw body always fits.
func TestLargestBodyIsStored(t *testing.T) {
	cfg := ingestConfig(t)
	r := start(t, cfg)
	var m map[string]any
	_ = json.Unmarshal(build(t, "chat:custom", trigger.Options{})[0], &m)
	nums := make([]int, 0, 500_000)
	for len(nums)*2 < int(cfg.Webhook.MaxBodyBytes)-2048 {
		nums = append(nums, 1)
	}
	m["payload"].(map[string]any)["ext"] = map[string]any{"n": nums}
	body, _ := json.Marshal(m)
	if len(body) > int(cfg.Webhook.MaxBodyBytes) {
		t.Fatalf("test body %d bytes is over the limit", len(body))
	}
	res := r.post(t, body)
	if res.code != http.StatusOK {
		t.Fatalf("a %d-byte body: %d %s", len(body), res.code, res.body)
	}
	cb, _ := callback.Parse(body)
	got, err := imbridgev1.NewEventServiceClient(r.conn).GetEvent(withKey(ctxT(t), testKey), &imbridgev1.GetEventRequest{CallId: cb.CallID()})
	if err != nil || !bytes.Equal(got.GetEvent().GetRawBody(), body) || got.GetEvent().GetSelector() != "chat:custom" {
		t.Fatalf("stored large event: %v", err)
	}
}

// Pages stay readable by a default gRPC client (4 MiB) however large the
// events: the rest comes on the next page.
func TestListPagesFitADefaultClient(t *testing.T) {
	r := start(t, ingestConfig(t))
	for i := 0; i < 6; i++ {
		var m map[string]any
		_ = json.Unmarshal(build(t, "chat:txt", trigger.Options{})[0], &m)
		m["payload"].(map[string]any)["ext"] = map[string]any{"blob": strings.Repeat("x", 900_000)}
		body, _ := json.Marshal(m)
		if res := r.post(t, body); res.code != http.StatusOK {
			t.Fatalf("POST: %d %s", res.code, res.body)
		}
	}
	events := imbridgev1.NewEventServiceClient(r.conn)
	req := &imbridgev1.ListEventsRequest{Parent: allApps, PageSize: 100}
	seen, pages := 0, 0
	for {
		resp, err := events.ListEvents(withKey(ctxT(t), testKey), req) // default 4 MiB receive limit
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		seen, pages = seen+len(resp.GetEvents()), pages+1
		if resp.GetNextPageToken() == "" {
			break
		}
		req.PageToken = resp.GetNextPageToken()
	}
	if seen != 6 || pages < 2 {
		t.Errorf("paged %d events in %d pages, want 6 in several", seen, pages)
	}
}
