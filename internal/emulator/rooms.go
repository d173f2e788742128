package emulator

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Room limits (fact sheet §3.1).
const (
	maxName        = 128
	maxDescription = 512
	maxMaxUsers    = 10000
	defaultMaxUser = 1000
	maxCustom      = 8 << 10
	maxRoomID      = 64
	maxDetailIDs   = 100
)

var customRoomID = regexp.MustCompile(`^[a-z0-9]+$`)

// intQuery reads an integer query value, def when absent or not a number.
func (c *call) intQuery(key string, def int) int {
	v := c.query.Get(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return def
	}
	return max(min(n, 1<<30), -1)
}

// pageQuery reads pagenum/pagesize: pagenum defaults to 1; pagesize to
// def, clamped to [lo, 1000].
func (c *call) pageQuery(def, lo int) (pagenum, pagesize int) {
	pagenum = max(c.intQuery("pagenum", 1), 1)
	pagesize = min(max(c.intQuery("pagesize", def), lo), 1000)
	return pagenum, pagesize
}

// handleListRooms is GET /chatrooms?limit&cursor: the rooms, newest
// first, {data: […], cursor} with the cursor absent on the last page.
func handleListRooms(c *call) (any, error) {
	limit := c.intQuery("limit", 10)
	if limit < 1 {
		limit = 10
	}
	limit = min(limit, 1000)
	rooms := make([]*room, 0, len(c.app.rooms))
	for _, rm := range c.app.rooms {
		rooms = append(rooms, rm)
	}
	sort.Slice(rooms, func(i, j int) bool { return rooms[i].seq > rooms[j].seq })
	start := 0
	if cur := c.query.Get("cursor"); cur != "" && cur != "null" {
		raw, err := base64.RawURLEncoding.DecodeString(cur)
		seq, err2 := strconv.ParseInt(strings.TrimPrefix(string(raw), "seq:"), 10, 64)
		if err != nil || err2 != nil {
			return nil, errInvalid("cursor is invalid")
		}
		for start < len(rooms) && rooms[start].seq > seq {
			start++
		}
	}
	end := min(len(rooms), start+limit)
	data := make([]map[string]any, 0, end-start)
	for _, rm := range rooms[start:end] {
		data = append(data, map[string]any{"id": rm.id, "name": rm.name, "owner": rm.owner, "affiliations_count": len(rm.members)})
	}
	out := map[string]any{"data": data}
	if end < len(rooms) {
		out["cursor"] = base64.RawURLEncoding.EncodeToString([]byte("seq:" + strconv.FormatInt(rooms[end].seq, 10)))
	}
	return out, nil
}

// handleJoined is GET /users/{username}/joined_chatrooms.
func handleJoined(c *call) (any, error) {
	user := c.params[0]
	if !c.userExists(user) {
		return nil, errServiceResourceNotFound()
	}
	type joined struct {
		rm  *room
		seq int64
	}
	var list []joined
	for _, rm := range c.app.rooms {
		if seq, ok := rm.members[user]; ok {
			list = append(list, joined{rm, seq})
		}
	}
	// Most recently joined first.
	sort.Slice(list, func(i, j int) bool { return list[i].seq > list[j].seq })
	if c.query.Get("pagenum") == "" && c.query.Get("pagesize") == "" {
		list = list[:min(len(list), 500)]
	} else {
		pn, ps := c.pageQuery(1000, 1)
		list = page(list, pn, ps)
	}
	data := make([]map[string]string, 0, len(list))
	for _, j := range list {
		data = append(data, map[string]string{"id": j.rm.id, "name": j.rm.name, "disabled": "false"})
	}
	return c.envelope(data).withCount(len(data), c).withProperties(), nil
}

func (rm *room) detail() map[string]any {
	return map[string]any{
		"id": rm.id, "name": rm.name, "description": rm.description, "membersonly": false, "allowinvites": false,
		"maxusers": rm.maxusers, "owner": rm.owner, "created": rm.created, "custom": rm.custom,
		"affiliations_count": len(rm.members), "affiliations": rm.affiliations(), "public": true, "mute": rm.muteAll,
	}
}

// handleGetRoom is GET /chatrooms/{id}: {data: {…}} for one id; for a
// comma list of up to 100, {data: […]} with an {id, error} item for each
// room that does not exist (the multi-id shape is not documented).
func handleGetRoom(c *call) (any, error) {
	ids := splitList(c.params[0])
	if len(ids) > maxDetailIDs {
		return nil, errInvalid(fmt.Sprintf("chatroom ids size is more than max limit : %d", maxDetailIDs))
	}
	if len(ids) == 1 {
		rm := c.app.rooms[ids[0]]
		if rm == nil {
			return nil, errNoSuchGroup(ids[0])
		}
		return dataOnly{rm.detail()}, nil
	}
	data := []map[string]any{}
	for _, id := range ids {
		if rm := c.app.rooms[id]; rm != nil {
			data = append(data, rm.detail())
		} else {
			data = append(data, map[string]any{"id": id, "error": "chatroom id doesn't exist"})
		}
	}
	return dataOnly{data}, nil
}

// handleCreateRoom is POST /chatrooms.
func handleCreateRoom(c *call) (any, error) {
	var req struct {
		Name        *string         `json:"name"`
		Description *string         `json:"description"`
		MaxUsers    *int            `json:"maxusers"`
		Owner       string          `json:"owner"`
		Members     json.RawMessage `json:"members"`
		Custom      string          `json:"custom"`
		RoomID      string          `json:"roomid"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	switch {
	case req.Name == nil || *req.Name == "":
		return nil, errMustProvide("name")
	case req.Description == nil:
		return nil, errMustProvide("description")
	case req.Owner == "":
		return nil, errMustProvide("owner")
	}
	if err := checkTitleDesc(req.Name, req.Description); err != nil {
		return nil, err
	}
	maxUsers := defaultMaxUser
	if req.MaxUsers != nil {
		maxUsers = *req.MaxUsers
	}
	if maxUsers < 1 || maxUsers > maxMaxUsers {
		return nil, errExceed("exceed_limit", fmt.Sprintf("maxUsers cannot exceed %d", maxMaxUsers))
	}
	if len(req.Custom) > maxCustom {
		return nil, errInvalid(fmt.Sprintf("custom cannot exceed %d bytes", maxCustom))
	}
	var members []string
	if !isNull(req.Members) {
		if err := json.Unmarshal(req.Members, &members); err != nil {
			return nil, errJSON(err.Error())
		}
		if len(members) == 0 {
			return nil, errMustProvide("members")
		}
	}
	req.Owner = userID(req.Owner)
	members = userIDs(members)
	members = remove(members, req.Owner)
	if len(members) > maxUsers {
		return nil, errExceed("exceed_limit", "members size is greater than max user size !")
	}
	if err := c.firstMissingUser(append([]string{req.Owner}, members...)); err != nil {
		return nil, err
	}
	id := req.RoomID
	if id != "" {
		if len(id) > maxRoomID || !customRoomID.MatchString(id) {
			return nil, errInvalid("roomid must be at most 64 characters of a-z and 0-9")
		}
		if c.app.rooms[id] != nil {
			return nil, errIllegal(fmt.Sprintf("group ID %s already exists!", id))
		}
	} else {
		id = c.app.newRoomID()
	}
	c.app.roomSeq++
	rm := &room{
		id: id, name: *req.Name, description: *req.Description, owner: req.Owner, custom: req.Custom,
		maxusers: maxUsers, created: c.nowMs(), seq: c.app.roomSeq,
		members: map[string]int64{}, mutes: map[string]int64{}, tags: map[string][]string{},
		tagMutes: map[string]int64{}, attrs: map[string]*attr{},
	}
	c.app.rooms[id] = rm
	c.join(rm, req.Owner)
	c.emit(rm, mucEvent{op: "create", from: c.jid(req.Owner), to: req.Owner, reason: text("")})
	for _, u := range members {
		c.join(rm, u)
		c.emitPresence(rm, "presence", u)
	}
	return dataOnly{map[string]string{"id": id}}, nil
}

func checkTitleDesc(name, desc *string) error {
	if name != nil && utf8.RuneCountInString(*name) > maxName {
		return errExceed("exceed_limit", fmt.Sprintf("title cannot exceed to %d", maxName))
	}
	if desc != nil && utf8.RuneCountInString(*desc) > maxDescription {
		return errExceed("exceed_limit", fmt.Sprintf("desc cannot exceed to %d", maxDescription))
	}
	return nil
}

// handlePutRoom is PUT /chatrooms/{id}: modify (name, description,
// maxusers) or, with newowner, transfer the ownership.
func handlePutRoom(c *call) (any, error) {
	var fields map[string]json.RawMessage
	if err := c.decode(&fields); err != nil {
		return nil, err
	}
	rm, err := c.room()
	if err != nil {
		return nil, err
	}
	if raw, ok := fields["newowner"]; ok {
		return transferOwner(c, rm, raw)
	}
	var bad []string
	for k := range fields {
		if k != "name" && k != "description" && k != "maxusers" {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return nil, errInvalid(fmt.Sprintf("some of [%s] are not valid fields", strings.Join(bad, ", ")))
	}
	var name, desc *string
	var maxUsers *int
	for key, dst := range map[string]any{"name": &name, "description": &desc, "maxusers": &maxUsers} {
		if raw, ok := fields[key]; ok {
			if err := json.Unmarshal(raw, dst); err != nil {
				return nil, errJSON(err.Error())
			}
		}
	}
	if err := checkTitleDesc(name, desc); err != nil {
		return nil, err
	}
	if maxUsers != nil {
		if *maxUsers < 1 || *maxUsers > maxMaxUsers {
			return nil, errExceed("exceed_limit", fmt.Sprintf("maxUsers cannot exceed %d", maxMaxUsers))
		}
		if *maxUsers < len(rm.members) {
			return nil, errForbidden(http.StatusForbidden, "current user count is larger than the maxUsers that you want to update !")
		}
	}
	data := map[string]bool{}
	if name != nil {
		rm.name, data["groupname"] = *name, true
	}
	if desc != nil {
		rm.description, data["description"] = *desc, true
	}
	if maxUsers != nil {
		rm.maxusers, data["maxusers"] = *maxUsers, true
	}
	if len(data) > 0 {
		c.emit(rm, mucEvent{op: "update", from: c.app.Appkey, to: rm.owner})
	}
	return c.envelope(data), nil
}

func transferOwner(c *call, rm *room, raw json.RawMessage) (any, error) {
	var newOwner string
	if err := json.Unmarshal(raw, &newOwner); err != nil {
		return nil, errJSON(err.Error())
	}
	if newOwner = userID(newOwner); newOwner == "" {
		return nil, errMustProvide("newowner")
	}
	if !c.userExists(newOwner) {
		return nil, errUserNotFound(newOwner)
	}
	if newOwner == rm.owner {
		return nil, errForbidden(http.StatusForbidden, "new owner and old owner are the same")
	}
	if rm.isBlocked(newOwner) {
		// Undocumented: a blocked user cannot be in the room at all.
		return nil, errForbidden(http.StatusForbidden, fmt.Sprintf("user %s is in the blocklist of this group!", newOwner))
	}
	old := rm.owner
	if !rm.isMember(newOwner) {
		c.join(rm, newOwner)
		c.emitPresence(rm, "presence", newOwner)
	}
	rm.admins = remove(rm.admins, newOwner)
	rm.owner = newOwner
	c.emit(rm, mucEvent{op: "assing_owner", from: c.jid(old), to: newOwner})
	return c.envelope(map[string]bool{"newowner": true}), nil
}

// handleDeleteRoom is DELETE /chatrooms/{id}.
func handleDeleteRoom(c *call) (any, error) {
	rm, err := c.room()
	if err != nil {
		return nil, err
	}
	delete(c.app.rooms, rm.id)
	c.emit(rm, mucEvent{op: "destroy", from: c.app.Appkey, to: rm.owner})
	return c.envelope(map[string]any{"success": true, "id": rm.id}), nil
}
