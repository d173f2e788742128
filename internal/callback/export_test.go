package callback

import (
	"fmt"

	json "github.com/go-json-experiment/json/v1"
)

// WatchTokenDecodes calls watch with the size of every input Peek hands
// encoding/json, until restore is called. Not safe beside parallel tests.
func WatchTokenDecodes(watch func(n int)) (restore func()) {
	saved := unmarshalToken
	unmarshalToken = func(data []byte, v any) error {
		watch(len(data))
		return saved(data, v)
	}
	return func() { unmarshalToken = saved }
}

// DescribeHead renders everything a head read, and the bytes of the
// payload and bodies it found in raw.
func DescribeHead(h Head, raw []byte) string {
	return fmt.Sprintf("%+v %+v payload=%q bodies=%q ext=%q", h.f, h.envelope(raw), h.payload.of(raw), h.bodies.of(raw), h.ext.of(raw))
}

// ReferenceHead reads what Peek reads with encoding/json instead of gjson,
// the exact key names in maps (which encoding/json matches exactly, the
// last of repeated keys winning), and renders it as DescribeHead does. It
// is false when raw is not a JSON object.
func ReferenceHead(raw []byte) (string, bool) {
	var top map[string]json.RawMessage
	if json.Unmarshal(raw, &top) != nil || top == nil {
		return "", false
	}
	s := func(m map[string]json.RawMessage, k string) string {
		v, _ := text(m[k])
		return v
	}
	f := facts{
		appkey: s(top, "appkey"), callID: s(top, "callId"), security: s(top, "security"),
		eventType: s(top, "eventType"), chatType: s(top, "chat_type"), contentType: s(top, "content_type"), event: s(top, "event"),
		groupID: s(top, "group_id"), user: s(top, "user"), status: s(top, "status"), reason: s(top, "reason"),
	}
	if ts, ok := top["timestamp"]; ok {
		if f.timestamp, ok = text(ts); !ok {
			f.timestamp = string(ts)
		}
	}
	if g := top["group_id"]; len(g) > 0 && (g[0] == '-' || g[0] >= '0' && g[0] <= '9') {
		f.groupID = string(g)
	}
	_, f.hasStatus = top["status"]
	f.step = s(top, "step")
	f.group.operation, f.group.kind, f.group.id = s(top, "operation"), s(top, "type"), s(top, "id")
	if id := top["id"]; len(id) > 0 && (id[0] == '-' || id[0] >= '0' && id[0] <= '9') {
		f.group.id = string(id)
	}
	// The envelope, as a struct of the old wire decoded it.
	var env struct {
		ChatTypeCamel   string     `json:"chatType"`
		From            flexString `json:"from"`
		To              flexString `json:"to"`
		MsgID           flexString `json:"msg_id"`
		SecurityVersion string     `json:"securityVersion"`
		Host            string     `json:"host"`
	}
	_ = json.Unmarshal(raw, &env)
	e := envelope{
		chatTypeCamel: env.ChatTypeCamel, securityVersion: env.SecurityVersion, host: env.Host,
		from: string(env.From), to: string(env.To), msgID: string(env.MsgID),
	}
	var payload, bodies, ext json.RawMessage
	var p map[string]json.RawMessage
	if raw := top["payload"]; len(raw) > 0 && raw[0] == '{' && json.Unmarshal(raw, &p) == nil {
		payload = raw
		var wp wirePayload
		_ = json.Unmarshal(raw, &wp)
		ext = wp.Ext
		f.payloadType, f.operation = s(p, "type"), s(p, "operation")
		var types []json.RawMessage
		if t := p["type"]; len(t) > 0 && t[0] == '[' && json.Unmarshal(t, &types) == nil && len(types) > 0 {
			f.payloadType = s(map[string]json.RawMessage{"type": types[0]}, "type")
		}
		f.group.action = s(p, "action")
		f.group.mute, f.group.disable, f.group.disabled = refTristate(p["mute"]), refTristate(p["disable"]), refTristate(p["disabled"])
		_, f.group.hasAnnouncement = p["announcement"]
		var elems []json.RawMessage
		if b := p["bodies"]; len(b) > 0 && b[0] == '[' && json.Unmarshal(b, &elems) == nil {
			bodies = b
			var first map[string]json.RawMessage
			if len(elems) > 0 && len(elems[0]) > 0 && elems[0][0] == '{' && json.Unmarshal(elems[0], &first) == nil {
				f.bodyType = s(first, "type")
			}
		}
	}
	return fmt.Sprintf("%+v %+v payload=%q bodies=%q ext=%q", f, e, []byte(payload), []byte(bodies), []byte(ext)), true
}

// refTristate is tristate by encoding/json.
func refTristate(raw json.RawMessage) int8 {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return 0
	}
	switch v {
	case true, "true":
		return 2
	case false, "false":
		return 1
	}
	return 0
}

// Object is object: a JSON object as a Struct, nil for anything else.
var Object = object
