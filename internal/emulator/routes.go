package emulator

import (
	"bytes"
	"encoding/json"
	"strings"
)

// handler answers one operation under the emulator's lock: a body to
// write with 200, or an *apiError.
type handler func(c *call) (any, error)

// route is one operation: its method, its path below /{org}/{app} with
// `*` for each variable segment, and its name in Requests.
type route struct {
	method string
	path   []string
	name   string
	// nameOf, when set, names the request from its path values and body
	// (single versus batch on one path, modify versus transfer).
	nameOf func(params []string, body []byte) string
	alt    string // the other name nameOf can give
	h      handler
	// perSecond is the vendor's documented limit of calls a second per
	// app key (limitationapi.md: 100 unless the API's page says otherwise).
	perSecond int
}

// routes lists the operations; literal paths come before the wildcard
// paths they would also match.
var routes = []*route{
	limited(r("POST", "token", "token", handleToken), 300),
	limited(r("GET", "chatrooms", "ListChatrooms", handleListRooms), 50),
	limited(r("POST", "chatrooms", "CreateChatroom", handleCreateRoom), 50),
	r("GET", "chatrooms/super_admin", "ListSuperAdmins", handleListSuperAdmins),
	r("POST", "chatrooms/super_admin", "AddSuperAdmin", handleAddSuperAdmin),
	r("DELETE", "chatrooms/super_admin/*", "RemoveSuperAdmin", handleRemoveSuperAdmin),
	r("GET", "chatrooms/*", "GetChatroom", handleGetRoom),
	withName(r("PUT", "chatrooms/*", "UpdateChatroom", handlePutRoom), "TransferOwner", func(_ []string, body []byte) string {
		var probe map[string]json.RawMessage
		if json.Unmarshal(body, &probe) == nil {
			if _, ok := probe["newowner"]; ok {
				return "TransferOwner"
			}
		}
		return "UpdateChatroom"
	}),
	r("DELETE", "chatrooms/*", "DeleteChatroom", handleDeleteRoom),
	r("GET", "chatrooms/*/users", "ListMembers", handleListMembers),
	r("POST", "chatrooms/*/users", "AddMembers", handleAddMembers),
	r("POST", "chatrooms/*/users/*", "AddMember", handleAddMember),
	batch(r("DELETE", "chatrooms/*/users/*", "RemoveMember", handleRemoveMembers), "RemoveMembers"),
	r("PUT", "chatrooms/*/users/*/tag", "SetUserTags", handleSetTags),
	r("GET", "chatrooms/*/users/*/tag", "GetUserTags", handleGetTags),
	r("GET", "chatrooms/*/admin", "ListAdmins", handleListAdmins),
	r("POST", "chatrooms/*/admin", "AddAdmin", handleAddAdmin),
	r("DELETE", "chatrooms/*/admin/*", "RemoveAdmin", handleRemoveAdmin),
	r("POST", "chatrooms/*/mute", "MuteMembers", handleMute),
	r("GET", "chatrooms/*/mute", "ListMutes", handleListMutes),
	r("DELETE", "chatrooms/*/mute/*", "UnmuteMembers", handleUnmute),
	r("POST", "chatrooms/*/ban", "MuteAll", handleMuteAll),
	r("DELETE", "chatrooms/*/ban", "UnmuteAll", handleUnmuteAll),
	r("PUT", "chatrooms/*/tag/mute", "MuteTag", handleMuteTag),
	r("GET", "chatrooms/*/white/users", "ListAllowlist", handleListAllow),
	r("POST", "chatrooms/*/white/users", "AddAllowlistUsers", handleAddAllowBatch),
	r("POST", "chatrooms/*/white/users/*", "AddAllowlistUser", handleAddAllowOne),
	r("DELETE", "chatrooms/*/white/users/*", "RemoveAllowlistUsers", handleRemoveAllow),
	r("GET", "chatrooms/*/blocks/users", "ListBlocklist", handleListBlocks),
	r("POST", "chatrooms/*/blocks/users", "AddBlocklistUsers", handleAddBlockBatch),
	r("POST", "chatrooms/*/blocks/users/*", "AddBlocklistUser", handleAddBlockOne),
	batch(r("DELETE", "chatrooms/*/blocks/users/*", "RemoveBlocklistUser", handleRemoveBlocks), "RemoveBlocklistUsers"),
	r("GET", "chatrooms/*/announcement", "GetAnnouncement", handleGetAnnouncement),
	r("POST", "chatrooms/*/announcement", "UpdateAnnouncement", handleUpdateAnnouncement),
	limited(r("GET", "users/*/joined_chatrooms", "ListJoinedChatrooms", handleJoined), 50),
	r("POST", "metadata/chatroom/*", "GetAttributes", handleGetAttrs),
	r("PUT", "metadata/chatroom/*/user/*", "SetAttributes", setAttrs(false)),
	r("PUT", "metadata/chatroom/*/user/*/forced", "ForceSetAttributes", setAttrs(true)),
	r("DELETE", "metadata/chatroom/*/user/*", "DeleteAttributes", deleteAttrs(false)),
	r("DELETE", "metadata/chatroom/*/user/*/forced", "ForceDeleteAttributes", deleteAttrs(true)),
}

// OperationNames lists every name Requests can report besides "unknown".
func OperationNames() []string {
	var out []string
	for _, rt := range routes {
		out = append(out, rt.name)
		if rt.alt != "" {
			out = append(out, rt.alt)
		}
	}
	return out
}

func r(method, path, name string, h handler) *route {
	return &route{method: method, path: strings.Split(path, "/"), name: name, h: h, perSecond: 100}
}

// limited sets a route's documented calls a second per app key.
func limited(rt *route, perSecond int) *route {
	rt.perSecond = perSecond
	return rt
}

func withName(rt *route, alt string, f func([]string, []byte) string) *route {
	rt.nameOf, rt.alt = f, alt
	return rt
}

// batch names a request whose last path value is a comma list batchName.
func batch(rt *route, batchName string) *route {
	single := rt.name
	rt.alt = batchName
	rt.nameOf = func(params []string, _ []byte) string {
		if len(params) > 0 && len(splitList(params[len(params)-1])) > 1 {
			return batchName
		}
		return single
	}
	return rt
}

// match finds the route of a method and path and its wildcard values.
func match(method string, segs []string) (*route, []string) {
	for _, rt := range routes {
		if rt.method != method {
			continue
		}
		if params, ok := rt.matches(segs); ok {
			return rt, params
		}
	}
	return nil, nil
}

// routedPath reports whether some route serves segs, with any method.
func routedPath(segs []string) bool {
	for _, rt := range routes {
		if _, ok := rt.matches(segs); ok {
			return true
		}
	}
	return false
}

// userSegments are the path segments a username (or a comma list of
// them) follows.
var userSegments = map[string]bool{"users": true, "user": true, "admin": true, "mute": true, "super_admin": true}

// matches reports whether the route's path is segs, and the segments its
// wildcards take, usernames as the vendor keeps them (userID).
func (rt *route) matches(segs []string) ([]string, bool) {
	if len(rt.path) != len(segs) {
		return nil, false
	}
	var params []string
	for i, p := range rt.path {
		switch {
		case p == "*" && segs[i] != "" && i > 0 && userSegments[rt.path[i-1]]:
			params = append(params, userID(segs[i]))
		case p == "*" && segs[i] != "":
			params = append(params, segs[i])
		case p != segs[i]:
			return nil, false
		}
	}
	return params, true
}

// splitList splits a comma list (the path's %2C lists), trimming blanks
// and dropping empty items and repeats.
func splitList(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	return out
}

// dedupe drops empty items and repeats from a body's user list.
// userID is a username as the vendor keeps it: user IDs are
// case-insensitive, so "Bob" and "bob" are one user.
func userID(u string) string { return strings.ToLower(u) }

// userIDs is a list of usernames as the vendor keeps them (userID),
// without blanks or repeats.
func userIDs(in []string) []string {
	out := make([]string, len(in))
	for i, u := range in {
		out[i] = userID(u)
	}
	return dedupe(out)
}

func dedupe(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, u := range in {
		if u == "" || seen[u] {
			continue
		}
		seen[u] = true
		out = append(out, u)
	}
	return out
}

// isNull reports whether a raw JSON value is absent or null.
func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}
