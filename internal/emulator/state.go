package emulator

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"golang.org/x/time/rate"
)

// appState is one app's users, rooms and super admins.
type appState struct {
	App
	org, name, uuid string
	users           map[string]bool
	rooms           map[string]*room
	idSeq           int64 // room ids handed out
	roomSeq         int64 // rooms created, for creation order
	joinSeq         int64 // joins, for member order
	superAdmins     []string
	limits          map[*route]*rate.Limiter // each API's calls a second
}

func newAppState(a App, org, name string) *appState {
	return &appState{App: a, org: org, name: name, uuid: appUUID(a.Appkey), users: map[string]bool{}, rooms: map[string]*room{},
		limits: map[*route]*rate.Limiter{}}
}

// overLimit takes a call of rt at now, and reports whether it is past the
// API's limit (rt.perSecond, a second's worth at once at most): the vendor
// then answers 429. The docs give a rate, not how it is counted; a bucket
// never refuses a caller that keeps to the rate, however its calls bunch.
func (a *appState) overLimit(rt *route, now time.Time) bool {
	lim := a.limits[rt]
	if lim == nil {
		lim = rate.NewLimiter(rate.Limit(rt.perSecond), rt.perSecond)
		a.limits[rt] = lim
	}
	return !lim.AllowN(now, 1)
}

// room is one chat room.
type room struct {
	id, name, description, owner, custom string
	maxusers                             int
	created                              int64 // ms
	seq                                  int64
	members                              map[string]int64 // user (owner included) → join order
	admins                               []string
	mutes                                map[string]int64 // user → expiry ms, -1 permanent
	muteAll                              bool
	allow                                []string
	blocks                               []string
	tags                                 map[string][]string
	tagMutes                             map[string]int64 // tag → expiry ms, -1 permanent
	announcement                         string
	attrs                                map[string]*attr
}

// attr is one custom attribute and who set it.
type attr struct {
	value, owner string
	autoDelete   bool
}

// roomIDBase makes room ids 15-digit numbers, as the vendor's are.
const roomIDBase = 100000000000000

func (a *appState) newRoomID() string {
	for {
		a.idSeq++
		id := fmt.Sprint(roomIDBase + a.idSeq)
		if a.rooms[id] == nil {
			return id
		}
	}
}

// userExists reports whether a username exists in the app.
func (c *call) userExists(u string) bool { return c.e.autoUser || c.app.users[u] }

// room returns the room of the first path value or the grpID error.
func (c *call) room() (*room, error) {
	rm := c.app.rooms[c.params[0]]
	if rm == nil {
		return nil, errRoomNotFound(c.params[0])
	}
	rm.prune(c.nowMs())
	return rm, nil
}

// firstMissingUser returns the first of users that does not exist.
func (c *call) firstMissingUser(users []string) error {
	for _, u := range users {
		if !c.userExists(u) {
			return errUserNotFound(u)
		}
	}
	return nil
}

// prune drops mutes and tag mutes that expired by now.
func (rm *room) prune(now int64) {
	for u, exp := range rm.mutes {
		if exp != -1 && exp <= now {
			delete(rm.mutes, u)
		}
	}
	for t, exp := range rm.tagMutes {
		if exp != -1 && exp <= now {
			delete(rm.tagMutes, t)
		}
	}
}

func (rm *room) isMember(u string) bool { _, ok := rm.members[u]; return ok }

func (rm *room) isAdmin(u string) bool { return slices.Contains(rm.admins, u) }

func (rm *room) isBlocked(u string) bool { return slices.Contains(rm.blocks, u) }

// memberList is the owner, then the others in the order they joined.
func (rm *room) memberList() []string {
	out := make([]string, 0, len(rm.members))
	for u := range rm.members {
		if u != rm.owner {
			out = append(out, u)
		}
	}
	sort.Slice(out, func(i, j int) bool { return rm.members[out[i]] < rm.members[out[j]] })
	return append([]string{rm.owner}, out...)
}

// affiliations is the vendor's [{"owner":u},{"member":u}…].
func (rm *room) affiliations() []map[string]string {
	out := []map[string]string{}
	for _, u := range rm.memberList() {
		role := "member"
		if u == rm.owner {
			role = "owner"
		}
		out = append(out, map[string]string{role: u})
	}
	return out
}

// join adds a user (no callback).
func (c *call) join(rm *room, u string) {
	c.app.joinSeq++
	rm.members[u] = c.app.joinSeq
}

// leave removes a member and what membership carries: admin role,
// allowlist entry and tags, and the custom attributes it set with
// autoDelete. Its mutes stay (a mute survives leaving and re-joining).
func (c *call) leave(rm *room, u string) {
	delete(rm.members, u)
	rm.admins = remove(rm.admins, u)
	rm.allow = remove(rm.allow, u)
	delete(rm.tags, u)
	var gone []string
	for k, a := range rm.attrs {
		if a.owner == u && a.autoDelete {
			gone = append(gone, k)
		}
	}
	if len(gone) > 0 {
		sort.Strings(gone)
		for _, k := range gone {
			delete(rm.attrs, k)
		}
		c.emitMetadata(rm, "delete_metadata", u, false, gone, nil)
	}
}

func remove(list []string, u string) []string {
	return slices.DeleteFunc(list, func(s string) bool { return s == u })
}

// page returns page pagenum (1-based) of pagesize items.
func page[T any](items []T, pagenum, pagesize int) []T {
	if pagesize <= 0 || pagenum <= 0 {
		return []T{}
	}
	start := (pagenum - 1) * pagesize
	if start >= len(items) || start < 0 {
		return []T{}
	}
	return items[start:min(len(items), start+pagesize)]
}
