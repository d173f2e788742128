package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	testAppkey = "acme#chat"
	testID     = "client-id"
	testSecret = "client-secret"
	cbSecret   = "cb-secret"
)

// clock is a settable Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// fixture is an emulator behind a real HTTP server, a token for the
// test app and users u1…u30 (plus "owner").
type fixture struct {
	t     *testing.T
	e     *Emulator
	srv   *httptest.Server
	clock *clock
	token string
}

func newFixture(t *testing.T, mods ...func(*Options)) *fixture {
	t.Helper()
	clk := &clock{t: time.UnixMilli(1_700_000_000_000)}
	opts := Options{
		Apps:   []App{{Appkey: testAppkey, ClientID: testID, ClientSecret: testSecret}, {Appkey: "other#app", ClientID: "o", ClientSecret: "o"}},
		Now:    clk.Now,
		Logger: nil,
	}
	for _, m := range mods {
		m(&opts)
	}
	e, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(func() {
		srv.Close()
		if err := e.Close(); err != nil {
			t.Error(err)
		}
	})
	users := []string{"owner"}
	for i := 1; i <= 130; i++ {
		users = append(users, fmt.Sprintf("u%d", i))
	}
	e.AddUsers(testAppkey, users...)
	f := &fixture{t: t, e: e, srv: srv, clock: clk}
	f.token = f.getToken(testAppkey, testID, testSecret)
	return f
}

// res is an answer: status, header, raw body and the body as JSON.
type res struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (r res) data() any { return r.body["data"] }

func (r res) dataMap() map[string]any { m, _ := r.body["data"].(map[string]any); return m }

func (r res) dataList() []any { l, _ := r.body["data"].([]any); return l }

// send makes a request with an explicit Authorization header value
// ("" sends none).
func (f *fixture) send(method, path, auth string, body any) res {
	f.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			f.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, f.srv.URL+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	r := res{status: resp.StatusCode, header: resp.Header, raw: raw}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		f.t.Fatalf("%s %s: body is not a JSON object: %v: %s", method, path, err, raw)
	}
	return r
}

// do makes an authorized request to the test app; path is below /acme/chat.
func (f *fixture) do(method, path string, body any) res {
	f.t.Helper()
	return f.send(method, "/acme/chat"+path, "Bearer "+f.token, body)
}

// ok asserts a 200 and returns the answer.
func (f *fixture) ok(method, path string, body any) res {
	f.t.Helper()
	r := f.do(method, path, body)
	if r.status != http.StatusOK {
		f.t.Fatalf("%s %s: status %d: %s", method, path, r.status, r.raw)
	}
	return r
}

// wantErr asserts the vendor error body with status, type and text.
func wantErr(t *testing.T, r res, status int, typ, desc string) {
	t.Helper()
	if r.status != status || r.body["error_description"] != desc {
		t.Fatalf("got %d %s, want %d %q %q", r.status, r.raw, status, typ, desc)
	}
	if typ == "" {
		if _, has := r.body["error"]; has {
			t.Errorf("error type present, want none: %s", r.raw)
		}
	} else if r.body["error"] != typ {
		t.Errorf("error = %v, want %q", r.body["error"], typ)
	}
	for _, k := range []string{"exception", "timestamp", "duration"} {
		if _, has := r.body[k]; !has {
			t.Errorf("error body has no %s: %s", k, r.raw)
		}
	}
	if r.body["duration"] != float64(0) {
		t.Errorf("duration = %v, want 0", r.body["duration"])
	}
}

func (f *fixture) getToken(appkey, id, secret string) string {
	f.t.Helper()
	org, app, _ := strings.Cut(appkey, "#")
	r := f.send("POST", "/"+org+"/"+app+"/token", "", map[string]any{"grant_type": "client_credentials", "client_id": id, "client_secret": secret})
	tok, _ := r.body["access_token"].(string)
	if r.status != http.StatusOK || tok == "" {
		f.t.Fatalf("token: %d %s", r.status, r.raw)
	}
	return tok
}

// createRoom makes a room owned by "owner" with members and returns its id.
func (f *fixture) createRoom(members ...string) string {
	f.t.Helper()
	body := map[string]any{"name": "room", "description": "desc", "owner": "owner"}
	if len(members) > 0 {
		body["members"] = members
	}
	r := f.ok("POST", "/chatrooms", body)
	id, _ := r.dataMap()["id"].(string)
	if id == "" {
		f.t.Fatalf("create: no id: %s", r.raw)
	}
	return id
}

// wantEnvelope asserts the standard envelope around data.
func wantEnvelope(t *testing.T, r res, action string) {
	t.Helper()
	for _, k := range []string{"application", "uri", "entities", "data", "timestamp", "duration"} {
		if _, ok := r.body[k]; !ok {
			t.Errorf("envelope has no %s: %s", k, r.raw)
		}
	}
	if r.body["action"] != action || r.body["organization"] != "acme" || r.body["applicationName"] != "chat" {
		t.Errorf("envelope action/organization/applicationName: %s", r.raw)
	}
}

// waitFor polls cond until it returns nil, failing with its last error
// after a bound generous enough for 2 busy cores under -race.
func waitFor(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// js is v as compact JSON, object keys sorted.
func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string]Options{
		"no apps":        {},
		"bad appkey":     {Apps: []App{{Appkey: "nohash", ClientID: "a", ClientSecret: "b"}}},
		"no credentials": {Apps: []App{{Appkey: "a#b"}}},
		"duplicate":      {Apps: []App{{Appkey: "a#b", ClientID: "a", ClientSecret: "b"}, {Appkey: "a#b", ClientID: "a", ClientSecret: "b"}}},
		"bad url":        {Apps: []App{{Appkey: "a#b", ClientID: "a", ClientSecret: "b"}}, CallbackURL: "ftp://x"},
		"negative ttl":   {Apps: []App{{Appkey: "a#b", ClientID: "a", ClientSecret: "b"}}, TokenTTL: -time.Second},
	} {
		if e, err := New(opts); err == nil {
			e.Close()
			t.Errorf("%s: New accepted %+v", name, opts)
		}
	}
}

func TestUnknownAppAndPath(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.send("GET", "/nope/app/chatrooms", "Bearer "+f.token, nil)
	wantErr(t, r, 404, "organization_application_not_found", "Could not find application for nope/app from URI: nope/app/chatrooms")
	r = f.send("POST", "/nope/app/token", "", map[string]any{"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"})
	wantErr(t, r, 404, "organization_application_not_found", "Could not find application for nope/app from URI: nope/app/token")
	wantErr(t, f.do("GET", "/nothing/here", nil), 404, "service_resource_not_found", "Service resource not found")
	// A path the API serves, with a method it does not serve there.
	wantErr(t, f.do("PATCH", "/chatrooms", nil), 405, "method_not_allowed", "HTTP method PATCH is not supported by this URL")
	wantErr(t, f.do("PUT", "/chatrooms/1/users/u1", nil), 405, "method_not_allowed", "HTTP method PUT is not supported by this URL")
	wantErr(t, f.send("GET", "/", "", nil), 404, "service_resource_not_found", "Service resource not found")
	if got := f.e.Requests()["unknown"]; got != 3 {
		t.Errorf("unknown requests = %d, want 3", got)
	}
}

func TestBadInputNeverPanics(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.createRoom("u1")
	bodies := []string{"", "null", "[]", "{", `{"usernames": "u1"}`, `{"usernames": [1,2]}`, `{"name": 5}`, `"x"`, `{"metaData": []}`, `{"keys": {}}`, `{"mute_duration": "x"}`, `{"tags": "x"}`, `{"newowner": 3}`, `{"maxusers": "big"}`}
	for _, rt := range routes {
		path := "/" + strings.ReplaceAll(strings.Join(rt.path, "/"), "*", id)
		for _, b := range bodies {
			r := f.do(rt.method, path, b)
			if r.status >= 500 {
				t.Errorf("%s %s %q: %d %s", rt.method, path, b, r.status, r.raw)
			}
		}
	}
}

func TestRequestsCountsOperations(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.createRoom()
	f.ok("POST", "/chatrooms/"+id+"/users", map[string]any{"usernames": []string{"u1", "u2", "u3"}})
	f.ok("DELETE", "/chatrooms/"+id+"/users/u1", nil)
	f.ok("DELETE", "/chatrooms/"+id+"/users/u2%2Cu3", nil)
	f.ok("PUT", "/chatrooms/"+id, map[string]any{"name": "n"})
	f.ok("PUT", "/chatrooms/"+id, map[string]any{"newowner": "u4"})
	got := f.e.Requests()
	for name, want := range map[string]int{"token": 1, "CreateChatroom": 1, "AddMembers": 1, "RemoveMember": 1, "RemoveMembers": 1, "UpdateChatroom": 1, "TransferOwner": 1} {
		if got[name] != want {
			t.Errorf("Requests()[%s] = %d, want %d (all: %v)", name, got[name], want, got)
		}
	}
	names := map[string]bool{}
	for _, n := range OperationNames() {
		if names[n] {
			t.Errorf("operation name %s twice", n)
		}
		names[n] = true
	}
	for n := range got {
		if !names[n] {
			t.Errorf("Requests names %s, which OperationNames does not list", n)
		}
	}
}
