package emulator

import (
	"fmt"
	"net/http"
	"slices"
)

// Allowlist and blocklist limits (fact sheet §3.5).
const (
	maxAllowAdd     = 100
	maxAllowRemove  = 60
	maxBlockAdd     = 60
	maxBlockRemove  = 60
	blockAddLimitIn = 100 // the limit the block-add error text says (§5 #6)
)

func listItem(result bool, action, user, roomID, reason string) map[string]any {
	item := map[string]any{"result": result, "action": action, "user": user, "chatroomid": roomID}
	if reason != "" {
		item["reason"] = reason
	}
	return item
}

func notInRoom(u, id string) string {
	return fmt.Sprintf("user: %s doesn't exist in chatroom: %s", u, id)
}

// handleListAllow is GET /chatrooms/{id}/white/users.
func handleListAllow(c *call) (any, error) {
	rm, err := c.room()
	if err != nil {
		return nil, err
	}
	data := append([]string{}, rm.allow...)
	return c.envelope(data).withCount(len(data), c), nil
}

// allow adds a member to the allowlist, with the callback when new.
func (c *call) allow(rm *room, u string) {
	if !slices.Contains(rm.allow, u) {
		rm.allow = append(rm.allow, u)
		c.emitUser(rm, "add_user_white_list", u)
	}
}

// handleAddAllowOne is POST /chatrooms/{id}/white/users/{username}.
func handleAddAllowOne(c *call) (any, error) {
	rm, err := c.room()
	if err != nil {
		return nil, err
	}
	u := c.params[1]
	if !rm.isMember(u) {
		return nil, errNotMembers(http.StatusForbidden, []string{u})
	}
	c.allow(rm, u)
	return c.envelope(listItem(true, "add_user_whitelist", u, rm.id, "")), nil
}

// handleAddAllowBatch is POST /chatrooms/{id}/white/users {usernames}:
// per-user results; 403 only when none is a member.
func handleAddAllowBatch(c *call) (any, error) {
	users, err := c.usernames()
	if err != nil {
		return nil, err
	}
	if len(users) > maxAllowAdd {
		return nil, errInvalid(fmt.Sprintf("usernames size is more than max limit : %d", maxAllowAdd))
	}
	rm, err := c.room()
	if err != nil {
		return nil, err
	}
	if strangers := rm.strangers(users); len(strangers) == len(users) {
		return nil, errNotMembers(http.StatusForbidden, strangers)
	}
	data := []map[string]any{}
	for _, u := range users {
		if !rm.isMember(u) {
			data = append(data, listItem(false, "add_user_whitelist", u, rm.id, notInRoom(u, rm.id)))
			continue
		}
		c.allow(rm, u)
		data = append(data, listItem(true, "add_user_whitelist", u, rm.id, ""))
	}
	return c.envelope(data), nil
}

// strangers returns the users who are not members.
func (rm *room) strangers(users []string) []string {
	var out []string
	for _, u := range users {
		if !rm.isMember(u) {
			out = append(out, u)
		}
	}
	return out
}

// handleRemoveAllow is DELETE /chatrooms/{id}/white/users/{u1,u2…}: a
// member not on the allowlist gets result false.
func handleRemoveAllow(c *call) (any, error) {
	users := splitList(c.params[1])
	if len(users) > maxAllowRemove {
		return nil, errInvalid(fmt.Sprintf("removeWhitelist size is more than max limit : %d", maxAllowRemove))
	}
	rm, err := c.room()
	if err != nil {
		return nil, err
	}
	if strangers := rm.strangers(users); len(strangers) > 0 {
		return nil, errNotMembers(http.StatusBadRequest, strangers)
	}
	data := []map[string]any{}
	for _, u := range users {
		ok := slices.Contains(rm.allow, u)
		if ok {
			rm.allow = remove(rm.allow, u)
			c.emitUser(rm, "remove_user_white_list", u)
		}
		data = append(data, listItem(ok, "remove_user_whitelist", u, rm.id, ""))
	}
	return c.envelope(data), nil
}

// handleListBlocks is GET /chatrooms/{id}/blocks/users.
func handleListBlocks(c *call) (any, error) {
	rm, err := c.room()
	if err != nil {
		return nil, err
	}
	data := append([]string{}, rm.blocks...)
	return c.envelope(data).withCount(len(data), c), nil
}

// block puts a member on the blocklist and removes it from the room.
func (c *call) block(rm *room, u string) {
	c.leave(rm, u)
	if !rm.isBlocked(u) {
		rm.blocks = append(rm.blocks, u)
	}
	c.emit(rm, mucEvent{op: "block", from: c.jid(u), to: u, reason: text("")})
}

// handleAddBlockOne is POST /chatrooms/{id}/blocks/users/{username}.
func handleAddBlockOne(c *call) (any, error) {
	rm, err := c.room()
	if err != nil {
		return nil, err
	}
	u := c.params[1]
	if u == rm.owner {
		return nil, errForbidden(http.StatusForbidden, fmt.Sprintf("user %s is the owner of group %s and can not be blocked!", u, rm.id))
	}
	if !rm.isMember(u) {
		return nil, errNotMembers(http.StatusForbidden, []string{u})
	}
	c.block(rm, u)
	return c.envelope(listItem(true, "add_blocks", u, rm.id, "")), nil
}

// handleAddBlockBatch is POST /chatrooms/{id}/blocks/users {usernames}:
// per-user results; 403 only when none is a member.
func handleAddBlockBatch(c *call) (any, error) {
	users, err := c.usernames()
	if err != nil {
		return nil, err
	}
	if len(users) > maxBlockAdd {
		return nil, errInvalid(fmt.Sprintf("userNames is more than max limit : %d", blockAddLimitIn))
	}
	rm, err := c.room()
	if err != nil {
		return nil, err
	}
	if strangers := rm.strangers(users); len(strangers) == len(users) {
		return nil, errNotMembers(http.StatusForbidden, strangers)
	}
	data := []map[string]any{}
	for _, u := range users {
		switch {
		case u == rm.owner:
			data = append(data, listItem(false, "add_blocks", u, rm.id, fmt.Sprintf("user: %s is the owner of chatroom: %s", u, rm.id)))
		case !rm.isMember(u):
			data = append(data, listItem(false, "add_blocks", u, rm.id, notInRoom(u, rm.id)))
		default:
			c.block(rm, u)
			data = append(data, listItem(true, "add_blocks", u, rm.id, ""))
		}
	}
	return c.envelope(data), nil
}

// handleRemoveBlocks is DELETE /chatrooms/{id}/blocks/users/{u} and
// /{u1%2Cu2…}: one user answers an object, a list per-user results (a
// user not on the blocklist: result false). Unblocking does not re-join.
func handleRemoveBlocks(c *call) (any, error) {
	users := splitList(c.params[1])
	if len(users) > maxBlockRemove {
		return nil, errInvalid(fmt.Sprintf("removeBlacklist: list size more than max limit : %d", maxBlockRemove))
	}
	rm, err := c.room()
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, errMustProvide("username")
	}
	unblock := func(u string) bool {
		if !rm.isBlocked(u) {
			return false
		}
		rm.blocks = remove(rm.blocks, u)
		c.emit(rm, mucEvent{op: "unblock", from: c.jid(u), to: u, reason: text("")})
		return true
	}
	if len(users) == 1 {
		u := users[0]
		if !rm.isBlocked(u) {
			return nil, errForbidden(http.StatusForbidden, fmt.Sprintf("users [%s] are not in the blocklist of this group!", u))
		}
		unblock(u)
		return c.envelope(listItem(true, "remove_blocks", u, rm.id, "")), nil
	}
	data := []map[string]any{}
	for _, u := range users {
		data = append(data, listItem(unblock(u), "remove_blocks", u, rm.id, ""))
	}
	return c.envelope(data), nil
}
