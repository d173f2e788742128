package emulator

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func userRange(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("u%d", i))
	}
	return out
}

func TestListMembersPaginates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.createRoom("u1", "u2", "u3")
	r := f.ok("GET", "/chatrooms/"+id+"/users", nil)
	wantEnvelope(t, r, "get")
	if fmt.Sprint(r.data()) != "[map[owner:owner] map[member:u1] map[member:u2] map[member:u3]]" || r.body["count"] != float64(4) {
		t.Errorf("members: %s", r.raw)
	}
	if _, has := r.body["params"]; has {
		t.Errorf("params without a query: %s", r.raw)
	}
	r = f.ok("GET", "/chatrooms/"+id+"/users?pagenum=2&pagesize=2", nil)
	if fmt.Sprint(r.data()) != "[map[member:u2] map[member:u3]]" || fmt.Sprint(r.body["params"]) != "map[pagenum:[2] pagesize:[2]]" {
		t.Errorf("page 2: %s", r.raw)
	}
	wantErr(t, f.do("GET", "/chatrooms/404/users", nil), 404, "service_resource_not_found", "do not find this group:404")
}

func TestAddMembers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.createRoom("u1")
	r := f.ok("POST", "/chatrooms/"+id+"/users/u2", nil)
	wantEnvelope(t, r, "post")
	if fmt.Sprint(r.dataMap()) != fmt.Sprintf("map[action:add_member id:%s result:true user:u2]", id) {
		t.Errorf("add one: %s", r.raw)
	}
	// Adding a member again succeeds.
	f.ok("POST", "/chatrooms/"+id+"/users/u2", nil)
	r = f.ok("POST", "/chatrooms/"+id+"/users", map[string]any{"usernames": []string{"u1", "u3", "u4"}})
	if fmt.Sprint(r.dataMap()) != fmt.Sprintf("map[action:add_member id:%s newmembers:[u1 u3 u4]]", id) {
		t.Errorf("add batch: %s", r.raw)
	}
	if n := f.ok("GET", "/chatrooms/"+id, nil).dataMap()["affiliations_count"]; n != float64(5) {
		t.Errorf("affiliations_count = %v", n)
	}
	wantErr(t, f.do("POST", "/chatrooms/"+id+"/users", map[string]any{"usernames": userRange(1, 101)}), 400, "invalid_parameter", "addMembers: addMembers number more than maxSize : 100")
	wantErr(t, f.do("POST", "/chatrooms/"+id+"/users", map[string]any{"usernames": []string{"u5", "ghost"}}), 404, "resource_not_found", "username ghost doesn't exist!")
	wantErr(t, f.do("POST", "/chatrooms/"+id+"/users/ghost", nil), 404, "resource_not_found", "username ghost doesn't exist!")
	wantErr(t, f.do("POST", "/chatrooms/404/users/u1", nil), 404, "resource_not_found", "grpID 404 does not exist!")
	wantErr(t, f.do("POST", "/chatrooms/404/users", map[string]any{"usernames": []string{"u1"}}), 404, "resource_not_found", "grpID 404 does not exist!")
	f.ok("POST", "/chatrooms/"+id+"/users", map[string]any{"usernames": userRange(10, 109)})
	// Room full (maxusers 1000 by default; make a small one).
	small := f.ok("POST", "/chatrooms", map[string]any{"name": "s", "description": "", "owner": "owner", "maxusers": 2, "members": []string{"u1"}}).dataMap()["id"].(string)
	wantErr(t, f.do("POST", "/chatrooms/"+small+"/users/u2", nil), 403, "exceeded_limit", "can not join this group, reason:members size is greater than max user size !")
	wantErr(t, f.do("POST", "/chatrooms/"+small+"/users", map[string]any{"usernames": []string{"u2"}}), 403, "exceeded_limit", "can not join this group, reason:members size is greater than max user size !")
}

func TestRemoveMembers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.createRoom("u1", "u2", "u3")
	r := f.ok("DELETE", "/chatrooms/"+id+"/users/u1", nil)
	wantEnvelope(t, r, "delete")
	if fmt.Sprint(r.dataMap()) != fmt.Sprintf("map[action:remove_member id:%s result:true user:u1]", id) {
		t.Errorf("remove one: %s", r.raw)
	}
	wantErr(t, f.do("DELETE", "/chatrooms/"+id+"/users/u1", nil), 400, "forbidden_op", "users [u1] are not members of this group!")
	// A batch with a stranger: HTTP 200 with a per-user result.
	list := f.ok("DELETE", "/chatrooms/"+id+"/users/u1%2Cu2", nil).dataList()
	if len(list) != 2 {
		t.Fatalf("batch: %v", list)
	}
	if a := list[0].(map[string]any); a["result"] != false || a["reason"] != "user: u1 doesn't exist in group: "+id || a["action"] != "remove_member" {
		t.Errorf("failed item: %v", a)
	}
	if b := list[1].(map[string]any); b["result"] != true || b["user"] != "u2" || b["id"] != id {
		t.Errorf("removed item: %v", b)
	}
	if uri := f.ok("GET", "/chatrooms/"+id+"/users?pagenum=1", nil).body["uri"]; uri != f.srv.URL+"/acme/chat/chatrooms/"+id+"/users" {
		t.Errorf("uri = %v", uri)
	}
	wantErr(t, f.do("DELETE", "/chatrooms/"+id+"/users/u1%2Cu2", nil), 400, "forbidden_op", "users [u1, u2] are not members of this group!")
	wantErr(t, f.do("DELETE", "/chatrooms/"+id+"/users/"+strings.Join(userRange(1, 61), "%2C"), nil), 400, "invalid_parameter", "kickMember: kickMembers number more than maxSize : 60")
	wantErr(t, f.do("DELETE", "/chatrooms/"+id+"/users/ghost", nil), 404, "resource_not_found", "username ghost doesn't exist!")
	wantErr(t, f.do("DELETE", "/chatrooms/404/users/u3", nil), 404, "resource_not_found", "grpID 404 does not exist!")
	// Literal commas work as %2C does.
	f.ok("POST", "/chatrooms/"+id+"/users", map[string]any{"usernames": []string{"u1", "u2"}})
	if n := len(f.ok("DELETE", "/chatrooms/"+id+"/users/u1,u2", nil).dataList()); n != 2 {
		t.Errorf("literal comma list: %d items", n)
	}
	if got := fmt.Sprint(f.ok("GET", "/chatrooms/"+id+"/users", nil).data()); got != "[map[owner:owner] map[member:u3]]" {
		t.Errorf("members after removals: %s", got)
	}
}

func TestAdmins(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.createRoom("u1", "u2")
	r := f.ok("POST", "/chatrooms/"+id+"/admin", map[string]any{"newadmin": "u1"})
	if fmt.Sprint(r.dataMap()) != "map[newadmin:u1 result:success]" {
		t.Errorf("add admin: %s", r.raw)
	}
	r = f.ok("GET", "/chatrooms/"+id+"/admin", nil)
	if fmt.Sprint(r.data()) != "[u1]" || r.body["count"] != float64(1) {
		t.Errorf("list admins: %s", r.raw)
	}
	// Admins appear as members in the member list.
	if got := fmt.Sprint(f.ok("GET", "/chatrooms/"+id+"/users", nil).data()); !strings.Contains(got, "map[member:u1]") {
		t.Errorf("admin not listed as member: %s", got)
	}
	wantErr(t, f.do("POST", "/chatrooms/"+id+"/admin", map[string]any{"newadmin": "u3"}), 403, "forbidden_op", "users [u3] are not members of this group!")
	wantErr(t, f.do("POST", "/chatrooms/"+id+"/admin", map[string]any{"newadmin": "ghost"}), 404, "resource_not_found", "username ghost doesn't exist!")
	wantErr(t, f.do("POST", "/chatrooms/404/admin", map[string]any{"newadmin": "u1"}), 404, "resource_not_found", "grpID 404 does not exist!")
	wantErr(t, f.do("POST", "/chatrooms/"+id+"/admin", map[string]any{}), 400, "invalid_parameter", "newadmin must be provided")
	r = f.ok("DELETE", "/chatrooms/"+id+"/admin/u1", nil)
	if fmt.Sprint(r.dataMap()) != "map[oldadmin:u1 result:success]" {
		t.Errorf("remove admin: %s", r.raw)
	}
	wantErr(t, f.do("DELETE", "/chatrooms/"+id+"/admin/ghost", nil), 404, "resource_not_found", "username ghost doesn't exist!")
	wantErr(t, f.do("GET", "/chatrooms/404/admin", nil), 404, "resource_not_found", "grpID 404 does not exist!")
	// Owner + admins ≤ 100: at most 99 admins.
	f.ok("POST", "/chatrooms/"+id+"/users", map[string]any{"usernames": userRange(1, 100)})
	for _, u := range userRange(1, 99) {
		f.clock.Advance(20 * time.Millisecond) // within the API's 100 calls/s
		f.ok("POST", "/chatrooms/"+id+"/admin", map[string]any{"newadmin": u})
	}
	r = f.do("POST", "/chatrooms/"+id+"/admin", map[string]any{"newadmin": "u100"})
	if r.status != 403 || r.body["error"] != "exceed_limit" {
		t.Errorf("100th admin: %d %s", r.status, r.raw)
	}
	// An admin who leaves is no longer an admin.
	f.ok("DELETE", "/chatrooms/"+id+"/users/u5", nil)
	f.ok("POST", "/chatrooms/"+id+"/users/u5", nil)
	if n := len(f.ok("GET", "/chatrooms/"+id+"/admin", nil).dataList()); n != 98 {
		t.Errorf("%d admins after one left", n)
	}
}

func TestSuperAdmins(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, u := range userRange(1, 12) {
		r := f.ok("POST", "/chatrooms/super_admin", map[string]any{"superadmin": u})
		if fmt.Sprint(r.dataMap()) != "map[resource: result:success]" {
			t.Fatalf("add super admin: %s", r.raw)
		}
	}
	r := f.ok("GET", "/chatrooms/super_admin", nil)
	if len(r.dataList()) != 10 || r.body["count"] != float64(10) {
		t.Errorf("default page size 10: %s", r.raw)
	}
	r = f.ok("GET", "/chatrooms/super_admin?pagenum=2&pagesize=10", nil)
	if fmt.Sprint(r.data()) != "[u11 u12]" || fmt.Sprint(r.body["params"]) != "map[pagenum:[2] pagesize:[10]]" {
		t.Errorf("page 2: %s", r.raw)
	}
	r = f.ok("DELETE", "/chatrooms/super_admin/u1", nil)
	if fmt.Sprint(r.dataMap()) != "map[newSuperAdmin:u1 resource:]" || r.body["properties"] == nil {
		t.Errorf("remove super admin: %s", r.raw)
	}
	wantErr(t, f.do("POST", "/chatrooms/super_admin", map[string]any{"superadmin": "ghost"}), 404, "resource_not_found", "username ghost doesn't exist!")
	wantErr(t, f.do("DELETE", "/chatrooms/super_admin/ghost", nil), 404, "resource_not_found", "username ghost doesn't exist!")
}

// User IDs are case-insensitive: the emulator keeps them in lower case, so
// a user added as "Bob" is "bob" in every list and every path.
func TestUsernamesAreCaseInsensitive(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.e.AddUsers(testAppkey, "Bob", "carol")
	id := f.createRoom("U1")
	f.ok("POST", "/chatrooms/"+id+"/users", map[string]any{"usernames": []string{"Bob", "BOB", "Carol"}})
	if r := f.ok("GET", "/chatrooms/"+id+"/users", nil); fmt.Sprint(r.data()) != "[map[owner:owner] map[member:u1] map[member:bob] map[member:carol]]" {
		t.Errorf("members: %s", r.raw)
	}
	f.ok("POST", "/chatrooms/"+id+"/mute", map[string]any{"usernames": []string{"CAROL"}, "mute_duration": -1})
	f.ok("POST", "/chatrooms/"+id+"/admin", map[string]any{"newadmin": "Carol"})
	f.ok("DELETE", "/chatrooms/"+id+"/users/bOb", nil)
	f.ok("DELETE", "/chatrooms/"+id+"/admin/CAROL", nil)
	f.ok("DELETE", "/chatrooms/"+id+"/mute/Carol", nil)
	if r := f.ok("GET", "/chatrooms/"+id+"/users", nil); fmt.Sprint(r.data()) != "[map[owner:owner] map[member:u1] map[member:carol]]" {
		t.Errorf("members after removing bOb: %s", r.raw)
	}
	if r := f.ok("GET", "/chatrooms/"+id+"/mute", nil); fmt.Sprint(r.data()) != "[]" {
		t.Errorf("mutes after unmuting Carol: %s", r.raw)
	}
}
