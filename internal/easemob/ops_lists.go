package easemob

import (
	"context"
	"net/http"
)

// Allowlist ("white list") and blocklist ("black list") of a room.

// ListAllowlist returns a room's allowlist: GET /chatrooms/{id}/white/users.
func (a *App) ListAllowlist(ctx context.Context, id string) ([]string, error) {
	return a.listUsers(ctx, "ListAllowlist", id, "/white/users")
}

// AddAllowlistMember allowlists one member: POST
// /chatrooms/{id}/white/users/{username}.
func (a *App) AddAllowlistMember(ctx context.Context, id, username string) error {
	return a.addOne(ctx, "AddAllowlistMember", id, "/white/users/", username)
}

// AddAllowlistMembers allowlists up to MaxAddBatch members: POST
// /chatrooms/{id}/white/users with {usernames}.
func (a *App) AddAllowlistMembers(ctx context.Context, id string, usernames []string) ([]ItemResult, error) {
	return a.addMany(ctx, "AddAllowlistMembers", id, "/white/users", usernames, MaxAddBatch)
}

// RemoveAllowlistMembers removes one or up to MaxRemoveBatch users from the
// allowlist: DELETE /chatrooms/{id}/white/users/{u1%2Cu2…}.
func (a *App) RemoveAllowlistMembers(ctx context.Context, id string, usernames []string) ([]ItemResult, error) {
	return a.removeMany(ctx, "RemoveAllowlistMembers", id, "/white/users/", usernames)
}

// ListBlocklist returns a room's blocklist: GET /chatrooms/{id}/blocks/users.
func (a *App) ListBlocklist(ctx context.Context, id string) ([]string, error) {
	return a.listUsers(ctx, "ListBlocklist", id, "/blocks/users")
}

// AddBlocklistMember blocks one member (not the owner), who is removed from
// the room: POST /chatrooms/{id}/blocks/users/{username}.
func (a *App) AddBlocklistMember(ctx context.Context, id, username string) error {
	return a.addOne(ctx, "AddBlocklistMember", id, "/blocks/users/", username)
}

// AddBlocklistMembers blocks up to MaxRemoveBatch (60, as documented)
// members: POST /chatrooms/{id}/blocks/users with {usernames}.
func (a *App) AddBlocklistMembers(ctx context.Context, id string, usernames []string) ([]ItemResult, error) {
	return a.addMany(ctx, "AddBlocklistMembers", id, "/blocks/users", usernames, MaxRemoveBatch)
}

// RemoveBlocklistMembers unblocks one or up to MaxRemoveBatch users: DELETE
// /chatrooms/{id}/blocks/users/{u1%2Cu2…}.
func (a *App) RemoveBlocklistMembers(ctx context.Context, id string, usernames []string) ([]ItemResult, error) {
	return a.removeMany(ctx, "RemoveBlocklistMembers", id, "/blocks/users/", usernames)
}

func (a *App) listUsers(ctx context.Context, op, id, sub string) ([]string, error) {
	if err := a.need(op, "chatroom ID", id); err != nil {
		return nil, err
	}
	return a.userList(ctx, &request{op: op, method: http.MethodGet, path: "/chatrooms/" + seg(id) + sub, idempotent: true})
}

func (a *App) addOne(ctx context.Context, op, id, sub, username string) error {
	if err := a.need(op, "chatroom ID", id, "username", username); err != nil {
		return err
	}
	return a.single(ctx, &request{op: op, method: http.MethodPost, path: "/chatrooms/" + seg(id) + sub + seg(username)})
}

func (a *App) addMany(ctx context.Context, op, id, sub string, usernames []string, max int) ([]ItemResult, error) {
	if err := a.need(op, "chatroom ID", id); err != nil {
		return nil, err
	}
	if err := a.list(op, "usernames", usernames, max); err != nil {
		return nil, err
	}
	return a.batch(ctx, &request{op: op, method: http.MethodPost, path: "/chatrooms/" + seg(id) + sub, body: usernamesBody{usernames}})
}

func (a *App) removeMany(ctx context.Context, op, id, sub string, usernames []string) ([]ItemResult, error) {
	if err := a.need(op, "chatroom ID", id); err != nil {
		return nil, err
	}
	if err := a.list(op, "usernames", usernames, MaxRemoveBatch); err != nil {
		return nil, err
	}
	return a.batch(ctx, &request{op: op, method: http.MethodDelete, path: "/chatrooms/" + seg(id) + sub + segs(usernames)})
}
