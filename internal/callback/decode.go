// Package callback is the codec of Easemob post-send callbacks: it verifies
// a callback's signature on the raw bytes and decodes every family the
// vendor documents into the typed imbridgev1.Event, with its canonical
// selector. Anything it does not recognise becomes an UnknownEvent; nothing
// is dropped.
//
// JSON is decoded with encoding/json's semantics (case-insensitive keys,
// the last of repeated keys, invalid UTF-8 replaced) as implemented by
// github.com/go-json-experiment/json/v1, the reference implementation of
// encoding/json/v2 (behind GOEXPERIMENT in Go 1.26) in its v1 mode: the
// same results, decoded in about 0.75× the time, bytes and allocations
// (BenchmarkDecodeExamples); the tests check it against encoding/json
// itself. Only its syntax error offsets differ: they name the offending
// byte, not the one after it. The head (Peek), which decodes at most a
// string token of a body not yet authenticated, uses encoding/json.
package callback

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tidwall/gjson"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
)

// ErrMalformed wraps every reason a body is not a callback at all: not
// JSON, or JSON that is not an object.
var ErrMalformed = errors.New("malformed callback")

// Chatrooms tells group ids that are chatrooms from those that are groups.
type Chatrooms interface {
	IsChatroom(appkey, groupID string) bool
}

// Callback is a parsed request body: enough to route and verify it before
// the rest is decoded.
type Callback struct {
	raw  []byte
	head Head
	// w is decoded on first use (wire): most callbacks are messages,
	// which need nothing the head did not read.
	w *wire
}

// Parse reads a request body. It fails only when the body is not a JSON
// object; every other oddity is left to Decode. Its errors say what is
// wrong with the body, in the terms of JSON.
func Parse(raw []byte) (*Callback, error) {
	c, err := Peek(raw).Parse(raw)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// Parse is Parse for the body h was read from, without reading its head
// again. It checks the syntax only (encoding/json's, without decoding):
// everything Decode needs beyond the head is read when needed. It returns
// the Callback itself, which the ingest path keeps on its stack: a
// Callback is about 480 bytes, each callback's largest allocation of ours.
func (h Head) Parse(raw []byte) (Callback, error) {
	if !shallow(raw) {
		return Callback{}, fmt.Errorf("%w: nested deeper than %d levels", ErrMalformed, MaxDepth)
	}
	if !json.Valid(raw) {
		return Callback{}, malformed(raw)
	}
	if !IsObject(raw) {
		return Callback{}, fmt.Errorf("%w: body is not a JSON object", ErrMalformed)
	}
	return Callback{raw: raw, head: h}, nil
}

// malformed says why raw, which is not valid JSON, is not a callback: where
// and why encoding/json stops reading it.
func malformed(raw []byte) error {
	var syntaxErr *json.SyntaxError
	if err := json.Unmarshal(raw, new(wire)); errors.As(err, &syntaxErr) {
		return fmt.Errorf("%w: invalid JSON at byte %d: %s", ErrMalformed, syntaxErr.Offset, syntaxErr)
	}
	return fmt.Errorf("%w: body cannot be read", ErrMalformed)
}

// wire decodes, once, the top-level keys no head reads. A known key of an
// unexpected type (say a numeric name) is left zero: the callback is still
// stored, and its raw body speaks.
func (c *Callback) wire() *wire {
	if c.w == nil {
		c.w = &wire{}
		_ = json.Unmarshal(c.raw, c.w)
	}
	return c.w
}

// IsObject reports whether raw starts as a JSON object does (it need not
// be valid JSON): the one check any body gets before it is known to come
// from an app.
func IsObject(raw []byte) bool {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	return len(raw) > 0 && raw[0] == '{'
}

// CallID is the vendor's callId ("" when absent).
func (c *Callback) CallID() string { return c.head.CallID() }

// Appkey is the vendor's appkey ("" when absent).
func (c *Callback) Appkey() string { return c.head.Appkey() }

// Signed reports whether the callback carries a signature at all.
func (c *Callback) Signed() bool { return c.head.Signed() }

// TimestampText is the timestamp exactly as the decimal digits sent, which
// the signature covers.
func (c *Callback) TimestampText() string { return c.head.f.timestamp }

// VendorTime is the vendor's timestamp, or false when it is absent, not
// a number of milliseconds, or outside the years 1 to 9999 that a
// google.protobuf.Timestamp holds.
func (c *Callback) VendorTime() (time.Time, bool) {
	ms, err := strconv.ParseInt(c.TimestampText(), 10, 64)
	if err != nil || unixMilli(ms) == nil {
		return time.Time{}, false
	}
	return time.UnixMilli(ms), true
}

// unixMilli is a vendor millisecond timestamp as a Timestamp, or nil when
// it lies outside what google.protobuf.Timestamp holds: protojson (the
// REST gateway, the NDJSON streams, the console) refuses to marshal such a
// value, and with it the whole response that holds the event.
func unixMilli(ms int64) *timestamppb.Timestamp {
	ts := timestamppb.New(time.UnixMilli(ms))
	if ts.CheckValid() != nil {
		return nil
	}
	return ts
}

// DigestID is a digest of the body, the id an unsigned event is stored
// under (the reaction and thread families carry no callId, and the
// callId another unsigned body claims proves nothing): a retried delivery
// is the same body, and still stored once.
func (c *Callback) DigestID() string {
	sum := sha256.Sum256(c.raw)
	return "imbridge:sha256:" + hex.EncodeToString(sum[:16])
}

// Decode builds the typed event: the envelope, the family's body and the
// canonical selector. receiveTime is when imbridge received the request.
// The selector is the head's (Head.Selector), and the typed body is the one
// it names: an UnknownEvent whenever the selector is unknown.
func (c *Callback) Decode(receiveTime time.Time, rooms Chatrooms) *imbridgev1.Event {
	f, env := &c.head.f, c.head.envelope(c.raw)
	ev := &imbridgev1.Event{
		CallId:            f.callID,
		EventTypeName:     f.eventType,
		EventType:         eventType(f.eventType),
		ChatType:          f.chatType,
		GroupId:           f.groupID,
		Sender:            env.from,
		Recipient:         env.to,
		SenderUsername:    username(env.from),
		RecipientUsername: username(env.to),
		MsgId:             env.msgID,
		Appkey:            f.appkey,
		Host:              env.host,
		SecurityVersion:   env.securityVersion,
		ReceiveTime:       timestamppb.New(receiveTime),
		RawBody:           c.raw,
	}
	if ev.ChatType == "" {
		ev.ChatType = env.chatTypeCamel
	}
	if t, ok := c.VendorTime(); ok {
		ev.VendorTime = timestamppb.New(t)
	}
	cl := c.head.classify(rooms)
	c.setBody(ev, cl, rooms)
	ev.Selector = cl.selector
	return ev
}

func eventType(s string) imbridgev1.EventType {
	switch s {
	case "":
		return imbridgev1.EventType_EVENT_TYPE_UNSPECIFIED
	case "chat":
		return imbridgev1.EventType_EVENT_TYPE_CHAT
	case "chat_offline":
		return imbridgev1.EventType_EVENT_TYPE_CHAT_OFFLINE
	case "keyword_alert":
		return imbridgev1.EventType_EVENT_TYPE_KEYWORD_ALERT
	}
	return imbridgev1.EventType_EVENT_TYPE_OTHER
}

// setBody sets the oneof the class names.
func (c *Callback) setBody(ev *imbridgev1.Event, cl class, rooms Chatrooms) {
	switch cl.kind {
	case kindUnknown:
		c.unknown(ev, cl.reason)
	case kindKeywordAlert:
		ev.Body = &imbridgev1.Event_KeywordAlert{KeywordAlert: c.keywordAlert()}
	case kindGroupOp:
		ev.Body = &imbridgev1.Event_GroupOp{GroupOp: c.groupOp(ev)}
	case kindUserStatus:
		ev.Body = &imbridgev1.Event_UserStatus{UserStatus: c.userStatus()}
	case kindMessage:
		ev.Body = &imbridgev1.Event_Message{Message: c.message(cl.conversation)}
	case kindRecall:
		p := c.payload()
		ev.Body = &imbridgev1.Event_Recall{Recall: &imbridgev1.RecallEvent{
			RecallId:     string(c.wire().RecallID),
			AckMessageId: string(p.AckMessageID),
			Ext:          object(p.Ext),
		}}
		ev.RelatedMsgId = string(c.wire().RecallID)
		if ev.RelatedMsgId == "" {
			ev.RelatedMsgId = string(p.AckMessageID)
		}
	case kindEdit:
		e := c.edit(ev, rooms)
		ev.Body = &imbridgev1.Event_Edit{Edit: e}
		ev.RelatedMsgId = e.GetEditedMsgId()
	case kindModeration:
		ev.Body = &imbridgev1.Event_Moderation{Moderation: c.moderation()}
	case kindPush:
		p := c.push()
		ev.Body = &imbridgev1.Event_Push{Push: p}
		if ev.Recipient == "" {
			ev.Recipient, ev.RecipientUsername = p.GetTarget(), p.GetTarget()
		}
	case kindMuc:
		ev.Body = &imbridgev1.Event_Muc{Muc: c.muc()}
	case kindRoster:
		ev.Body = &imbridgev1.Event_Roster{Roster: c.roster()}
	case kindReadAck:
		ev.Body = &imbridgev1.Event_ReadAck{ReadAck: c.ack()}
		// A group message's read receipt (callback_group_read_ack.md)
		// names its group as its `to`.
		if c.head.f.contentType == "chat:ack:read" && ev.GroupId == "" {
			ev.GroupId = ev.GetRecipientUsername()
		}
	case kindChannelAck:
		ev.Body = &imbridgev1.Event_ChannelAck{ChannelAck: c.ack()}
	case kindReaction:
		ev.Body = &imbridgev1.Event_Reaction{Reaction: reaction(c.payload())}
	case kindThread:
		ev.Body = &imbridgev1.Event_Thread{Thread: thread(c.payload())}
	}
}

// payload decodes the payload object the head read (empty when there is
// none). A key of an unexpected type is left zero.
func (c *Callback) payload() *wirePayload {
	var p wirePayload
	if raw := c.head.payload.of(c.raw); raw != nil {
		_ = json.Unmarshal(raw, &p)
	}
	return &p
}

func (c *Callback) unknown(ev *imbridgev1.Event, reason string) {
	u := &imbridgev1.UnknownEvent{Reason: reason}
	if s := object(c.raw); s != nil {
		u.Body = s
	}
	ev.Body = &imbridgev1.Event_Unknown{Unknown: u}
}

// object decodes a JSON object into a Struct; anything else is nil.
func object(raw json.RawMessage) *structpb.Struct {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	if len(raw) >= 2 && raw[len(raw)-1] == '}' && len(bytes.Trim(raw[1:len(raw)-1], " \t\r\n")) == 0 {
		// `{}` (JSON's whitespace inside), most messages' ext: what
		// protojson would build, without its 2 µs of set-up.
		return &structpb.Struct{}
	}
	s := &structpb.Struct{}
	if protojson.Unmarshal(raw, s) != nil {
		// protojson refuses repeated keys and invalid UTF-8, which
		// encoding/json takes (the last key counting, U+FFFD).
		var m map[string]any
		if json.Unmarshal(raw, &m) != nil {
			return nil
		}
		if s, _ = structpb.NewStruct(m); s == nil {
			return nil
		}
	}
	return s
}

// value decodes any JSON value; absent or undecodable is nil.
func value(raw json.RawMessage) *structpb.Value {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	v := &structpb.Value{}
	if protojson.Unmarshal(raw, v) != nil {
		// As object does.
		var a any
		if json.Unmarshal(raw, &a) != nil {
			return nil
		}
		if v, _ = structpb.NewValue(a); v == nil {
			return nil
		}
	}
	return v
}

func (c *Callback) message(conv imbridgev1.Conversation) *imbridgev1.MessageEvent {
	// The head found ext where payload() would: a message needs nothing
	// else of its payload.
	return &imbridgev1.MessageEvent{Ext: object(c.head.ext.of(c.raw)), Conversation: conv, Bodies: c.bodies()}
}

// bodies decodes `payload.bodies`.
func (c *Callback) bodies() []*imbridgev1.MessageBody {
	var out []*imbridgev1.MessageBody
	if raw := c.head.bodies.of(c.raw); raw != nil {
		gjson.Parse(view(raw)).ForEach(func(_, elem gjson.Result) bool {
			out = append(out, body([]byte(elem.Raw), bodyType(elem)))
			return true
		})
	}
	return out
}

// body decodes one element of `payload.bodies` whose type (see bodyType)
// is typ.
func body(raw json.RawMessage, typ string) *imbridgev1.MessageBody {
	if !IsObject(raw) {
		return &imbridgev1.MessageBody{Kind: &imbridgev1.MessageBody_Unknown{Unknown: &imbridgev1.UnknownBody{}}}
	}
	var b wireBody
	_ = json.Unmarshal(raw, &b) // a key of an unexpected type is left zero
	size := func() *imbridgev1.Size {
		if b.Size == nil {
			return nil
		}
		return &imbridgev1.Size{Width: int32(b.Size.Width), Height: int32(b.Size.Height)}
	}
	switch messageOp(typ) {
	case "txt":
		return &imbridgev1.MessageBody{Kind: &imbridgev1.MessageBody_Txt{Txt: &imbridgev1.TextBody{
			Msg: string(b.Msg), SubType: b.SubType, Title: b.Title, Summary: b.Summary, CombineLevel: int32(b.CombineLevel),
			Url: b.URL, Filename: b.Filename, Secret: b.Secret, FileLength: int64(b.FileLength),
		}}}
	case "img":
		return &imbridgev1.MessageBody{Kind: &imbridgev1.MessageBody_Img{Img: &imbridgev1.ImageBody{
			Filename: b.Filename, Secret: b.Secret, FileLength: int64(b.FileLength), Size: size(), Url: b.URL, ThumbFilename: b.ThumbFilename,
		}}}
	case "audio":
		return &imbridgev1.MessageBody{Kind: &imbridgev1.MessageBody_Audio{Audio: &imbridgev1.AudioBody{
			Filename: b.Filename, Secret: b.Secret, FileLength: int64(b.FileLength), Length: int32(b.Length), Url: b.URL,
		}}}
	case "loc":
		return &imbridgev1.MessageBody{Kind: &imbridgev1.MessageBody_Loc{Loc: &imbridgev1.LocationBody{
			Lat: float64(b.Lat), Lng: float64(b.Lng), Addr: b.Addr,
		}}}
	case "video":
		return &imbridgev1.MessageBody{Kind: &imbridgev1.MessageBody_Video{Video: &imbridgev1.VideoBody{
			Filename: b.Filename, Secret: b.Secret, FileLength: int64(b.FileLength), Length: int32(b.Length),
			Url: b.URL, Thumb: b.Thumb, ThumbSecret: b.ThumbSecret, Size: size(),
		}}}
	case "file":
		return &imbridgev1.MessageBody{Kind: &imbridgev1.MessageBody_File{File: &imbridgev1.FileBody{
			Filename: b.Filename, Secret: b.Secret, FileLength: int64(b.FileLength), Url: b.URL,
		}}}
	case "cmd":
		return &imbridgev1.MessageBody{Kind: &imbridgev1.MessageBody_Cmd{Cmd: &imbridgev1.CommandBody{Action: b.Action, Msg: string(b.Msg)}}}
	case "custom":
		cb := &imbridgev1.CustomBody{CustomEvent: b.CustomEvent}
		if v := value(b.CustomExts); v != nil {
			cb.CustomExts = v.GetListValue()
		}
		cb.V2CustomExts = stringMap(b.V2CustomExts)
		return &imbridgev1.MessageBody{Kind: &imbridgev1.MessageBody_Custom{Custom: cb}}
	}
	return &imbridgev1.MessageBody{Kind: &imbridgev1.MessageBody_Unknown{Unknown: &imbridgev1.UnknownBody{Type: typ, Fields: object(raw)}}}
}

// stringMap reads a JSON object of scalars as strings; numbers and booleans
// keep their JSON text, nested values their JSON encoding (with any invalid
// UTF-8 replaced, as encoding/json does for strings).
func stringMap(raw json.RawMessage) map[string]string {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if s, ok := text(v); ok {
			out[k] = s
		} else {
			out[k] = strings.ToValidUTF8(string(bytes.TrimSpace(v)), "\uFFFD")
		}
	}
	return out
}

func (c *Callback) ack() *imbridgev1.AckEvent {
	p := c.payload()
	return &imbridgev1.AckEvent{AckMessageId: string(p.AckMessageID), AckType: c.head.f.payloadType, Ext: object(p.Ext), Channel: c.wire().ChannelChannel}
}

var mucOperations = func() map[string]imbridgev1.MucOperation {
	m := map[string]imbridgev1.MucOperation{}
	for n, v := range imbridgev1.MucOperation_value {
		if v != 0 {
			m[strings.ToLower(strings.TrimPrefix(n, "MUC_OPERATION_"))] = imbridgev1.MucOperation(v)
		}
	}
	return m
}()

func (c *Callback) muc() *imbridgev1.MucEvent {
	p, op := c.payload(), c.head.f.operation
	m := &imbridgev1.MucEvent{
		OperationName: op,
		Operation:     mucOperations[op],
		IsChatroom:    bool(p.IsChatroom),
		MucId:         parseMucID(p.MucID),
	}
	if p.Status != nil {
		m.Status = &imbridgev1.OperationStatus{Description: p.Status.Description, ErrorCode: p.Status.ErrorCode}
	}
	if p.EventInfo != nil {
		info := &imbridgev1.MucEventInfo{Type: p.EventInfo.Type}
		if s, ok := text(p.EventInfo.Ext); ok {
			if info.Ext = object(json.RawMessage(s)); info.Ext == nil {
				info.RawExt = s
			}
		} else {
			info.Ext = object(p.EventInfo.Ext)
		}
		m.EventInfo = info
	}
	setMucReason(m, p.Reason)
	return m
}

// setMucReason reads `payload.reason`: a text, a file id (delete_file), a
// shared-file record (upload_file: {"data": {...}}) or anything else.
func setMucReason(m *imbridgev1.MucEvent, raw json.RawMessage) {
	if s, ok := text(raw); ok {
		if m.Operation == imbridgev1.MucOperation_MUC_OPERATION_DELETE_FILE {
			m.Reason = &imbridgev1.MucEvent_FileId{FileId: s}
		} else {
			m.Reason = &imbridgev1.MucEvent_ReasonText{ReasonText: s}
		}
		return
	}
	var obj struct {
		Data *wireSharedFile `json:"data"`
	}
	if json.Unmarshal(raw, &obj) == nil && obj.Data != nil && obj.Data.FileID != "" {
		f := obj.Data
		sf := &imbridgev1.SharedFile{FileId: f.FileID, FileName: f.FileName, FileOwner: f.FileOwner, FileSize: int64(f.FileSize)}
		if f.Created != 0 {
			sf.CreateTime = unixMilli(int64(f.Created))
		}
		m.Reason = &imbridgev1.MucEvent_SharedFile{SharedFile: sf}
		return
	}
	if v := value(raw); v != nil {
		if _, isNull := v.GetKind().(*structpb.Value_NullValue); !isNull {
			m.Reason = &imbridgev1.MucEvent_ReasonOther{ReasonOther: v}
		}
	}
}

var rosterOperations = map[string]imbridgev1.RosterOperation{
	"add":            imbridgev1.RosterOperation_ROSTER_OPERATION_ADD,
	"remove":         imbridgev1.RosterOperation_ROSTER_OPERATION_REMOVE,
	"accept":         imbridgev1.RosterOperation_ROSTER_OPERATION_ACCEPT,
	"remote_accept":  imbridgev1.RosterOperation_ROSTER_OPERATION_ACCEPT,
	"decline":        imbridgev1.RosterOperation_ROSTER_OPERATION_DECLINE,
	"remote_decline": imbridgev1.RosterOperation_ROSTER_OPERATION_DECLINE,
	"ban":            imbridgev1.RosterOperation_ROSTER_OPERATION_BAN,
	"allow":          imbridgev1.RosterOperation_ROSTER_OPERATION_ALLOW,
}

func (c *Callback) roster() *imbridgev1.RosterEvent {
	p, op := c.payload(), c.head.f.operation
	r := &imbridgev1.RosterEvent{
		Operation:     rosterOperations[op],
		OperationName: op,
		RosterVersion: p.RosterVer,
		Reason:        value(p.Reason),
	}
	if p.Status != nil {
		r.Status = &imbridgev1.OperationStatus{Description: p.Status.Description, ErrorCode: p.Status.ErrorCode}
	}
	return r
}

var userStatusReasons = map[string]imbridgev1.UserStatusReason{
	"login":    imbridgev1.UserStatusReason_USER_STATUS_REASON_LOGIN,
	"logout":   imbridgev1.UserStatusReason_USER_STATUS_REASON_LOGOUT,
	"replaced": imbridgev1.UserStatusReason_USER_STATUS_REASON_REPLACED,
}

func (c *Callback) userStatus() *imbridgev1.UserStatusEvent {
	w, f := c.wire(), &c.head.f
	reason, status := f.reason, f.status
	return &imbridgev1.UserStatusEvent{
		Reason:     userStatusReasons[reason],
		ReasonName: reason,
		Online:     status == "online",
		StatusName: status,
		User:       ParseJid(f.user),
		Os:         w.OS,
		Ip:         w.IP,
		Version:    w.Version,
		Name:       w.Name,
	}
}

func (c *Callback) keywordAlert() *imbridgev1.KeywordAlertEvent {
	w := c.wire()
	k := &imbridgev1.KeywordAlertEvent{
		AlertReason:     w.AlertReason,
		Action:          c.head.f.status,
		SensitiveWords:  w.SensitiveWords,
		ContentUri:      w.ContentURI,
		ContentType:     w.ContentType,
		ContentOwner:    jidOrNil(w.ContentOwner),
		ContentReceiver: jidOrNil(w.ContentReceiver),
	}
	if _, id, ok := strings.Cut(w.ContentURI, ":"); ok {
		k.ContentMsgId = id
	}
	return k
}

func reaction(p *wirePayload) *imbridgev1.ReactionEvent {
	r := &imbridgev1.ReactionEvent{ChannelType: p.ChannelType, Num: int64(p.Num)}
	var data []wireReactionData
	_ = json.Unmarshal(p.Data, &data)
	for _, d := range data {
		mr := &imbridgev1.MessageReactions{MessageId: string(d.MessageID), Sender: d.From, Recipient: d.To, ChannelType: d.ChannelType}
		if d.TS != 0 {
			mr.Time = unixMilli(int64(d.TS))
		}
		for _, re := range d.Reactions {
			pr := &imbridgev1.Reaction{Reaction: re.Reaction, UserList: re.UserList, Count: int64(re.Count)}
			for _, op := range re.Op {
				pr.Operations = append(pr.Operations, &imbridgev1.ReactionOperation{ReactionType: op.ReactionType, Operator: op.Operator})
			}
			mr.Reactions = append(mr.Reactions, pr)
		}
		r.Data = append(r.Data, mr)
	}
	return r
}

func thread(p *wirePayload) *imbridgev1.ThreadEvent {
	var d wireThread
	_ = json.Unmarshal(p.Data, &d)
	t := &imbridgev1.ThreadEvent{
		Id: string(d.ID), Name: d.Name, Operator: d.From, Operation: d.Operation,
		MsgParentId: string(d.MsgParentID), MucParentId: string(d.MucParentID),
		MessageCount: int64(d.MessageCount), LastMessage: object(d.LastMessage),
	}
	if d.Timestamp != 0 {
		t.Time = unixMilli(int64(d.Timestamp))
	}
	return t
}
