package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/config"
	"github.com/imbridge/imbridge/internal/testwait"
	"github.com/imbridge/imbridge/internal/trigger"
)

// The app of ingestConfig has no vendor credentials: its chatroom RPCs go
// to the embedded emulator of the Easemob REST API, which posts its
// callbacks to this process's webhook.
const roomsParent = "orgs/acme/apps/chat"

// rest calls the REST API with the test key and decodes the JSON answer.
func (r *running) rest(t *testing.T, method, path, body string) (int, map[string]any) {
	t.Helper()
	res := httpDo(t, method, "http://"+r.app.HTTPAddr().String()+path, body, testKey)
	var m map[string]any
	if err := json.Unmarshal([]byte(res.body), &m); err != nil {
		t.Fatalf("%s %s = %d %q: not JSON: %v", method, path, res.code, res.body, err)
	}
	return res.code, m
}

// ok is rest that wants 200.
func (r *running) ok(t *testing.T, method, path, body string) map[string]any {
	t.Helper()
	code, m := r.rest(t, method, path, body)
	if code != http.StatusOK {
		t.Fatalf("%s %s %s = %d %v, want 200", method, path, body, code, m)
	}
	return m
}

func (r *running) rooms() imbridgev1.ChatroomServiceClient {
	return imbridgev1.NewChatroomServiceClient(r.conn)
}

// createRoom creates a room over gRPC and returns its name.
func (r *running) createRoom(t *testing.T, members ...string) string {
	t.Helper()
	resp, err := r.rooms().CreateChatroom(withKey(ctxT(t), testKey), &imbridgev1.CreateChatroomRequest{Parent: roomsParent,
		Chatroom: &imbridgev1.Chatroom{DisplayName: "room", Description: "d", Owner: "alice", Members: members}})
	if err != nil {
		t.Fatalf("CreateChatroom: %v", err)
	}
	return resp.GetChatroom().GetName()
}

// results decodes a batch answer's results as "user=success".
func results(m map[string]any) []string {
	var out []string
	list, _ := m["results"].([]any)
	for _, x := range list {
		item, _ := x.(map[string]any)
		out = append(out, fmt.Sprintf("%v=%v", item["username"], item["success"] == true))
	}
	return out
}

// Every RPC of ChatroomService, once over REST, with its documented success.
func TestChatroomEveryRPCOverREST(t *testing.T) {
	r := start(t, ingestConfig(t))
	called := map[string]bool{}
	do := func(rpc, method, path, body string) map[string]any {
		t.Helper()
		called[rpc] = true
		return r.ok(t, method, "/v1/"+path, body)
	}
	app := roomsParent

	room := do("CreateChatroom", "POST", app+"/chatrooms",
		`{"displayName":"lobby","description":"the lobby","owner":"alice","members":["bob","carol","dave","erin"],"custom":"c"}`)
	name, _ := room["name"].(string)
	if !strings.HasPrefix(name, app+"/chatrooms/") || room["displayName"] != "lobby" || room["owner"] != "alice" || room["createTime"] == nil {
		t.Fatalf("created room %v", room)
	}
	if got := do("GetChatroom", "GET", name, ""); got["name"] != name || got["description"] != "the lobby" || got["custom"] != "c" {
		t.Errorf("GetChatroom = %v", got)
	}
	if got := do("ListChatrooms", "GET", app+"/chatrooms?pageSize=100", ""); !strings.Contains(fmt.Sprint(got["chatrooms"]), name) {
		t.Errorf("ListChatrooms lacks %s: %v", name, got)
	}
	if got := do("BatchGetChatrooms", "GET", app+"/chatrooms:batchGet?names="+name, ""); len(got["chatrooms"].([]any)) != 1 {
		t.Errorf("BatchGetChatrooms = %v", got)
	}
	if got := do("ListJoinedChatrooms", "GET", app+"/chatrooms:listJoined?username=bob", ""); !strings.Contains(fmt.Sprint(got["chatrooms"]), name) {
		t.Errorf("ListJoinedChatrooms(bob) lacks %s: %v", name, got)
	}
	if got := do("UpdateChatroom", "PATCH", name, `{"displayName":"lobby 2","maxUsers":500}`); got["displayName"] != "lobby 2" || got["maxUsers"] != float64(500) {
		t.Errorf("UpdateChatroom answered %v, want the room read back", got)
	}
	if got := do("ListChatroomMembers", "GET", name+"/members", ""); len(got["members"].([]any)) != 5 {
		t.Errorf("ListChatroomMembers = %v, want 5", got)
	}
	do("AddChatroomMember", "POST", name+"/members", `{"username":"frank"}`)
	if got := do("AddChatroomMembers", "POST", name+"/members:batchAdd", `{"usernames":["gina","hank"]}`); len(got["usernames"].([]any)) != 2 {
		t.Errorf("AddChatroomMembers = %v", got)
	}
	do("RemoveChatroomMember", "DELETE", name+"/members/hank", "")
	if got := results(do("RemoveChatroomMembers", "POST", name+"/members:batchRemove", `{"usernames":["gina","nobody"]}`)); !slices.Equal(got, []string{"gina=true", "nobody=false"}) {
		t.Errorf("RemoveChatroomMembers results %v", got)
	}

	do("AddChatroomAdmin", "POST", name+"/admins", `{"username":"bob"}`)
	if got := do("ListChatroomAdmins", "GET", name+"/admins", ""); fmt.Sprint(got["usernames"]) != "[bob]" {
		t.Errorf("ListChatroomAdmins = %v", got)
	}
	do("RemoveChatroomAdmin", "DELETE", name+"/admins/bob", "")
	do("AddChatroomSuperAdmin", "POST", app+"/chatroomSuperAdmins", `{"username":"alice"}`)
	if got := do("ListChatroomSuperAdmins", "GET", app+"/chatroomSuperAdmins", ""); !strings.Contains(fmt.Sprint(got["usernames"]), "alice") {
		t.Errorf("ListChatroomSuperAdmins = %v", got)
	}
	do("RemoveChatroomSuperAdmin", "DELETE", app+"/chatroomSuperAdmins/alice", "")

	if got := do("MuteChatroomMember", "POST", name+"/mutes", `{"username":"carol","duration":"60s"}`); got["username"] != "carol" || got["expireTime"] == nil {
		t.Errorf("MuteChatroomMember = %v, want carol with an expiry", got)
	}
	if got := results(do("MuteChatroomMembers", "POST", name+"/mutes:batchAdd", `{"usernames":["dave","erin"],"permanent":true}`)); !slices.Equal(got, []string{"dave=true", "erin=true"}) {
		t.Errorf("MuteChatroomMembers results %v", got)
	}
	if got := do("ListChatroomMutes", "GET", name+"/mutes", ""); len(got["mutes"].([]any)) != 3 {
		t.Errorf("ListChatroomMutes = %v, want 3", got)
	}
	do("UnmuteChatroomMember", "DELETE", name+"/mutes/carol", "")
	if got := results(do("UnmuteChatroomMembers", "POST", name+"/mutes:batchRemove", `{"usernames":["dave","erin"]}`)); !slices.Equal(got, []string{"dave=true", "erin=true"}) {
		t.Errorf("UnmuteChatroomMembers results %v", got)
	}
	do("MuteAllChatroomMembers", "POST", name+":muteAll", `{}`)
	if got := r.ok(t, "GET", "/v1/"+name, ""); got["muteAll"] != true {
		t.Errorf("after MuteAllChatroomMembers the room says %v", got["muteAll"])
	}
	do("UnmuteAllChatroomMembers", "POST", name+":unmuteAll", `{}`)
	do("SetChatroomMemberTags", "POST", name+"/members/carol:setTags", `{"tags":["vip"]}`)
	if got := do("GetChatroomMemberTags", "GET", name+"/members/carol:getTags", ""); !strings.Contains(fmt.Sprint(got["tags"]), "vip") {
		t.Errorf("GetChatroomMemberTags = %v", got)
	}
	do("MuteChatroomTag", "POST", name+":muteTag", `{"tag":"vip","duration":"30s"}`)

	do("AddChatroomAllowlistMember", "POST", name+"/allowlist", `{"username":"carol"}`)
	if got := results(do("AddChatroomAllowlistMembers", "POST", name+"/allowlist:batchAdd", `{"usernames":["dave"]}`)); !slices.Equal(got, []string{"dave=true"}) {
		t.Errorf("AddChatroomAllowlistMembers results %v", got)
	}
	if got := fmt.Sprint(do("ListChatroomAllowlist", "GET", name+"/allowlist", "")["usernames"]); !strings.Contains(got, "carol") || !strings.Contains(got, "dave") {
		t.Errorf("ListChatroomAllowlist = %v", got)
	}
	do("RemoveChatroomAllowlistMember", "DELETE", name+"/allowlist/carol", "")
	if got := results(do("RemoveChatroomAllowlistMembers", "POST", name+"/allowlist:batchRemove", `{"usernames":["dave"]}`)); !slices.Equal(got, []string{"dave=true"}) {
		t.Errorf("RemoveChatroomAllowlistMembers results %v", got)
	}
	do("AddChatroomBlocklistMember", "POST", name+"/blocklist", `{"username":"dave"}`)
	if got := results(do("AddChatroomBlocklistMembers", "POST", name+"/blocklist:batchAdd", `{"usernames":["erin"]}`)); !slices.Equal(got, []string{"erin=true"}) {
		t.Errorf("AddChatroomBlocklistMembers results %v", got)
	}
	if got := fmt.Sprint(do("ListChatroomBlocklist", "GET", name+"/blocklist", "")["usernames"]); !strings.Contains(got, "dave") || !strings.Contains(got, "erin") {
		t.Errorf("ListChatroomBlocklist = %v", got)
	}
	do("RemoveChatroomBlocklistMember", "DELETE", name+"/blocklist/dave", "")
	if got := results(do("RemoveChatroomBlocklistMembers", "POST", name+"/blocklist:batchRemove", `{"usernames":["erin"]}`)); !slices.Equal(got, []string{"erin=true"}) {
		t.Errorf("RemoveChatroomBlocklistMembers results %v", got)
	}

	if got := do("UpdateChatroomAnnouncement", "PATCH", name+"/announcement", `{"text":"hello"}`); got["text"] != "hello" {
		t.Errorf("UpdateChatroomAnnouncement = %v", got)
	}
	if got := do("GetChatroomAnnouncement", "GET", name+"/announcement", ""); got["text"] != "hello" || got["name"] != name+"/announcement" {
		t.Errorf("GetChatroomAnnouncement = %v", got)
	}
	r.ok(t, "PATCH", "/v1/"+name+"/announcement", `{"text":""}`) // clears it
	if got := r.ok(t, "GET", "/v1/"+name+"/announcement", ""); got["text"] != nil && got["text"] != "" {
		t.Errorf("after clearing, the announcement is %v", got["text"])
	}

	if got := do("SetChatroomAttributes", "POST", name+"/attributes:set", `{"username":"carol","attributes":{"k1":"v1","k2":"v2"}}`); len(got["successfulKeys"].([]any)) != 2 {
		t.Errorf("SetChatroomAttributes = %v", got)
	}
	if got := do("ForceSetChatroomAttributes", "POST", name+"/attributes:forceSet", `{"username":"bob","attributes":{"k1":"b1"},"autoDelete":"CHATROOM_ATTRIBUTE_AUTO_DELETE_NO_DELETE"}`); fmt.Sprint(got["successfulKeys"]) != "[k1]" {
		t.Errorf("ForceSetChatroomAttributes = %v", got)
	}
	if got := do("GetChatroomAttributes", "GET", name+"/attributes?keys=k1&keys=k2", ""); fmt.Sprint(got["attributes"]) != "map[k1:b1 k2:v2]" {
		t.Errorf("GetChatroomAttributes = %v", got)
	}
	// No keys: every attribute bob owns (k1, since the forced set).
	if got := do("DeleteChatroomAttributes", "POST", name+"/attributes:delete", `{"username":"bob"}`); fmt.Sprint(got["successfulKeys"]) != "[k1]" {
		t.Errorf("DeleteChatroomAttributes without keys = %v, want bob's k1 deleted", got)
	}
	if got := do("ForceDeleteChatroomAttributes", "POST", name+"/attributes:forceDelete", `{"username":"bob","keys":["k2"]}`); fmt.Sprint(got["successfulKeys"]) != "[k2]" {
		t.Errorf("ForceDeleteChatroomAttributes = %v", got)
	}

	do("TransferChatroomOwnership", "POST", name+":transferOwnership", `{"newOwner":"bob"}`)
	if got := r.ok(t, "GET", "/v1/"+name, ""); got["owner"] != "bob" {
		t.Errorf("after the transfer the owner is %v", got["owner"])
	}
	do("DeleteChatroom", "DELETE", name, "")
	if code, _ := r.rest(t, "GET", "/v1/"+name, ""); code != http.StatusNotFound {
		t.Errorf("GET a deleted room = %d, want 404", code)
	}

	for _, m := range imbridgev1.ChatroomService_ServiceDesc.Methods {
		if !called[m.MethodName] {
			t.Errorf("%s was not called over REST", m.MethodName)
		}
	}
}

// errorBody is the google.rpc.Status the gateway answers, as JSON.
type errorBody struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Details []struct {
		Type            string            `json:"@type"`
		Reason          string            `json:"reason"`
		Metadata        map[string]string `json:"metadata"`
		FieldViolations []struct {
			Field string `json:"field"`
		} `json:"fieldViolations"`
	} `json:"details"`
}

func (r *running) restError(t *testing.T, method, path, body string) (int, errorBody) {
	t.Helper()
	res := httpDo(t, method, "http://"+r.app.HTTPAddr().String()+path, body, testKey)
	var b errorBody
	if err := json.Unmarshal([]byte(res.body), &b); err != nil {
		t.Fatalf("%s %s = %d %q: %v", method, path, res.code, res.body, err)
	}
	return res.code, b
}

// A vendor error reaches a browser as the right HTTP status, with the
// vendor's error type as the reason; a request breaking the limits is a 400
// naming every bad field, and nothing is sent.
func TestChatroomErrorsOverREST(t *testing.T) {
	r := start(t, ingestConfig(t))
	code, b := r.restError(t, "GET", "/v1/"+roomsParent+"/chatrooms/404404404", "")
	// The vendor documents 404 service_resource_not_found for room details.
	if code != http.StatusNotFound || len(b.Details) == 0 || b.Details[0].Reason != "SERVICE_RESOURCE_NOT_FOUND" ||
		b.Details[0].Metadata["vendor_status"] != "404" || b.Details[0].Metadata["vendor_description"] == "" {
		t.Errorf("GET an unknown room = %d %+v, want 404 SERVICE_RESOURCE_NOT_FOUND with the vendor's words", code, b)
	}
	// A batch get with one unknown room is NOT_FOUND, never a blank room.
	room := r.createRoom(t)
	code, b = r.restError(t, "GET", "/v1/"+roomsParent+"/chatrooms:batchGet?names="+room+"&names="+roomsParent+"/chatrooms/424242", "")
	if code != http.StatusNotFound || len(b.Details) == 0 || b.Details[0].Reason != "CHATROOM_NOT_FOUND" {
		t.Errorf("batchGet with an unknown room = %d %+v, want 404 CHATROOM_NOT_FOUND", code, b)
	}
	code, b = r.restError(t, "GET", "/v1/orgs/nobody/apps/x/chatrooms/1", "")
	if code != http.StatusNotFound || b.Details[0].Reason != "APP_NOT_CONFIGURED" {
		t.Errorf("GET a room of an unknown app = %d %+v, want 404 APP_NOT_CONFIGURED", code, b)
	}

	before := r.app.Emulator().Requests()
	many := `["` + strings.Join(strings.Fields(strings.Repeat("u ", 101)), `","`) + `"]`
	code, b = r.restError(t, "POST", "/v1/"+roomsParent+"/chatrooms/1/members:batchAdd", `{"usernames":`+many+`}`)
	var fields []string
	for _, d := range b.Details {
		for _, v := range d.FieldViolations {
			fields = append(fields, v.Field)
		}
	}
	if code != http.StatusBadRequest || b.Details[0].Reason != "INVALID_ARGUMENT" || !slices.Equal(fields, []string{"usernames"}) {
		t.Errorf("101 usernames = %d %+v, want 400 with a BadRequest naming usernames", code, b)
	}
	code, b = r.restError(t, "POST", "/v1/"+roomsParent+"/chatrooms", `{"displayName":"`+strings.Repeat("n", 129)+`","maxUsers":20000}`)
	fields = nil
	for _, d := range b.Details {
		for _, v := range d.FieldViolations {
			fields = append(fields, v.Field)
		}
	}
	slices.Sort(fields)
	if want := []string{"chatroom.description", "chatroom.display_name", "chatroom.max_users", "chatroom.owner"}; code != http.StatusBadRequest || !slices.Equal(fields, want) {
		t.Errorf("a bad create = %d, fields %v, want 400 naming %v", code, fields, want)
	}
	if after := r.app.Emulator().Requests(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("invalid requests reached the vendor: %v, then %v", before, after)
	}
}

// The vendor's token expiring mid-run, a burst of 429s and the vendor
// going down: calls succeed through the first two, and the last is
// UNAVAILABLE within the caller's deadline.
func TestChatroomVendorTrouble(t *testing.T) {
	r := start(t, ingestConfig(t))
	emu := r.app.Emulator()
	room := r.createRoom(t, "bob")
	get := func(ctx context.Context) error {
		_, err := r.rooms().GetChatroom(withKey(ctx, testKey), &imbridgev1.GetChatroomRequest{Name: room})
		return err
	}

	tokens := emu.Requests()["token"]
	emu.ExpireTokens()
	if err := get(ctxT(t)); err != nil {
		t.Errorf("GetChatroom after the token expired: %v", err)
	}
	if emu.Requests()["token"] <= tokens {
		t.Errorf("no new token was fetched after the old one expired")
	}

	emu.FailNext(http.StatusTooManyRequests, 3, 0)
	if err := get(ctxT(t)); err != nil {
		t.Errorf("GetChatroom through three 429s: %v", err)
	}

	emu.FailNext(http.StatusServiceUnavailable, 100, 0)
	err := get(ctxT(t))
	if status.Code(err) != codes.Unavailable || errorReason(err) != "VENDOR_UNAVAILABLE" {
		t.Errorf("GetChatroom with the vendor down = %v, want UNAVAILABLE VENDOR_UNAVAILABLE", err)
	}
	// The vendor asks for a retry after a minute, past the caller's
	// deadline: imbridge gives up at once with UNAVAILABLE instead of
	// waiting past the deadline.
	emu.FailNext(http.StatusServiceUnavailable, 100, time.Minute)
	short, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = get(short)
	if status.Code(err) != codes.Unavailable || short.Err() != nil {
		t.Errorf("GetChatroom with the vendor down for a minute and a 20s deadline = %v (deadline passed: %v), want UNAVAILABLE before the deadline", err, short.Err())
	}
	emu.FailNext(http.StatusServiceUnavailable, 100, 0)
	// A delete is not retried once it may have been processed: the caller
	// is told that its outcome is unknown.
	_, err = r.rooms().DeleteChatroom(withKey(ctxT(t), testKey), &imbridgev1.DeleteChatroomRequest{Name: room})
	if status.Code(err) != codes.Unavailable || errorMetadata(err)["outcome"] != "unknown" || !strings.Contains(status.Convert(err).Message(), "outcome is unknown") {
		t.Errorf("DeleteChatroom with the vendor down = %v %v, want UNAVAILABLE, outcome unknown", err, errorMetadata(err))
	}
}

func errorMetadata(err error) map[string]string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetMetadata()
		}
	}
	return nil
}

// Concurrent callers share one vendor client (run under -race).
func TestChatroomConcurrentCallers(t *testing.T) {
	r := start(t, ingestConfig(t))
	room := r.createRoom(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 8 {
		wg.Go(func() {
			ctx := withKey(ctxT(t), testKey)
			user := fmt.Sprintf("user%d", i)
			if _, err := r.rooms().AddChatroomMember(ctx, &imbridgev1.AddChatroomMemberRequest{Parent: room, Username: user}); err != nil {
				errs <- fmt.Errorf("AddChatroomMember(%s): %w", user, err)
			}
			if _, err := r.rooms().GetChatroom(ctx, &imbridgev1.GetChatroomRequest{Name: room}); err != nil {
				errs <- fmt.Errorf("GetChatroom: %w", err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	resp, err := r.rooms().ListChatroomMembers(withKey(ctxT(t), testKey), &imbridgev1.ListChatroomMembersRequest{Parent: room})
	if err != nil || len(resp.GetMembers()) != 9 {
		t.Errorf("ListChatroomMembers = %d members, %v; want the owner and 8", len(resp.GetMembers()), err)
	}
}

// The chatroom callbacks the vendor posts arrive in the event log.
func TestChatroomCallbacksReachTheEventLog(t *testing.T) {
	r := start(t, ingestConfig(t))
	room := r.createRoom(t, "bob")
	id := room[strings.LastIndex(room, "/")+1:]
	ctx := ctxT(t)
	for {
		for _, ev := range r.list(t, &imbridgev1.EventFilter{Selectors: []string{"muc"}}) {
			if ev.GetSelector() == "muc:create" && strings.Contains(ev.String(), id) {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no muc:create event for room %s in the event log", id)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// groupMessage is a signed groupchat:txt callback in group id: the
// signature covers callId, secret and timestamp, not the group.
func groupMessage(t *testing.T, id string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(build(t, "groupchat:txt", trigger.Options{})[0], &m); err != nil {
		t.Fatal(err)
	}
	m["group_id"], m["to"] = id, id
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Rooms declared in the configuration, and rooms created through imbridge,
// are chatrooms from their first message, before any room event.
func TestDeclaredAndCreatedRoomsAreChatroomsAtOnce(t *testing.T) {
	cfg := ingestConfig(t)
	cfg.Apps[0].Chatrooms = []string{"declared-room"}
	r := start(t, cfg)
	created := r.createRoom(t, "bob")
	for _, id := range []string{"declared-room", created[strings.LastIndex(created, "/")+1:], "some-group"} {
		body := groupMessage(t, id)
		res := r.post(t, body)
		var a struct {
			Cursor string `json:"cursor"`
		}
		if res.code != http.StatusOK || json.Unmarshal([]byte(res.body), &a) != nil {
			t.Fatalf("post in %s: %d %s", id, res.code, res.body)
		}
		ev, err := imbridgev1.NewEventServiceClient(r.conn).GetEvent(withKey(ctxT(t), testKey), &imbridgev1.GetEventRequest{CallId: callIDOf(t, body)})
		if err != nil {
			t.Fatal(err)
		}
		want := "chatroom:txt"
		if id == "some-group" {
			want = "groupchat:txt"
		}
		if got := ev.GetEvent().GetSelector(); got != want {
			t.Errorf("message in %s: selector %s, want %s", id, got, want)
		}
	}
}

// A chatroom call still in flight when shutdown begins finishes: the gRPC
// server lets it, and the embedded emulator it calls stays up until then.
// The call's first read of the room is answered 503, Retry-After 1s; the
// shutdown begins meanwhile, and the retry must still be answered.
func TestChatroomCallInFlightAtShutdownFinishes(t *testing.T) {
	cfg := ingestConfig(t)
	cfg.ShutdownTimeout = config.Duration(time.Minute)
	r := start(t, cfg)
	room := r.createRoom(t, "bob")
	emu := r.app.Emulator()
	reads := emu.Requests()["GetChatroom"]
	emu.FailNext(http.StatusServiceUnavailable, 1, time.Second)
	errc := make(chan error, 1)
	go func() {
		_, err := r.rooms().GetChatroom(withKey(ctxT(t), testKey), &imbridgev1.GetChatroomRequest{Name: room})
		errc <- err
	}()
	testwait.For(t, time.Minute, 5*time.Millisecond, func() error {
		if emu.Requests()["GetChatroom"] == reads {
			return fmt.Errorf("the call has not read the room yet")
		}
		return nil
	})
	r.stop()
	if err := <-errc; err != nil {
		t.Errorf("GetChatroom in flight at shutdown: %v, want it to finish", err)
	}
}

// A REST PATCH of the announcement whose body names no field ({}) changes
// nothing, as the same PATCH of the room does (INVALID_ARGUMENT, "names
// nothing to update"); it must not clear the announcement.
func TestChatroomAnnouncementPatchOfNothingKeepsIt(t *testing.T) {
	r := start(t, ingestConfig(t))
	name := r.createRoom(t, "bob")
	r.ok(t, "PATCH", "/v1/"+name+"/announcement", `{"text":"hello"}`)
	roomCode, _ := r.rest(t, "PATCH", "/v1/"+name, `{}`)
	code, m := r.rest(t, "PATCH", "/v1/"+name+"/announcement", `{}`)
	if got := r.ok(t, "GET", "/v1/"+name+"/announcement", ""); got["text"] != "hello" {
		t.Errorf("PATCH {} of the announcement = %d %v; the announcement is now %v, want hello kept", code, m, got["text"])
	}
	if code != roomCode || code != http.StatusBadRequest {
		t.Errorf("PATCH {}: room %d, announcement %d; want both 400", roomCode, code)
	}
}
