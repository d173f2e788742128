package easemob

import (
	"context"
	"net/http"
	"slices"
	"time"
)

// MuteDuration is how long a mute lasts: Permanent, or a positive duration.
// The zero value is invalid (to lift a mute, use UnmuteMembers).
type MuteDuration time.Duration

// Permanent is a mute that ends only when lifted (the vendor's -1).
const Permanent MuteDuration = -1

// wire is d in units of unit, rounded up so that a mute lasts at least as
// long as asked; -1 for Permanent; ok false for zero and other negatives.
func (d MuteDuration) wire(unit time.Duration) (n int64, ok bool) {
	switch {
	case d == Permanent:
		return -1, true
	case d <= 0:
		return 0, false
	}
	return (int64(d) + int64(unit) - 1) / int64(unit), true
}

// Mute is one entry of the mute list.
type Mute struct {
	Username  string
	Expire    time.Time // zero when Permanent
	Permanent bool
}

// MemberTag is one of a user's tags in a room; Expire is when a mute by this
// tag ends (zero if none is known or it is Permanent).
type MemberTag struct {
	Tag       string
	Expire    time.Time
	Permanent bool
}

// ListMutes returns the room's mute list: GET /chatrooms/{id}/mute.
func (a *App) ListMutes(ctx context.Context, id string) ([]Mute, error) {
	const op = "ListMutes"
	if err := a.need(op, "chatroom ID", id); err != nil {
		return nil, err
	}
	var items oneOrMany[itemJSON]
	if _, err := a.call(ctx, &request{op: op, method: http.MethodGet, path: "/chatrooms/" + seg(id) + "/mute", idempotent: true}, &items); err != nil {
		return nil, err
	}
	out := make([]Mute, 0, len(items))
	for _, it := range items {
		m := Mute{Username: string(it.User)}
		m.Expire, m.Permanent = msTime(int64(it.Expire))
		out = append(out, m)
	}
	return out, nil
}

// MuteMembers mutes up to MaxAddBatch members for d: POST
// /chatrooms/{id}/mute with {usernames, mute_duration} in MILLISECONDS
// (rounded up; -1 for Permanent). One result per user, with its Expire.
func (a *App) MuteMembers(ctx context.Context, id string, usernames []string, d MuteDuration) ([]ItemResult, error) {
	const op = "MuteMembers"
	if err := a.need(op, "chatroom ID", id); err != nil {
		return nil, err
	}
	if err := a.list(op, "usernames", usernames, MaxAddBatch); err != nil {
		return nil, err
	}
	ms, ok := d.wire(time.Millisecond)
	if !ok {
		return nil, a.invalid(op, "mute duration %s: want Permanent or a positive duration (UnmuteMembers lifts a mute)", time.Duration(d))
	}
	body := struct {
		Usernames    []string `json:"usernames"`
		MuteDuration int64    `json:"mute_duration"`
	}{usernames, ms}
	return a.batch(ctx, &request{op: op, method: http.MethodPost, path: "/chatrooms/" + seg(id) + "/mute", body: body})
}

// UnmuteMembers lifts the mute of up to MaxRemoveBatch users: DELETE
// /chatrooms/{id}/mute/{u1%2Cu2…}.
func (a *App) UnmuteMembers(ctx context.Context, id string, usernames []string) ([]ItemResult, error) {
	const op = "UnmuteMembers"
	if err := a.need(op, "chatroom ID", id); err != nil {
		return nil, err
	}
	if err := a.list(op, "usernames", usernames, MaxRemoveBatch); err != nil {
		return nil, err
	}
	return a.batch(ctx, &request{op: op, method: http.MethodDelete, path: "/chatrooms/" + seg(id) + "/mute/" + segs(usernames)})
}

// MuteAll mutes every member (allowlisted users can still speak): POST
// /chatrooms/{id}/ban.
func (a *App) MuteAll(ctx context.Context, id string) error {
	return a.muteAll(ctx, "MuteAll", http.MethodPost, id, true)
}

// UnmuteAll lifts MuteAll: DELETE /chatrooms/{id}/ban.
func (a *App) UnmuteAll(ctx context.Context, id string) error {
	return a.muteAll(ctx, "UnmuteAll", http.MethodDelete, id, false)
}

func (a *App) muteAll(ctx context.Context, op, method, id string, want bool) error {
	if err := a.need(op, "chatroom ID", id); err != nil {
		return err
	}
	var data struct {
		Mute *flexBool `json:"mute"`
	}
	if _, err := a.call(ctx, &request{op: op, method: method, path: "/chatrooms/" + seg(id) + "/ban"}, &data); err != nil {
		return err
	}
	if data.Mute != nil && bool(*data.Mute) != want {
		return a.resultFalse(op, "the room's mute flag did not change")
	}
	return nil
}

// MuteTag mutes the members holding tag for d: PUT /chatrooms/{id}/tag/mute
// with {tag, mute_duration} in SECONDS (rounded up; -1 for Permanent),
// unlike MuteMembers. Needs activation by the vendor.
func (a *App) MuteTag(ctx context.Context, id, tag string, d MuteDuration) error {
	const op = "MuteTag"
	if err := a.need(op, "chatroom ID", id, "tag", tag); err != nil {
		return err
	}
	s, ok := d.wire(time.Second)
	if !ok {
		return a.invalid(op, "mute duration %s: want Permanent or a positive duration", time.Duration(d))
	}
	body := struct {
		Tag          string `json:"tag"`
		MuteDuration int64  `json:"mute_duration"`
	}{tag, s}
	return a.single(ctx, &request{op: op, method: http.MethodPut, path: "/chatrooms/" + seg(id) + "/tag/mute", body: body})
}

// SetMemberTags replaces a member's tags (up to MaxMemberTags; none deletes
// them): PUT /chatrooms/{id}/users/{username}/tag with {tags}.
func (a *App) SetMemberTags(ctx context.Context, id, username string, tags []string) error {
	const op = "SetMemberTags"
	if err := a.need(op, "chatroom ID", id, "username", username); err != nil {
		return err
	}
	if len(tags) > MaxMemberTags {
		return a.invalid(op, "%d tags, more than the documented limit of %d", len(tags), MaxMemberTags)
	}
	if slices.Contains(tags, "") {
		return a.invalid(op, "a tag is empty")
	}
	if tags == nil {
		tags = []string{} // "tags": [] deletes them; null is refused
	}
	return a.single(ctx, &request{op: op, method: http.MethodPut, path: "/chatrooms/" + seg(id) + "/users/" + seg(username) + "/tag",
		body: map[string][]string{"tags": tags}})
}

// GetMemberTags returns a member's tags, sorted: GET
// /chatrooms/{id}/users/{username}/tag. The vendor answers {tag: "<expiry
// epoch ms as a string>"}, "-1" meaning permanent.
func (a *App) GetMemberTags(ctx context.Context, id, username string) ([]MemberTag, error) {
	const op = "GetMemberTags"
	if err := a.need(op, "chatroom ID", id, "username", username); err != nil {
		return nil, err
	}
	var data map[string]flexInt
	if _, err := a.call(ctx, &request{op: op, method: http.MethodGet, path: "/chatrooms/" + seg(id) + "/users/" + seg(username) + "/tag", idempotent: true}, &data); err != nil {
		return nil, err
	}
	out := make([]MemberTag, 0, len(data))
	for tag, ms := range data {
		t := MemberTag{Tag: tag}
		t.Expire, t.Permanent = msTime(int64(ms))
		out = append(out, t)
	}
	slices.SortFunc(out, func(x, y MemberTag) int {
		switch {
		case x.Tag < y.Tag:
			return -1
		case x.Tag > y.Tag:
			return 1
		}
		return 0
	})
	return out, nil
}
