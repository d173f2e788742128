package callback_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/callback"
	"github.com/imbridge/imbridge/internal/callback/examples"
	"github.com/imbridge/imbridge/internal/selector"
)

// everyRoom takes every group id for a chatroom.
type everyRoom struct{}

func (everyRoom) IsChatroom(string, string) bool { return true }

var testSecrets = []string{"other", "secret", ""}

// checkHeadAgrees asserts that the head of body agrees with its full
// decode, and reads the same as encoding/json reads the same keys, and
// returns the decoded event (nil when Parse refuses the body, whose error
// must then speak of JSON, not of Go).
func checkHeadAgrees(t testing.TB, name string, body []byte, rooms callback.Chatrooms) *imbridgev1.Event {
	t.Helper()
	h := callback.Peek(body)
	sel := h.Selector(rooms)
	cb, err := callback.Parse(body)
	if err != nil {
		if msg := err.Error(); strings.Contains(msg, "callback.") || strings.Contains(msg, "Go value") || !errors.Is(err, callback.ErrMalformed) {
			t.Fatalf("%s: Parse error %q names Go types or is not ErrMalformed", name, msg)
		}
		return nil
	}
	ref, ok := callback.ReferenceHead(body)
	if got := callback.DescribeHead(h, body); !ok || got != ref {
		t.Fatalf("%s: the head reads\n  %s\nwhere encoding/json reads the same keys as\n  %s", name, got, ref)
	}
	for _, c := range []struct{ what, head, full string }{
		{"appkey", h.Appkey(), cb.Appkey()},
		{"callId", h.CallID(), cb.CallID()},
		{"signed", fmt.Sprint(h.Signed()), fmt.Sprint(cb.Signed())},
		{"verified", fmt.Sprint(h.Verify(testSecrets)), fmt.Sprint(cb.Verify(testSecrets))},
	} {
		if c.head != c.full {
			t.Fatalf("%s: head %s %q, Parse %s %q", name, c.what, c.head, c.what, c.full)
		}
	}
	ev := cb.Decode(receiveTime, rooms)
	if ev.GetSelector() != sel {
		t.Fatalf("%s: head selector %s, Decode selector %s", name, sel, ev.GetSelector())
	}
	if ev.GetAppkey() != h.Appkey() || ev.GetCallId() != h.CallID() {
		t.Fatalf("%s: event appkey/callId %q/%q, head %q/%q", name, ev.GetAppkey(), ev.GetCallId(), h.Appkey(), h.CallID())
	}
	if err := bodyFollowsSelector(ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev
}

var messageKind = (&imbridgev1.MessageBody{}).ProtoReflect().Descriptor().Oneofs().ByName("kind")

// bodyFollowsSelector checks that an event's typed body is the one its
// selector names, down to the operation.
func bodyFollowsSelector(ev *imbridgev1.Event) error {
	sel := ev.GetSelector()
	family, op, _ := strings.Cut(sel, ":")
	ok := false
	switch family {
	case "chat", "groupchat", "chatroom":
		m := ev.GetMessage()
		conv := strings.TrimPrefix(strings.ToLower(m.GetConversation().String()), "conversation_")
		first := selector.Unknown
		if len(m.GetBodies()) > 0 {
			first = string(m.GetBodies()[0].ProtoReflect().WhichOneof(messageKind).Name())
		}
		ok = m != nil && conv == family && first == op
	case "muc":
		// The legacy format names its operation; the current one
		// (group_op_event) maps onto the same vocabulary.
		m, g := ev.GetMuc(), ev.GetGroupOp()
		named := strings.ToLower(strings.TrimPrefix(g.GetOperation().String(), "MUC_OPERATION_"))
		ok = m != nil && (op == selector.Unknown) == (m.GetOperation() == imbridgev1.MucOperation_MUC_OPERATION_UNSPECIFIED) &&
			(op == selector.Unknown || m.GetOperationName() == op) ||
			g != nil && (op == selector.Unknown && g.GetOperation() == imbridgev1.MucOperation_MUC_OPERATION_UNSPECIFIED || named == op)
	case "roster":
		r := ev.GetRoster()
		ok = r != nil && "roster_operation_"+op == strings.ToLower(r.GetOperation().String()) ||
			op == selector.Unknown && r.GetOperation() == imbridgev1.RosterOperation_ROSTER_OPERATION_UNSPECIFIED
	case "userStatus":
		u := ev.GetUserStatus()
		ok = u != nil && (op == selector.Unknown) == (u.GetReason() == imbridgev1.UserStatusReason_USER_STATUS_REASON_UNSPECIFIED) &&
			(op == selector.Unknown || u.GetReasonName() == op)
	case "recall":
		ok = ev.GetRecall() != nil
	case "read_ack":
		ok = ev.GetReadAck() != nil
	case "channel_ack":
		ok = ev.GetChannelAck() != nil
	case "keyword_alert":
		ok = ev.GetKeywordAlert() != nil
	case "reaction":
		ok = ev.GetReaction() != nil
	case "thread":
		ok = ev.GetThread() != nil
	case "edit":
		ok = ev.GetEdit() != nil && ev.GetRelatedMsgId() == ev.GetEdit().GetEditedMsgId()
	case "moderation":
		ok = ev.GetModeration() != nil
	case "push":
		ok = ev.GetPush() != nil
	case selector.Unknown:
		ok = ev.GetUnknown() != nil
	}
	if !ok {
		return fmt.Errorf("selector %s, typed body %T %v", sel, ev.GetBody(), ev.GetBody())
	}
	return nil
}

type variant struct {
	name string
	body []byte
}

// exampleVariants is every example body, and each mutated: every
// top-level and payload key dropped, given a value of another JSON kind,
// repeated with another value before or after it, or spelled with a
// capital; the first body's type changed; and each of those signed.
func exampleVariants(t testing.TB) []variant {
	t.Helper()
	var out []variant
	others := func(v any) []any {
		switch v.(type) {
		case string:
			return []any{json.Number("42"), nil, []any{"x"}}
		case json.Number:
			return []any{"7", nil}
		case map[string]any:
			return []any{[]any{}, "x"}
		case []any:
			return []any{map[string]any{"0": map[string]any{"type": "txt"}}, []any{}}
		}
		return []any{"s", json.Number("0")}
	}
	for _, name := range exampleFiles(t) {
		b, err := examples.FS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, variant{name, b})
		var top map[string]any
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&top); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var mutated []variant
		// mutate varies each key of obj, an object whose text emit puts
		// in place in the body.
		mutate := func(where string, obj map[string]any, emit func(obj []byte) []byte) {
			for _, k := range sortedKeys(obj) {
				v := obj[k]
				with := func(label string, edit func(map[string]any)) {
					c := clone(obj)
					edit(c)
					j, err := json.Marshal(c)
					if err != nil {
						t.Fatal(err)
					}
					mutated = append(mutated, variant{fmt.Sprintf("%s|%s %s %s", name, where, k, label), emit(j)})
				}
				with("dropped", func(c map[string]any) { delete(c, k) })
				with("capitalised", func(c map[string]any) { delete(c, k); c[strings.ToUpper(k[:1])+k[1:]] = v })
				for i, o := range others(v) {
					with(fmt.Sprintf("as %T#%d", o, i), func(c map[string]any) { c[k] = o })
					mutated = append(mutated,
						variant{fmt.Sprintf("%s|%s %s repeated before#%d", name, where, k, i), emit(repeatKey(t, obj, k, o, v))},
						variant{fmt.Sprintf("%s|%s %s repeated after#%d", name, where, k, i), emit(repeatKey(t, obj, k, v, o))})
				}
			}
		}
		mutate("top", top, func(obj []byte) []byte { return obj })
		if p, ok := top["payload"].(map[string]any); ok {
			inPayload := func(obj []byte) []byte {
				c := clone(top)
				c["payload"] = json.RawMessage(obj)
				j, err := json.Marshal(c)
				if err != nil {
					t.Fatal(err)
				}
				return j
			}
			mutate("payload", p, inPayload)
			if bodies, ok := p["bodies"].([]any); ok && len(bodies) > 0 {
				if first, ok := bodies[0].(map[string]any); ok {
					for i, typ := range []any{nil, json.Number("1"), "bogus", "TXT", "img"} {
						fc := clone(first)
						fc["type"] = typ
						pc := clone(p)
						pc["bodies"] = append([]any{fc}, bodies[1:]...)
						j, err := json.Marshal(pc)
						if err != nil {
							t.Fatal(err)
						}
						mutated = append(mutated, variant{fmt.Sprintf("%s|first body type #%d", name, i), inPayload(j)})
					}
				}
			}
		}
		// Each mutation with a callId, but for repeated keys, is also
		// signed with "secret", so that Verify is compared on true as well
		// as false.
		for _, v := range mutated {
			out = append(out, v)
			if h := callback.Peek(v.body); h.CallID() != "" && !strings.Contains(v.name, "repeated") {
				if s, ok := signed(v.body); ok {
					out = append(out, variant{v.name + " signed", s})
				}
			}
		}
	}
	return out
}

// signed re-signs a body with the secret "secret" over its own callId and
// timestamp.
func signed(body []byte) ([]byte, bool) {
	cb, err := callback.Parse(body)
	if err != nil {
		return nil, false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return nil, false
	}
	m["security"], _ = json.Marshal(callback.Sign(cb.CallID(), "secret", cb.TimestampText()))
	out, err := json.Marshal(m)
	return out, err == nil
}

// repeatKey is obj as JSON text with key k given twice, first then second.
func repeatKey(t testing.TB, obj map[string]any, k string, first, second any) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteByte('{')
	for i, key := range sortedKeys(obj) {
		if i > 0 {
			b.WriteByte(',')
		}
		vals := []any{obj[key]}
		if key == k {
			vals = []any{first, second}
		}
		for j, v := range vals {
			kj, _ := json.Marshal(key)
			vj, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if j > 0 {
				b.WriteByte(',')
			}
			b.Write(kj)
			b.WriteByte(':')
			b.Write(vj)
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func clone(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// TestHeadAgreesWithDecode: for every example body and thousands of
// mutations of them, the cheap head and the full decode agree on the
// appkey, callId, signature and selector, the typed body is the one the
// selector names, and the head reads what encoding/json reads for the same
// exact keys.
func TestHeadAgreesWithDecode(t *testing.T) {
	t.Parallel()
	vs := exampleVariants(t)
	verified := 0
	for _, v := range vs {
		checkHeadAgrees(t, v.name, v.body, roomsFor(v.name))
		if strings.HasPrefix(callback.Peek(v.body).Selector(nil), "groupchat:") {
			checkHeadAgrees(t, v.name, v.body, everyRoom{})
		}
		if callback.Peek(v.body).Verify(testSecrets) {
			verified++
		}
	}
	t.Logf("%d variants, %d of them verified", len(vs), verified)
	if len(vs) < 5000 || verified < 1000 {
		t.Errorf("only %d variants, %d of them verified", len(vs), verified)
	}
}

// TestHeadReadsVendorKeysExactly pins how the head reads keys: exact
// names, the last of a repeated key, strings only, and every vendor quirk
// of the classification.
func TestHeadReadsVendorKeysExactly(t *testing.T) {
	rooms := rooms{"a#b/42": true}
	for _, c := range []struct{ body, want string }{
		{`{"Chat_Type":"muc","payload":{"operation":"create"}}`, "unknown"},
		{`{"chat_type":"chat","chat_type":"muc","payload":{"operation":"create"}}`, "muc:create"},
		{`{"chat_type":"muc","payload":{"operation":"create"},"payload":{"operation":"destroy"}}`, "muc:destroy"},
		{`{"chat_type":"muc","payload":{"operation":"create","Operation":"destroy"}}`, "muc:create"},
		{`{"chat_type":"muc","payload":{"operation":"assing_owner"}}`, "muc:assing_owner"},
		{`{"chat_type":"muc","payload":{"operation":"transfer_everything"}}`, "muc:unknown"},
		{`{"chat_type":"muc","payload":"{\"operation\":\"create\"}"}`, "muc:unknown"},
		{`{"chat_type":"roster","payload":{"operation":"remote_decline"}}`, "roster:decline"},
		{`{"chat_type":"roster","payload":{"operation":"remote_accept"}}`, "roster:accept"},
		{`{"chat_type":"roster","payload":{"operation":5}}`, "roster:unknown"},
		{`{"user":"u","status":"online","reason":"login"}`, "userStatus:login"},
		{`{"user":"u","status":null,"reason":"logout"}`, "userStatus:logout"},
		{`{"user":"u","status":"online","reason":"sleep"}`, "userStatus:unknown"},
		{`{"user":"u","status":"online","event":"x"}`, "unknown"},
		{`{"user":"u","reason":"login"}`, "unknown"},
		{`{"eventType":"keyword_alert","chat_type":"chat"}`, "keyword_alert"},
		{`{"chat_type":"notify","payload":{"type":"thread"}}`, "thread"},
		{`{"chat_type":"notify","payload":{"type":"reaction"}}`, "reaction"},
		{`{"chat_type":"notify","payload":{"type":"Reaction"}}`, "unknown"},
		{`{"chat_type":"recall"}`, "recall"},
		{`{"chat_type":"chat","payload":{"bodies":[{"type":"img"},{"type":"txt"}]}}`, "chat:img"},
		{`{"chat_type":"chat","payload":{"bodies":[]}}`, "chat:unknown"},
		{`{"chat_type":"chat","payload":{"bodies":["txt"]}}`, "chat:unknown"},
		{`{"chat_type":"chat","payload":{"bodies":{"0":{"type":"txt"}}}}`, "chat:unknown"},
		{`{"chat_type":"chat","payload":{"bodies":[{"Type":"txt"}]}}`, "chat:unknown"},
		{`{"chat_type":"chat","payload":{"bodies":[{"type":"t\u0078t","size":5}]}}`, "chat:txt"},
		{`{"chat_type":"chat","payload":{"bodies":[{"type":"txt","type":"cmd"}]}}`, "chat:cmd"},
		{`{"chat_type":"groupchat","appkey":"a#b","group_id":42,"payload":{"bodies":[{"type":"txt"}]}}`, "chatroom:txt"},
		{`{"chat_type":"groupchat","appkey":"a#b","group_id":"42","payload":{"bodies":[{"type":"txt"}]}}`, "chatroom:txt"},
		{`{"chat_type":"groupchat","appkey":"a#b","group_id":[42],"payload":{"bodies":[{"type":"txt"}]}}`, "groupchat:txt"},
		{`{"chat_type":"groupchat","appkey":"a#b","Group_Id":"42","payload":{"bodies":[{"type":"txt"}]}}`, "groupchat:txt"},
	} {
		if got := callback.Peek([]byte(c.body)).Selector(rooms); got != c.want {
			t.Errorf("%s: selector %s, want %s", c.body, got, c.want)
		}
		checkHeadAgrees(t, c.body, []byte(c.body), rooms)
	}

	h := callback.Peek([]byte(`{"appkey":5,"callId":["x"],"security":null,"Appkey":"a#b","APPKEY":"a#b"}`))
	if h.Appkey() != "" || h.CallID() != "" || h.Signed() {
		t.Errorf("values of other kinds or other spellings read as %q %q %v", h.Appkey(), h.CallID(), h.Signed())
	}
	h = callback.Peek([]byte(`{"appkey":"a#b","appkey":"c#d","callId":"c\u0023d_1","security":"\u0031"}`))
	if h.Appkey() != "c#d" || h.CallID() != "c#d_1" || !h.Signed() {
		t.Errorf("last key, escapes: %q %q %v", h.Appkey(), h.CallID(), h.Signed())
	}

	// The typed body reads the same keys as the selector.
	ev := checkHeadAgrees(t, "repeated payload", []byte(`{"chat_type":"muc","payload":{"operation":"create","is_chatroom":true},"payload":{"operation":"destroy"}}`), nil)
	if ev.GetMuc().GetOperationName() != "destroy" || ev.GetMuc().GetIsChatroom() {
		t.Errorf("muc body read another payload than the selector: %v", ev.GetMuc())
	}
}

// TestPeekDoesNotValidate: the head is read off bodies that are not JSON,
// and off bodies that are not objects reads as empty; Parse refuses both.
func TestPeekDoesNotValidate(t *testing.T) {
	h := callback.Peek([]byte(`{"appkey":"acme#chat","security":"x","payload":{"ext":[1,2,`))
	if h.Appkey() != "acme#chat" || !h.Signed() {
		t.Errorf("truncated body: appkey %q signed %v", h.Appkey(), h.Signed())
	}
	for _, body := range []string{``, `null`, `"appkey"`, `[{"appkey":"a#b","security":"x"}]`, ` 5`, `}{"appkey":"a#b"}`} {
		h := callback.Peek([]byte(body))
		if h.Appkey() != "" || h.Signed() || h.Selector(everyRoom{}) != "unknown" {
			t.Errorf("Peek(%q) = %q %v %s", body, h.Appkey(), h.Signed(), h.Selector(everyRoom{}))
		}
		if _, err := callback.Parse([]byte(body)); err == nil {
			t.Errorf("Parse(%q) accepted", body)
		}
	}
}

func TestHeadVerify(t *testing.T) {
	body := func(security, ts string) []byte {
		return []byte(`{"callId":"a#b_1","timestamp":` + ts + `,"security":"` + security + `"}`)
	}
	sig := callback.Sign("a#b_1", "secret", "1700000000000")
	for _, c := range []struct {
		body []byte
		want bool
	}{
		{body(sig, `1700000000000`), true},
		{body(strings.ToUpper(sig), `1700000000000`), true},
		{body(sig, `"1700000000000"`), true},
		{body(sig, `1700000000001`), false},
		{body(sig[1:], `1700000000000`), false},
		{body(strings.Repeat("z", 32), `1700000000000`), false},
		{body("", `1700000000000`), false},
	} {
		if got := callback.Peek(c.body).Verify([]string{"old", "secret"}); got != c.want {
			t.Errorf("%s: Verify = %v, want %v", c.body, got, c.want)
		}
		if callback.Peek(c.body).Verify([]string{"old"}) {
			t.Errorf("%s: verified without its secret", c.body)
		}
	}
}

// TestParseErrorsSpeakJSON: a refused body is described in the terms of
// JSON, never of the Go types that decode it.
func TestParseErrorsSpeakJSON(t *testing.T) {
	for body, want := range map[string]string{
		`[1,2]`:                                  "body is not a JSON object",
		`"callId"`:                               "body is not a JSON object",
		`null`:                                   "body is not a JSON object",
		` 12 `:                                   "body is not a JSON object",
		`true`:                                   "body is not a JSON object",
		``:                                       "invalid JSON at byte 0: unexpected end of JSON input",
		`{"a":}`:                                 "invalid JSON at byte 5: invalid character '}' looking for beginning of value",
		`{"callId":"a",}`:                        "invalid JSON at byte 14: ",
		`{"a":1} x`:                              "invalid JSON at byte 8: ",
		strings.Repeat("[", 20000):               "nested deeper than 1000 levels",
		`{"callId":"a"` + "\x01" + `}`:           "invalid JSON at byte 13: ",
		`{"sensitiveWords":{"x":1},"callId":[]}`: "",
	} {
		_, err := callback.Parse([]byte(body))
		switch {
		case want == "" && err != nil:
			t.Errorf("Parse(%.30q): %v, want it accepted", body, err)
		case want == "":
		case err == nil:
			t.Errorf("Parse(%.30q) accepted", body)
		case !errors.Is(err, callback.ErrMalformed) || !strings.Contains(err.Error(), want):
			t.Errorf("Parse(%.30q) = %q, want %q", body, err, want)
		case strings.Contains(err.Error(), "callback.") || strings.Contains(err.Error(), "Go value"):
			t.Errorf("Parse(%.30q) = %q names a Go type", body, err)
		}
	}
}

// fill1MiB repeats unit between prefix and suffix to a body of 1 MiB.
func fill1MiB(prefix, unit, suffix string) []byte {
	n := (1<<20 - len(prefix) - len(suffix)) / len(unit)
	s := prefix + strings.TrimSuffix(strings.Repeat(unit, n), ",")
	return []byte(s + strings.Repeat(" ", 1<<20-len(s)-len(suffix)) + suffix)
}

// unsigned1MiB are unsigned bodies of 1 MiB in the shapes that cost a
// reader most: a big nested value inside payload, the same with none of
// the keys the head reads, and many small keys at the top and in payload.
var unsigned1MiB = []struct {
	name string
	body []byte
}{
	{"nested", fill1MiB(`{"appkey":"acme#chat","chat_type":"notify","payload":{"ext":{"n":[`, `1,`, `]}}}`)},
	{"absent", fill1MiB(`{"x":{"n":[`, `1,`, `]}}`)},
	{"topkeys", fill1MiB(`{"appkey":"acme\u0023chat",`, `"k":1,`, `}`)},
	{"paykeys", fill1MiB(`{"appkey":"acme#chat","chat_type":"chat","payload":{`, `"k":1,`, `}}`)},
	// An attacker's shape: a key the head reads, repeated with an escaped
	// value. Decoded once, not once per occurrence.
	{"repeated", fill1MiB(`{`, `"appkey":"acme\u0023chat",`, `}`)},
}

// refuse is what refusing an unsigned body takes: find the app, see that
// it is unsigned, and classify it for the app's unsigned selectors.
func refuse(body []byte) bool {
	h := callback.Peek(body)
	return h.Appkey() != "" && !h.Signed() && h.Selector(nil) != ""
}

// TestRefusingUnsigned1MiBIsCheap shows, without timing anything, that
// refusing an unsigned 1 MiB body does not decode it: the head allocates a
// few small values, not in proportion to the body, and never hands
// encoding/json more than one string token.
func TestRefusingUnsigned1MiBIsCheap(t *testing.T) {
	largest, decodes := 0, 0
	restore := callback.WatchTokenDecodes(func(n int) { largest, decodes = max(largest, n), decodes+1 })
	defer restore()
	for _, c := range unsigned1MiB {
		if _, err := callback.Parse(c.body); err != nil || len(c.body) != 1<<20 {
			t.Fatalf("%s: %d bytes, %v", c.name, len(c.body), err)
		}
		largest, decodes = 0, 0
		const runs = 5
		allocs := testing.AllocsPerRun(runs, func() { refuse(c.body) })
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range runs {
			refuse(c.body)
		}
		runtime.ReadMemStats(&after)
		perRun := (after.TotalAlloc - before.TotalAlloc) / runs
		t.Logf("%s: %.0f allocations, %d bytes per refusal; largest value handed to encoding/json: %d bytes", c.name, allocs, perRun, largest)
		switch {
		case c.name == "repeated":
			// gjson unescapes every escaped string value it steps over:
			// linear in the body, but never the decode of a value per
			// occurrence (9 MB before).
			if perRun > uint64(len(c.body)) {
				t.Errorf("%s: %d bytes per refusal of a %d-byte body", c.name, perRun, len(c.body))
			}
		case allocs > 8 || perRun > 1024:
			t.Errorf("%s: %.0f allocations, %d bytes per refusal of a %d-byte body", c.name, allocs, perRun, len(c.body))
		}
		if largest > 64 {
			t.Errorf("%s: Peek handed encoding/json %d bytes", c.name, largest)
		}
		if c.name == "topkeys" && decodes == 0 {
			t.Errorf("%s: the escaped appkey never reached the watch; the test watches nothing", c.name)
		}
	}
}

// BenchmarkParse1MiB is the baseline: callback.Parse on the bodies
// BenchmarkRefuseUnsigned1MiB refuses.
func BenchmarkParse1MiB(b *testing.B) {
	for _, c := range unsigned1MiB {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := callback.Parse(c.body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRefuseUnsigned1MiB is what refusing an unsigned 1 MiB body
// costs with the head (Peek, Appkey, Signed, Selector); compare with
// BenchmarkParse1MiB in the same run.
func BenchmarkRefuseUnsigned1MiB(b *testing.B) {
	for _, c := range unsigned1MiB {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				refuse(c.body)
			}
		})
	}
}

// The vendor's offline push results carry a chat_type and a msg_id, but
// they are not messages: they must not reach chat:* subscribers.
func TestOfflinePushResultsAreNotMessages(t *testing.T) {
	files, err := fs.Glob(examples.FS, "*_push_*.json")
	if err != nil || len(files) != 5 {
		t.Fatalf("push examples: %v %v", files, err)
	}
	for _, f := range files {
		raw, err := examples.FS.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cb, err := callback.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		ev := cb.Decode(time.Now(), nil)
		if ev.GetSelector() != "push" || ev.GetMessage() != nil || ev.GetPush().GetTarget() == "" || ev.GetRecipient() != ev.GetPush().GetTarget() {
			t.Errorf("%s: selector %q, push %v, recipient %q", f, ev.GetSelector(), ev.GetPush(), ev.GetRecipient())
		}
	}
}

// A body nested deeper than MaxDepth is refused before any validator
// recurses into it: a megabyte of `[` from anyone who can reach the
// webhook costs no more stack than a shallow body.
func TestDeepNestingIsRefusedCheaply(t *testing.T) {
	deep := func(n int) []byte {
		return []byte(`{"a":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`)
	}
	if !callback.Valid(deep(callback.MaxDepth-1)) || callback.Valid(deep(callback.MaxDepth)) {
		t.Errorf("Valid at %d and %d levels: want true, false", callback.MaxDepth, callback.MaxDepth+1)
	}
	if _, err := callback.Parse(deep(callback.MaxDepth)); !errors.Is(err, callback.ErrMalformed) || !strings.Contains(err.Error(), "nested deeper than") {
		t.Errorf("Parse of %d levels: %v, want ErrMalformed naming the depth", callback.MaxDepth+1, err)
	}
	if _, err := callback.Parse([]byte(`{"s":"` + strings.Repeat(`[\"`, 5000) + `"}`)); err != nil {
		t.Errorf("brackets inside a string are not nesting: %v", err)
	}
	body := deep(1 << 20)
	grew := make(chan uint64)
	go func() {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		ok := callback.Valid(body)
		runtime.ReadMemStats(&after)
		if ok {
			t.Error("a million levels: Valid")
		}
		grew <- after.StackInuse - min(after.StackInuse, before.StackInuse)
	}()
	if g := <-grew; g > 16<<20 {
		t.Errorf("Valid on a million levels grew the stacks by %d MiB", g>>20)
	}
}
