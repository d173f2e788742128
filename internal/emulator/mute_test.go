package emulator

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestMuteMembers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.createRoom("u1", "u2", "u3")
	now := f.clock.Now().UnixMilli()
	r := f.ok("POST", "/chatrooms/"+id+"/mute", map[string]any{"usernames": []string{"u1", "u2"}, "mute_duration": 1000})
	wantEnvelope(t, r, "post")
	want := fmt.Sprintf(`[{"expire":%d,"result":true,"user":"u1"},{"expire":%d,"result":true,"user":"u2"}]`, now+1000, now+1000)
	if got := js(r.data()); got != want {
		t.Errorf("mute data = %s, want %s", got, want)
	}
	f.ok("POST", "/chatrooms/"+id+"/mute", map[string]any{"usernames": []string{"u3"}, "mute_duration": -1})
	if got := js(f.ok("GET", "/chatrooms/"+id+"/mute", nil).data()); got != fmt.Sprintf(`[{"expire":%d,"user":"u1"},{"expire":%d,"user":"u2"},{"expire":-1,"user":"u3"}]`, now+1000, now+1000) {
		t.Errorf("mute list = %s", got)
	}
	// Timed mutes lift themselves by the clock; permanent ones do not.
	f.clock.Advance(1001 * time.Millisecond)
	if got := js(f.ok("GET", "/chatrooms/"+id+"/mute", nil).data()); got != `[{"expire":-1,"user":"u3"}]` {
		t.Errorf("after expiry = %s", got)
	}
	// mute_duration 0 cancels.
	f.ok("POST", "/chatrooms/"+id+"/mute", map[string]any{"usernames": []string{"u3"}, "mute_duration": 0})
	if n := len(f.ok("GET", "/chatrooms/"+id+"/mute", nil).dataList()); n != 0 {
		t.Errorf("%d mutes after cancel", n)
	}
	// A mute survives leaving and re-joining.
	f.ok("POST", "/chatrooms/"+id+"/mute", map[string]any{"usernames": []string{"u1"}, "mute_duration": -1})
	f.ok("DELETE", "/chatrooms/"+id+"/users/u1", nil)
	f.ok("POST", "/chatrooms/"+id+"/users/u1", nil)
	if n := len(f.ok("GET", "/chatrooms/"+id+"/mute", nil).dataList()); n != 1 {
		t.Errorf("mute lost on re-join: %d", n)
	}
	wantErr(t, f.do("POST", "/chatrooms/"+id+"/mute", map[string]any{"usernames": []string{"u9"}, "mute_duration": 1}), 400, "forbidden_op", "users [u9] are not members of this group!")
	wantErr(t, f.do("POST", "/chatrooms/"+id+"/mute", map[string]any{"usernames": userRange(1, 101), "mute_duration": 1}), 400, "invalid_parameter", "userNames size is more than max limit : 100")
	wantErr(t, f.do("POST", "/chatrooms/"+id+"/mute", map[string]any{"usernames": []string{"u1"}}), 400, "invalid_parameter", "mute_duration must be provided")
	wantErr(t, f.do("POST", "/chatrooms/404/mute", map[string]any{"usernames": []string{"u1"}, "mute_duration": 1}), 404, "resource_not_found", "grpID 404 does not exist!")
}

func TestUnmuteMembers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.createRoom("u1", "u2")
	f.ok("POST", "/chatrooms/"+id+"/mute", map[string]any{"usernames": []string{"u1", "u2"}, "mute_duration": -1})
	r := f.ok("DELETE", "/chatrooms/"+id+"/mute/u1%2Cu2", nil)
	if fmt.Sprint(r.data()) != "[map[result:true user:u1] map[result:true user:u2]]" {
		t.Errorf("unmute: %s", r.raw)
	}
	if n := len(f.ok("GET", "/chatrooms/"+id+"/mute", nil).dataList()); n != 0 {
		t.Errorf("%d mutes left", n)
	}
	wantErr(t, f.do("DELETE", "/chatrooms/"+id+"/mute/"+strings.Join(userRange(1, 61), "%2C"), nil), 400, "invalid_parameter", "removeMute member size more than max limit :  60")
	wantErr(t, f.do("DELETE", "/chatrooms/404/mute/u1", nil), 404, "resource_not_found", "grpID 404 does not exist!")
	wantErr(t, f.do("GET", "/chatrooms/404/mute", nil), 404, "resource_not_found", "grpID 404 does not exist!")
}

func TestMuteAll(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.createRoom("u1")
	f.ok("POST", "/chatrooms/"+id+"/mute", map[string]any{"usernames": []string{"u1"}, "mute_duration": -1})
	r := f.ok("POST", "/chatrooms/"+id+"/ban", nil)
	if r.body["action"] != "put" || fmt.Sprint(r.dataMap()) != "map[mute:true]" {
		t.Errorf("mute all (action put although POST): %s", r.raw)
	}
	if f.ok("GET", "/chatrooms/"+id, nil).dataMap()["mute"] != true {
		t.Error("detail does not say mute")
	}
	// Mute-all does not touch the mute list.
	if n := len(f.ok("GET", "/chatrooms/"+id+"/mute", nil).dataList()); n != 1 {
		t.Errorf("mute list changed by mute-all: %d", n)
	}
	r = f.ok("DELETE", "/chatrooms/"+id+"/ban", nil)
	if r.body["action"] != "delete" || fmt.Sprint(r.dataMap()) != "map[mute:false]" {
		t.Errorf("unmute all: %s", r.raw)
	}
	wantErr(t, f.do("POST", "/chatrooms/404/ban", nil), 404, "resource_not_found", "grpID 404 does not exist!")
	wantErr(t, f.do("DELETE", "/chatrooms/404/ban", nil), 404, "resource_not_found", "grpID 404 does not exist!")
}

func TestTags(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.createRoom("u1", "u2")
	r := f.ok("PUT", "/chatrooms/"+id+"/users/u1/tag", map[string]any{"tags": []string{"t1", "t2"}})
	if fmt.Sprint(r.dataMap()) != "map[result:true]" || r.body["properties"] == nil {
		t.Errorf("set tags: %s", r.raw)
	}
	if got := fmt.Sprint(f.ok("GET", "/chatrooms/"+id+"/users/u1/tag", nil).dataMap()); got != "map[t1:0 t2:0]" {
		t.Errorf("tags before mute = %s", got)
	}
	// Tag mute is in seconds, and puts the tagged members on the mute list.
	now := f.clock.Now().UnixMilli()
	r = f.ok("PUT", "/chatrooms/"+id+"/tag/mute", map[string]any{"tag": "t1", "mute_duration": 30})
	if fmt.Sprint(r.dataMap()) != "map[result:true]" {
		t.Errorf("tag mute: %s", r.raw)
	}
	if got := fmt.Sprint(f.ok("GET", "/chatrooms/"+id+"/users/u1/tag", nil).dataMap()); got != fmt.Sprintf("map[t1:%d t2:0]", now+30000) {
		t.Errorf("tags after mute = %s", got)
	}
	if got := js(f.ok("GET", "/chatrooms/"+id+"/mute", nil).data()); got != fmt.Sprintf(`[{"expire":%d,"user":"u1"}]`, now+30000) {
		t.Errorf("mute list = %s", got)
	}
	f.ok("PUT", "/chatrooms/"+id+"/tag/mute", map[string]any{"tag": "t1", "mute_duration": 0})
	if n := len(f.ok("GET", "/chatrooms/"+id+"/mute", nil).dataList()); n != 0 {
		t.Errorf("tag unmute left %d mutes", n)
	}
	// Tags are dropped on leaving.
	f.ok("DELETE", "/chatrooms/"+id+"/users/u1", nil)
	f.ok("POST", "/chatrooms/"+id+"/users/u1", nil)
	if got := fmt.Sprint(f.ok("GET", "/chatrooms/"+id+"/users/u1/tag", nil).dataMap()); got != "map[]" {
		t.Errorf("tags after re-join = %s", got)
	}
	f.ok("PUT", "/chatrooms/"+id+"/users/u2/tag", map[string]any{"tags": []string{}})
	wantErr(t, f.do("PUT", "/chatrooms/"+id+"/users/u1/tag", map[string]any{"tags": "t1"}), 400, "invalid_parameter", "tags should be type of List")
	wantErr(t, f.do("PUT", "/chatrooms/"+id+"/users/u1/tag", map[string]any{"tags": userRange(1, 11)}), 403, "exceed_limit", "user group tag count exceed limit")
	wantErr(t, f.do("PUT", "/chatrooms/"+id+"/users/u1/tag", map[string]any{"tags": []string{strings.Repeat("x", 33)}}), 403, "exceed_limit", "tag length exceeds limit!")
	wantErr(t, f.do("PUT", "/chatrooms/"+id+"/users/u9/tag", map[string]any{"tags": []string{"a"}}), 400, "forbidden_op", "users [u9] are not members of this group!")
	wantErr(t, f.do("GET", "/chatrooms/"+id+"/users/u9/tag", nil), 400, "forbidden_op", "users [u9] are not members of this group!")
	wantErr(t, f.do("PUT", "/chatrooms/"+id+"/tag/mute", map[string]any{"tag": "nobody", "mute_duration": 1}), 404, "resource_not_found", "group tag not found")
	wantErr(t, f.do("PUT", "/chatrooms/"+id+"/tag/mute", map[string]any{"tag": strings.Repeat("x", 33), "mute_duration": 1}), 403, "exceed_limit", "tag length exceeds limit!")
	wantErr(t, f.do("PUT", "/chatrooms/404/tag/mute", map[string]any{"tag": "t", "mute_duration": 1}), 404, "resource_not_found", "grpID 404 does not exist!")
}
