package callback

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
)

// The vendor's newer single-purpose formats: message edits
// (callback_message_modify.md), moderation results
// (callback_moderation.md) and offline push results
// (callback_offline_push.md). Notes on every field and example:
// examples/current/OTHER.md.

// edit decodes an edit, and sets what it tells of ev's envelope: the
// older page's message sender and recipient (payload.from and to: its
// top-level ones are "internal fields, ignore them"), and the group of an
// edit in a group or chatroom (its `to`).
func (c *Callback) edit(ev *imbridgev1.Event, rooms Chatrooms) *imbridgev1.EditEvent {
	p := c.payload()
	e := &imbridgev1.EditEvent{EditedMsgId: string(p.EditMessageID), Bodies: c.bodies(), Ext: object(p.Ext)}
	if from, to := string(p.From), string(p.To); from != "" || to != "" {
		ev.Sender, ev.SenderUsername = from, username(from)
		ev.Recipient, ev.RecipientUsername = to, username(to)
	}
	if p.Meta == nil {
		return e
	}
	m := p.Meta.EditMsg
	switch m.ChatType {
	case "chat:user":
		e.Conversation = imbridgev1.Conversation_CONVERSATION_CHAT
	case "chat:group":
		e.Conversation = imbridgev1.Conversation_CONVERSATION_GROUPCHAT
		if rooms != nil && rooms.IsChatroom(ev.GetAppkey(), ev.GetRecipientUsername()) {
			e.Conversation = imbridgev1.Conversation_CONVERSATION_CHATROOM
		}
	case "chat:room":
		e.Conversation = imbridgev1.Conversation_CONVERSATION_CHATROOM
	}
	if e.Conversation != imbridgev1.Conversation_CONVERSATION_CHAT && e.Conversation != imbridgev1.Conversation_CONVERSATION_UNSPECIFIED && ev.GroupId == "" {
		ev.GroupId = ev.GetRecipientUsername()
	}
	e.Operator, e.OriginalSender, e.EditCount = string(m.Operator), string(m.Sender), int32(m.Count)
	e.OriginalSendTime, e.EditTime = millis(m.SendTime), millis(m.EditTime)
	return e
}

func (c *Callback) moderation() *imbridgev1.ModerationEvent {
	w := c.wire()
	return &imbridgev1.ModerationEvent{
		Result: w.ModerationResult, ProviderResult: w.ProviderResult, MessageType: w.MessageType,
		MessageId: string(w.MessageID), TargetType: w.TargetType, RiskType: w.RiskType,
		Msg: w.Msg, Url: w.URL, Source: value(w.Source),
	}
}

func (c *Callback) push() *imbridgev1.PushEvent {
	w := c.wire()
	p := &imbridgev1.PushEvent{
		Status: c.head.f.status, Detail: w.Detail, Channel: w.Channel, NotifierName: w.NotifierName,
		DeviceId: w.DeviceID, DeviceToken: w.DeviceToken, Target: w.Target, Data: value(w.Data), ErrorMessage: w.EMessage,
	}
	switch c.head.f.chatType {
	case "chat":
		p.Conversation = imbridgev1.Conversation_CONVERSATION_CHAT
	case "groupchat":
		p.Conversation = imbridgev1.Conversation_CONVERSATION_GROUPCHAT
	}
	return p
}

// millis is a vendor millisecond timestamp; unset when 0.
func millis(ms flexInt) *timestamppb.Timestamp {
	if ms <= 0 {
		return nil
	}
	return unixMilli(int64(ms))
}
