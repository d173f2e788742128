package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
)

// Member limits (fact sheet §3.2, §3.3).
const (
	maxAddBatch    = 100
	maxRemoveBatch = 60
	maxAdmins      = 99
)

// usernames reads the body's required `usernames` array, deduplicated.
func (c *call) usernames() ([]string, error) {
	var req struct {
		Usernames json.RawMessage `json:"usernames"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	var users []string
	if !isNull(req.Usernames) {
		if err := json.Unmarshal(req.Usernames, &users); err != nil {
			return nil, errJSON(err.Error())
		}
	}
	users = userIDs(users)
	if len(users) == 0 {
		return nil, errMustProvide("usernames")
	}
	return users, nil
}

// handleListMembers is GET /chatrooms/{id}/users?pagenum&pagesize.
func handleListMembers(c *call) (any, error) {
	rm := c.app.rooms[c.params[0]]
	if rm == nil {
		return nil, errNoSuchGroup(c.params[0])
	}
	pn, ps := c.pageQuery(1000, 0)
	data := page(rm.affiliations(), pn, ps)
	return c.envelope(data).withCount(len(data), c), nil
}

// errBlocked refuses a blocked user's joining (undocumented text).
func errBlocked(u string) error {
	return errForbidden(http.StatusForbidden, fmt.Sprintf("can not join this group, reason:user %s is in the blocklist!", u))
}

func errRoomFull() error {
	return errExceed("exceeded_limit", "can not join this group, reason:members size is greater than max user size !")
}

// handleAddMember is POST /chatrooms/{id}/users/{username}; adding a
// member again succeeds.
func handleAddMember(c *call) (any, error) {
	rm, err := c.room()
	if err != nil {
		return nil, err
	}
	u := c.params[1]
	if !c.userExists(u) {
		return nil, errUserNotFound(u)
	}
	if !rm.isMember(u) {
		if rm.isBlocked(u) {
			return nil, errBlocked(u)
		}
		if len(rm.members) >= rm.maxusers {
			return nil, errRoomFull()
		}
		c.join(rm, u)
		c.emitPresence(rm, "presence", u)
	}
	return c.envelope(map[string]any{"result": true, "action": "add_member", "id": rm.id, "user": u}), nil
}

// handleAddMembers is POST /chatrooms/{id}/users; existing members count
// as added, blocked users are left out of newmembers.
func handleAddMembers(c *call) (any, error) {
	users, err := c.usernames()
	if err != nil {
		return nil, err
	}
	if len(users) > maxAddBatch {
		return nil, errInvalid(fmt.Sprintf("addMembers: addMembers number more than maxSize : %d", maxAddBatch))
	}
	rm, err := c.room()
	if err != nil {
		return nil, err
	}
	if err := c.firstMissingUser(users); err != nil {
		return nil, err
	}
	added, fresh := []string{}, 0
	for _, u := range users {
		if !rm.isMember(u) && !rm.isBlocked(u) {
			fresh++
		}
	}
	if len(rm.members)+fresh > rm.maxusers {
		return nil, errRoomFull()
	}
	for _, u := range users {
		switch {
		case rm.isMember(u):
			added = append(added, u)
		case rm.isBlocked(u):
		default:
			c.join(rm, u)
			c.emitPresence(rm, "presence", u)
			added = append(added, u)
		}
	}
	return c.envelope(map[string]any{"newmembers": added, "action": "add_member", "id": rm.id}), nil
}

// handleRemoveMembers is DELETE /chatrooms/{id}/users/{u} and
// /users/{u1%2Cu2…}: one user answers an object or an error; a list
// answers per-user results in HTTP 200.
func handleRemoveMembers(c *call) (any, error) {
	users := splitList(c.params[1])
	if len(users) > maxRemoveBatch {
		return nil, errInvalid(fmt.Sprintf("kickMember: kickMembers number more than maxSize : %d", maxRemoveBatch))
	}
	rm, err := c.room()
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, errMustProvide("username")
	}
	if err := c.firstMissingUser(users); err != nil {
		return nil, err
	}
	var strangers []string
	for _, u := range users {
		if !rm.isMember(u) {
			strangers = append(strangers, u)
		}
	}
	if len(strangers) == len(users) {
		return nil, errNotMembers(http.StatusBadRequest, strangers)
	}
	if len(users) == 1 {
		u := users[0]
		if u == rm.owner {
			return nil, errForbidden(http.StatusForbidden, fmt.Sprintf("user %s is the owner of group %s and can not be removed!", u, rm.id))
		}
		c.kick(rm, u)
		return c.envelope(map[string]any{"result": true, "action": "remove_member", "user": u, "id": rm.id}), nil
	}
	data := []map[string]any{}
	for _, u := range users {
		item := map[string]any{"result": true, "action": "remove_member", "user": u, "id": rm.id}
		switch {
		case !rm.isMember(u):
			item["result"], item["reason"] = false, fmt.Sprintf("user: %s doesn't exist in group: %s", u, rm.id)
		case u == rm.owner:
			item["result"], item["reason"] = false, fmt.Sprintf("user: %s is the owner of group: %s", u, rm.id)
		default:
			c.kick(rm, u)
		}
		data = append(data, item)
	}
	return c.envelope(data), nil
}

// kick removes a member as the REST API does, with the kick callback.
func (c *call) kick(rm *room, u string) {
	c.leave(rm, u)
	c.emitUser(rm, "kick", u)
}

// handleListAdmins is GET /chatrooms/{id}/admin.
func handleListAdmins(c *call) (any, error) {
	rm, err := c.room()
	if err != nil {
		return nil, err
	}
	data := append([]string{}, rm.admins...)
	return c.envelope(data).withCount(len(data), c), nil
}

// handleAddAdmin is POST /chatrooms/{id}/admin {newadmin}.
func handleAddAdmin(c *call) (any, error) {
	var req struct {
		NewAdmin string `json:"newadmin"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.NewAdmin = userID(req.NewAdmin); req.NewAdmin == "" {
		return nil, errMustProvide("newadmin")
	}
	rm, err := c.room()
	if err != nil {
		return nil, err
	}
	u := req.NewAdmin
	switch {
	case !c.userExists(u):
		return nil, errUserNotFound(u)
	case !rm.isMember(u):
		return nil, errNotMembers(http.StatusForbidden, []string{u})
	case u == rm.owner:
		return nil, errForbidden(http.StatusForbidden, fmt.Sprintf("user %s is the owner of group %s and can not be an admin!", u, rm.id))
	case rm.isAdmin(u):
		return nil, errForbidden(http.StatusForbidden, fmt.Sprintf("user %s is already an admin of group %s!", u, rm.id))
	case len(rm.admins) >= maxAdmins:
		return nil, errExceed("exceed_limit", fmt.Sprintf("admin size exceeds the limit : %d", maxAdmins))
	}
	rm.admins = append(rm.admins, u)
	c.emitUser(rm, "add_admin", u)
	return c.envelope(map[string]string{"result": "success", "newadmin": u}), nil
}

// handleRemoveAdmin is DELETE /chatrooms/{id}/admin/{oldadmin}.
func handleRemoveAdmin(c *call) (any, error) {
	rm, err := c.room()
	if err != nil {
		return nil, err
	}
	u := c.params[1]
	if !c.userExists(u) {
		return nil, errUserNotFound(u)
	}
	if !rm.isAdmin(u) {
		return nil, errForbidden(http.StatusForbidden, fmt.Sprintf("user %s is not an admin of group %s!", u, rm.id))
	}
	rm.admins = remove(rm.admins, u)
	c.emitUser(rm, "remove_admin", u)
	return c.envelope(map[string]string{"result": "success", "oldadmin": u}), nil
}

// handleAddSuperAdmin is POST /chatrooms/super_admin {superadmin}.
func handleAddSuperAdmin(c *call) (any, error) {
	var req struct {
		SuperAdmin string `json:"superadmin"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.SuperAdmin = userID(req.SuperAdmin); req.SuperAdmin == "" {
		return nil, errMustProvide("superadmin")
	}
	if !c.userExists(req.SuperAdmin) {
		return nil, errUserNotFound(req.SuperAdmin)
	}
	if !slices.Contains(c.app.superAdmins, req.SuperAdmin) {
		c.app.superAdmins = append(c.app.superAdmins, req.SuperAdmin)
	}
	return c.envelope(map[string]string{"result": "success", "resource": ""}), nil
}

// handleListSuperAdmins is GET /chatrooms/super_admin?pagenum&pagesize.
func handleListSuperAdmins(c *call) (any, error) {
	pn, ps := c.pageQuery(10, 1)
	data := page(append([]string{}, c.app.superAdmins...), pn, ps)
	return c.envelope(data).withCount(len(data), c), nil
}

// handleRemoveSuperAdmin is DELETE /chatrooms/super_admin/{superAdmin}.
func handleRemoveSuperAdmin(c *call) (any, error) {
	u := c.params[0]
	if !c.userExists(u) {
		return nil, errUserNotFound(u)
	}
	c.app.superAdmins = remove(c.app.superAdmins, u)
	return c.envelope(map[string]string{"newSuperAdmin": u, "resource": ""}).withProperties(), nil
}
