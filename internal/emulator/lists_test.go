package emulator

import (
	"fmt"
	"strings"
	"testing"
)

func TestAllowlist(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.createRoom("u1", "u2", "u3")
	r := f.ok("POST", "/chatrooms/"+id+"/white/users/u1", nil)
	wantEnvelope(t, r, "post")
	if js(r.data()) != fmt.Sprintf(`{"action":"add_user_whitelist","chatroomid":"%s","result":true,"user":"u1"}`, id) {
		t.Errorf("add one: %s", r.raw)
	}
	list := f.ok("POST", "/chatrooms/"+id+"/white/users", map[string]any{"usernames": []string{"u2", "u9"}}).dataList()
	if js(list) != fmt.Sprintf(`[{"action":"add_user_whitelist","chatroomid":"%[1]s","result":true,"user":"u2"},{"action":"add_user_whitelist","chatroomid":"%[1]s","reason":"user: u9 doesn't exist in chatroom: %[1]s","result":false,"user":"u9"}]`, id) {
		t.Errorf("add batch: %s", js(list))
	}
	r = f.ok("GET", "/chatrooms/"+id+"/white/users", nil)
	if fmt.Sprint(r.data()) != "[u1 u2]" || r.body["count"] != float64(2) {
		t.Errorf("allowlist: %s", r.raw)
	}
	list = f.ok("DELETE", "/chatrooms/"+id+"/white/users/u1,u3", nil).dataList()
	if js(list) != fmt.Sprintf(`[{"action":"remove_user_whitelist","chatroomid":"%[1]s","result":true,"user":"u1"},{"action":"remove_user_whitelist","chatroomid":"%[1]s","result":false,"user":"u3"}]`, id) {
		t.Errorf("remove: %s", js(list))
	}
	wantErr(t, f.do("POST", "/chatrooms/"+id+"/white/users/u9", nil), 403, "forbidden_op", "users [u9] are not members of this group!")
	wantErr(t, f.do("POST", "/chatrooms/"+id+"/white/users", map[string]any{"usernames": []string{"u9"}}), 403, "forbidden_op", "users [u9] are not members of this group!")
	wantErr(t, f.do("DELETE", "/chatrooms/"+id+"/white/users/u9", nil), 400, "forbidden_op", "users [u9] are not members of this group!")
	wantErr(t, f.do("POST", "/chatrooms/"+id+"/white/users", map[string]any{"usernames": userRange(1, 101)}), 400, "invalid_parameter", "usernames size is more than max limit : 100")
	wantErr(t, f.do("DELETE", "/chatrooms/"+id+"/white/users/"+strings.Join(userRange(1, 61), ","), nil), 400, "invalid_parameter", "removeWhitelist size is more than max limit : 60")
	for _, p := range []string{"GET /white/users", "POST /white/users/u1", "DELETE /white/users/u1"} {
		m, path, _ := strings.Cut(p, " ")
		wantErr(t, f.do(m, "/chatrooms/404"+path, nil), 404, "resource_not_found", "grpID 404 does not exist!")
	}
}

func TestBlocklist(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.createRoom("u1", "u2", "u3", "u4")
	f.ok("POST", "/chatrooms/"+id+"/admin", map[string]any{"newadmin": "u1"})
	r := f.ok("POST", "/chatrooms/"+id+"/blocks/users/u1", nil)
	if js(r.data()) != fmt.Sprintf(`{"action":"add_blocks","chatroomid":"%s","result":true,"user":"u1"}`, id) {
		t.Errorf("block one: %s", r.raw)
	}
	// A blocked user is removed from the room (and its admin role) and
	// cannot re-join.
	if got := fmt.Sprint(f.ok("GET", "/chatrooms/"+id+"/users", nil).data()); strings.Contains(got, "u1") {
		t.Errorf("blocked user still a member: %s", got)
	}
	if n := len(f.ok("GET", "/chatrooms/"+id+"/admin", nil).dataList()); n != 0 {
		t.Errorf("blocked admin still admin")
	}
	wantErr(t, f.do("POST", "/chatrooms/"+id+"/users/u1", nil), 403, "forbidden_op", "can not join this group, reason:user u1 is in the blocklist!")
	if nm := f.ok("POST", "/chatrooms/"+id+"/users", map[string]any{"usernames": []string{"u1", "u5"}}).dataMap()["newmembers"]; fmt.Sprint(nm) != "[u5]" {
		t.Errorf("batch add let a blocked user in: %v", nm)
	}
	list := f.ok("POST", "/chatrooms/"+id+"/blocks/users", map[string]any{"usernames": []string{"u2", "u9", "owner"}}).dataList()
	if js(list) != fmt.Sprintf(`[{"action":"add_blocks","chatroomid":"%[1]s","result":true,"user":"u2"},{"action":"add_blocks","chatroomid":"%[1]s","reason":"user: u9 doesn't exist in chatroom: %[1]s","result":false,"user":"u9"},{"action":"add_blocks","chatroomid":"%[1]s","reason":"user: owner is the owner of chatroom: %[1]s","result":false,"user":"owner"}]`, id) {
		t.Errorf("block batch: %s", js(list))
	}
	r = f.ok("GET", "/chatrooms/"+id+"/blocks/users", nil)
	if fmt.Sprint(r.data()) != "[u1 u2]" || r.body["count"] != float64(2) {
		t.Errorf("blocklist: %s", r.raw)
	}
	// The owner cannot be blocked.
	r = f.do("POST", "/chatrooms/"+id+"/blocks/users/owner", nil)
	if r.status != 403 || r.body["error"] != "forbidden_op" {
		t.Errorf("block owner: %d %s", r.status, r.raw)
	}
	wantErr(t, f.do("POST", "/chatrooms/"+id+"/blocks/users/u9", nil), 403, "forbidden_op", "users [u9] are not members of this group!")
	wantErr(t, f.do("POST", "/chatrooms/"+id+"/blocks/users", map[string]any{"usernames": userRange(1, 61)}), 400, "invalid_parameter", "userNames is more than max limit : 100")
	r = f.ok("DELETE", "/chatrooms/"+id+"/blocks/users/u1", nil)
	if js(r.data()) != fmt.Sprintf(`{"action":"remove_blocks","chatroomid":"%s","result":true,"user":"u1"}`, id) {
		t.Errorf("unblock one: %s", r.raw)
	}
	wantErr(t, f.do("DELETE", "/chatrooms/"+id+"/blocks/users/u1", nil), 403, "forbidden_op", "users [u1] are not in the blocklist of this group!")
	list = f.ok("DELETE", "/chatrooms/"+id+"/blocks/users/u1%2Cu2", nil).dataList()
	if js(list) != fmt.Sprintf(`[{"action":"remove_blocks","chatroomid":"%[1]s","result":false,"user":"u1"},{"action":"remove_blocks","chatroomid":"%[1]s","result":true,"user":"u2"}]`, id) {
		t.Errorf("unblock batch: %s", js(list))
	}
	wantErr(t, f.do("DELETE", "/chatrooms/"+id+"/blocks/users/"+strings.Join(userRange(1, 61), "%2C"), nil), 400, "invalid_parameter", "removeBlacklist: list size more than max limit : 60")
	// Unblocked users may join again.
	f.ok("POST", "/chatrooms/"+id+"/users/u1", nil)
	wantErr(t, f.do("POST", "/chatrooms/404/blocks/users/u1", nil), 404, "resource_not_found", "grpID 404 does not exist!")
	wantErr(t, f.do("GET", "/chatrooms/404/blocks/users", nil), 404, "resource_not_found", "grpID 404 does not exist!")
}
