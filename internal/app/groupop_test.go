package app_test

import (
	"encoding/json"
	"net/http"
	"slices"
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
