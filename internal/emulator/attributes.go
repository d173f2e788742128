package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"unicode/utf8"
)

// Announcement and custom attribute limits (fact sheet §3.6).
const (
	maxAnnouncement = 512
	maxAttrBatch    = 10
	maxAttrKey      = 128
	maxAttrValue    = 4096
	maxRoomAttrs    = 100
)

var attrKey = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)

// handleGetAnnouncement is GET /chatrooms/{id}/announcement.
func handleGetAnnouncement(c *call) (any, error) {
	rm, err := c.room()
	if err != nil {
		return nil, err
	}
	return c.envelope(map[string]string{"announcement": rm.announcement}), nil
}

// handleUpdateAnnouncement is POST /chatrooms/{id}/announcement
// {announcement}; an empty announcement deletes it.
func handleUpdateAnnouncement(c *call) (any, error) {
	var req struct {
		Announcement *string `json:"announcement"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.Announcement == nil {
		return nil, errMustProvide("announcement")
	}
	if utf8.RuneCountInString(*req.Announcement) > maxAnnouncement {
		return nil, errForbidden(http.StatusForbidden, "announce info length exceeds limit!")
	}
	rm, err := c.room()
	if err != nil {
		return nil, err
	}
	rm.announcement = *req.Announcement
	op := "update_announcement"
	if rm.announcement == "" {
		op = "delete_announcement"
	}
	c.emit(rm, mucEvent{op: op, from: c.app.Appkey, to: rm.id, reason: text(rm.announcement)})
	return c.envelope(map[string]any{"id": rm.id, "result": true}), nil
}

func (c *call) metaEnvelope(data any) metaEnvelope {
	return metaEnvelope{URI: c.base() + "/metadata/chatroom", Timestamp: c.nowMs(), Action: c.action, Data: data}
}

// keys reads the optional `keys` array of an attribute request.
func (c *call) keys() ([]string, bool, error) {
	var req struct {
		Keys json.RawMessage `json:"keys"`
	}
	if err := c.decode(&req); err != nil {
		return nil, false, err
	}
	if isNull(req.Keys) {
		return nil, false, nil
	}
	var keys []string
	if err := json.Unmarshal(req.Keys, &keys); err != nil {
		return nil, false, errJSON(err.Error())
	}
	return dedupe(keys), true, nil
}

// handleGetAttrs is POST /metadata/chatroom/{id} {keys?}.
func handleGetAttrs(c *call) (any, error) {
	keys, given, err := c.keys()
	if err != nil {
		return nil, err
	}
	rm, err := c.room()
	if err != nil {
		return nil, err
	}
	data := map[string]string{}
	for k, a := range rm.attrs {
		data[k] = a.value
	}
	if given {
		picked := map[string]string{}
		for _, k := range keys {
			if v, ok := data[k]; ok {
				picked[k] = v
			}
		}
		data = picked
	}
	return c.metaEnvelope(data), nil
}

// attrResult is {successKeys, errorKeys}.
type attrResult struct {
	SuccessKeys []string          `json:"successKeys"`
	ErrorKeys   map[string]string `json:"errorKeys"`
}

// setAttrs is PUT /metadata/chatroom/{id}/user/{username}[/forced].
func setAttrs(forced bool) handler {
	return func(c *call) (any, error) {
		var req struct {
			MetaData   map[string]string `json:"metaData"`
			AutoDelete *string           `json:"autoDelete"`
		}
		if err := c.decode(&req); err != nil {
			return nil, err
		}
		if len(req.MetaData) == 0 {
			return nil, errMetadata("metaData must be provided")
		}
		if len(req.MetaData) > maxAttrBatch {
			return nil, errMetadata(fmt.Sprintf("exceed allowed batch size %d", maxAttrBatch))
		}
		autoDelete := true
		if req.AutoDelete != nil {
			switch *req.AutoDelete {
			case "DELETE":
			case "NO_DELETE":
				autoDelete = false
			default:
				return nil, errMetadata("autoDelete must be DELETE or NO_DELETE")
			}
		}
		rm, err := c.room()
		if err != nil {
			return nil, err
		}
		u := c.params[1]
		if !rm.isMember(u) {
			return nil, errNotInChatroom()
		}
		keys := make([]string, 0, len(req.MetaData))
		for k := range req.MetaData {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if !forced {
			for _, k := range keys {
				if a := rm.attrs[k]; a != nil && a.owner != u {
					return nil, errMetadata("others are not allowed to be set")
				}
			}
		}
		res := attrResult{SuccessKeys: []string{}, ErrorKeys: map[string]string{}}
		props := map[string]string{}
		for _, k := range keys {
			v := req.MetaData[k]
			switch {
			case utf8.RuneCountInString(k) > maxAttrKey:
				res.ErrorKeys[k] = fmt.Sprintf("properties key '%s' is exceeding maximum limit %d", k, maxAttrKey)
			case !attrKey.MatchString(k):
				res.ErrorKeys[k] = fmt.Sprintf("properties key '%s' is illegal", k)
			case utf8.RuneCountInString(v) > maxAttrValue:
				res.ErrorKeys[k] = fmt.Sprintf("properties value of key '%s' is exceeding maximum limit %d", k, maxAttrValue)
			case rm.attrs[k] == nil && len(rm.attrs) >= maxRoomAttrs:
				res.ErrorKeys[k] = fmt.Sprintf("properties size is exceeding maximum limit %d", maxRoomAttrs)
			default:
				rm.attrs[k] = &attr{value: v, owner: u, autoDelete: autoDelete}
				res.SuccessKeys = append(res.SuccessKeys, k)
				props[k] = v
			}
		}
		if len(res.SuccessKeys) > 0 {
			c.emitMetadata(rm, "set_metadata", u, forced, res.SuccessKeys, props)
		}
		if forced {
			return dataOnly{res}, nil
		}
		return c.metaEnvelope(res), nil
	}
}

// deleteAttrs is DELETE /metadata/chatroom/{id}/user/{username}[/forced]:
// the listed keys, or without keys all the user's, forced or not (the
// vendor does not say; imbridge's contract, chatroom_service.proto, does).
func deleteAttrs(forced bool) handler {
	return func(c *call) (any, error) {
		keys, given, err := c.keys()
		if err != nil {
			return nil, err
		}
		if len(keys) > maxAttrBatch {
			return nil, errMetadata(fmt.Sprintf("exceed allowed batch size %d", maxAttrBatch))
		}
		rm, err := c.room()
		if err != nil {
			return nil, err
		}
		u := c.params[1]
		if !forced && !rm.isMember(u) {
			return nil, errNotInChatroom()
		}
		if !given {
			for k, a := range rm.attrs {
				if a.owner == u {
					keys = append(keys, k)
				}
			}
			sort.Strings(keys)
		}
		res := attrResult{SuccessKeys: []string{}, ErrorKeys: map[string]string{}}
		for _, k := range keys {
			a := rm.attrs[k]
			switch {
			case a == nil:
				res.ErrorKeys[k] = fmt.Sprintf("properties key '%s' does not exist", k)
			case !forced && a.owner != u:
				res.ErrorKeys[k] = "others are not allowed to be deleted"
			default:
				delete(rm.attrs, k)
				res.SuccessKeys = append(res.SuccessKeys, k)
			}
		}
		if len(res.SuccessKeys) > 0 {
			c.emitMetadata(rm, "delete_metadata", u, forced, res.SuccessKeys, nil)
		}
		if forced {
			return dataOnly{res}, nil
		}
		env := c.metaEnvelope(res)
		env.Status = "ok"
		return env, nil
	}
}
