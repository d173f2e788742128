package easemob

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Documented limits checked before sending (current docs, chatroom-api.md §3).
const (
	MaxRoomsPerDetail = 100 // GetChatrooms IDs per call (older zh page)
	MaxAddBatch       = 100 // AddMembers, MuteMembers, AddAllowlistMembers
	MaxRemoveBatch    = 60  // RemoveMembers, UnmuteMembers, RemoveAllowlistMembers, blocklist batches
	MaxAttributeKeys  = 10  // SetAttributes pairs, DeleteAttributes keys
	MaxMemberTags     = 10  // SetMemberTags
)

// ChatroomSummary is one room of ListChatrooms.
type ChatroomSummary struct {
	ID, Name, Owner   string
	AffiliationsCount int // members, the owner included
}

// ChatroomPage is a page of ListChatrooms. Cursor is the next page's cursor,
// "" on the last page or when the vendor sends none.
type ChatroomPage struct {
	Chatrooms []ChatroomSummary
	Cursor    string
}

// JoinedChatroom is one room of ListJoinedChatrooms.
type JoinedChatroom struct {
	ID, Name string
	Disabled bool
}

// Chatroom is the detail of a room. Owners and Members come from the
// unordered "affiliations" (admins are members); Members excludes owners.
type Chatroom struct {
	ID, Name, Description, Owner, Custom string
	MembersOnly, AllowInvites, Public    bool
	MuteAll                              bool // "mute": every member muted
	MaxUsers, AffiliationsCount          int
	Created                              time.Time // zero when not sent
	Owners, Members                      []string
}

// CreateChatroom is the body of CreateChatroom. MaxUsers 0 and empty
// Members, Custom and RoomID are left out (the vendor's defaults apply).
type CreateChatroom struct {
	Name, Description, Owner string
	MaxUsers                 int
	Members                  []string
	Custom                   string
	RoomID                   string // custom room ID; needs activation by the vendor
}

// UpdateChatroom sets the fields that are not nil.
type UpdateChatroom struct {
	Name, Description *string
	MaxUsers          *int
}

// UpdateResult says which fields the vendor changed.
type UpdateResult struct {
	Name, Description, MaxUsers bool
}

type roomSummaryJSON struct {
	ID                string     `json:"id"`
	Name              string     `json:"name"`
	Owner             flexString `json:"owner"`
	AffiliationsCount flexInt    `json:"affiliations_count"`
}

// ListChatrooms lists the app's rooms: GET /chatrooms?limit=&cursor=.
// limit 0 and cursor "" are left out (the vendor returns 10 from the start).
func (a *App) ListChatrooms(ctx context.Context, limit int, cursor string) (ChatroomPage, error) {
	const op = "ListChatrooms"
	if limit < 0 {
		return ChatroomPage{}, a.invalid(op, "limit %d is negative", limit)
	}
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var rooms oneOrMany[roomSummaryJSON]
	env, err := a.call(ctx, &request{op: op, method: http.MethodGet, path: "/chatrooms", query: q, idempotent: true}, &rooms)
	if err != nil {
		return ChatroomPage{}, err
	}
	p := ChatroomPage{Cursor: string(env.Cursor), Chatrooms: make([]ChatroomSummary, 0, len(rooms))}
	for _, r := range rooms {
		p.Chatrooms = append(p.Chatrooms, ChatroomSummary{ID: r.ID, Name: r.Name, Owner: string(r.Owner), AffiliationsCount: int(r.AffiliationsCount)})
	}
	return p, nil
}

// ListJoinedChatrooms lists the rooms a user joined:
// GET /users/{username}/joined_chatrooms?pagenum=&pagesize=. Zero page
// values are left out; with neither, the vendor returns the 500 latest.
func (a *App) ListJoinedChatrooms(ctx context.Context, username string, pageNum, pageSize int) ([]JoinedChatroom, error) {
	const op = "ListJoinedChatrooms"
	if err := a.need(op, "username", username); err != nil {
		return nil, err
	}
	q, err := a.page(op, pageNum, pageSize)
	if err != nil {
		return nil, err
	}
	var rooms oneOrMany[struct {
		ID       string   `json:"id"`
		Name     string   `json:"name"`
		Disabled flexBool `json:"disabled"`
	}]
	if _, err := a.call(ctx, &request{op: op, method: http.MethodGet, path: "/users/" + seg(username) + "/joined_chatrooms", query: q, idempotent: true}, &rooms); err != nil {
		return nil, err
	}
	out := make([]JoinedChatroom, 0, len(rooms))
	for _, r := range rooms {
		out = append(out, JoinedChatroom{ID: r.ID, Name: r.Name, Disabled: bool(r.Disabled)})
	}
	return out, nil
}

type chatroomJSON struct {
	ID                string              `json:"id"`
	Name              string              `json:"name"`
	Description       string              `json:"description"`
	MembersOnly       flexBool            `json:"membersonly"`
	AllowInvites      flexBool            `json:"allowinvites"`
	MaxUsers          flexInt             `json:"maxusers"`
	Owner             flexString          `json:"owner"`
	Created           flexInt             `json:"created"`
	Custom            string              `json:"custom"`
	AffiliationsCount flexInt             `json:"affiliations_count"`
	Affiliations      []map[string]string `json:"affiliations"`
	Public            flexBool            `json:"public"`
	Mute              flexBool            `json:"mute"`
	// Error marks an ID of a multi-ID request that names no room (an
	// undocumented shape, as the emulator answers it: {"id", "error"}).
	Error string `json:"error"`
}

// GetChatrooms returns the details of one or more rooms (at most
// MaxRoomsPerDetail): GET /chatrooms/{id1%2Cid2…}.
func (a *App) GetChatrooms(ctx context.Context, ids ...string) ([]Chatroom, error) {
	const op = "GetChatrooms"
	if err := a.list(op, "chatroom IDs", ids, MaxRoomsPerDetail); err != nil {
		return nil, err
	}
	var rooms oneOrMany[chatroomJSON]
	if _, err := a.call(ctx, &request{op: op, method: http.MethodGet, path: "/chatrooms/" + segs(ids), idempotent: true}, &rooms); err != nil {
		return nil, err
	}
	out := make([]Chatroom, 0, len(rooms))
	for _, r := range rooms {
		if r.Error != "" || r.ID == "" {
			continue // not a room: the caller sees it missing
		}
		c := Chatroom{
			ID: r.ID, Name: r.Name, Description: r.Description, Owner: string(r.Owner), Custom: r.Custom,
			MembersOnly: bool(r.MembersOnly), AllowInvites: bool(r.AllowInvites), Public: bool(r.Public), MuteAll: bool(r.Mute),
			MaxUsers: int(r.MaxUsers), AffiliationsCount: int(r.AffiliationsCount),
		}
		c.Created, _ = msTime(int64(r.Created))
		for _, af := range r.Affiliations {
			if u, ok := af["owner"]; ok {
				c.Owners = append(c.Owners, u)
			} else if u, ok := af["member"]; ok {
				c.Members = append(c.Members, u)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// CreateChatroom creates a room and returns its ID: POST /chatrooms.
func (a *App) CreateChatroom(ctx context.Context, in CreateChatroom) (id string, err error) {
	const op = "CreateChatroom"
	if err := a.need(op, "name", in.Name, "owner", in.Owner); err != nil {
		return "", err
	}
	if in.MaxUsers < 0 {
		return "", a.invalid(op, "maxusers %d is negative", in.MaxUsers)
	}
	body := struct {
		Name        string   `json:"name"`
		Description string   `json:"description"`
		MaxUsers    int      `json:"maxusers,omitempty"`
		Owner       string   `json:"owner"`
		Members     []string `json:"members,omitempty"`
		Custom      string   `json:"custom,omitempty"`
		RoomID      string   `json:"roomid,omitempty"`
	}{in.Name, in.Description, in.MaxUsers, in.Owner, in.Members, in.Custom, in.RoomID}
	var data struct {
		ID flexString `json:"id"`
	}
	if _, err := a.call(ctx, &request{op: op, method: http.MethodPost, path: "/chatrooms", body: body}, &data); err != nil {
		return "", err
	}
	if data.ID == "" {
		return "", a.badResponse(op, errNoField("id"))
	}
	return string(data.ID), nil
}

// UpdateChatroom changes the name, description or maxusers: PUT
// /chatrooms/{id} with only the keys that are set.
func (a *App) UpdateChatroom(ctx context.Context, id string, in UpdateChatroom) (UpdateResult, error) {
	const op = "UpdateChatroom"
	if err := a.need(op, "chatroom ID", id); err != nil {
		return UpdateResult{}, err
	}
	if in.Name == nil && in.Description == nil && in.MaxUsers == nil {
		return UpdateResult{}, a.invalid(op, "nothing to update")
	}
	body := map[string]any{}
	if in.Name != nil {
		body["name"] = *in.Name
	}
	if in.Description != nil {
		body["description"] = *in.Description
	}
	if in.MaxUsers != nil {
		body["maxusers"] = *in.MaxUsers
	}
	var data struct {
		GroupName   flexBool `json:"groupname"`
		Description flexBool `json:"description"`
		MaxUsers    flexBool `json:"maxusers"`
	}
	if _, err := a.call(ctx, &request{op: op, method: http.MethodPut, path: "/chatrooms/" + seg(id), body: body}, &data); err != nil {
		return UpdateResult{}, err
	}
	return UpdateResult{Name: bool(data.GroupName), Description: bool(data.Description), MaxUsers: bool(data.MaxUsers)}, nil
}

// TransferChatroomOwner makes newOwner the owner: PUT /chatrooms/{id} with
// {newowner}.
func (a *App) TransferChatroomOwner(ctx context.Context, id, newOwner string) error {
	const op = "TransferChatroomOwner"
	if err := a.need(op, "chatroom ID", id, "new owner", newOwner); err != nil {
		return err
	}
	var data struct {
		NewOwner *flexBool `json:"newowner"`
	}
	if _, err := a.call(ctx, &request{op: op, method: http.MethodPut, path: "/chatrooms/" + seg(id), body: map[string]string{"newowner": newOwner}}, &data); err != nil {
		return err
	}
	if data.NewOwner != nil && !bool(*data.NewOwner) {
		return a.resultFalse(op, "newowner: false")
	}
	return nil
}

// DeleteChatroom destroys a room: DELETE /chatrooms/{id}.
func (a *App) DeleteChatroom(ctx context.Context, id string) error {
	const op = "DeleteChatroom"
	if err := a.need(op, "chatroom ID", id); err != nil {
		return err
	}
	var data struct {
		Success *flexBool `json:"success"`
	}
	if _, err := a.call(ctx, &request{op: op, method: http.MethodDelete, path: "/chatrooms/" + seg(id)}, &data); err != nil {
		return err
	}
	if data.Success != nil && !bool(*data.Success) {
		return a.resultFalse(op, "success: false")
	}
	return nil
}

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }

// segs escapes a comma list for one path segment: u1%2Cu2.
func segs(list []string) string {
	esc := make([]string, len(list))
	for i, s := range list {
		esc[i] = url.PathEscape(s)
	}
	return strings.Join(esc, "%2C")
}

// need checks that each named value (name, value pairs) is not empty. An
// ID or a username, a segment of the vendor's path, must not hold a comma
// either (the vendor's list separator, %2C, which would turn a single-user
// call into a batch one), nor be a dot segment ("." or "..", which moves
// the path to another resource: chatrooms/../users/bob is user bob). A
// room's name and a tag travel in the body and may.
func (a *App) need(op string, kv ...string) error {
	for i := 0; i+1 < len(kv); i += 2 {
		name, v := kv[i], kv[i+1]
		switch {
		case v == "":
			return a.invalid(op, "%s is empty", name)
		case name == "name" || name == "tag":
		case strings.Contains(v, ","):
			return a.invalid(op, "%s %q has a comma", name, v)
		case v == "." || v == "..":
			return a.invalid(op, "%s %q is a dot segment", name, v)
		}
	}
	return nil
}

// list checks a list of IDs: 1 to max items, none empty or holding a comma
// (which would split it in a comma-list path).
func (a *App) list(op, what string, items []string, max int) error {
	if len(items) == 0 {
		return a.invalid(op, "no %s", what)
	}
	if len(items) > max {
		return a.invalid(op, "%d %s, more than the documented limit of %d", len(items), what, max)
	}
	for _, s := range items {
		// One item alone is a whole path segment: not a dot segment
		// either (see need).
		if s == "" || strings.Contains(s, ",") || len(items) == 1 && (s == "." || s == "..") {
			return a.invalid(op, "%s: %q is empty, has a comma or is a dot segment", what, s)
		}
	}
	return nil
}

// page builds pagenum/pagesize, leaving zero values out.
func (a *App) page(op string, pageNum, pageSize int) (url.Values, error) {
	if pageNum < 0 || pageSize < 0 {
		return nil, a.invalid(op, "negative page number or size")
	}
	q := url.Values{}
	if pageNum > 0 {
		q.Set("pagenum", strconv.Itoa(pageNum))
	}
	if pageSize > 0 {
		q.Set("pagesize", strconv.Itoa(pageSize))
	}
	return q, nil
}

type errNoField string

func (e errNoField) Error() string { return "no " + string(e) + " in data" }
