package callback

import (
	json "github.com/go-json-experiment/json/v1"
	"github.com/tidwall/gjson"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/selector"
)

// The vendor's current group and chatroom format, `event:
// "group_op_event"` (callback_group_room_*.md and neighbours; notes and
// every example in examples/current/GROUP_ROOM.md). Its `operation` and
// `payload.type` (the sub-event) map onto the operations of the legacy
// `chat_type: muc` format, so that both formats answer to the same
// `muc:*` selectors; the table is in event.proto, on GroupOpEvent.

// groupOpEvent is the value of `event` that marks the format.
const groupOpEvent = "group_op_event"

// groupOpHead is what the head reads of a group operation to classify it:
// the top-level `operation`, `type` and `id`, and in the payload the keys
// that decide between two meanings of one sub-event.
type groupOpHead struct {
	operation, kind, id string
	action              string // payload.action
	// mute, disable and disabled are payload.mute, payload.disable and
	// payload.disabled (the vendor's example and table disagree on the
	// name): 0 absent, 1 false, 2 true.
	mute, disable, disabled int8
	hasAnnouncement         bool
}

// readTop takes the top-level keys of a group operation.
func (g *groupOpHead) readTop(key string, v gjson.Result) {
	switch key {
	case "operation":
		g.operation = str(v)
	case "type":
		g.kind = str(v)
	case "id":
		g.id = str(v)
		if v.Type == gjson.Number {
			g.id = v.Raw
		}
	}
}

// readPayload takes the payload keys of a group operation.
func (g *groupOpHead) readPayload(key string, v gjson.Result) {
	switch key {
	case "action":
		g.action = str(v)
	case "mute":
		g.mute = tristate(v)
	case "disable":
		g.disable = tristate(v)
	case "disabled":
		g.disabled = tristate(v)
	case "announcement":
		g.hasAnnouncement = true
	}
}

// disableFlag is payload.disable, or payload.disabled without it.
func (g *groupOpHead) disableFlag() int8 {
	if g.disable != 0 {
		return g.disable
	}
	return g.disabled
}

// tristate reads a boolean sent as a JSON boolean or a string.
func tristate(v gjson.Result) int8 {
	switch {
	case v.Type == gjson.True || v.Type == gjson.String && v.Str == "true":
		return 2
	case v.Type == gjson.False || v.Type == gjson.String && v.Str == "false":
		return 1
	}
	return 0
}

// meaning is the operation in the shared vocabulary (selector.Unknown
// when imbridge knows none), given the sub-event sub.
func (g *groupOpHead) meaning(sub string) string {
	pair := func(add, remove string) string {
		switch sub {
		case "ADD":
			return add
		case "REMOVE":
			return remove
		}
		return selector.Unknown
	}
	flag := func(v int8, on, off string) string {
		switch v {
		case 2:
			return on
		case 1:
			return off
		}
		return selector.Unknown
	}
	switch g.operation {
	case "CREATE":
		return "create"
	case "DELETE":
		return "destroy"
	case "UPDATE":
		switch sub {
		case "INFO":
			return "update"
		case "OWNER":
			return "assing_owner"
		case "MUTE":
			return flag(g.mute, "ban_group", "remove_ban_group")
		case "ANNOUNCEMENT":
			if g.hasAnnouncement {
				return "update_announcement"
			}
			return "delete_announcement"
		case "DISABLE":
			return flag(g.disableFlag(), "disable", "enable")
		}
	case "JOIN":
		switch sub {
		case "DIRECT", "INVITE", "APPLY":
			return "presence"
		}
	case "LEAVE":
		switch sub {
		case "QUIT":
			if g.action == "user_offline" {
				return "kick" // as the legacy format reports a chatroom's offline removal
			}
			return "leave"
		case "KICK":
			return "kick"
		case "BLOCK", "DELETE":
			return "absence"
		}
	case "ADMIN":
		return pair("add_admin", "remove_admin")
	case "MUTE":
		return pair("add_mute", "remove_mute")
	case "WHITE":
		return pair("add_user_white_list", "remove_user_white_list")
	case "BLOCK":
		return pair("ban", "allow")
	case "SHIELD":
		return pair("block", "unblock")
	case "SHARE_FILE":
		return pair("upload_file", "delete_file")
	case "ROOM_SUPER_ADMIN":
		return pair("add_super_admin", "remove_super_admin")
	}
	return selector.Unknown
}

// roomKind reads `type`.
func roomKind(s string) imbridgev1.RoomKind {
	switch s {
	case "GROUP":
		return imbridgev1.RoomKind_ROOM_KIND_GROUP
	case "CHATROOM":
		return imbridgev1.RoomKind_ROOM_KIND_CHATROOM
	}
	return imbridgev1.RoomKind_ROOM_KIND_UNSPECIFIED
}

// wireGroupOp is the part of a group operation the head does not read.
type wireGroupOp struct {
	Operator    string   `json:"operator"`
	MemberCount *flexInt `json:"member_count"`
}

// wireGroupOpPayload is a group operation's payload.
type wireGroupOpPayload struct {
	Member          users             `json:"member"`
	Admin           users             `json:"admin"`
	Info            json.RawMessage   `json:"info"`
	Role            map[string]string `json:"role"`
	Owner           flexString        `json:"owner"`
	NewOwner        flexString        `json:"new_owner"`
	Announcement    *string           `json:"announcement"`
	ExpireTimestamp flexInt           `json:"expire_timestamp"`
	ShareFile       users             `json:"share_file"`
	Options         struct {
		Ext jsonText `json:"ext"`
	} `json:"options"`
}

// users is a list of names sent as a JSON array, or as one string.
type users []string

func (u *users) UnmarshalJSON(b []byte) error {
	var list []flexString
	if json.Unmarshal(b, &list) == nil {
		for _, s := range list {
			*u = append(*u, string(s))
		}
		return nil
	}
	var one flexString
	if json.Unmarshal(b, &one) == nil && one != "" {
		*u = users{string(one)}
	}
	return nil
}

// groupOp decodes a group operation; its envelope names the group (`id`)
// and who acted (`operator`), which ev takes as group_id and sender.
func (c *Callback) groupOp(ev *imbridgev1.Event) *imbridgev1.GroupOpEvent {
	g := &c.head.f.group
	var w wireGroupOp
	_ = json.Unmarshal(c.raw, &w)
	var p wireGroupOpPayload
	rawPayload := c.head.payload.of(c.raw)
	if rawPayload != nil {
		_ = json.Unmarshal(rawPayload, &p)
	}
	sub := c.head.f.payloadType
	op := &imbridgev1.GroupOpEvent{
		Kind:          roomKind(g.kind),
		OperationName: g.operation,
		SubEvent:      sub,
		Operation:     mucOperations[g.meaning(sub)],
		Operator:      w.Operator,
		Users:         append(p.Member, p.Admin...),
		Action:        g.action,
		Info:          object(p.Info),
		Roles:         p.Role,
		PreviousOwner: string(p.Owner),
		NewOwner:      string(p.NewOwner),
		Announcement:  p.Announcement,
		FileIds:       p.ShareFile,
		JoinExt:       string(p.Options.Ext),
		Payload:       object(rawPayload),
	}
	if w.MemberCount != nil {
		n := int64(*w.MemberCount)
		op.MemberCount = &n
	}
	if v := g.mute; v != 0 && sub == "MUTE" && g.operation == "UPDATE" {
		b := v == 2
		op.MuteAll = &b
	}
	if v := g.disableFlag(); v != 0 {
		b := v == 2
		op.Disabled = &b
	}
	if p.ExpireTimestamp > 0 {
		op.ExpireTime = unixMilli(int64(p.ExpireTimestamp))
	}
	ev.GroupId = g.id
	ev.Sender, ev.SenderUsername = w.Operator, w.Operator
	return op
}
