package callback

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/tidwall/gjson"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/selector"
)

// Head is what can be read off a body cheaply, without decoding it: enough
// to find the app, tell signed from unsigned, verify the signature, and
// classify the body (its canonical selector).
//
// The head reads the vendor's exact key names: `chat_type` is read, while
// `Chat_Type` or `CHAT_TYPE` is not (encoding/json, which decodes the rest
// of a body, would match those case-insensitively). Where a key is
// repeated, the last one counts, as with encoding/json. A string value is
// decoded exactly as encoding/json decodes it; a value of another JSON
// kind where a string is expected reads as empty. Decode takes every key
// the head reads from the head, so a selector and the event it names are
// read from the same bytes.
type Head struct {
	f facts
	// payload is where the `payload` object the head read lies in the
	// body, bodies where its `bodies` array lies, and ext where its `ext`
	// lies: Decode builds the typed body from these same bytes.
	payload, bodies, ext span
	// env is where the envelope's values lie, in envelopeKeys' order;
	// Decode reads them (envelope), a refused body never does.
	env [len(envelopeKeys)]span
}

// facts is everything the head reads off a body, each value decoded as
// encoding/json decodes a string ("" when absent or not a string).
type facts struct {
	appkey, callID, security string
	// timestamp is the timestamp as the signature covers it: the decimal
	// digits sent, whether as a JSON number or a string.
	timestamp string

	eventType, chatType, event string
	// contentType is the newer pages' `content_type` (`chat:room:text`,
	// say): where a message was sent, which chat_type (groupchat for
	// groups and chatrooms alike) does not tell.
	contentType string
	// step is set on offline push results (`step: "push"`), which also
	// carry a chat_type.
	step string
	// groupID is a JSON string, or a JSON number kept as its text.
	groupID string
	// User status: user, status (present at all, and its text) and reason.
	user           string
	hasStatus      bool
	status, reason string

	// payloadType, operation and bodyType are `payload.type`,
	// `payload.operation` and `payload.bodies[0].type`, read only when
	// payload is an object and bodies an array.
	payloadType, operation, bodyType string

	// group is what the current group and chatroom format adds
	// (groupop.go).
	group groupOpHead
}

// envelope is the top-level keys of every family that only Decode needs.
// Unlike the keys above, they are matched as encoding/json matches a
// struct's fields: in any case (strings.EqualFold), the last key that
// decodes counting. A value of the wrong kind leaves the one before it
// (a string field takes only strings; from, to and msg_id take numbers too,
// kept as their text, as flexString does).
type envelope struct {
	chatTypeCamel, securityVersion, host string
	from, to, msgID                      string
}

// envelopeKeys are the envelope's keys, in the order read sets them; the
// first envelopeStrings take strings only.
var envelopeKeys = [...]string{"chatType", "securityVersion", "host", "from", "to", "msg_id"}

const envelopeStrings = 3

// envelopeSlot is the index in envelopeKeys of the key that takes v, or -1.
func envelopeSlot(key string, v gjson.Result) int {
	for i, k := range envelopeKeys {
		if strings.EqualFold(key, k) {
			if v.Type == gjson.String || i >= envelopeStrings && isNumber(v) {
				return i
			}
			return -1
		}
	}
	return -1
}

// isNumber reports whether v is a JSON number, which flexString keeps as
// its text.
func isNumber(v gjson.Result) bool {
	return v.Type == gjson.Number && v.Raw != "" && (v.Raw[0] == '-' || v.Raw[0] >= '0' && v.Raw[0] <= '9')
}

// envelope decodes the envelope of raw, the body h was read from.
func (h *Head) envelope(raw []byte) envelope {
	var vals [len(envelopeKeys)]string
	for i, at := range h.env {
		switch v := at.of(raw); {
		case len(v) == 0:
		case v[0] == '"':
			vals[i] = str(gjson.Result{Type: gjson.String, Raw: view(v)})
		default: // a number, which only flexString fields take
			vals[i] = string(v)
		}
	}
	return envelope{
		chatTypeCamel: vals[0], securityVersion: vals[1], host: vals[2],
		from: vals[3], to: vals[4], msgID: vals[5],
	}
}

// span is where a value lies in a body; the zero span is no value.
type span struct{ start, end int }

func (s span) of(raw []byte) []byte {
	if s.end == 0 {
		return nil
	}
	return raw[s.start:s.end]
}

func spanOf(r gjson.Result) span { return span{r.Index, r.Index + len(r.Raw)} }

// Peek reads the head of a body in one pass over its top-level keys and one
// over the keys of its payload (and of its first body), stepping over
// nested values without decoding them. It never fails: a key that is
// absent, or a body that is not a JSON object, reads as empty. It does not
// validate the JSON (Parse does). It decodes each value it keeps once,
// whatever the number of occurrences of its key; the one other cost is
// gjson's, which unescapes each string value with escapes it steps over at
// those levels (linear in the body, bounded by the webhook's limit).
func Peek(raw []byte) Head {
	var h Head
	doc := gjson.Parse(view(raw))
	if !doc.IsObject() {
		return h
	}
	// The loops only note where each key's last occurrence is; values are
	// decoded once, after, so that a body repeating a key costs no more
	// than one that does not.
	var appkey, callID, security, timestamp, eventType, chatType, contentType, event, step, groupID, user, status, reason, payload gjson.Result
	hasStatus := false
	doc.ForEach(func(key, v gjson.Result) bool {
		switch key.Str {
		case "appkey":
			appkey = v
		case "callId":
			callID = v
		case "security":
			security = v
		case "timestamp":
			timestamp = v
		case "eventType":
			eventType = v
		case "chat_type":
			chatType = v
		case "content_type":
			contentType = v
		case "event":
			event = v
		case "step":
			step = v
		case "group_id":
			groupID = v
		case "user":
			user = v
		case "status":
			status, hasStatus = v, true
		case "reason":
			reason = v
		case "payload":
			payload = v
		case "operation", "type", "id":
			h.f.group.readTop(key.Str, v)
		default:
			if i := envelopeSlot(key.Str, v); i >= 0 {
				h.env[i] = spanOf(v)
			}
		}
		return true
	})
	h.f.appkey, h.f.callID, h.f.security = str(appkey), str(callID), str(security)
	h.f.timestamp = str(timestamp)
	if timestamp.Exists() && timestamp.Type != gjson.String {
		h.f.timestamp = strings.Clone(timestamp.Raw)
	}
	h.f.eventType, h.f.chatType, h.f.event, h.f.step = str(eventType), str(chatType), str(event), str(step)
	h.f.contentType = str(contentType)
	h.f.groupID = str(groupID)
	if isNumber(groupID) {
		h.f.groupID = strings.Clone(groupID.Raw)
	}
	h.f.user, h.f.reason = str(user), str(reason)
	h.f.hasStatus, h.f.status = hasStatus, str(status)
	if !payload.IsObject() {
		return h
	}
	h.payload = spanOf(payload)
	var payloadType, operation, bodies gjson.Result
	payload.ForEach(func(key, v gjson.Result) bool {
		switch key.Str {
		case "type":
			payloadType = v
		case "operation":
			operation = v
		case "bodies":
			bodies = v
		default:
			if strings.EqualFold(key.Str, "ext") {
				// Any case and any kind, as encoding/json fills a
				// json.RawMessage field.
				h.ext = spanOf(v)
			}
			h.f.group.readPayload(key.Str, v)
		}
		return true
	})
	if payloadType.IsArray() {
		// The join and leave pages type it as an Array; their examples
		// send a string.
		payloadType = payloadType.Get("0")
	}
	h.f.payloadType, h.f.operation = str(payloadType), str(operation)
	if !bodies.IsArray() {
		return h
	}
	h.bodies = spanOf(bodies)
	bodies.ForEach(func(_, first gjson.Result) bool {
		h.f.bodyType = bodyType(first)
		return false
	})
	return h
}

// bodyType is the `type` of one element of `payload.bodies` ("" when the
// element is not an object or has no string type). Both the selector and
// the typed message body read it here.
func bodyType(elem gjson.Result) string {
	var t gjson.Result
	if elem.IsObject() {
		elem.ForEach(func(key, v gjson.Result) bool {
			if key.Str == "type" {
				t = v
			}
			return true
		})
	}
	return str(t)
}

// Appkey is the vendor's appkey ("" when absent).
func (h Head) Appkey() string { return h.f.appkey }

// CallID is the vendor's callId ("" when absent).
func (h Head) CallID() string { return h.f.callID }

// TimestampText is the timestamp as the signature covers it ("" when
// absent).
func (h Head) TimestampText() string { return h.f.timestamp }

// Signed reports whether the body carries a signature at all: a non-empty
// top-level `security`.
func (h Head) Signed() bool { return h.f.security != "" }

// Selector is the body's canonical selector, the same Decode gives it.
// rooms tells a chatroom message from a group message.
func (h Head) Selector(rooms Chatrooms) string { return h.classify(rooms).selector }

// kind is which typed body an event gets.
type kind int

const (
	kindUnknown kind = iota
	kindMessage
	kindRecall
	kindMuc
	kindRoster
	kindReadAck
	kindChannelAck
	kindReaction
	kindThread
	kindUserStatus
	kindKeywordAlert
	kindGroupOp
	kindEdit
	kindModeration
	kindPush
)

// class is what a body is: its typed body, its selector, and for a
// message its conversation, for an unknown event why.
type class struct {
	kind         kind
	selector     string
	conversation imbridgev1.Conversation
	reason       string
}

// classify is the one place that decides what a body is; Head.Selector and
// Decode both ask it.
func (h Head) classify(rooms Chatrooms) class {
	f := &h.f
	if f.eventType == "keyword_alert" {
		return class{kind: kindKeywordAlert, selector: "keyword_alert"}
	}
	if f.event == groupOpEvent && f.chatType == "" {
		return class{kind: kindGroupOp, selector: selector.Of("muc", f.group.meaning(f.payloadType))}
	}
	switch {
	case f.step == "push":
		// An offline push result names the message it pushed, but it is
		// not that message: never a chat:* event.
		return class{kind: kindPush, selector: "push"}
	case f.step != "":
		return unknown(fmt.Sprintf("unknown step %q", f.step))
	case f.eventType == "moderation":
		return class{kind: kindModeration, selector: "moderation"}
	case f.chatType == "edit":
		return class{kind: kindEdit, selector: "edit"}
	}
	switch f.chatType {
	case "chat", "groupchat":
		family, conv := "chat", imbridgev1.Conversation_CONVERSATION_CHAT
		if f.chatType == "groupchat" {
			family, conv = "groupchat", imbridgev1.Conversation_CONVERSATION_GROUPCHAT
			if strings.HasPrefix(f.contentType, "chat:room:") || rooms != nil && rooms.IsChatroom(f.appkey, f.groupID) {
				family, conv = "chatroom", imbridgev1.Conversation_CONVERSATION_CHATROOM
			}
		}
		return class{kind: kindMessage, selector: selector.Of(family, messageOp(f.bodyType)), conversation: conv}
	case "recall":
		return class{kind: kindRecall, selector: "recall"}
	case "muc":
		op := selector.Unknown
		if _, ok := mucOperations[f.operation]; ok {
			op = f.operation
		}
		return class{kind: kindMuc, selector: selector.Of("muc", op)}
	case "roster":
		op := selector.Unknown
		if r, ok := rosterOperations[f.operation]; ok {
			op = strings.ToLower(strings.TrimPrefix(r.String(), "ROSTER_OPERATION_"))
		}
		return class{kind: kindRoster, selector: selector.Of("roster", op)}
	case "read_ack":
		return class{kind: kindReadAck, selector: "read_ack"}
	case "channel_ack":
		return class{kind: kindChannelAck, selector: "channel_ack"}
	case "notify":
		switch f.payloadType {
		case "reaction":
			return class{kind: kindReaction, selector: "reaction"}
		case "thread":
			return class{kind: kindThread, selector: "thread"}
		}
		return unknown(fmt.Sprintf("unknown notify type %q", f.payloadType))
	case "":
		// User status callbacks have no chat_type at all.
		if f.event == "" && f.user != "" && f.hasStatus {
			op := selector.Unknown
			if _, ok := userStatusReasons[f.reason]; ok {
				op = f.reason
			}
			return class{kind: kindUserStatus, selector: selector.Of("userStatus", op)}
		}
	}
	switch {
	case f.event != "":
		return unknown(fmt.Sprintf("event %q is not decoded yet", f.event))
	case f.chatType != "":
		return unknown(fmt.Sprintf("unknown chat_type %q", f.chatType))
	case f.eventType != "":
		return unknown(fmt.Sprintf("unknown eventType %q", f.eventType))
	}
	return unknown("no chat_type, eventType or event")
}

func unknown(reason string) class {
	return class{kind: kindUnknown, selector: selector.Unknown, reason: reason}
}

// messageOp is the selector operation of a message whose first body has
// this type: the type itself for the body types imbridge decodes (the
// field names of MessageBody's oneof), unknown for any other.
func messageOp(bodyType string) string {
	switch bodyType {
	case "txt", "img", "audio", "loc", "video", "file", "cmd", "custom":
		return bodyType
	}
	return selector.Unknown
}

// view is raw as a string, without copying it, for gjson to read. Nothing
// read from a view outlives the call that made it (str and strings.Clone copy
// what is kept), so raw may be reused once the call returns.
func view(raw []byte) string { return unsafe.String(unsafe.SliceData(raw), len(raw)) }

// str is a JSON string value decoded as encoding/json decodes it (escapes,
// and each byte of invalid UTF-8 as U+FFFD), or "" for any other kind.
func str(v gjson.Result) string {
	if v.Type != gjson.String || len(v.Raw) < 2 {
		return ""
	}
	inner := v.Raw[1 : len(v.Raw)-1]
	plain := utf8.ValidString(inner)
	for i := 0; plain && i < len(inner); i++ {
		plain = inner[i] != '\\' && inner[i] >= ' '
	}
	if plain {
		return strings.Clone(inner)
	}
	var s string
	if unmarshalToken([]byte(v.Raw), &s) != nil {
		// Not a valid JSON string; Parse refuses such a body.
		return ""
	}
	return s
}

// unmarshalToken decodes one JSON string token. It is Peek's only use of
// encoding/json, and a variable so that a test can show Peek never hands
// it anything larger than such a token. Peek runs on bodies not yet
// authenticated, so it keeps the standard library's decoder, which for one
// token allocates the least.
var unmarshalToken = json.Unmarshal

// Valid reports whether raw is valid JSON nested at most MaxDepth deep,
// with gjson's validator: about a fifth of what encoding/json takes to
// check the same bytes, and nothing decoded. It tells a broken body from
// one that lacks an appkey. The depth is checked first: gjson's validator
// recurses once a level, and a body of a million `[` would take it a
// stack of 128 MiB.
func Valid(raw []byte) bool { return shallow(raw) && gjson.ValidBytes(raw) }

// MaxDepth is how deeply a callback's JSON may nest. The vendor's nest
// under ten; each level becomes about three of protobuf's when decoded
// into a Struct, and protobuf reads no more than 10,000.
const MaxDepth = 1000

// shallow reports whether raw's arrays and objects nest at most MaxDepth
// deep, counting brackets outside strings, without recursion; it does not
// check the syntax.
func shallow(raw []byte) bool {
	depth, inString := 0, false
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '[' || c == '{':
			if depth++; depth > MaxDepth {
				return false
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return true
}
