package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"unicode/utf8"
)

// Mute and tag limits (fact sheet §3.4).
const (
	maxMuteBatch   = 100
	maxUnmuteBatch = 60
	maxTags        = 10
	maxTagLen      = 32
)

// expiry turns a duration in unit (ms for members, s for tags) into the
// vendor's expiry: -1 permanent, 0 cancel, else now + duration in ms.
func expiry(now, duration, unit int64) (int64, error) {
	switch {
	case duration == -1 || duration == 0:
		return duration, nil
	case duration < -1 || duration > (1<<62)/unit-now:
		return 0, errInvalid("mute_duration must be -1, 0 or a positive duration")
	}
	return now + duration*unit, nil
}

// handleMute is POST /chatrooms/{id}/mute {usernames, mute_duration (ms)}.
func handleMute(c *call) (any, error) {
	var req struct {
		Usernames    json.RawMessage `json:"usernames"`
		MuteDuration *int64          `json:"mute_duration"`
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
	switch {
	case len(users) == 0:
		return nil, errMustProvide("usernames")
	case len(users) > maxMuteBatch:
		return nil, errInvalid(fmt.Sprintf("userNames size is more than max limit : %d", maxMuteBatch))
	case req.MuteDuration == nil:
		return nil, errMustProvide("mute_duration")
	}
	exp, err := expiry(c.nowMs(), *req.MuteDuration, 1)
	if err != nil {
		return nil, err
	}
	rm, err := c.room()
	if err != nil {
		return nil, err
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
	if len(strangers) > 0 {
		return nil, errNotMembers(http.StatusBadRequest, strangers)
	}
	data := []map[string]any{}
	for _, u := range users {
		if exp == 0 {
			c.unmute(rm, u)
		} else {
			rm.mutes[u] = exp
			c.emitUser(rm, "add_mute", u)
		}
		data = append(data, map[string]any{"result": true, "expire": exp, "user": u})
	}
	return c.envelope(data), nil
}

// unmute lifts a user's mute, with the callback when there was one.
func (c *call) unmute(rm *room, u string) bool {
	if _, ok := rm.mutes[u]; !ok {
		return false
	}
	delete(rm.mutes, u)
	c.emitUser(rm, "remove_mute", u)
	return true
}

// handleUnmute is DELETE /chatrooms/{id}/mute/{m1%2Cm2…}; unmuting a
// user who is not muted succeeds.
func handleUnmute(c *call) (any, error) {
	users := splitList(c.params[1])
	if len(users) > maxUnmuteBatch {
		return nil, errInvalid(fmt.Sprintf("removeMute member size more than max limit :  %d", maxUnmuteBatch))
	}
	rm, err := c.room()
	if err != nil {
		return nil, err
	}
	data := []map[string]any{}
	for _, u := range users {
		c.unmute(rm, u)
		data = append(data, map[string]any{"result": true, "user": u})
	}
	return c.envelope(data), nil
}

// handleListMutes is GET /chatrooms/{id}/mute: the mute list, by user.
func handleListMutes(c *call) (any, error) {
	rm, err := c.room()
	if err != nil {
		return nil, err
	}
	users := make([]string, 0, len(rm.mutes))
	for u := range rm.mutes {
		users = append(users, u)
	}
	sort.Strings(users)
	data := []map[string]any{}
	for _, u := range users {
		data = append(data, map[string]any{"expire": rm.mutes[u], "user": u})
	}
	return c.envelope(data), nil
}

// handleMuteAll is POST /chatrooms/{id}/ban; its envelope says "put".
func handleMuteAll(c *call) (any, error) {
	rm, err := c.room()
	if err != nil {
		return nil, err
	}
	if !rm.muteAll {
		rm.muteAll = true
		c.emitRoom(rm, "ban_group")
	}
	env := c.envelope(map[string]bool{"mute": true})
	env.Action = "put"
	return env, nil
}

// handleUnmuteAll is DELETE /chatrooms/{id}/ban.
func handleUnmuteAll(c *call) (any, error) {
	rm, err := c.room()
	if err != nil {
		return nil, err
	}
	if rm.muteAll {
		rm.muteAll = false
		c.emitRoom(rm, "remove_ban_group")
	}
	return c.envelope(map[string]bool{"mute": false}), nil
}

// handleSetTags is PUT /chatrooms/{id}/users/{username}/tag {tags}.
func handleSetTags(c *call) (any, error) {
	var req map[string]json.RawMessage
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	var tags []string
	if err := json.Unmarshal(req["tags"], &tags); err != nil || tags == nil {
		return nil, errInvalid("tags should be type of List")
	}
	tags = dedupe(tags)
	if len(tags) > maxTags {
		return nil, errExceed("exceed_limit", "user group tag count exceed limit")
	}
	for _, t := range tags {
		if utf8.RuneCountInString(t) > maxTagLen {
			return nil, errExceed("exceed_limit", "tag length exceeds limit!")
		}
	}
	rm, err := c.room()
	if err != nil {
		return nil, err
	}
	u := c.params[1]
	if !rm.isMember(u) {
		return nil, errNotMembers(http.StatusBadRequest, []string{u})
	}
	if len(tags) == 0 {
		delete(rm.tags, u)
	} else {
		rm.tags[u] = tags
	}
	return c.envelope(map[string]bool{"result": true}).withProperties(), nil
}

// handleGetTags is GET /chatrooms/{id}/users/{username}/tag: each tag of
// the user with its mute expiry as a string ("-1" permanent, "0" none).
func handleGetTags(c *call) (any, error) {
	rm, err := c.room()
	if err != nil {
		return nil, err
	}
	u := c.params[1]
	if !rm.isMember(u) {
		return nil, errNotMembers(http.StatusBadRequest, []string{u})
	}
	data := map[string]string{}
	for _, t := range rm.tags[u] {
		data[t] = strconv.FormatInt(rm.tagMutes[t], 10)
	}
	return c.envelope(data).withProperties(), nil
}

// handleMuteTag is PUT /chatrooms/{id}/tag/mute {tag, mute_duration (s)}:
// the members with the tag join (or, with 0, leave) the mute list.
func handleMuteTag(c *call) (any, error) {
	var req struct {
		Tag          string `json:"tag"`
		MuteDuration *int64 `json:"mute_duration"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	switch {
	case req.Tag == "":
		return nil, errMustProvide("tag")
	case utf8.RuneCountInString(req.Tag) > maxTagLen:
		return nil, errExceed("exceed_limit", "tag length exceeds limit!")
	case req.MuteDuration == nil:
		return nil, errMustProvide("mute_duration")
	}
	exp, err := expiry(c.nowMs(), *req.MuteDuration, 1000)
	if err != nil {
		return nil, err
	}
	rm, err := c.room()
	if err != nil {
		return nil, err
	}
	var tagged []string
	for _, u := range rm.memberList() {
		for _, t := range rm.tags[u] {
			if t == req.Tag {
				tagged = append(tagged, u)
				break
			}
		}
	}
	if len(tagged) == 0 {
		return nil, &apiError{http.StatusNotFound, "resource_not_found", excResourceNotFound, "group tag not found"}
	}
	if exp == 0 {
		delete(rm.tagMutes, req.Tag)
	} else {
		rm.tagMutes[req.Tag] = exp
	}
	for _, u := range tagged {
		if exp == 0 {
			c.unmute(rm, u)
		} else {
			rm.mutes[u] = exp
			c.emitUser(rm, "add_mute", u)
		}
	}
	return c.envelope(map[string]bool{"result": true}).withProperties(), nil
}
