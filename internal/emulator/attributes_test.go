package emulator

import (
	"fmt"
	"strings"
	"testing"
)

func TestAnnouncement(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.createRoom()
	if js(f.ok("GET", "/chatrooms/"+id+"/announcement", nil).data()) != `{"announcement":""}` {
		t.Error("fresh room has an announcement")
	}
	r := f.ok("POST", "/chatrooms/"+id+"/announcement", map[string]any{"announcement": "hello"})
	wantEnvelope(t, r, "post")
	if js(r.data()) != fmt.Sprintf(`{"id":"%s","result":true}`, id) {
		t.Errorf("update: %s", r.raw)
	}
	if js(f.ok("GET", "/chatrooms/"+id+"/announcement", nil).data()) != `{"announcement":"hello"}` {
		t.Error("announcement not stored")
	}
	f.ok("POST", "/chatrooms/"+id+"/announcement", map[string]any{"announcement": strings.Repeat("x", 512)})
	wantErr(t, f.do("POST", "/chatrooms/"+id+"/announcement", map[string]any{"announcement": strings.Repeat("x", 513)}), 403, "forbidden_op", "announce info length exceeds limit!")
	wantErr(t, f.do("POST", "/chatrooms/"+id+"/announcement", map[string]any{}), 400, "invalid_parameter", "announcement must be provided")
	wantErr(t, f.do("GET", "/chatrooms/404/announcement", nil), 404, "resource_not_found", "grpID 404 does not exist!")
	wantErr(t, f.do("POST", "/chatrooms/404/announcement", map[string]any{"announcement": "x"}), 404, "resource_not_found", "grpID 404 does not exist!")
}

func TestAttributes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.createRoom("u1", "u2")
	meta := "/metadata/chatroom/" + id
	r := f.ok("PUT", meta+"/user/u1", map[string]any{"metaData": map[string]string{"k1": "v1", "k2": "v2"}})
	if r.body["uri"] != f.srv.URL+"/acme/chat/metadata/chatroom" || r.body["action"] != "put" || js(r.data()) != `{"errorKeys":{},"successKeys":["k1","k2"]}` {
		t.Errorf("set: %s", r.raw)
	}
	if _, has := r.body["organization"]; has {
		t.Errorf("metadata envelope has the standard keys: %s", r.raw)
	}
	r = f.ok("POST", meta, nil)
	if r.body["action"] != "post" || js(r.data()) != `{"k1":"v1","k2":"v2"}` {
		t.Errorf("get all: %s", r.raw)
	}
	if got := js(f.ok("POST", meta, map[string]any{"keys": []string{"k2", "nope"}}).data()); got != `{"k2":"v2"}` {
		t.Errorf("get keys: %s", got)
	}
	// Another user cannot overwrite u1's key, unless forced.
	wantErr(t, f.do("PUT", meta+"/user/u2", map[string]any{"metaData": map[string]string{"k1": "x"}}), 400, "", "others are not allowed to be set")
	r = f.ok("PUT", meta+"/user/u2/forced", map[string]any{"metaData": map[string]string{"k1": "x"}, "autoDelete": "NO_DELETE"})
	if len(r.body) != 1 || js(r.data()) != `{"errorKeys":{},"successKeys":["k1"]}` {
		t.Errorf("forced set answers {data} only: %s", r.raw)
	}
	// Partial failure is HTTP 200 with errorKeys.
	long := strings.Repeat("k", 129)
	r = f.ok("PUT", meta+"/user/u1", map[string]any{"metaData": map[string]string{long: "v", "bad key": "v", "big": strings.Repeat("v", 4097), "ok.key-1_": "v"}})
	want := fmt.Sprintf(`{"errorKeys":{"bad key":"properties key 'bad key' is illegal","big":"properties value of key 'big' is exceeding maximum limit 4096","%[1]s":"properties key '%[1]s' is exceeding maximum limit 128"},"successKeys":["ok.key-1_"]}`, long)
	if js(r.data()) != want {
		t.Errorf("partial set: %s", js(r.data()))
	}
	many := map[string]string{}
	for i := 0; i < 11; i++ {
		many[fmt.Sprintf("m%d", i)] = "v"
	}
	wantErr(t, f.do("PUT", meta+"/user/u1", map[string]any{"metaData": many}), 400, "", "exceed allowed batch size 10")
	wantErr(t, f.do("PUT", meta+"/user/u9", map[string]any{"metaData": map[string]string{"a": "b"}}), 401, "MetadataException", "user is not in chatroom")
	wantErr(t, f.do("PUT", "/metadata/chatroom/404/user/u1", map[string]any{"metaData": map[string]string{"a": "b"}}), 404, "resource_not_found", "grpID 404 does not exist!")
	wantErr(t, f.do("POST", "/metadata/chatroom/404", nil), 404, "resource_not_found", "grpID 404 does not exist!")

	// Delete: own keys only; others' are errorKeys.
	r = f.ok("DELETE", meta+"/user/u1", map[string]any{"keys": []string{"k2", "k1", "gone"}})
	if r.body["status"] != "ok" || r.body["action"] != "delete" || js(r.data()) != `{"errorKeys":{"gone":"properties key 'gone' does not exist","k1":"others are not allowed to be deleted"},"successKeys":["k2"]}` {
		t.Errorf("delete: %s", r.raw)
	}
	r = f.ok("DELETE", meta+"/user/u1/forced", map[string]any{"keys": []string{"k1"}})
	if len(r.body) != 1 || js(r.data()) != `{"errorKeys":{},"successKeys":["k1"]}` {
		t.Errorf("forced delete: %s", r.raw)
	}
	wantErr(t, f.do("DELETE", meta+"/user/u1", map[string]any{"keys": userRange(1, 11)}), 400, "", "exceed allowed batch size 10")
	wantErr(t, f.do("DELETE", meta+"/user/u9", nil), 401, "MetadataException", "user is not in chatroom")
	// Without keys, delete removes all the user's own keys, forced or not
	// (the contract's reading: the vendor does not say).
	f.ok("PUT", meta+"/user/u2", map[string]any{"metaData": map[string]string{"mine": "1"}})
	f.ok("PUT", meta+"/user/u1", map[string]any{"metaData": map[string]string{"theirs": "1"}})
	if got := js(f.ok("DELETE", meta+"/user/u2", nil).data()); got != `{"errorKeys":{},"successKeys":["mine"]}` {
		t.Errorf("delete all own: %s", got)
	}
	f.ok("PUT", meta+"/user/u2", map[string]any{"metaData": map[string]string{"mine": "1"}})
	if got := js(f.ok("DELETE", meta+"/user/u2/forced", nil).data()); got != `{"errorKeys":{},"successKeys":["mine"]}` {
		t.Errorf("forced delete of all own: %s", got)
	}
	if got := js(f.ok("POST", meta, nil).data()); got != `{"ok.key-1_":"v","theirs":"1"}` {
		t.Errorf("after deleting u2's own keys: %s, want u1's left", got)
	}
}

func TestAttributesAutoDeleteAndRoomLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.createRoom("u1", "u2")
	meta := "/metadata/chatroom/" + id
	f.ok("PUT", meta+"/user/u1", map[string]any{"metaData": map[string]string{"gone": "1"}})
	f.ok("PUT", meta+"/user/u1", map[string]any{"metaData": map[string]string{"kept": "1"}, "autoDelete": "NO_DELETE"})
	f.ok("DELETE", "/chatrooms/"+id+"/users/u1", nil)
	if got := js(f.ok("POST", meta, nil).data()); got != `{"kept":"1"}` {
		t.Errorf("after leaving: %s", got)
	}
	wantErr(t, f.do("PUT", meta+"/user/u2", map[string]any{"metaData": map[string]string{"a": "b"}, "autoDelete": "SOMETIMES"}), 400, "", "autoDelete must be DELETE or NO_DELETE")
	// At most 100 attributes per room.
	for i := 0; i < 10; i++ {
		batch := map[string]string{}
		for j := 0; j < 10; j++ {
			batch[fmt.Sprintf("k%d_%d", i, j)] = "v"
		}
		f.ok("PUT", meta+"/user/u2", map[string]any{"metaData": batch})
	}
	r := f.ok("PUT", meta+"/user/u2", map[string]any{"metaData": map[string]string{"k0_0": "new", "x": "v"}})
	if js(r.data()) != `{"errorKeys":{"x":"properties size is exceeding maximum limit 100"},"successKeys":["k0_0"]}` {
		t.Errorf("over 100: %s", js(r.data()))
	}
}
