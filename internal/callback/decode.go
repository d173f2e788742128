// Package callback is the codec of Easemob post-send callbacks: it verifies
// a callback's signature on the raw bytes and decodes every family the
// vendor documents into the typed imbridgev1.Event, with its canonical
// selector. Anything it does not recognise becomes an UnknownEvent; nothing
// is dropped.
package callback

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/selector"
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
	raw []byte
	w   wire
}

// Parse reads a request body. It fails only when the body is not a JSON
// object; every other oddity is left to Decode.
func Parse(raw []byte) (*Callback, error) {
	c := &Callback{raw: raw}
	if err := json.Unmarshal(raw, &c.w); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			// A known key of an unexpected type (say a numeric callId) is
			// still a callback; keep what decoded and let the raw body speak.
			return c, nil
		}
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return c, nil
}

// CallID is the vendor's callId ("" when absent).
func (c *Callback) CallID() string { return c.w.CallID }

// Appkey is the vendor's appkey ("" when absent).
func (c *Callback) Appkey() string { return c.w.Appkey }

// Signed reports whether the callback carries a signature at all.
func (c *Callback) Signed() bool { return c.w.Security != "" }

// TimestampText is the timestamp exactly as the decimal digits sent, which
// the signature covers.
func (c *Callback) TimestampText() string {
	if s, ok := text(c.w.Timestamp); ok {
		return s
	}
	return string(bytes.TrimSpace(c.w.Timestamp))
}

// VendorTime is the vendor's timestamp, or false when it is absent or not
// a number of milliseconds.
func (c *Callback) VendorTime() (time.Time, bool) {
	ms, err := strconv.ParseInt(c.TimestampText(), 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.UnixMilli(ms), true
}

// DedupeID is the id the event is stored under: the callId, or for the
// unsigned families that carry none (reaction, thread), a digest of the
// body, so that a retried delivery is still stored once.
func (c *Callback) DedupeID() string {
	if c.w.CallID != "" {
		return c.w.CallID
	}
	sum := sha256.Sum256(c.raw)
	return "imbridge:sha256:" + hex.EncodeToString(sum[:16])
}

// Decode builds the typed event: the envelope, the family's body and the
// canonical selector. receiveTime is when imbridge received the request.
func (c *Callback) Decode(receiveTime time.Time, rooms Chatrooms) *imbridgev1.Event {
	w := &c.w
	ev := &imbridgev1.Event{
		CallId:          w.CallID,
		EventTypeName:   w.EventType,
		EventType:       eventType(w.EventType),
		ChatType:        w.ChatType,
		GroupId:         string(w.GroupID),
		From:            string(w.From),
		To:              string(w.To),
		MsgId:           string(w.MsgID),
		Appkey:          w.Appkey,
		Host:            w.Host,
		SecurityVersion: w.SecurityVersion,
		ReceiveTime:     timestamppb.New(receiveTime),
		RawBody:         c.raw,
	}
	if ev.ChatType == "" {
		ev.ChatType = w.ChatTypeCamel
	}
	if t, ok := c.VendorTime(); ok {
		ev.VendorTime = timestamppb.New(t)
	}
	ev.Selector = c.decodeBody(ev, rooms)
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

// decodeBody sets the oneof and returns the canonical selector.
func (c *Callback) decodeBody(ev *imbridgev1.Event, rooms Chatrooms) string {
	w := &c.w
	if w.EventType == "keyword_alert" {
		ev.Body = &imbridgev1.Event_KeywordAlert{KeywordAlert: c.keywordAlert()}
		return "keyword_alert"
	}
	var p wirePayload
	if len(w.Payload) > 0 && w.Payload[0] == '{' {
		if err := json.Unmarshal(w.Payload, &p); err != nil {
			var typeErr *json.UnmarshalTypeError
			if !errors.As(err, &typeErr) {
				return c.unknown(ev, fmt.Sprintf("undecodable payload: %v", err))
			}
		}
	}
	switch w.ChatType {
	case "chat", "groupchat":
		return c.message(ev, &p, rooms)
	case "recall":
		ev.Body = &imbridgev1.Event_Recall{Recall: &imbridgev1.RecallEvent{
			RecallId:     string(w.RecallID),
			AckMessageId: string(p.AckMessageID),
			Ext:          object(p.Ext),
		}}
		return "recall"
	case "muc":
		return c.muc(ev, &p)
	case "roster":
		return c.roster(ev, &p)
	case "read_ack":
		ev.Body = &imbridgev1.Event_ReadAck{ReadAck: ack(&p)}
		return "read_ack"
	case "channel_ack":
		ev.Body = &imbridgev1.Event_ChannelAck{ChannelAck: ack(&p)}
		return "channel_ack"
	case "notify":
		switch p.Type {
		case "reaction":
			ev.Body = &imbridgev1.Event_Reaction{Reaction: reaction(&p)}
			return "reaction"
		case "thread":
			ev.Body = &imbridgev1.Event_Thread{Thread: thread(&p)}
			return "thread"
		}
		return c.unknown(ev, fmt.Sprintf("unknown notify type %q", p.Type))
	case "":
		if w.Event == "" && w.User != "" && len(w.Status) > 0 {
			return c.userStatus(ev)
		}
	}
	switch {
	case w.Event != "":
		return c.unknown(ev, fmt.Sprintf("event %q is not decoded yet", w.Event))
	case w.ChatType != "":
		return c.unknown(ev, fmt.Sprintf("unknown chat_type %q", w.ChatType))
	case w.EventType != "":
		return c.unknown(ev, fmt.Sprintf("unknown eventType %q", w.EventType))
	}
	return c.unknown(ev, "no chat_type, eventType or event")
}

func (c *Callback) unknown(ev *imbridgev1.Event, reason string) string {
	u := &imbridgev1.UnknownEvent{Reason: reason}
	if s := object(c.raw); s != nil {
		u.Body = s
	}
	ev.Body = &imbridgev1.Event_Unknown{Unknown: u}
	return selector.Unknown
}

// object decodes a JSON object into a Struct; anything else is nil.
func object(raw json.RawMessage) *structpb.Struct {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	s := &structpb.Struct{}
	if protojson.Unmarshal(raw, s) != nil {
		return nil
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
		return nil
	}
	return v
}

// bodyKind is MessageBody's oneof, whose field names are the vendor body
// types and so the selectors' operations (`txt` … `unknown`).
var bodyKind = (&imbridgev1.MessageBody{}).ProtoReflect().Descriptor().Oneofs().ByName("kind")

func (c *Callback) message(ev *imbridgev1.Event, p *wirePayload, rooms Chatrooms) string {
	m := &imbridgev1.MessageEvent{Ext: object(p.Ext)}
	family := "chat"
	m.Conversation = imbridgev1.Conversation_CONVERSATION_CHAT
	if c.w.ChatType == "groupchat" {
		family = "groupchat"
		m.Conversation = imbridgev1.Conversation_CONVERSATION_GROUPCHAT
		if rooms != nil && rooms.IsChatroom(ev.GetAppkey(), ev.GetGroupId()) {
			family = "chatroom"
			m.Conversation = imbridgev1.Conversation_CONVERSATION_CHATROOM
		}
	}
	var raws []json.RawMessage
	_ = json.Unmarshal(p.Bodies, &raws)
	for _, raw := range raws {
		m.Bodies = append(m.Bodies, body(raw))
	}
	ev.Body = &imbridgev1.Event_Message{Message: m}
	op := selector.Unknown
	if len(m.Bodies) > 0 {
		if f := m.Bodies[0].ProtoReflect().WhichOneof(bodyKind); f != nil {
			op = string(f.Name())
		}
	}
	return selector.Of(family, op)
}

func body(raw json.RawMessage) *imbridgev1.MessageBody {
	var b wireBody
	if json.Unmarshal(raw, &b) != nil && object(raw) == nil {
		return &imbridgev1.MessageBody{Kind: &imbridgev1.MessageBody_Unknown{Unknown: &imbridgev1.UnknownBody{}}}
	}
	size := func() *imbridgev1.Size {
		if b.Size == nil {
			return nil
		}
		return &imbridgev1.Size{Width: int32(b.Size.Width), Height: int32(b.Size.Height)}
	}
	switch b.Type {
	case "txt":
		return &imbridgev1.MessageBody{Kind: &imbridgev1.MessageBody_Txt{Txt: &imbridgev1.TextBody{Msg: string(b.Msg)}}}
	case "img":
		return &imbridgev1.MessageBody{Kind: &imbridgev1.MessageBody_Img{Img: &imbridgev1.ImageBody{
			Filename: b.Filename, Secret: b.Secret, FileLength: int64(b.FileLength), Size: size(), Url: b.URL,
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
	return &imbridgev1.MessageBody{Kind: &imbridgev1.MessageBody_Unknown{Unknown: &imbridgev1.UnknownBody{Type: b.Type, Fields: object(raw)}}}
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

func ack(p *wirePayload) *imbridgev1.AckEvent {
	return &imbridgev1.AckEvent{AckMessageId: string(p.AckMessageID), AckType: p.Type, Ext: object(p.Ext)}
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

func (c *Callback) muc(ev *imbridgev1.Event, p *wirePayload) string {
	m := &imbridgev1.MucEvent{
		OperationName: p.Operation,
		Operation:     mucOperations[p.Operation],
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
	ev.Body = &imbridgev1.Event_Muc{Muc: m}
	if m.Operation == imbridgev1.MucOperation_MUC_OPERATION_UNSPECIFIED {
		return selector.Of("muc", selector.Unknown)
	}
	return selector.Of("muc", p.Operation)
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
			sf.CreateTime = timestamppb.New(time.UnixMilli(int64(f.Created)))
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
	"decline":        imbridgev1.RosterOperation_ROSTER_OPERATION_DECLINE,
	"remote_decline": imbridgev1.RosterOperation_ROSTER_OPERATION_DECLINE,
	"ban":            imbridgev1.RosterOperation_ROSTER_OPERATION_BAN,
	"allow":          imbridgev1.RosterOperation_ROSTER_OPERATION_ALLOW,
}

func (c *Callback) roster(ev *imbridgev1.Event, p *wirePayload) string {
	r := &imbridgev1.RosterEvent{
		Operation:     rosterOperations[p.Operation],
		OperationName: p.Operation,
		RosterVersion: p.RosterVer,
		Reason:        value(p.Reason),
	}
	if p.Status != nil {
		r.Status = &imbridgev1.OperationStatus{Description: p.Status.Description, ErrorCode: p.Status.ErrorCode}
	}
	ev.Body = &imbridgev1.Event_Roster{Roster: r}
	if r.Operation == imbridgev1.RosterOperation_ROSTER_OPERATION_UNSPECIFIED {
		return selector.Of("roster", selector.Unknown)
	}
	return selector.Of("roster", strings.ToLower(strings.TrimPrefix(r.Operation.String(), "ROSTER_OPERATION_")))
}

var userStatusReasons = map[string]imbridgev1.UserStatusReason{
	"login":    imbridgev1.UserStatusReason_USER_STATUS_REASON_LOGIN,
	"logout":   imbridgev1.UserStatusReason_USER_STATUS_REASON_LOGOUT,
	"replaced": imbridgev1.UserStatusReason_USER_STATUS_REASON_REPLACED,
}

func (c *Callback) userStatus(ev *imbridgev1.Event) string {
	w := &c.w
	reason, _ := text(w.Reason)
	status, _ := text(w.Status)
	u := &imbridgev1.UserStatusEvent{
		Reason:     userStatusReasons[reason],
		ReasonName: reason,
		Online:     status == "online",
		StatusName: status,
		User:       ParseJid(w.User),
		Os:         w.OS,
		Ip:         w.IP,
		Version:    w.Version,
	}
	ev.Body = &imbridgev1.Event_UserStatus{UserStatus: u}
	if u.Reason == imbridgev1.UserStatusReason_USER_STATUS_REASON_UNSPECIFIED {
		return selector.Of("userStatus", selector.Unknown)
	}
	return selector.Of("userStatus", reason)
}

func (c *Callback) keywordAlert() *imbridgev1.KeywordAlertEvent {
	w := &c.w
	status, _ := text(w.Status)
	k := &imbridgev1.KeywordAlertEvent{
		AlertReason:     w.AlertReason,
		Action:          status,
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
		mr := &imbridgev1.MessageReactions{MessageId: string(d.MessageID), From: d.From, To: d.To, ChannelType: d.ChannelType}
		if d.TS != 0 {
			mr.Time = timestamppb.New(time.UnixMilli(int64(d.TS)))
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
		Id: string(d.ID), Name: d.Name, From: d.From, Operation: d.Operation,
		MsgParentId: string(d.MsgParentID), MucParentId: string(d.MucParentID),
		MessageCount: int64(d.MessageCount), LastMessage: object(d.LastMessage),
	}
	if d.Timestamp != 0 {
		t.Time = timestamppb.New(time.UnixMilli(int64(d.Timestamp)))
	}
	return t
}
