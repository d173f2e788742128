package callback_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/google/go-cmp/cmp"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/callback"
	"github.com/imbridge/imbridge/internal/callback/examples"
	"github.com/imbridge/imbridge/internal/selector"
)

var update = flag.Bool("update", false, "rewrite the golden files from the decoder's output")

var receiveTime = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

// rooms is a chatroom set for tests: the example chatroom-message fixture
// is in a group id learned as a chatroom.
type rooms map[string]bool

func (r rooms) IsChatroom(appkey, groupID string) bool { return r[appkey+"/"+groupID] }

// The vendor documents its group and chatroom messages with the same body
// (chat_type groupchat, group id 16934809238921545): only what imbridge has
// learned tells them apart. The chatroom example is decoded as if that group
// id had been learned as a chatroom, the group example as if not.
func roomsFor(name string) rooms {
	if strings.HasPrefix(name, "008_") {
		return rooms{"/16934809238921545": true}
	}
	return nil
}

func exampleFiles(t testing.TB) []string {
	t.Helper()
	names, err := fs.Glob(examples.FS, "[0-9]*.json")
	if err != nil || len(names) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	return names
}

func decodeExample(t testing.TB, name string) *imbridgev1.Event {
	t.Helper()
	raw, err := examples.FS.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := callback.Parse(raw)
	if err != nil {
		t.Fatalf("%s: Parse: %v", name, err)
	}
	ev := cb.Decode(receiveTime, roomsFor(name))
	if !bytes.Equal(ev.GetRawBody(), raw) {
		t.Fatalf("%s: raw_body is not the request body byte for byte", name)
	}
	return ev
}

// TestExamplesMatchGolden decodes every example request body of the vendor
// documents and compares the event, semantically, with its golden
// protojson (raw_body left out: it is checked byte for byte above).
func TestExamplesMatchGolden(t *testing.T) {
	for _, name := range exampleFiles(t) {
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			ev := decodeExample(t, name)
			ev.RawBody = nil
			golden := filepath.Join("testdata", "golden", strings.TrimSuffix(name, ".json")+".golden.json")
			if *update {
				b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(ev)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, append(b, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			b, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("golden file: %v (run go test -update to create it, then review it)", err)
			}
			want := &imbridgev1.Event{}
			if err := protojson.Unmarshal(b, want); err != nil {
				t.Fatalf("golden %s: %v", golden, err)
			}
			if diff := cmp.Diff(want, ev, protocmp.Transform()); diff != "" {
				t.Errorf("decoded event differs from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

// TestEverySelectorFamilyHasAnExample keeps the fixtures honest: each
// vendor family that has a documented example decodes to its selector.
func TestEverySelectorFamilyHasAnExample(t *testing.T) {
	seen := map[string]bool{}
	for _, name := range exampleFiles(t) {
		seen[decodeExample(t, name).GetSelector()] = true
	}
	for _, want := range []string{
		"chat:txt", "chat:img", "chat:audio", "chat:loc", "chat:video", "chat:file", "chat:cmd", "chat:custom", "chat:unknown",
		"groupchat:txt", "chatroom:txt", "recall",
		"muc:create", "muc:destroy", "muc:apply", "muc:apply_accept", "muc:invite", "muc:invite_accept", "muc:invite_decline",
		"muc:kick", "muc:ban", "muc:allow", "muc:update", "muc:block", "muc:unblock", "muc:presence", "muc:absence",
		"muc:leave", "muc:assing_owner", "muc:add_admin", "muc:remove_admin", "muc:add_mute",
		"muc:remove_mute", "muc:update_announcement", "muc:delete_announcement", "muc:upload_file", "muc:delete_file",
		"muc:add_user_white_list", "muc:remove_user_white_list", "muc:ban_group", "muc:remove_ban_group",
		"muc:set_metadata", "muc:delete_metadata", "muc:group_member_metadata_update",
		"muc:disable", "muc:add_super_admin", "muc:remove_super_admin",
		"edit", "moderation", "push",
		"roster:add", "roster:remove", "roster:accept", "roster:decline", "roster:ban", "roster:allow",
		"read_ack", "channel_ack", "userStatus:login", "userStatus:logout", "userStatus:replaced",
		"keyword_alert", "reaction", "thread",
	} {
		if !seen[want] {
			t.Errorf("no example decodes to %s", want)
		}
		if !selector.IsCanonical(want) {
			t.Errorf("%s is not in the selector vocabulary", want)
		}
	}
}

// TestVendorQuirks pins the behaviours the vendor's documents get wrong or
// leave ambiguous, each asserted on the example that shows it.
func TestVendorQuirks(t *testing.T) {
	ex := func(prefix string) *imbridgev1.Event {
		t.Helper()
		for _, name := range exampleFiles(t) {
			if strings.HasPrefix(name, prefix) {
				return decodeExample(t, name)
			}
		}
		t.Fatalf("no example %s*", prefix)
		return nil
	}
	t.Run("roster decline arrives as remote_decline", func(t *testing.T) {
		r := findBy(t, func(e *imbridgev1.Event) bool { return e.GetRoster().GetOperationName() == "remote_decline" })
		if r.GetSelector() != "roster:decline" || r.GetRoster().GetOperation() != imbridgev1.RosterOperation_ROSTER_OPERATION_DECLINE {
			t.Errorf("remote_decline decoded as %s / %v", r.GetSelector(), r.GetRoster().GetOperation())
		}
	})
	t.Run("add_mute example carries operation ban and is decoded as sent", func(t *testing.T) {
		e := ex("037_")
		if e.GetMuc().GetOperationName() != "ban" || e.GetSelector() != "muc:ban" {
			t.Errorf("got %q / %s, want the operation sent (ban)", e.GetMuc().GetOperationName(), e.GetSelector())
		}
	})
	t.Run("content_type chat:room names a chatroom message no room event taught", func(t *testing.T) {
		raw, err := examples.FS.ReadFile("007_groupchat_message.json")
		if err != nil {
			t.Fatal(err)
		}
		for ct, want := range map[string]string{"chat:room:text": "chatroom:txt", "chat:group:text": "groupchat:txt", "": "groupchat:txt"} {
			body := raw
			if ct != "" {
				body = append([]byte(`{"content_type":"`+ct+`",`), bytes.TrimPrefix(bytes.TrimSpace(raw), []byte("{"))...)
			}
			cb, err := callback.Parse(body)
			if err != nil {
				t.Fatal(err)
			}
			if ev := cb.Decode(receiveTime, nil); ev.GetSelector() != want {
				t.Errorf("content_type %q: selector %s, want %s", ct, ev.GetSelector(), want)
			}
		}
	})
	t.Run("audio length read from lower-case length", func(t *testing.T) {
		if l := ex("003_").GetMessage().GetBodies()[0].GetAudio().GetLength(); l != 4 {
			t.Errorf("audio length = %d, want 4", l)
		}
	})
	t.Run("lat and lng sent as numbers", func(t *testing.T) {
		loc := ex("005_").GetMessage().GetBodies()[0].GetLoc()
		if loc.GetLat() != 39.96612729238626 || loc.GetLng() != 116.32309156766605 {
			t.Errorf("loc = %v, %v", loc.GetLat(), loc.GetLng())
		}
	})
	t.Run("muc_id with and without the conference suffix", func(t *testing.T) {
		create := ex("010_").GetMuc().GetMucId()
		if create.GetAppkey() != "XXXX#XXXX" || create.GetGroupId() != "173556296122369" {
			t.Errorf("muc_id split = %q / %q", create.GetAppkey(), create.GetGroupId())
		}
		bare := findBy(t, func(e *imbridgev1.Event) bool { return e.GetMuc().GetMucId().GetRaw() == "XXXX#XXXX" })
		if bare.GetMuc().GetMucId().GetAppkey() != "XXXX#XXXX" || bare.GetMuc().GetMucId().GetGroupId() != "" {
			t.Errorf("bare muc_id split = %v", bare.GetMuc().GetMucId())
		}
	})
	t.Run("reason as shared-file object, as file id and as text", func(t *testing.T) {
		up := findBy(t, func(e *imbridgev1.Event) bool { return e.GetSelector() == "muc:upload_file" }).GetMuc().GetSharedFile()
		if up.GetFileName() != "a.csv" || up.GetFileSize() != 6787 || up.GetCreateTime().AsTime().UnixMilli() != 1644909510085 {
			t.Errorf("shared file = %v", up)
		}
		del := findBy(t, func(e *imbridgev1.Event) bool { return e.GetSelector() == "muc:delete_file" }).GetMuc()
		if del.GetFileId() != "79ddf840-8e2f-11ec-bec3-ad40868b03f9" {
			t.Errorf("delete_file reason = %v, want the file id", del.GetReason())
		}
		apply := findBy(t, func(e *imbridgev1.Event) bool { return e.GetSelector() == "muc:apply" }).GetMuc()
		if apply.GetReasonText() != "join group123" {
			t.Errorf("apply reason = %v", apply.GetReason())
		}
	})
	t.Run("event_info.ext is JSON inside a string, odd keys kept", func(t *testing.T) {
		info := findBy(t, func(e *imbridgev1.Event) bool { return e.GetSelector() == "muc:set_metadata" }).GetMuc().GetEventInfo()
		ext := info.GetExt().GetFields()
		if ext["operator "].GetStringValue() != "user1" || ext["muc_name"].GetStringValue() != "Take" || info.GetType() != "event_none" {
			t.Errorf("event_info = %v", info)
		}
		if ext["properties"].GetStructValue().GetFields()["key2"].GetStringValue() != "value2 " {
			t.Errorf("nested properties lost: %v", ext["properties"])
		}
	})
	t.Run("user status has no chat_type; JID split", func(t *testing.T) {
		e := findBy(t, func(e *imbridgev1.Event) bool { return e.GetSelector() == "userStatus:replaced" })
		u := e.GetUserStatus()
		if e.GetChatType() != "" || u.GetOnline() || u.GetUser().GetDeviceOs() != "ios" ||
			u.GetUser().GetDeviceId() != "a5fa01fd-b5a4-84d5-ebeb-bf10e8950442" || u.GetUser().GetAppkey() != "XXXX#XXXX" ||
			u.GetIp() != "223.71.97.198:52709" {
			t.Errorf("user status = %v", u)
		}
	})
	t.Run("keyword alert uses camel case chatType and eventType", func(t *testing.T) {
		e := findBy(t, func(e *imbridgev1.Event) bool { return e.GetKeywordAlert().GetAction() == "refuse" })
		k := e.GetKeywordAlert()
		if e.GetChatType() != "chat:user:text" || e.GetEventType() != imbridgev1.EventType_EVENT_TYPE_KEYWORD_ALERT ||
			k.GetContentMsgId() != "1232040174779635136" || k.GetContentOwner().GetUsername() != "test2" ||
			len(k.GetSensitiveWords()) != 1 {
			t.Errorf("keyword alert = %v / %v", e.GetChatType(), k)
		}
	})
	t.Run("recall arrives as chat_type recall", func(t *testing.T) {
		r := ex("009_")
		if r.GetSelector() != "recall" || r.GetRecall().GetRecallId() != "966475220900644860" {
			t.Errorf("recall = %v", r.GetRecall())
		}
	})
	t.Run("customExts array beside v2:customExts map", func(t *testing.T) {
		c := ex("006_").GetMessage().GetBodies()[0].GetCustom()
		if c.GetCustomEvent() != "flower" || c.GetV2CustomExts()["k1"] != "v1" ||
			c.GetCustomExts().GetValues()[0].GetStructValue().GetFields()["name"].GetNumberValue() != 1 {
			t.Errorf("custom = %v", c)
		}
	})
	t.Run("groupchat in a known chatroom selects chatroom", func(t *testing.T) {
		if s := ex("008_").GetSelector(); s != "chatroom:txt" {
			t.Errorf("selector = %s, want chatroom:txt", s)
		}
		if s := ex("007_").GetSelector(); s != "groupchat:txt" {
			t.Errorf("selector = %s, want groupchat:txt", s)
		}
	})
}

func findBy(t *testing.T, match func(*imbridgev1.Event) bool) *imbridgev1.Event {
	t.Helper()
	for _, name := range exampleFiles(t) {
		if e := decodeExample(t, name); match(e) {
			return e
		}
	}
	t.Fatal("no example matches")
	return nil
}

// TestNewerFormatsAreKeptAsUnknown: formats the vendor introduced later
// (callback-contract.md) are stored as UnknownEvent with the whole body.
func TestNewerFormatsAreKeptAsUnknown(t *testing.T) {
	cases := map[string]string{
		"other event":     `{"callId":"k#a_1","event":"member_op_event","type":"GROUP","operation":"MUTE","payload":{"type":"ADD"},"timestamp":1,"appkey":"k#a"}`,
		"other step":      `{"callId":"k#a_4","step":"deliver","chat_type":"chat","timestamp":4,"appkey":"k#a"}`,
		"other eventType": `{"callId":"k#a_3","eventType":"translation","timestamp":3,"appkey":"k#a"}`,
		"unknown muc op":  `{"callId":"k#a_5","chat_type":"muc","payload":{"operation":"transfer_everything"},"timestamp":5,"appkey":"k#a"}`,
	}
	for name, body := range cases {
		cb, err := callback.Parse([]byte(body))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ev := cb.Decode(receiveTime, nil)
		if name == "unknown muc op" {
			if ev.GetSelector() != "muc:unknown" || ev.GetMuc().GetOperationName() != "transfer_everything" {
				t.Errorf("%s: %s %v", name, ev.GetSelector(), ev.GetMuc())
			}
			continue
		}
		if ev.GetSelector() != "unknown" || ev.GetUnknown().GetReason() == "" || ev.GetUnknown().GetBody().GetFields()["callId"] == nil {
			t.Errorf("%s: selector %s, unknown %v", name, ev.GetSelector(), ev.GetUnknown())
		}
	}
}

func TestParseRejectsNonObjects(t *testing.T) {
	for _, body := range []string{``, `{`, `[]`, `"callId"`, `{"callId":"a",}`, strings.Repeat("[", 20000) + strings.Repeat("]", 20000)} {
		if _, err := callback.Parse([]byte(body)); err == nil {
			t.Errorf("Parse(%.40q) accepted", body)
		}
	}
}

// The JSON encoding of goldens must stay readable: a guard that protojson
// output of an example keeps the selector and call id visible.
func TestEventJSONShowsSelectorCallIDAndBody(t *testing.T) {
	ev := decodeExample(t, "009_recall.json")
	var m map[string]any
	b, _ := protojson.Marshal(ev)
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["selector"] != "recall" || m["callId"] == nil || m["recall"] == nil {
		t.Errorf("event JSON = %s", b)
	}
	if !proto.Equal(ev, decodeExample(t, "009_recall.json")) {
		t.Error("decoding is not deterministic")
	}
}

// Group operations in the current format: sub-events that change meaning
// with a payload key, the key the vendor's table spells otherwise, and a
// sub-event nobody documents, which is kept typed as far as it is known.
func TestGroupOperationMeanings(t *testing.T) {
	body := func(op, payload string) []byte {
		return []byte(`{"callId":"k#a_1","event":"group_op_event","type":"CHATROOM","id":"r1","operator":"boss","operation":"` + op +
			`","payload":` + payload + `,"timestamp":1,"appkey":"k#a"}`)
	}
	for _, tc := range []struct {
		op, payload, selector string
	}{
		{"UPDATE", `{"type":"MUTE","mute":true}`, "muc:ban_group"},
		{"UPDATE", `{"type":"MUTE","mute":"false"}`, "muc:remove_ban_group"},
		{"UPDATE", `{"type":"MUTE"}`, "muc:unknown"},
		{"UPDATE", `{"type":"ANNOUNCEMENT","announcement":"hi"}`, "muc:update_announcement"},
		{"UPDATE", `{"type":"ANNOUNCEMENT"}`, "muc:delete_announcement"},
		{"UPDATE", `{"type":"DISABLE","disabled":false}`, "muc:enable"},
		{"UPDATE", `{"type":"DISABLE","disable":true,"disabled":false}`, "muc:disable"},
		{"LEAVE", `{"type":"QUIT","action":"user_offline","member":["u"]}`, "muc:kick"},
		{"LEAVE", `{"type":"QUIT","member":"u"}`, "muc:leave"},
		{"ADMIN", `{"type":"TRANSFER","admin":["a","b"]}`, "muc:unknown"},
		{"PROMOTE", `{"type":"ADD","member":["u"]}`, "muc:unknown"},
	} {
		cb, err := callback.Parse(body(tc.op, tc.payload))
		if err != nil {
			t.Fatal(err)
		}
		ev := cb.Decode(receiveTime, nil)
		g := ev.GetGroupOp()
		if ev.GetSelector() != tc.selector || g == nil || g.GetOperationName() != tc.op || g.GetKind() != imbridgev1.RoomKind_ROOM_KIND_CHATROOM ||
			ev.GetGroupId() != "r1" || ev.GetSenderUsername() != "boss" || len(g.GetUsers()) == 0 && strings.Contains(tc.payload, `"u"`) {
			t.Errorf("%s %s: selector %s, group op %v, group %q, sender %q", tc.op, tc.payload, ev.GetSelector(), g, ev.GetGroupId(), ev.GetSenderUsername())
		}
	}
}

// An empty object, most messages' ext, skips protojson and must come out
// as protojson makes it; whatever JSON does not call whitespace is not.
func TestEmptyObjectAsProtojson(t *testing.T) {
	for _, raw := range []string{"{}", "{ \t\r\n }", " {} ", "{\u00a0}", "{\v}", "{", "{}}", `{"a":{}}`, "[]"} {
		var want *structpb.Struct
		if s := (&structpb.Struct{}); protojson.Unmarshal([]byte(strings.TrimSpace(raw)), s) == nil {
			want = s
		}
		if got := callback.Object([]byte(raw)); (got == nil) != (want == nil) || !proto.Equal(got, want) {
			t.Errorf("object(%q) = %v, protojson gives %v", raw, got, want)
		}
	}
}

// BenchmarkDecodeExamples reads, parses and decodes every example body of
// the vendor documents (examples/), as the write path does after the
// signature check: what decoding costs per callback mix.
func BenchmarkDecodeExamples(b *testing.B) {
	files, err := filepath.Glob(filepath.Join("examples", "*.json"))
	if err != nil || len(files) == 0 {
		b.Fatalf("examples: %v (%d files)", err, len(files))
	}
	var bodies [][]byte
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		if callback.IsObject(raw) { // a few examples document what is not a callback
			bodies = append(bodies, raw)
		}
	}
	recv := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		for _, raw := range bodies {
			cb, err := callback.Peek(raw).Parse(raw)
			if err != nil {
				b.Fatal(err)
			}
			_ = cb.Decode(recv, nil)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(bodies)), "ns/callback")
}

// An edit knows its conversation the way messages do: a chatroom's by
// meta.edit_msg.chat_type chat:room or by a learned room, and the group or
// chatroom it happened in is its group_id (its `to`), so that a filter on
// the group finds it; a group message's read receipt names its group too
// (callback_group_read_ack.md: `to` is the group id).
func TestEditsAndReceiptsKnowTheirGroup(t *testing.T) {
	edit := func(chatType, to string) string {
		return `{"callId":"a#b_1","chat_type":"edit","appkey":"a#b","from":"u1","to":"` + to + `","timestamp":1747727714765,` +
			`"payload":{"edit_message_id":"9","bodies":[{"msg":"x","type":"txt"}],"meta":{"edit_msg":{"chat_type":"` + chatType + `"}},"type":"edit"}}`
	}
	for _, c := range []struct {
		name, body string
		conv       imbridgev1.Conversation
		group      string
	}{
		{"one-to-one", edit("chat:user", "u2"), imbridgev1.Conversation_CONVERSATION_CHAT, ""},
		{"group", edit("chat:group", "41"), imbridgev1.Conversation_CONVERSATION_GROUPCHAT, "41"},
		{"learned chatroom", edit("chat:group", "42"), imbridgev1.Conversation_CONVERSATION_CHATROOM, "42"},
		{"chatroom", edit("chat:room", "43"), imbridgev1.Conversation_CONVERSATION_CHATROOM, "43"},
	} {
		cb, err := callback.Parse([]byte(c.body))
		if err != nil {
			t.Fatal(err)
		}
		ev := cb.Decode(receiveTime, rooms{"a#b/42": true})
		if ev.GetEdit().GetConversation() != c.conv || ev.GetGroupId() != c.group {
			t.Errorf("%s edit: conversation %v group_id %q, want %v %q", c.name, ev.GetEdit().GetConversation(), ev.GetGroupId(), c.conv, c.group)
		}
	}
	ack := findBy(t, func(e *imbridgev1.Event) bool {
		return e.GetReadAck() != nil && strings.Contains(string(e.GetRawBody()), "chat:ack:read")
	})
	if ack.GetGroupId() != ack.GetRecipient() || ack.GetGroupId() == "" {
		t.Errorf("group read receipt: group_id %q, want its to, %q", ack.GetGroupId(), ack.GetRecipient())
	}
	single := findBy(t, func(e *imbridgev1.Event) bool {
		return e.GetReadAck() != nil && !strings.Contains(string(e.GetRawBody()), "chat:ack:read")
	})
	if single.GetGroupId() != "" {
		t.Errorf("one-to-one read receipt: group_id %q, want none", single.GetGroupId())
	}
}

// The join page types payload.options.ext as JSON and payload.type as an
// Array, where its example sends strings: both forms decode alike.
func TestJoinFieldsAsTheTablesTypeThem(t *testing.T) {
	raw, err := examples.FS.ReadFile("080_join_direct_options_ext.json")
	if err != nil {
		t.Fatal(err)
	}
	want := decodeExample(t, "080_join_direct_options_ext.json").GetSelector()
	body := strings.Replace(string(raw), `"ext": "11111"`, `"ext": {"level": "vip"}`, 1)
	body = strings.Replace(body, `"type": "DIRECT"`, `"type": ["DIRECT"]`, 1)
	cb, err := callback.Parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	ev := cb.Decode(receiveTime, nil)
	if ev.GetSelector() != want || ev.GetGroupOp().GetSubEvent() != "DIRECT" || ev.GetGroupOp().GetJoinExt() != `{"level":"vip"}` {
		t.Errorf("selector %q sub_event %q join_ext %q, want %q DIRECT {\"level\":\"vip\"}",
			ev.GetSelector(), ev.GetGroupOp().GetSubEvent(), ev.GetGroupOp().GetJoinExt(), want)
	}
}

// A vendor millisecond timestamp outside what google.protobuf.Timestamp
// holds (years 1 to 9999) must not become an invalid Timestamp: protojson,
// which the REST gateway, the NDJSON streams and the console use, refuses
// to marshal such an event, so one stored event would break every page of
// ListEvents that holds it. Reaction and thread callbacks come unsigned:
// with `unsigned_selectors: [reaction]` anyone who can reach the webhook
// can store one.
func TestOutOfRangeTimestampsAreLeftOut(t *testing.T) {
	const huge = "99999999999999999" // ms: about year 3,170,000
	reaction, err := examples.FS.ReadFile("072_reaction.json")
	if err != nil {
		t.Fatal(err)
	}
	thread, err := examples.FS.ReadFile("073_thread.json")
	if err != nil {
		t.Fatal(err)
	}
	upload, err := examples.FS.ReadFile("045_muc_upload_file.json")
	if err != nil {
		t.Fatal(err)
	}
	mute, err := examples.FS.ReadFile("091_mute_add_group.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, body string }{
		{"reaction data ts", strings.Replace(string(reaction), "1648722783700", huge, 1)},
		{"reaction top-level timestamp", strings.Replace(string(reaction), "1648722784819", huge, 1)},
		{"reaction negative timestamp", strings.Replace(string(reaction), "1648722784819", "-"+huge, 1)},
		{"thread data timestamp", strings.Replace(string(thread), `"timestamp": 1651029973455
    },`, `"timestamp": `+huge+`
    },`, 1)},
		{"upload_file created", strings.Replace(string(upload), "1644909510085", huge, 1)},
		{"mute expire_timestamp", strings.Replace(string(mute), "1729585614955", huge, 1)},
	} {
		if !strings.Contains(tc.body, huge) {
			t.Fatalf("%s: the example changed; the test no longer puts %s in it", tc.name, huge)
		}
		cb, err := callback.Parse([]byte(tc.body))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		ev := cb.Decode(receiveTime, nil)
		if _, err := protojson.Marshal(ev); err != nil {
			t.Errorf("%s: decoded event cannot be served as JSON: %v", tc.name, err)
		}
	}
}

// The package decodes JSON with encoding/json's semantics: the last of
// repeated keys counts and invalid UTF-8 becomes U+FFFD (decode.go's
// package comment). A message's ext, a group operation's payload and the
// other JSON kept as a Struct must follow them too, rather than vanish
// whole because protojson refuses what encoding/json accepts.
func TestStructFieldsFollowEncodingJSON(t *testing.T) {
	raw, err := examples.FS.ReadFile("001_chat_txt.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, ext, key, want string }{
		{"repeated key", `{"order":"old","order":"new"}`, "order", "new"},
		{"invalid UTF-8", "{\"nick\":\"a\xffb\"}", "nick", "a\uFFFDb"},
	} {
		body := strings.Replace(string(raw), `"ext": {}`, `"ext": `+tc.ext, 1)
		cb, err := callback.Parse([]byte(body))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		ext := cb.Decode(receiveTime, nil).GetMessage().GetExt()
		if got := ext.GetFields()[tc.key].GetStringValue(); got != tc.want {
			t.Errorf("%s: ext %s decoded as %v, want %s = %q", tc.name, tc.ext, ext, tc.key, tc.want)
		}
	}
}
