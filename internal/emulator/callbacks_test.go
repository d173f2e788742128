package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imbridge/imbridge/internal/callback"
)

// receiver is a webhook that records every delivery attempt.
type receiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	got [][]byte
	// fail answers 500 to the attempts whose 1-based number it holds.
	fail map[int]bool
}

func newReceiver(t *testing.T, fail ...int) *receiver {
	rc := &receiver{fail: map[int]bool{}}
	for _, n := range fail {
		rc.fail[n] = true
	}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("callback sent as %s %q", r.Method, r.Header.Get("Content-Type"))
		}
		rc.mu.Lock()
		rc.got = append(rc.got, body)
		n := len(rc.got)
		rc.mu.Unlock()
		if rc.fail[n] {
			http.Error(w, "no", http.StatusInternalServerError)
		}
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) bodies() [][]byte {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([][]byte{}, rc.got...)
}

// waitN waits until at least n deliveries arrived and returns them.
func (rc *receiver) waitN(t *testing.T, n int) [][]byte {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d callbacks", n), func() error {
		if got := len(rc.bodies()); got < n {
			return fmt.Errorf("%d arrived", got)
		}
		return nil
	})
	return rc.bodies()
}

func withCallbacks(rc *receiver) func(*Options) {
	return func(o *Options) { o.CallbackURL, o.CallbackSecret = rc.srv.URL, cbSecret }
}

// checkCallback verifies one delivered body the way imbridge does and
// returns its operation, group id and to.
func checkCallback(t *testing.T, raw []byte) (op, groupID, to string) {
	t.Helper()
	cb, err := callback.Parse(raw)
	if err != nil {
		t.Fatalf("parse %s: %v", raw, err)
	}
	if !cb.Verify([]string{cbSecret}) {
		t.Errorf("signature does not verify: %s", raw)
	}
	var w struct {
		CallID    string `json:"callId"`
		Security  string `json:"security"`
		Timestamp int64  `json:"timestamp"`
		Appkey    string `json:"appkey"`
		GroupID   string `json:"group_id"`
		To        string `json:"to"`
		EventType string `json:"eventType"`
		Payload   struct {
			MucID     string `json:"muc_id"`
			Operation string `json:"operation"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		t.Fatal(err)
	}
	if w.Security != callback.Sign(w.CallID, cbSecret, strconv.FormatInt(w.Timestamp, 10)) {
		t.Errorf("security is not MD5(callId+secret+timestamp): %s", raw)
	}
	if !strings.HasPrefix(w.CallID, testAppkey+"_") || w.Appkey != testAppkey || w.EventType != "chat" {
		t.Errorf("envelope: %s", raw)
	}
	if w.Payload.MucID != testAppkey+"_"+w.GroupID+"@conference.easemob.com" {
		t.Errorf("muc_id %q for group %q", w.Payload.MucID, w.GroupID)
	}
	ev := cb.Decode(time.Now(), nil)
	if ev.GetSelector() != "muc:"+w.Payload.Operation {
		t.Errorf("selector %q for operation %q", ev.GetSelector(), w.Payload.Operation)
	}
	if !ev.GetMuc().GetIsChatroom() {
		t.Errorf("not a chatroom event: %s", raw)
	}
	if got := ev.GetMuc().GetMucId().GetGroupId(); got != w.GroupID {
		t.Errorf("decoded muc id group %q, want %q", got, w.GroupID)
	}
	return w.Payload.Operation, w.GroupID, w.To
}

func TestCallbacksForEveryChange(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	f := newFixture(t, withCallbacks(rc))
	id := f.createRoom("u1")
	room := "/chatrooms/" + id
	steps := []struct {
		method, path string
		body         any
		want         []string // operation:to
	}{
		{"POST", room + "/users/u2", nil, []string{"presence:" + id}},
		{"POST", room + "/users", map[string]any{"usernames": []string{"u2", "u3", "u4"}}, []string{"presence:" + id, "presence:" + id}},
		{"PUT", room, map[string]any{"name": "renamed"}, []string{"update:owner"}},
		{"POST", room + "/admin", map[string]any{"newadmin": "u1"}, []string{"add_admin:u1"}},
		{"DELETE", room + "/admin/u1", nil, []string{"remove_admin:u1"}},
		{"POST", room + "/mute", map[string]any{"usernames": []string{"u1", "u2"}, "mute_duration": -1}, []string{"add_mute:u1", "add_mute:u2"}},
		{"DELETE", room + "/mute/u1%2Cu2", nil, []string{"remove_mute:u1", "remove_mute:u2"}},
		{"POST", room + "/ban", nil, []string{"ban_group:" + id}},
		{"DELETE", room + "/ban", nil, []string{"remove_ban_group:" + id}},
		{"POST", room + "/white/users/u1", nil, []string{"add_user_white_list:u1"}},
		{"DELETE", room + "/white/users/u1", nil, []string{"remove_user_white_list:u1"}},
		{"POST", room + "/blocks/users/u3", nil, []string{"block:u3"}},
		{"DELETE", room + "/blocks/users/u3", nil, []string{"unblock:u3"}},
		{"POST", room + "/announcement", map[string]any{"announcement": "hi"}, []string{"update_announcement:" + id}},
		{"POST", room + "/announcement", map[string]any{"announcement": ""}, []string{"delete_announcement:" + id}},
		{"DELETE", room + "/users/u4", nil, []string{"kick:u4"}},
		{"PUT", room, map[string]any{"newowner": "u2"}, []string{"assing_owner:u2"}},
		{"PUT", "/metadata/chatroom/" + id + "/user/u1", map[string]any{"metaData": map[string]string{"k": "v"}}, []string{"set_metadata:u1"}},
		{"DELETE", "/metadata/chatroom/" + id + "/user/u1", nil, []string{"delete_metadata:u1"}},
		{"PUT", room + "/users/u1/tag", map[string]any{"tags": []string{"t"}}, nil},
		{"PUT", room + "/tag/mute", map[string]any{"tag": "t", "mute_duration": 5}, []string{"add_mute:u1"}},
		{"GET", room, nil, nil},
		{"DELETE", room, nil, []string{"destroy:u2"}},
	}
	want := []string{"create:owner", "presence:" + id}
	for _, s := range steps {
		f.ok(s.method, s.path, s.body)
		want = append(want, s.want...)
	}
	got := rc.waitN(t, len(want))
	var ops []string
	callIDs := map[string]bool{}
	for _, raw := range got {
		op, group, to := checkCallback(t, raw)
		if group != id {
			t.Errorf("group_id %s, want %s", group, id)
		}
		ops = append(ops, op+":"+to)
		var head struct {
			CallID string `json:"callId"`
		}
		_ = json.Unmarshal(raw, &head)
		if callIDs[head.CallID] {
			t.Errorf("callId %s sent twice", head.CallID)
		}
		callIDs[head.CallID] = true
	}
	if strings.Join(ops, " ") != strings.Join(want, " ") {
		t.Errorf("callbacks, in order:\n got %v\nwant %v", ops, want)
	}
}

func TestCallbackShapeMatchesVendorExample(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	f := newFixture(t, withCallbacks(rc))
	id := f.createRoom()
	f.ok("POST", "/chatrooms/"+id+"/announcement", map[string]any{"announcement": "hello"})
	got := rc.waitN(t, 2)
	var m map[string]any
	if err := json.Unmarshal(got[1], &m); err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]any) string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return fmt.Sprintf("%d %s", len(ks), strings.Join(ks, ","))
	}
	// The keys of examples/042_muc_update_announcement_chatroom.json.
	if got := keys(m); got != "12 appkey,callId,chat_type,eventType,from,group_id,host,msg_id,payload,security,timestamp,to" {
		t.Errorf("top-level keys: %s", got)
	}
	p := m["payload"].(map[string]any)
	if got := keys(p); got != "5 is_chatroom,muc_id,operation,reason,status" {
		t.Errorf("payload keys: %s", got)
	}
	if js(p["status"]) != `{"description":"","error_code":"ok"}` || p["reason"] != "hello" || m["chat_type"] != "muc" || m["from"] != testAppkey {
		t.Errorf("body: %s", got[1])
	}
}

func TestCallbackRetriedOnceThenDropped(t *testing.T) {
	t.Parallel()
	// Attempt 1 fails and is retried (attempt 2); the next callback
	// fails twice (3, 4) and is dropped; the one after arrives (5).
	rc := newReceiver(t, 1, 3, 4)
	f := newFixture(t, withCallbacks(rc))
	id := f.createRoom()
	f.ok("POST", "/chatrooms/"+id+"/users/u1", nil)
	f.ok("POST", "/chatrooms/"+id+"/users/u2", nil)
	got := rc.waitN(t, 5)
	var ops []string
	for _, raw := range got {
		op, _, _ := checkCallback(t, raw)
		ops = append(ops, op)
	}
	if strings.Join(ops, " ") != "create create presence presence presence" || string(got[0]) != string(got[1]) || string(got[2]) != string(got[3]) {
		t.Errorf("attempts: %v", ops)
	}
	var a, b struct {
		From string `json:"from"`
	}
	_ = json.Unmarshal(got[2], &a)
	_ = json.Unmarshal(got[4], &b)
	if a.From != testAppkey+"_u1@easemob.com" || b.From != testAppkey+"_u2@easemob.com" {
		t.Errorf("dropped %s, delivered %s", a.From, b.From)
	}
}

func TestCloseStopsDelivery(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 1)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reading the body lets the server notice the client hanging up.
		_, _ = io.ReadAll(r.Body)
		select {
		case arrived <- struct{}{}:
		default:
		}
		<-r.Context().Done() // never answers: the emulator must give up
	}))
	defer hook.Close()
	f := newFixture(t, func(o *Options) { o.CallbackURL = hook.URL })
	for i := 0; i < 5; i++ {
		f.createRoom()
	}
	select {
	case <-arrived:
	case <-time.After(20 * time.Second):
		t.Fatal("no callback arrived")
	}
	done := make(chan struct{})
	go func() { f.e.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Close did not return while a delivery hung")
	}
	// The API still answers after Close; its callbacks are dropped.
	f.createRoom()
	if err := f.e.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestNoCallbackURLSendsNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.createRoom("u1")
	if f.e.cb != nil {
		t.Fatal("a deliverer without a URL")
	}
}

func TestFullQueueNeverBlocks(t *testing.T) {
	t.Parallel()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		<-r.Context().Done()
	}))
	defer hook.Close()
	d := newDeliverer(hook.URL, slog.New(slog.DiscardHandler))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < queueSize+100; i++ {
			d.enqueue([]byte("{}"), "x")
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("enqueue blocked on a full queue")
	}
	d.close()
	d.enqueue([]byte("{}"), "after close") // dropped, no panic
}
