package easemob

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func ptr[T any](v T) *T { return &v }

func ms(n int64) time.Time { return time.UnixMilli(n).UTC() }

// opCase is one operation: the request it must send and how it reads the
// vendor's documented answer.
type opCase struct {
	name   string
	call   func(context.Context, *App) (any, error)
	method string
	uri    string // relative to /org1/app1, raw
	body   string // JSON; "" = no body
	resp   string // the vendor's answer (from its docs)
	want   any
}

var opCases = []opCase{
	{
		name:   "ListChatrooms",
		call:   func(ctx context.Context, a *App) (any, error) { return a.ListChatrooms(ctx, 10, "c 1") },
		method: "GET", uri: "/chatrooms?cursor=c+1&limit=10",
		resp: `{"data":{"id":"662XXXX13","name":"testchatroom1","owner":"user1","affiliations_count":2}}`,
		want: ChatroomPage{Chatrooms: []ChatroomSummary{{ID: "662XXXX13", Name: "testchatroom1", Owner: "user1", AffiliationsCount: 2}}},
	},
	{
		name:   "ListChatrooms/array-and-cursor",
		call:   func(ctx context.Context, a *App) (any, error) { return a.ListChatrooms(ctx, 0, "") },
		method: "GET", uri: "/chatrooms",
		resp: `{"data":[{"id":"a","name":"A","owner":"o","affiliations_count":"3"},{"id":"b"}],"cursor":"Y3Vyc29y"}`,
		want: ChatroomPage{Chatrooms: []ChatroomSummary{{ID: "a", Name: "A", Owner: "o", AffiliationsCount: 3}, {ID: "b"}}, Cursor: "Y3Vyc29y"},
	},
	{
		name:   "ListJoinedChatrooms",
		call:   func(ctx context.Context, a *App) (any, error) { return a.ListJoinedChatrooms(ctx, "user 1", 2, 50) },
		method: "GET", uri: "/users/user%201/joined_chatrooms?pagenum=2&pagesize=50",
		resp: `{"action":"get","data":[{"id":"r1","name":"n1","disabled":"false"},{"id":"r2","name":"n2","disabled":true}],"count":"2","params":{"pagesize":["50"],"pagenum":["2"]},"properties":{}}`,
		want: []JoinedChatroom{{ID: "r1", Name: "n1"}, {ID: "r2", Name: "n2", Disabled: true}},
	},
	{
		name:   "GetChatrooms",
		call:   func(ctx context.Context, a *App) (any, error) { return a.GetChatrooms(ctx, "662XXXX13") },
		method: "GET", uri: "/chatrooms/662XXXX13",
		resp: `{"data":{"id":"662XXXX13","name":"testchatroom1","description":"test","membersonly":false,"allowinvites":true,"maxusers":200,"owner":"user1","created":1542542951527,"custom":"c","affiliations_count":3,"affiliations":[{"member":"user2"},{"owner":"user1"},{"member":"user3"}],"public":true,"mute":true}}`,
		want: []Chatroom{{
			ID: "662XXXX13", Name: "testchatroom1", Description: "test", Owner: "user1", Custom: "c",
			AllowInvites: true, Public: true, MuteAll: true, MaxUsers: 200, AffiliationsCount: 3,
			Created: ms(1542542951527), Owners: []string{"user1"}, Members: []string{"user2", "user3"},
		}},
	},
	{
		name:   "GetChatrooms/many",
		call:   func(ctx context.Context, a *App) (any, error) { return a.GetChatrooms(ctx, "r1", "r/2") },
		method: "GET", uri: "/chatrooms/r1%2Cr%2F2",
		resp: `{"data":[{"id":"r1"},{"id":"r/2","created":0}]}`,
		want: []Chatroom{{ID: "r1"}, {ID: "r/2"}},
	},
	{
		name: "CreateChatroom",
		call: func(ctx context.Context, a *App) (any, error) {
			return a.CreateChatroom(ctx, CreateChatroom{Name: "n", Description: "d", Owner: "o", MaxUsers: 300, Members: []string{"u1"}, Custom: "x", RoomID: "abc"})
		},
		method: "POST", uri: "/chatrooms",
		body: `{"name":"n","description":"d","maxusers":300,"owner":"o","members":["u1"],"custom":"x","roomid":"abc"}`,
		resp: `{"data":{"id":"66211860774913"}}`,
		want: "66211860774913",
	},
	{
		name: "CreateChatroom/minimal",
		call: func(ctx context.Context, a *App) (any, error) {
			return a.CreateChatroom(ctx, CreateChatroom{Name: "n", Owner: "o"})
		},
		method: "POST", uri: "/chatrooms",
		body: `{"name":"n","description":"","owner":"o"}`,
		resp: `{"data":{"id":"1"}}`,
		want: "1",
	},
	{
		name: "UpdateChatroom",
		call: func(ctx context.Context, a *App) (any, error) {
			return a.UpdateChatroom(ctx, "r1", UpdateChatroom{Name: ptr("new"), MaxUsers: ptr(500)})
		},
		method: "PUT", uri: "/chatrooms/r1",
		body: `{"name":"new","maxusers":500}`,
		resp: `{"action":"put","data":{"groupname":true,"maxusers":true}}`,
		want: UpdateResult{Name: true, MaxUsers: true},
	},
	{
		name:   "TransferChatroomOwner",
		call:   func(ctx context.Context, a *App) (any, error) { return nil, a.TransferChatroomOwner(ctx, "r1", "u2") },
		method: "PUT", uri: "/chatrooms/r1",
		body: `{"newowner":"u2"}`,
		resp: `{"data":{"newowner":true}}`,
	},
	{
		name:   "DeleteChatroom",
		call:   func(ctx context.Context, a *App) (any, error) { return nil, a.DeleteChatroom(ctx, "r1") },
		method: "DELETE", uri: "/chatrooms/r1",
		resp: `{"data":{"success":true,"id":"r1"}}`,
	},
	{
		name:   "ListMembers",
		call:   func(ctx context.Context, a *App) (any, error) { return a.ListMembers(ctx, "r1", 1, 10) },
		method: "GET", uri: "/chatrooms/r1/users?pagenum=1&pagesize=10",
		resp: `{"action":"get","data":[{"member":"user1"},{"owner":"user2"}],"count":2,"params":{"pagesize":["10"],"pagenum":["1"]}}`,
		want: MemberPage{Members: []Member{{Username: "user1"}, {Username: "user2", Owner: true}}, Count: 2},
	},
	{
		name:   "AddMember",
		call:   func(ctx context.Context, a *App) (any, error) { return nil, a.AddMember(ctx, "r1", "u1") },
		method: "POST", uri: "/chatrooms/r1/users/u1",
		resp: `{"data":{"result":true,"action":"add_member","id":"r1","user":"u1"}}`,
	},
	{
		name:   "AddMembers",
		call:   func(ctx context.Context, a *App) (any, error) { return a.AddMembers(ctx, "r1", []string{"u1", "u2"}) },
		method: "POST", uri: "/chatrooms/r1/users",
		body: `{"usernames":["u1","u2"]}`,
		resp: `{"data":{"newmembers":["u1","u2"],"action":"add_member","id":"r1"}}`,
		want: []string{"u1", "u2"},
	},
	{
		name:   "RemoveMember",
		call:   func(ctx context.Context, a *App) (any, error) { return nil, a.RemoveMember(ctx, "r1", "u1") },
		method: "DELETE", uri: "/chatrooms/r1/users/u1",
		resp: `{"data":{"result":true,"action":"remove_member","user":"u1","id":"r1"}}`,
	},
	{
		name: "RemoveMembers",
		call: func(ctx context.Context, a *App) (any, error) {
			return a.RemoveMembers(ctx, "r1", []string{"u1", "u2"})
		},
		method: "DELETE", uri: "/chatrooms/r1/users/u1%2Cu2",
		resp: `{"data":[{"result":false,"action":"remove_member","reason":"user: u1 doesn't exist in group: r1","user":"u1","id":"r1"},{"result":true,"action":"remove_member","user":"u2","id":"r1"}]}`,
		want: []ItemResult{{Username: "u1", Reason: "user: u1 doesn't exist in group: r1"}, {Username: "u2", OK: true}},
	},
	{
		name:   "ListAdmins",
		call:   func(ctx context.Context, a *App) (any, error) { return a.ListAdmins(ctx, "r1") },
		method: "GET", uri: "/chatrooms/r1/admin",
		resp: `{"data":["u1"],"count":"1"}`,
		want: []string{"u1"},
	},
	{
		name:   "AddAdmin",
		call:   func(ctx context.Context, a *App) (any, error) { return nil, a.AddAdmin(ctx, "r1", "u1") },
		method: "POST", uri: "/chatrooms/r1/admin",
		body: `{"newadmin":"u1"}`,
		resp: `{"data":{"result":"success","newadmin":"u1"}}`,
	},
	{
		name:   "RemoveAdmin",
		call:   func(ctx context.Context, a *App) (any, error) { return nil, a.RemoveAdmin(ctx, "r1", "u1") },
		method: "DELETE", uri: "/chatrooms/r1/admin/u1",
		resp: `{"data":{"result":"success","oldadmin":"u1"}}`,
	},
	{
		name:   "ListSuperAdmins",
		call:   func(ctx context.Context, a *App) (any, error) { return a.ListSuperAdmins(ctx, 2, 2) },
		method: "GET", uri: "/chatrooms/super_admin?pagenum=2&pagesize=2",
		resp: `{"params":{"pagesize":["2"],"pagenum":["2"]},"data":["h1","h11","h10"],"count":3}`,
		want: []string{"h1", "h11", "h10"},
	},
	{
		name:   "AddSuperAdmin",
		call:   func(ctx context.Context, a *App) (any, error) { return nil, a.AddSuperAdmin(ctx, "u1") },
		method: "POST", uri: "/chatrooms/super_admin",
		body: `{"superadmin":"u1"}`,
		resp: `{"data":{"result":"success","resource":""}}`,
	},
	{
		name:   "RemoveSuperAdmin",
		call:   func(ctx context.Context, a *App) (any, error) { return nil, a.RemoveSuperAdmin(ctx, "u1") },
		method: "DELETE", uri: "/chatrooms/super_admin/u1",
		resp: `{"data":{"newSuperAdmin":"u1","resource":""},"properties":{}}`,
	},
	{
		name:   "ListMutes",
		call:   func(ctx context.Context, a *App) (any, error) { return a.ListMutes(ctx, "r1") },
		method: "GET", uri: "/chatrooms/r1/mute",
		// user3: the fixed expiry older vendor docs give a permanent mute.
		resp: `{"data":[{"expire":1489158589481,"user":"user1"},{"expire":-1,"user":"user2"},{"expire":4638873600000,"user":"user3"}]}`,
		want: []Mute{{Username: "user1", Expire: ms(1489158589481)}, {Username: "user2", Permanent: true}, {Username: "user3", Permanent: true}},
	},
	{
		name: "MuteMembers",
		call: func(ctx context.Context, a *App) (any, error) {
			return a.MuteMembers(ctx, "r1", []string{"user1", "user2"}, MuteDuration(1500*time.Microsecond))
		},
		method: "POST", uri: "/chatrooms/r1/mute",
		body: `{"usernames":["user1","user2"],"mute_duration":2}`, // ms, rounded up
		resp: `{"data":[{"result":true,"expire":1642148173726,"user":"user1"},{"result":true,"expire":1642148173726,"user":"user2"}]}`,
		want: []ItemResult{{Username: "user1", OK: true, Expire: ms(1642148173726)}, {Username: "user2", OK: true, Expire: ms(1642148173726)}},
	},
	{
		name: "MuteMembers/permanent",
		call: func(ctx context.Context, a *App) (any, error) {
			return a.MuteMembers(ctx, "r1", []string{"user1"}, Permanent)
		},
		method: "POST", uri: "/chatrooms/r1/mute",
		body: `{"usernames":["user1"],"mute_duration":-1}`,
		resp: `{"data":[{"result":true,"expire":-1,"user":"user1"},{"result":true,"expire":4638873600000,"user":"user2"}]}`,
		want: []ItemResult{{Username: "user1", OK: true, Permanent: true}, {Username: "user2", OK: true, Permanent: true}},
	},
	{
		name: "UnmuteMembers",
		call: func(ctx context.Context, a *App) (any, error) {
			return a.UnmuteMembers(ctx, "r1", []string{"u1", "u2"})
		},
		method: "DELETE", uri: "/chatrooms/r1/mute/u1%2Cu2",
		resp: `{"data":[{"result":true,"user":"u1"},{"result":true,"user":"u2"}]}`,
		want: []ItemResult{{Username: "u1", OK: true}, {Username: "u2", OK: true}},
	},
	{
		name:   "MuteAll",
		call:   func(ctx context.Context, a *App) (any, error) { return nil, a.MuteAll(ctx, "r1") },
		method: "POST", uri: "/chatrooms/r1/ban",
		resp: `{"action":"put","data":{"mute":true}}`,
	},
	{
		name:   "UnmuteAll",
		call:   func(ctx context.Context, a *App) (any, error) { return nil, a.UnmuteAll(ctx, "r1") },
		method: "DELETE", uri: "/chatrooms/r1/ban",
		resp: `{"data":{"mute":false}}`,
	},
	{
		name: "MuteTag",
		call: func(ctx context.Context, a *App) (any, error) {
			return nil, a.MuteTag(ctx, "r1", "t1", MuteDuration(90*time.Second))
		},
		method: "PUT", uri: "/chatrooms/r1/tag/mute",
		body: `{"tag":"t1","mute_duration":90}`, // seconds
		resp: `{"data":{"result":true},"properties":{}}`,
	},
	{
		name: "SetMemberTags",
		call: func(ctx context.Context, a *App) (any, error) {
			return nil, a.SetMemberTags(ctx, "r1", "u1", []string{"t1", "t2"})
		},
		method: "PUT", uri: "/chatrooms/r1/users/u1/tag",
		body: `{"tags":["t1","t2"]}`,
		resp: `{"data":{"result":true}}`,
	},
	{
		name:   "SetMemberTags/clear",
		call:   func(ctx context.Context, a *App) (any, error) { return nil, a.SetMemberTags(ctx, "r1", "u1", nil) },
		method: "PUT", uri: "/chatrooms/r1/users/u1/tag",
		body: `{"tags":[]}`,
		resp: `{"data":{"result":true}}`,
	},
	{
		name:   "GetMemberTags",
		call:   func(ctx context.Context, a *App) (any, error) { return a.GetMemberTags(ctx, "r1", "u1") },
		method: "GET", uri: "/chatrooms/r1/users/u1/tag",
		resp: `{"data":{"t2":"1730790248255","t1":"-1","t3":1730790248000}}`,
		want: []MemberTag{{Tag: "t1", Permanent: true}, {Tag: "t2", Expire: ms(1730790248255)}, {Tag: "t3", Expire: ms(1730790248000)}},
	},
	{
		name:   "ListAllowlist",
		call:   func(ctx context.Context, a *App) (any, error) { return a.ListAllowlist(ctx, "r1") },
		method: "GET", uri: "/chatrooms/r1/white/users",
		resp: `{"data":["u1","u2"],"count":2}`,
		want: []string{"u1", "u2"},
	},
	{
		name:   "AddAllowlistMember",
		call:   func(ctx context.Context, a *App) (any, error) { return nil, a.AddAllowlistMember(ctx, "r1", "u1") },
		method: "POST", uri: "/chatrooms/r1/white/users/u1",
		resp: `{"data":{"result":true,"action":"add_user_whitelist","user":"u1","chatroomid":"r1"}}`,
	},
	{
		name: "AddAllowlistMembers",
		call: func(ctx context.Context, a *App) (any, error) {
			return a.AddAllowlistMembers(ctx, "r1", []string{"u1", "u2"})
		},
		method: "POST", uri: "/chatrooms/r1/white/users",
		body: `{"usernames":["u1","u2"]}`,
		resp: `{"data":[{"result":true,"action":"add_user_whitelist","user":"u1","chatroomid":"r1"},{"result":false,"reason":"not a member","action":"add_user_whitelist","user":"u2","chatroomid":"r1"}]}`,
		want: []ItemResult{{Username: "u1", OK: true}, {Username: "u2", Reason: "not a member"}},
	},
	{
		name: "RemoveAllowlistMembers",
		call: func(ctx context.Context, a *App) (any, error) {
			return a.RemoveAllowlistMembers(ctx, "r1", []string{"u1"})
		},
		method: "DELETE", uri: "/chatrooms/r1/white/users/u1",
		resp: `{"data":[{"result":true,"action":"remove_user_whitelist","user":"u1","chatroomid":"r1"}]}`,
		want: []ItemResult{{Username: "u1", OK: true}},
	},
	{
		name:   "ListBlocklist",
		call:   func(ctx context.Context, a *App) (any, error) { return a.ListBlocklist(ctx, "r1") },
		method: "GET", uri: "/chatrooms/r1/blocks/users",
		resp: `{"data":["u1"],"count":1}`,
		want: []string{"u1"},
	},
	{
		name:   "AddBlocklistMember",
		call:   func(ctx context.Context, a *App) (any, error) { return nil, a.AddBlocklistMember(ctx, "r1", "u1") },
		method: "POST", uri: "/chatrooms/r1/blocks/users/u1",
		resp: `{"data":{"result":true,"action":"add_blocks","user":"u1","chatroomid":"r1"}}`,
	},
	{
		name: "AddBlocklistMembers",
		call: func(ctx context.Context, a *App) (any, error) {
			return a.AddBlocklistMembers(ctx, "r1", []string{"u1", "user3"})
		},
		method: "POST", uri: "/chatrooms/r1/blocks/users",
		body: `{"usernames":["u1","user3"]}`,
		resp: `{"data":[{"result":true,"action":"add_blocks","user":"u1","chatroomid":"r1"},{"result":false,"action":"add_blocks","reason":"user: user3 doesn't exist in chatroom: r1","user":"user3","chatroomid":"r1"}]}`,
		want: []ItemResult{{Username: "u1", OK: true}, {Username: "user3", Reason: "user: user3 doesn't exist in chatroom: r1"}},
	},
	{
		name: "RemoveBlocklistMembers",
		call: func(ctx context.Context, a *App) (any, error) {
			return a.RemoveBlocklistMembers(ctx, "r1", []string{"u1", "u2"})
		},
		method: "DELETE", uri: "/chatrooms/r1/blocks/users/u1%2Cu2",
		resp: `{"data":[{"result":true,"action":"remove_blocks","user":"u1","chatroomid":"r1"},{"result":true,"action":"remove_blocks","user":"u2","chatroomid":"r1"}]}`,
		want: []ItemResult{{Username: "u1", OK: true}, {Username: "u2", OK: true}},
	},
	{
		name: "RemoveBlocklistMembers/one-object",
		call: func(ctx context.Context, a *App) (any, error) {
			return a.RemoveBlocklistMembers(ctx, "r1", []string{"u1"})
		},
		method: "DELETE", uri: "/chatrooms/r1/blocks/users/u1",
		resp: `{"data":{"result":true,"action":"remove_blocks","user":"u1","chatroomid":"r1"}}`,
		want: []ItemResult{{Username: "u1", OK: true}},
	},
	{
		name:   "GetAnnouncement",
		call:   func(ctx context.Context, a *App) (any, error) { return a.GetAnnouncement(ctx, "r1") },
		method: "GET", uri: "/chatrooms/r1/announcement",
		resp: `{"data":{"announcement":"hello"}}`,
		want: "hello",
	},
	{
		name:   "UpdateAnnouncement",
		call:   func(ctx context.Context, a *App) (any, error) { return nil, a.UpdateAnnouncement(ctx, "r1", "") },
		method: "POST", uri: "/chatrooms/r1/announcement",
		body: `{"announcement":""}`,
		resp: `{"data":{"id":"r1","result":true}}`,
	},
	{
		name: "GetAttributes",
		call: func(ctx context.Context, a *App) (any, error) {
			return a.GetAttributes(ctx, "r1", []string{"key1", "key2"})
		},
		method: "POST", uri: "/metadata/chatroom/r1",
		body: `{"keys":["key1","key2"]}`,
		resp: `{"uri":"x","timestamp":1716891388636,"action":"post","data":{"key1":"value1","key2":"value2"}}`,
		want: map[string]string{"key1": "value1", "key2": "value2"},
	},
	{
		name:   "GetAttributes/all",
		call:   func(ctx context.Context, a *App) (any, error) { return a.GetAttributes(ctx, "r1", nil) },
		method: "POST", uri: "/metadata/chatroom/r1",
		body: `{}`,
		resp: `{"data":{}}`,
		want: map[string]string{},
	},
	{
		name: "SetAttributes",
		call: func(ctx context.Context, a *App) (any, error) {
			return a.SetAttributes(ctx, "r1", "u1", map[string]string{"key1": "v1", "key2": "v2"}, true, false)
		},
		method: "PUT", uri: "/metadata/chatroom/r1/user/u1",
		body: `{"metaData":{"key1":"v1","key2":"v2"},"autoDelete":"DELETE"}`,
		resp: `{"uri":"x","timestamp":1,"action":"put","data":{"successKeys":["key1"],"errorKeys":{"key2":"properties key 'key2' is exceeding maximum limit 128"}}}`,
		want: AttributeResult{SuccessKeys: []string{"key1"}, ErrorKeys: map[string]string{"key2": "properties key 'key2' is exceeding maximum limit 128"}},
	},
	{
		name: "SetAttributes/forced",
		call: func(ctx context.Context, a *App) (any, error) {
			return a.SetAttributes(ctx, "r1", "u1", map[string]string{"key1": "v1"}, false, true)
		},
		method: "PUT", uri: "/metadata/chatroom/r1/user/u1/forced",
		body: `{"metaData":{"key1":"v1"},"autoDelete":"NO_DELETE"}`,
		resp: `{"data":{"successKeys":["key1"],"errorKeys":{}}}`,
		want: AttributeResult{SuccessKeys: []string{"key1"}, ErrorKeys: map[string]string{}},
	},
	{
		name: "DeleteAttributes",
		call: func(ctx context.Context, a *App) (any, error) {
			return a.DeleteAttributes(ctx, "r1", "u1", []string{"key1", "key2"}, false)
		},
		method: "DELETE", uri: "/metadata/chatroom/r1/user/u1",
		body: `{"keys":["key1","key2"]}`,
		resp: `{"uri":"x","status":"ok","timestamp":1,"action":"delete","data":{"successKeys":["key1"],"errorKeys":{"key2":"errorDesc"}}}`,
		want: AttributeResult{SuccessKeys: []string{"key1"}, ErrorKeys: map[string]string{"key2": "errorDesc"}},
	},
	{
		name:   "DeleteAttributes/forced-all",
		call:   func(ctx context.Context, a *App) (any, error) { return a.DeleteAttributes(ctx, "r1", "u1", nil, true) },
		method: "DELETE", uri: "/metadata/chatroom/r1/user/u1/forced",
		body: `{}`,
		resp: `{"data":{"successKeys":[],"errorKeys":{}}}`,
		want: AttributeResult{SuccessKeys: []string{}, ErrorKeys: map[string]string{}},
	},
}

func TestOperations(t *testing.T) {
	t.Parallel()
	for _, tc := range opCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := newVendor(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, 200, tc.resp) })
			e := newEnv(t, v, Options{})
			got, err := tc.call(ctxT(t), e.app)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != nil {
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("result (-want +got):\n%s", diff)
				}
			}
			reqs := v.requests()
			if len(reqs) != 1 {
				t.Fatalf("requests = %d, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != tc.method || r.URI != tc.uri {
				t.Errorf("request %s %s, want %s %s", r.Method, r.URI, tc.method, tc.uri)
			}
			if got := r.Header.Get("Authorization"); got != "Bearer tok-1" {
				t.Errorf("Authorization = %q", got)
			}
			if got := r.Header.Get("Accept"); got != "application/json" {
				t.Errorf("Accept = %q", got)
			}
			if tc.body == "" {
				if len(r.Body) != 0 || r.Header.Get("Content-Type") != "" {
					t.Errorf("body %q (Content-Type %q), want none", r.Body, r.Header.Get("Content-Type"))
				}
				return
			}
			if got := r.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q", got)
			}
			var gotBody, wantBody any
			if err := json.Unmarshal(r.Body, &gotBody); err != nil {
				t.Fatalf("body %q: %v", r.Body, err)
			}
			if err := json.Unmarshal([]byte(tc.body), &wantBody); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantBody, gotBody); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOperationsCoverEveryOp(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{OpToken: true}
	for _, tc := range opCases {
		name, _, _ := strings.Cut(tc.name, "/")
		seen[name] = true
	}
	for _, op := range ops {
		if !seen[op] {
			t.Errorf("no case for %s", op)
		}
	}
}

// A long vendor description (here in Chinese, 3-byte runes) is cut at
// maxDescription bytes on a rune boundary: a split rune is not UTF-8, and
// gRPC's error details and the gateway's JSON refuse the text, so the
// caller would get the error without its ErrorInfo.
func TestLongDescriptionIsCutOnARune(t *testing.T) {
	t.Parallel()
	desc := "x" + strings.Repeat("聊天室不存在", 60) // 1 + 1,080 bytes: byte 512 is inside a rune
	e := answer(t, 404, `{"error":"resource_not_found","error_description":"`+desc+`"}`)
	err := e.app.DeleteChatroom(ctxT(t), "r1")
	var ve *Error
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	if !utf8.ValidString(ve.Description) || !strings.HasPrefix(desc, strings.TrimSuffix(ve.Description, "…")) || len(ve.Description) > maxDescription+len("…") {
		t.Errorf("description cut to %q, want a valid prefix of at most %d bytes", ve.Description, maxDescription)
	}
}

// A single-user or single-room call puts its value in the path as one
// segment, where a comma is the vendor's list separator (%2C): removing
// "alice,bob" would remove two users; and a dot segment moves the path:
// removing member bob of room ".." would delete user bob. Such values are
// refused before anything is sent; a room's name, in the body, may hold a
// comma.
func TestSingleValueCallsRefuseACommaOrDots(t *testing.T) {
	t.Parallel()
	e := answer(t, 200, `{"data":{"result":true}}`)
	for name, call := range map[string]func() error{
		"RemoveMember":          func() error { return e.app.RemoveMember(ctxT(t), "r1", "alice,bob") },
		"RemoveAdmin":           func() error { return e.app.RemoveAdmin(ctxT(t), "r1", "alice,bob") },
		"RemoveSuperAdmin":      func() error { return e.app.RemoveSuperAdmin(ctxT(t), "alice,bob") },
		"DeleteChatroom":        func() error { return e.app.DeleteChatroom(ctxT(t), "1,2") },
		"RemoveMember of ..":    func() error { return e.app.RemoveMember(ctxT(t), "..", "bob") },
		"RemoveSuperAdmin of .": func() error { return e.app.RemoveSuperAdmin(ctxT(t), ".") },
	} {
		if err := call(); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want ErrInvalidArgument", name, err)
		}
	}
	if sent := e.v.requests(); len(sent) != 0 {
		t.Errorf("sent %d requests for values with a comma or dots", len(sent))
	}
	if _, err := e.app.CreateChatroom(ctxT(t), CreateChatroom{Name: "tea, cake", Owner: "alice"}); errors.Is(err, ErrInvalidArgument) {
		t.Errorf("a room name with a comma: %v", err)
	}
}
