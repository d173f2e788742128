package emulator

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestCreateAndDetail(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.ok("POST", "/chatrooms", map[string]any{"name": "n", "description": "d", "maxusers": 300, "owner": "owner", "members": []string{"u1", "u2", "owner"}, "custom": "c"})
	if len(r.body) != 1 {
		t.Errorf("create answers more than {data}: %s", r.raw)
	}
	id := r.dataMap()["id"].(string)
	if len(id) != 15 || strings.Trim(id, "0123456789") != "" {
		t.Errorf("id %q is not 15 digits", id)
	}
	if id2 := f.createRoom(); id2 == id || id2 <= id {
		t.Errorf("second id %s after %s", id2, id)
	}
	d := f.ok("GET", "/chatrooms/"+id, nil)
	if len(d.body) != 1 {
		t.Errorf("detail answers more than {data}: %s", d.raw)
	}
	m := d.dataMap()
	for k, want := range map[string]any{"id": id, "name": "n", "description": "d", "maxusers": float64(300), "owner": "owner", "custom": "c",
		"affiliations_count": float64(3), "membersonly": false, "allowinvites": false, "public": true, "mute": false, "created": float64(1_700_000_000_000)} {
		if m[k] != want {
			t.Errorf("detail %s = %v, want %v", k, m[k], want)
		}
	}
	if got := fmt.Sprint(m["affiliations"]); got != "[map[owner:owner] map[member:u1] map[member:u2]]" {
		t.Errorf("affiliations = %s", got)
	}
	wantErr(t, f.do("GET", "/chatrooms/404", nil), 404, "service_resource_not_found", "do not find this group:404")
	// Several ids: the existing ones, and an error item for the others.
	multi := f.ok("GET", "/chatrooms/"+id+"%2C404", nil).dataList()
	if len(multi) != 2 || multi[0].(map[string]any)["id"] != id || multi[1].(map[string]any)["error"] != "chatroom id doesn't exist" {
		t.Errorf("multi detail: %v", multi)
	}
}

func TestCreateErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	long := func(n int) string { return strings.Repeat("x", n) }
	many := make([]string, 0, 11)
	for i := 1; i <= 11; i++ {
		many = append(many, fmt.Sprintf("u%d", i))
	}
	base := func(kv ...any) map[string]any {
		m := map[string]any{"name": "n", "description": "d", "owner": "owner"}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	for _, tc := range []struct {
		body       map[string]any
		status     int
		typ, descr string
	}{
		{base("name", nil), 400, "invalid_parameter", "name must be provided"},
		{base("description", nil), 400, "invalid_parameter", "description must be provided"},
		{base("owner", nil), 400, "invalid_parameter", "owner must be provided"},
		{base("name", long(129)), 403, "exceed_limit", "title cannot exceed to 128"},
		{base("description", long(513)), 403, "exceed_limit", "desc cannot exceed to 512"},
		{base("maxusers", 0), 403, "exceed_limit", "maxUsers cannot exceed 10000"},
		{base("maxusers", 10001), 403, "exceed_limit", "maxUsers cannot exceed 10000"},
		{base("custom", long(8193)), 400, "invalid_parameter", "custom cannot exceed 8192 bytes"},
		{base("members", []string{}), 400, "invalid_parameter", "members must be provided"},
		{base("maxusers", 10, "members", many), 403, "exceed_limit", "members size is greater than max user size !"},
		{base("owner", "ghost"), 404, "resource_not_found", "username ghost doesn't exist!"},
		{base("members", []string{"u1", "ghost"}), 404, "resource_not_found", "username ghost doesn't exist!"},
	} {
		wantErr(t, f.do("POST", "/chatrooms", tc.body), tc.status, tc.typ, tc.descr)
	}
	f.ok("POST", "/chatrooms", base("name", long(128), "description", long(512), "custom", long(8192), "maxusers", 10000))
	f.ok("POST", "/chatrooms", base("roomid", "myroom1"))
	wantErr(t, f.do("POST", "/chatrooms", base("roomid", "myroom1")), 400, "illegal_argument", "group ID myroom1 already exists!")
	if got := f.ok("GET", "/chatrooms/myroom1", nil).dataMap()["id"]; got != "myroom1" {
		t.Errorf("custom id room: %v", got)
	}
}

func TestAutoCreateUsers(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *Options) { o.AutoCreateUsers = true })
	r := f.ok("POST", "/chatrooms", map[string]any{"name": "n", "description": "d", "owner": "anyone", "members": []string{"someone"}})
	if r.dataMap()["id"] == nil {
		t.Fatal(string(r.raw))
	}
}

func TestListRoomsPaginates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var ids []string
	for i := 0; i < 25; i++ {
		ids = append(ids, f.createRoom())
	}
	r := f.ok("GET", "/chatrooms", nil)
	first := r.dataList()
	if len(first) != 10 || first[0].(map[string]any)["id"] != ids[24] {
		t.Fatalf("first page: %s", r.raw)
	}
	item := first[0].(map[string]any)
	if item["owner"] != "owner" || item["name"] != "room" || item["affiliations_count"] != float64(1) {
		t.Errorf("item = %v", item)
	}
	seen := map[any]bool{}
	cursor, pages := "", 0
	for {
		path := "/chatrooms?limit=7"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := f.ok("GET", path, nil)
		pages++
		for _, it := range r.dataList() {
			seen[it.(map[string]any)["id"]] = true
		}
		next, _ := r.body["cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != 25 || pages != 4 {
		t.Errorf("paged through %d rooms in %d pages", len(seen), pages)
	}
	if n := len(f.ok("GET", "/chatrooms?limit=5000", nil).dataList()); n != 25 {
		t.Errorf("limit over 1000 clamps: %d", n)
	}
	wantErr(t, f.do("GET", "/chatrooms?cursor=bogus!", nil), 400, "invalid_parameter", "cursor is invalid")
}

func TestModifyRoom(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.createRoom("u1", "u2")
	r := f.ok("PUT", "/chatrooms/"+id, map[string]any{"name": "new", "description": "nd", "maxusers": 3})
	wantEnvelope(t, r, "put")
	if fmt.Sprint(r.dataMap()) != "map[description:true groupname:true maxusers:true]" {
		t.Errorf("modify data = %v", r.dataMap())
	}
	d := f.ok("GET", "/chatrooms/"+id, nil).dataMap()
	if d["name"] != "new" || d["description"] != "nd" || d["maxusers"] != float64(3) {
		t.Errorf("after modify: %v", d)
	}
	wantErr(t, f.do("PUT", "/chatrooms/"+id, map[string]any{"chatroom_id": "x"}), 400, "invalid_parameter", "some of [chatroom_id] are not valid fields")
	wantErr(t, f.do("PUT", "/chatrooms/"+id, map[string]any{"name": strings.Repeat("x", 129)}), 403, "exceed_limit", "title cannot exceed to 128")
	wantErr(t, f.do("PUT", "/chatrooms/"+id, map[string]any{"description": strings.Repeat("x", 513)}), 403, "exceed_limit", "desc cannot exceed to 512")
	wantErr(t, f.do("PUT", "/chatrooms/"+id, map[string]any{"maxusers": 10001}), 403, "exceed_limit", "maxUsers cannot exceed 10000")
	wantErr(t, f.do("PUT", "/chatrooms/"+id, map[string]any{"maxusers": 2}), 403, "forbidden_op", "current user count is larger than the maxUsers that you want to update !")
	wantErr(t, f.do("PUT", "/chatrooms/404", map[string]any{"name": "x"}), 404, "resource_not_found", "grpID 404 does not exist!")
}

func TestTransferOwner(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.createRoom("u1")
	f.ok("POST", "/chatrooms/"+id+"/admin", map[string]any{"newadmin": "u1"})
	r := f.ok("PUT", "/chatrooms/"+id, map[string]any{"newowner": "u1"})
	if r.dataMap()["newowner"] != true {
		t.Errorf("transfer data = %s", r.raw)
	}
	d := f.ok("GET", "/chatrooms/"+id, nil).dataMap()
	if d["owner"] != "u1" || fmt.Sprint(d["affiliations"]) != "[map[owner:u1] map[member:owner]]" {
		t.Errorf("after transfer: %v", d)
	}
	if admins := f.ok("GET", "/chatrooms/"+id+"/admin", nil).dataList(); len(admins) != 0 {
		t.Errorf("the new owner is still an admin: %v", admins)
	}
	wantErr(t, f.do("PUT", "/chatrooms/"+id, map[string]any{"newowner": "u1"}), 403, "forbidden_op", "new owner and old owner are the same")
	wantErr(t, f.do("PUT", "/chatrooms/"+id, map[string]any{"newowner": "ghost"}), 404, "resource_not_found", "username ghost doesn't exist!")
	wantErr(t, f.do("PUT", "/chatrooms/404", map[string]any{"newowner": "u1"}), 404, "resource_not_found", "grpID 404 does not exist!")
}

func TestDeleteRoom(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.createRoom("u1")
	r := f.ok("DELETE", "/chatrooms/"+id, nil)
	wantEnvelope(t, r, "delete")
	if r.dataMap()["success"] != true || r.dataMap()["id"] != id {
		t.Errorf("delete data: %s", r.raw)
	}
	wantErr(t, f.do("DELETE", "/chatrooms/"+id, nil), http.StatusNotFound, "resource_not_found", "grpID "+id+" does not exist!")
	wantErr(t, f.do("GET", "/chatrooms/"+id, nil), http.StatusNotFound, "service_resource_not_found", "do not find this group:"+id)
}

func TestJoinedChatrooms(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := f.createRoom("u1")
	b := f.createRoom("u1")
	f.createRoom("u2")
	r := f.ok("GET", "/users/u1/joined_chatrooms", nil)
	wantEnvelope(t, r, "get")
	list := r.dataList()
	if len(list) != 2 || list[0].(map[string]any)["id"] != b || list[1].(map[string]any)["id"] != a {
		t.Fatalf("joined: %s", r.raw)
	}
	if it := list[0].(map[string]any); it["disabled"] != "false" || it["name"] != "room" {
		t.Errorf("item = %v", it)
	}
	if r.body["count"] != float64(2) || r.body["properties"] == nil {
		t.Errorf("count/properties: %s", r.raw)
	}
	r = f.ok("GET", "/users/u1/joined_chatrooms?pagenum=2&pagesize=1", nil)
	if l := r.dataList(); len(l) != 1 || l[0].(map[string]any)["id"] != a {
		t.Errorf("page 2: %s", r.raw)
	}
	if p := fmt.Sprint(r.body["params"]); p != "map[pagenum:[2] pagesize:[1]]" {
		t.Errorf("params = %s", p)
	}
	wantErr(t, f.do("GET", "/users/ghost/joined_chatrooms", nil), 404, "service_resource_not_found", "Service resource not found")
}
