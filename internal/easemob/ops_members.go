package easemob

import (
	"context"
	"net/http"
	"time"
)

// Member is one room member of ListMembers (admins are plain members).
type Member struct {
	Username string
	Owner    bool
}

// MemberPage is a page of ListMembers. Count is the vendor's "count" (the
// members on this page), or len(Members) when it sends none.
type MemberPage struct {
	Members []Member
	Count   int
}

// ItemResult is the outcome for one user of a batch call, which answers 200
// even when some users fail.
type ItemResult struct {
	Username  string
	OK        bool
	Reason    string    // why it failed, when the vendor says
	Expire    time.Time // mute only: when the mute ends; zero if permanent or not sent
	Permanent bool      // mute only: the mute never ends
}

// ListMembers lists a room's members: GET
// /chatrooms/{id}/users?pagenum=&pagesize= (zero values left out).
func (a *App) ListMembers(ctx context.Context, id string, pageNum, pageSize int) (MemberPage, error) {
	const op = "ListMembers"
	if err := a.need(op, "chatroom ID", id); err != nil {
		return MemberPage{}, err
	}
	q, err := a.page(op, pageNum, pageSize)
	if err != nil {
		return MemberPage{}, err
	}
	var items oneOrMany[map[string]flexString]
	env, err := a.call(ctx, &request{op: op, method: http.MethodGet, path: "/chatrooms/" + seg(id) + "/users", query: q, idempotent: true}, &items)
	if err != nil {
		return MemberPage{}, err
	}
	p := MemberPage{Members: make([]Member, 0, len(items))}
	for _, it := range items {
		if u, ok := it["owner"]; ok {
			p.Members = append(p.Members, Member{Username: string(u), Owner: true})
		} else if u, ok := it["member"]; ok {
			p.Members = append(p.Members, Member{Username: string(u)})
		}
	}
	p.Count = len(p.Members)
	if env.Count != nil {
		p.Count = int(*env.Count)
	}
	return p, nil
}

// AddMember adds one user: POST /chatrooms/{id}/users/{username}. Adding a
// member again succeeds.
func (a *App) AddMember(ctx context.Context, id, username string) error {
	const op = "AddMember"
	if err := a.need(op, "chatroom ID", id, "username", username); err != nil {
		return err
	}
	return a.single(ctx, &request{op: op, method: http.MethodPost, path: "/chatrooms/" + seg(id) + "/users/" + seg(username)})
}

// AddMembers adds up to MaxAddBatch users: POST /chatrooms/{id}/users with
// {usernames}. It returns "newmembers" (existing members count as added).
func (a *App) AddMembers(ctx context.Context, id string, usernames []string) (added []string, err error) {
	const op = "AddMembers"
	if err := a.need(op, "chatroom ID", id); err != nil {
		return nil, err
	}
	if err := a.list(op, "usernames", usernames, MaxAddBatch); err != nil {
		return nil, err
	}
	var data struct {
		NewMembers []flexString `json:"newmembers"`
	}
	if _, err := a.call(ctx, &request{op: op, method: http.MethodPost, path: "/chatrooms/" + seg(id) + "/users", body: usernamesBody{usernames}}, &data); err != nil {
		return nil, err
	}
	return strs(data.NewMembers), nil
}

// RemoveMember removes one user: DELETE /chatrooms/{id}/users/{username}.
func (a *App) RemoveMember(ctx context.Context, id, username string) error {
	const op = "RemoveMember"
	if err := a.need(op, "chatroom ID", id, "username", username); err != nil {
		return err
	}
	return a.single(ctx, &request{op: op, method: http.MethodDelete, path: "/chatrooms/" + seg(id) + "/users/" + seg(username)})
}

// RemoveMembers removes up to MaxRemoveBatch users: DELETE
// /chatrooms/{id}/users/{u1%2Cu2…}; one result per user.
func (a *App) RemoveMembers(ctx context.Context, id string, usernames []string) ([]ItemResult, error) {
	const op = "RemoveMembers"
	if err := a.need(op, "chatroom ID", id); err != nil {
		return nil, err
	}
	if err := a.list(op, "usernames", usernames, MaxRemoveBatch); err != nil {
		return nil, err
	}
	return a.batch(ctx, &request{op: op, method: http.MethodDelete, path: "/chatrooms/" + seg(id) + "/users/" + segs(usernames)})
}

// ListAdmins lists a room's admins: GET /chatrooms/{id}/admin.
func (a *App) ListAdmins(ctx context.Context, id string) ([]string, error) {
	const op = "ListAdmins"
	if err := a.need(op, "chatroom ID", id); err != nil {
		return nil, err
	}
	return a.userList(ctx, &request{op: op, method: http.MethodGet, path: "/chatrooms/" + seg(id) + "/admin", idempotent: true})
}

// AddAdmin makes a member an admin: POST /chatrooms/{id}/admin with
// {newadmin}.
func (a *App) AddAdmin(ctx context.Context, id, username string) error {
	const op = "AddAdmin"
	if err := a.need(op, "chatroom ID", id, "username", username); err != nil {
		return err
	}
	return a.single(ctx, &request{op: op, method: http.MethodPost, path: "/chatrooms/" + seg(id) + "/admin", body: map[string]string{"newadmin": username}})
}

// RemoveAdmin demotes an admin: DELETE /chatrooms/{id}/admin/{username}.
func (a *App) RemoveAdmin(ctx context.Context, id, username string) error {
	const op = "RemoveAdmin"
	if err := a.need(op, "chatroom ID", id, "username", username); err != nil {
		return err
	}
	return a.single(ctx, &request{op: op, method: http.MethodDelete, path: "/chatrooms/" + seg(id) + "/admin/" + seg(username)})
}

// ListSuperAdmins lists the app's chat-room super admins: GET
// /chatrooms/super_admin?pagenum=&pagesize= (zero values left out; the
// vendor's default page size is 10).
func (a *App) ListSuperAdmins(ctx context.Context, pageNum, pageSize int) ([]string, error) {
	const op = "ListSuperAdmins"
	q, err := a.page(op, pageNum, pageSize)
	if err != nil {
		return nil, err
	}
	return a.userList(ctx, &request{op: op, method: http.MethodGet, path: "/chatrooms/super_admin", query: q, idempotent: true})
}

// AddSuperAdmin makes a user a super admin: POST /chatrooms/super_admin
// with {superadmin}.
func (a *App) AddSuperAdmin(ctx context.Context, username string) error {
	const op = "AddSuperAdmin"
	if err := a.need(op, "username", username); err != nil {
		return err
	}
	return a.single(ctx, &request{op: op, method: http.MethodPost, path: "/chatrooms/super_admin", body: map[string]string{"superadmin": username}})
}

// RemoveSuperAdmin revokes a super admin: DELETE
// /chatrooms/super_admin/{username}. (The answer names the removed user
// "newSuperAdmin"; it is not read.)
func (a *App) RemoveSuperAdmin(ctx context.Context, username string) error {
	const op = "RemoveSuperAdmin"
	if err := a.need(op, "username", username); err != nil {
		return err
	}
	return a.single(ctx, &request{op: op, method: http.MethodDelete, path: "/chatrooms/super_admin/" + seg(username)})
}

type usernamesBody struct {
	Usernames []string `json:"usernames"`
}

// single runs a call whose data is one result object (or a list of them):
// a result false becomes an *Error of type TypeResultFalse.
func (a *App) single(ctx context.Context, rq *request) error {
	var items oneOrMany[itemJSON]
	if _, err := a.call(ctx, rq, &items); err != nil {
		return err
	}
	for _, it := range items {
		if it.Result != nil && !bool(*it.Result) {
			return a.resultFalse(rq.op, it.Reason)
		}
	}
	return nil
}

// batch runs a call whose data is one result per user.
func (a *App) batch(ctx context.Context, rq *request) ([]ItemResult, error) {
	var items oneOrMany[itemJSON]
	if _, err := a.call(ctx, rq, &items); err != nil {
		return nil, err
	}
	out := make([]ItemResult, 0, len(items))
	for _, it := range items {
		out = append(out, it.result())
	}
	return out, nil
}

// userList runs a call whose data is a list of user IDs.
func (a *App) userList(ctx context.Context, rq *request) ([]string, error) {
	var list oneOrMany[flexString]
	if _, err := a.call(ctx, rq, &list); err != nil {
		return nil, err
	}
	return strs(list), nil
}

func strs[S ~[]E, E ~string](in S) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = string(s)
	}
	return out
}
