package app_test

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"testing"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/callback/examples"
	"github.com/imbridge/imbridge/internal/trigger"
)

// postExample posts a vendor example body, signed for the test app, and
// returns its callId.
func (r *running) postExample(t *testing.T, name string) string {
	t.Helper()
	raw, err := examples.FS.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	body, err := trigger.Restamp(raw, trigger.Options{Appkey: appkey, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	if res := r.post(t, body); res.code != http.StatusOK {
		t.Fatalf("post %s: %d %s", name, res.code, res.body)
	}
	return callIDOf(t, body)
}

// The same operation reaches the same subscribers whichever format the
// app sends it in: the legacy muc format and the current group_op_event
// answer to one selector, and to the same group or chatroom filter.
func TestLegacyAndCurrentGroupEventsMeanTheSame(t *testing.T) {
	r := start(t, ingestConfig(t))
	legacyGroup := r.postExample(t, "030_muc_leave_group.json")
	legacyRoom := r.postExample(t, "031_muc_leave_chatroom.json")
	currentRoom := r.postExample(t, "083_leave_quit_user_quit_chatroom.json")
	currentGroup := r.postExample(t, "107_leave_quit_group_older.json")
	r.postExample(t, "085_leave_kick_group.json") // another operation

	ids := func(f *imbridgev1.EventFilter) []string {
		var out []string
		for _, ev := range r.list(t, f) {
			out = append(out, ev.GetCallId())
		}
		slices.Sort(out)
		return out
	}
	sorted := func(s ...string) []string { slices.Sort(s); return s }
	for _, tc := range []struct {
		filter *imbridgev1.EventFilter
		want   []string
	}{
		{&imbridgev1.EventFilter{Selectors: []string{"muc:leave"}}, sorted(legacyGroup, legacyRoom, currentRoom, currentGroup)},
		{&imbridgev1.EventFilter{Selectors: []string{"muc:leave"}, RoomKind: imbridgev1.RoomKind_ROOM_KIND_CHATROOM}, sorted(legacyRoom, currentRoom)},
		{&imbridgev1.EventFilter{Selectors: []string{"muc:leave"}, RoomKind: imbridgev1.RoomKind_ROOM_KIND_GROUP}, sorted(legacyGroup, currentGroup)},
	} {
		if got := ids(tc.filter); !slices.Equal(got, tc.want) {
			t.Errorf("%v: %v, want %v", tc.filter, got, tc.want)
		}
	}
}

// A chatroom operation in the current format teaches the bridge the room:
// its messages are chatroom:* from then on.
func TestCurrentFormatTeachesChatrooms(t *testing.T) {
	r := start(t, ingestConfig(t))
	raw, err := examples.FS.ReadFile("083_leave_quit_user_quit_chatroom.json")
	if err != nil {
		t.Fatal(err)
	}
	var room struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &room); err != nil || room.ID == "" {
		t.Fatalf("example room id: %q %v", room.ID, err)
	}
	before := groupMessage(t, room.ID)
	r.post(t, before)
	r.postExample(t, "083_leave_quit_user_quit_chatroom.json")
	after := groupMessage(t, room.ID)
	r.post(t, after)
	for body, want := range map[string]string{callIDOf(t, before): "groupchat:txt", callIDOf(t, after): "chatroom:txt"} {
		resp, err := imbridgev1.NewEventServiceClient(r.conn).GetEvent(withKey(ctxT(t), testKey), &imbridgev1.GetEventRequest{CallId: body})
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.GetEvent().GetSelector(); got != want {
			t.Errorf("message %s: %s, want %s", body, got, want)
		}
	}
}

// withField returns a vendor example with some fields set: top-level keys,
// or payload keys written "payload.key".
func withFields(t *testing.T, name string, fields map[string]any) []byte {
	t.Helper()
	raw, err := examples.FS.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range fields {
		if key, ok := strings.CutPrefix(k, "payload."); ok {
			m["payload"].(map[string]any)[key] = v
			continue
		}
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// An edit and a recall name the message they change: filtering by that
// message's id finds the message, its edit and its recall.
func TestEditsAndRecallsFindTheirMessage(t *testing.T) {
	r := start(t, ingestConfig(t))
	original := build(t, "chat:txt", trigger.Options{})[0]
	var msg struct {
		MsgID string `json:"msg_id"`
	}
	if err := json.Unmarshal(original, &msg); err != nil || msg.MsgID == "" {
		t.Fatalf("msg_id: %v", err)
	}
	r.post(t, original)
	post := func(name string, fields map[string]any) string {
		body, err := trigger.Restamp(withFields(t, name, fields), trigger.Options{Appkey: appkey, Secret: secret})
		if err != nil {
			t.Fatal(err)
		}
		if res := r.post(t, body); res.code != http.StatusOK {
			t.Fatalf("post %s: %d %s", name, res.code, res.body)
		}
		return callIDOf(t, body)
	}
	edit := post("109_edit_txt.json", map[string]any{"payload.edit_message_id": msg.MsgID})
	recall := post("009_recall.json", map[string]any{"recall_id": msg.MsgID, "payload.ack_message_id": msg.MsgID})
	post("109_edit_txt.json", map[string]any{"payload.edit_message_id": "another-message"})

	var got []string
	for _, ev := range r.list(t, &imbridgev1.EventFilter{MsgId: msg.MsgID}) {
		got = append(got, ev.GetSelector()+" "+ev.GetCallId())
	}
	want := []string{"chat:txt " + callIDOf(t, original), "edit " + edit, "recall " + recall}
	if !slices.Equal(got, want) {
		t.Errorf("events of message %s: %v, want %v", msg.MsgID, got, want)
	}
}

// Every vendor example body, re-signed for the test app, is accepted,
// stored, and read back typed with its selector: none is an UnknownEvent.
func TestEveryVendorExampleIsStoredTyped(t *testing.T) {
	r := start(t, ingestConfig(t))
	names, err := fs.Glob(examples.FS, "[0-9]*.json")
	if err != nil || len(names) < 100 {
		t.Fatalf("examples: %d, %v", len(names), err)
	}
	client := imbridgev1.NewEventServiceClient(r.conn)
	for _, name := range names {
		id := r.postExample(t, name)
		resp, err := client.GetEvent(withKey(ctxT(t), testKey), &imbridgev1.GetEventRequest{CallId: id})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ev := resp.GetEvent(); ev.GetUnknown() != nil || ev.GetSelector() == "unknown" {
			t.Errorf("%s: stored as %s %v", name, ev.GetSelector(), ev.GetUnknown())
		}
	}
}

// Pairs of vendor examples of one operation, legacy and current, answer to
// the same selector.
func TestLegacyAndCurrentPairsShareSelectors(t *testing.T) {
	r := start(t, ingestConfig(t))
	for _, pair := range []struct{ selector, legacy, current string }{
		{"muc:create", "010_muc_create_group.json", "077_create_group.json"},
		{"muc:destroy", "011_muc_destroy_group.json", "078_delete_group.json"},
		{"muc:presence", "026_muc_presence_group.json", "080_join_direct_options_ext.json"},
		{"muc:kick", "018_muc_kick_group.json", "085_leave_kick_group.json"},
		{"muc:add_admin", "033_muc_add_admin_group.json", "089_admin_add_group.json"},
		{"muc:add_mute", "038_muc_add_mute_chatroom.json", "091_mute_add_group.json"}, // 037 says ban (vendor quirk)
		{"muc:remove_mute", "039_muc_remove_mute_group.json", "092_mute_remove_group.json"},
		{"muc:ban_group", "051_muc_ban_group_group.json", "093_update_mute_all_group.json"},
		{"muc:upload_file", "045_muc_upload_file.json", "102_share_file_add_group.json"},
	} {
		legacy, current := r.postExample(t, pair.legacy), r.postExample(t, pair.current)
		var got []string
		for _, ev := range r.list(t, &imbridgev1.EventFilter{Selectors: []string{pair.selector}}) {
			got = append(got, ev.GetCallId())
		}
		if !slices.Contains(got, legacy) || !slices.Contains(got, current) {
			t.Errorf("%s: listed %v, want both %s and %s", pair.selector, got, pair.legacy, pair.current)
		}
	}
}
