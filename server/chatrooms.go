package server

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/easemob"
)

// ChatroomService forwards chat-room administration to Easemob: each RPC
// checks its request against the documented vendor limits (every violation
// in one INVALID_ARGUMENT, nothing sent), finds the app's vendor client,
// makes the vendor call and maps the answer. Errors are returned as they
// come; the error translator (errors.go) maps them. With no Vendor, every
// RPC answers UNIMPLEMENTED, as the generated stub does.
//
// The RPCs live in chatrooms.go (rooms), chatrooms_members.go (members,
// admins, super admins, mutes, tags), chatrooms_lists.go (allowlist,
// blocklist) and chatrooms_attributes.go (announcement, custom
// attributes); request checks in chatrooms_validate.go, page tokens in
// chatrooms_paging.go, request_id in chatrooms_create.go.
type ChatroomService struct {
	imbridgev1.UnimplementedChatroomServiceServer
	Vendor *easemob.Client
	// Rooms, when set, learns every room CreateChatroom creates as a
	// chatroom, so that its first messages are classified chatroom:*
	// before any room event arrives.
	Rooms RoomRegistry
	// Logger receives what goes wrong beside the RPC's answer; nil =
	// slog.Default().
	Logger *slog.Logger

	creates createCache // CreateChatroom's request_id
}

// RoomRegistry records group ids known to be chatrooms.
type RoomRegistry interface {
	MarkChatroom(ctx context.Context, appkey, groupID string) error
}

func (s *ChatroomService) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// mergesEnumViolations: every handler starts its violations with
// newViolations(ctx), so that an undefined enum value is named among the
// request's other bad fields.
func (*ChatroomService) mergesEnumViolations() {}

// vendorApp returns the client of the app the request names, once the
// request has passed its checks (v).
func (s *ChatroomService) vendorApp(v *violations, app appRef) (*easemob.App, error) {
	if s.Vendor == nil {
		return nil, errNoVendor
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	a, ok := s.Vendor.App(app.appkey())
	if !ok {
		return nil, &appNotConfigured{appkey: app.appkey()}
	}
	return a, nil
}

// ListChatrooms lists the rooms of an app, a page at a time (vendor cursor).
func (s *ChatroomService) ListChatrooms(ctx context.Context, req *imbridgev1.ListChatroomsRequest) (*imbridgev1.ListChatroomsResponse, error) {
	v := newViolations(ctx)
	app := v.app("parent", req.GetParent())
	limit := v.pageSize("page_size", req.GetPageSize(), 10, maxVendorPageSize)
	cursor := v.cursorOf(req, req.GetPageToken())
	a, err := s.vendorApp(v, app)
	if err != nil {
		return nil, err
	}
	page, err := a.ListChatrooms(ctx, limit, cursor)
	if err != nil {
		return nil, err
	}
	resp := &imbridgev1.ListChatroomsResponse{Chatrooms: make([]*imbridgev1.Chatroom, 0, len(page.Chatrooms))}
	for _, c := range page.Chatrooms {
		resp.Chatrooms = append(resp.Chatrooms, &imbridgev1.Chatroom{
			Name: app.roomName(c.ID), DisplayName: c.Name, Owner: c.Owner, MemberCount: int32(c.AffiliationsCount),
		})
	}
	if resp.NextPageToken, err = cursorToken(req, page.Cursor); err != nil {
		return nil, err
	}
	return resp, nil
}

// ListJoinedChatrooms lists the rooms a user has joined (vendor pagenum).
func (s *ChatroomService) ListJoinedChatrooms(ctx context.Context, req *imbridgev1.ListJoinedChatroomsRequest) (*imbridgev1.ListJoinedChatroomsResponse, error) {
	v := newViolations(ctx)
	app := v.app("parent", req.GetParent())
	v.username("username", req.GetUsername())
	p := v.pageNumberOf(req, req.GetPageToken(), v.pageSize("page_size", req.GetPageSize(), maxVendorPageSize, maxVendorPageSize))
	a, err := s.vendorApp(v, app)
	if err != nil {
		return nil, err
	}
	rooms, err := a.ListJoinedChatrooms(ctx, req.GetUsername(), p.num, p.size)
	if err != nil {
		return nil, &userTarget{req.GetUsername(), err}
	}
	resp := &imbridgev1.ListJoinedChatroomsResponse{Chatrooms: make([]*imbridgev1.JoinedChatroom, 0, len(rooms))}
	for _, r := range rooms {
		resp.Chatrooms = append(resp.Chatrooms, &imbridgev1.JoinedChatroom{Name: app.roomName(r.ID), DisplayName: r.Name, Disabled: r.Disabled})
	}
	resp.NextPageToken = p.next(req, len(rooms))
	return resp, nil
}

// GetChatroom returns one room.
func (s *ChatroomService) GetChatroom(ctx context.Context, req *imbridgev1.GetChatroomRequest) (*imbridgev1.GetChatroomResponse, error) {
	v := newViolations(ctx)
	room := v.room("name", req.GetName())
	a, err := s.vendorApp(v, room.appRef)
	if err != nil {
		return nil, err
	}
	c, err := getRoom(ctx, a, room)
	if err != nil {
		return nil, err
	}
	return &imbridgev1.GetChatroomResponse{Chatroom: c}, nil
}

// getRoom reads one room's details.
func getRoom(ctx context.Context, a *easemob.App, room roomRef) (*imbridgev1.Chatroom, error) {
	rooms, err := a.GetChatrooms(ctx, room.id)
	if err != nil {
		return nil, err
	}
	for _, c := range rooms {
		if c.ID == room.id {
			return chatroomOf(room.appRef, c), nil
		}
	}
	return nil, &chatroomsNotFound{ids: []string{room.id}}
}

// BatchGetChatrooms returns several rooms, in the order asked.
func (s *ChatroomService) BatchGetChatrooms(ctx context.Context, req *imbridgev1.BatchGetChatroomsRequest) (*imbridgev1.BatchGetChatroomsResponse, error) {
	v := newViolations(ctx)
	app := v.app("parent", req.GetParent())
	names := req.GetNames()
	ids := make([]string, 0, len(names))
	switch {
	case len(names) == 0:
		v.add("names", "required: between 1 and %d room names", maxBatchGet)
	case len(names) > maxBatchGet:
		v.add("names", "%d room names, at most %d are allowed (vendor limit)", len(names), maxBatchGet)
	default:
		for i, n := range names {
			field := indexed("names", i)
			room := v.room(field, n)
			switch {
			case room.id == "":
			case app != (appRef{}) && room.appRef != app:
				v.add(field, "%q is not in %s", n, req.GetParent())
			case slices.Contains(ids, room.id):
				v.add(field, "%q is given twice", n)
			default:
				ids = append(ids, room.id)
			}
		}
	}
	a, err := s.vendorApp(v, app)
	if err != nil {
		return nil, err
	}
	rooms, err := a.GetChatrooms(ctx, ids...)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]easemob.Chatroom, len(rooms))
	for _, c := range rooms {
		byID[c.ID] = c
	}
	resp := &imbridgev1.BatchGetChatroomsResponse{Chatrooms: make([]*imbridgev1.Chatroom, 0, len(ids))}
	var missing []string
	for _, id := range ids {
		c, ok := byID[id]
		if !ok {
			missing = append(missing, id)
			continue
		}
		resp.Chatrooms = append(resp.Chatrooms, chatroomOf(app, c))
	}
	if len(missing) > 0 {
		return nil, &chatroomsNotFound{ids: missing}
	}
	return resp, nil
}

// CreateChatroom creates a room and reads it back; request_id makes a
// retry return the room already created.
func (s *ChatroomService) CreateChatroom(ctx context.Context, req *imbridgev1.CreateChatroomRequest) (*imbridgev1.CreateChatroomResponse, error) {
	v := newViolations(ctx)
	app := v.app("parent", req.GetParent())
	c := req.GetChatroom()
	if c == nil {
		v.add("chatroom", "required")
	}
	v.requiredChars("chatroom.display_name", c.GetDisplayName(), maxDisplayName)
	v.requiredChars("chatroom.description", c.GetDescription(), maxDescription)
	v.maxUsers("chatroom.max_users", c.GetMaxUsers(), true)
	v.username("chatroom.owner", c.GetOwner())
	if members := c.GetMembers(); len(members) > 0 {
		limit := int(c.GetMaxUsers())
		if limit < minMaxUsers || limit > maxMaxUsers {
			limit = defaultMaxUsers // 0, or out of range and reported above
		}
		v.usernames("chatroom.members", members, limit)
		for i, m := range members {
			if equalFoldUser(m, c.GetOwner()) {
				v.add(indexed("chatroom.members", i), "the owner %q must not be listed among the members", m)
			}
		}
	}
	if n := len(c.GetCustom()); n > maxCustomBytes {
		v.add("chatroom.custom", "%d bytes, at most %d are allowed (vendor limit)", n, maxCustomBytes)
	}
	if id := req.GetChatroomId(); id != "" && !customRoomIDRE.MatchString(id) {
		v.add("chatroom_id", "%q: a custom room ID is 1 to 64 characters of [a-z0-9] (vendor rule)", bound(id, 80))
	}
	if id := req.GetRequestId(); len(id) > maxRequestIDLen || !printableASCII(id) {
		v.add("request_id", "at most %d printable ASCII characters (a UUID, say)", maxRequestIDLen)
	}
	a, err := s.vendorApp(v, app)
	if err != nil {
		return nil, err
	}
	create := func(ctx context.Context) (string, error) {
		return a.CreateChatroom(ctx, easemob.CreateChatroom{
			Name: c.GetDisplayName(), Description: c.GetDescription(), Owner: c.GetOwner(),
			MaxUsers: int(c.GetMaxUsers()), Members: c.GetMembers(), Custom: c.GetCustom(), RoomID: req.GetChatroomId(),
		})
	}
	var id string
	if req.GetRequestId() == "" {
		id, err = create(ctx)
	} else {
		id, err = s.creates.do(ctx, req, create)
	}
	if err != nil {
		return nil, err
	}
	room := roomRef{app, id}
	if s.Rooms != nil {
		if err := s.Rooms.MarkChatroom(ctx, app.appkey(), id); err != nil {
			// The room exists; its first messages may be classified as a
			// group's until a room event teaches the bridge.
			s.logger().Warn("chatroom created, but not recorded as a chatroom", "chatroom", room.name(), "err", err)
		}
	}
	got, err := getRoom(ctx, a, room)
	if err != nil {
		// The room exists: failing now would make the caller create a
		// second one. Return what was asked for, output-only fields unset.
		got = &imbridgev1.Chatroom{
			Name: room.name(), DisplayName: c.GetDisplayName(), Description: c.GetDescription(),
			MaxUsers: c.GetMaxUsers(), Owner: c.GetOwner(), Custom: c.GetCustom(),
		}
		if got.MaxUsers == 0 {
			got.MaxUsers = defaultMaxUsers
		}
	}
	return &imbridgev1.CreateChatroomResponse{Chatroom: got}, nil
}

// UpdateChatroom changes a room's display name, description or size and
// returns the room read back; a field the vendor refused fails the RPC.
func (s *ChatroomService) UpdateChatroom(ctx context.Context, req *imbridgev1.UpdateChatroomRequest) (*imbridgev1.UpdateChatroomResponse, error) {
	v := newViolations(ctx)
	c := req.GetChatroom()
	if c == nil {
		v.add("chatroom", "required")
	}
	room := v.room("chatroom.name", c.GetName())
	// The fields to update, in the order of the contract: those named by
	// the mask, or, with no mask (unset or empty), those set.
	var fields []string
	if mask := req.GetUpdateMask(); len(mask.GetPaths()) == 0 {
		if c.GetDisplayName() != "" {
			fields = append(fields, "display_name")
		}
		if c.GetDescription() != "" {
			fields = append(fields, "description")
		}
		if c.GetMaxUsers() != 0 {
			fields = append(fields, "max_users")
		}
		if len(fields) == 0 && c != nil {
			v.add("update_mask", "nothing to update: set display_name, description or max_users, or name them in update_mask")
		}
	} else {
		badPath := false
		for i, p := range mask.GetPaths() {
			switch p = maskPath(p); p {
			case "": // grpc-gateway's mask of an empty body: nothing named
			case "*":
				fields = []string{"display_name", "description", "max_users"}
			case "display_name", "description", "max_users":
				if !slices.Contains(fields, p) {
					fields = append(fields, p)
				}
			case "name": // the identifier: nothing to change
			default:
				badPath = true
				v.add(indexed("update_mask.paths", i), "%q cannot be updated: only display_name, description and max_users can", p)
			}
		}
		if len(fields) == 0 && !badPath {
			v.add("update_mask", "names nothing to update: name display_name, description or max_users")
		}
		slices.SortFunc(fields, func(a, b string) int { return updateOrder[a] - updateOrder[b] })
	}
	var in easemob.UpdateChatroom
	for _, f := range fields {
		switch f {
		case "display_name":
			v.requiredChars("chatroom.display_name", c.GetDisplayName(), maxDisplayName)
			in.Name = new(c.GetDisplayName())
		case "description":
			v.maxChars("chatroom.description", c.GetDescription(), maxDescription)
			in.Description = new(c.GetDescription())
		case "max_users":
			v.maxUsers("chatroom.max_users", c.GetMaxUsers(), false)
			in.MaxUsers = new(int(c.GetMaxUsers()))
		}
	}
	a, err := s.vendorApp(v, room.appRef)
	if err != nil {
		return nil, err
	}
	res, err := a.UpdateChatroom(ctx, room.id, in)
	if err != nil {
		return nil, err
	}
	var refused, updated []string
	applied := map[string]bool{"display_name": res.Name, "description": res.Description, "max_users": res.MaxUsers}
	for _, f := range fields {
		if applied[f] {
			updated = append(updated, f)
		} else {
			refused = append(refused, f)
		}
	}
	if len(refused) > 0 {
		return nil, &updateRefused{refused: refused, updated: updated}
	}
	got, err := getRoom(ctx, a, room)
	if err != nil {
		return nil, err
	}
	return &imbridgev1.UpdateChatroomResponse{Chatroom: got}, nil
}

var updateOrder = map[string]int{"display_name": 0, "description": 1, "max_users": 2}

// TransferChatroomOwnership makes another user the owner.
func (s *ChatroomService) TransferChatroomOwnership(ctx context.Context, req *imbridgev1.TransferChatroomOwnershipRequest) (*imbridgev1.TransferChatroomOwnershipResponse, error) {
	v := newViolations(ctx)
	room := v.room("name", req.GetName())
	v.username("new_owner", req.GetNewOwner())
	a, err := s.vendorApp(v, room.appRef)
	if err != nil {
		return nil, err
	}
	if err := a.TransferChatroomOwner(ctx, room.id, req.GetNewOwner()); err != nil {
		return nil, &userTarget{req.GetNewOwner(), err}
	}
	return &imbridgev1.TransferChatroomOwnershipResponse{}, nil
}

// DeleteChatroom deletes a room.
func (s *ChatroomService) DeleteChatroom(ctx context.Context, req *imbridgev1.DeleteChatroomRequest) (*imbridgev1.DeleteChatroomResponse, error) {
	v := newViolations(ctx)
	room := v.room("name", req.GetName())
	a, err := s.vendorApp(v, room.appRef)
	if err != nil {
		return nil, err
	}
	if err := a.DeleteChatroom(ctx, room.id); err != nil {
		return nil, err
	}
	return &imbridgev1.DeleteChatroomResponse{}, nil
}

// chatroomOf maps the vendor's room details.
func chatroomOf(app appRef, c easemob.Chatroom) *imbridgev1.Chatroom {
	out := &imbridgev1.Chatroom{
		Name: app.roomName(c.ID), DisplayName: c.Name, Description: c.Description, MaxUsers: int32(c.MaxUsers),
		Owner: c.Owner, Custom: c.Custom, MemberCount: int32(c.AffiliationsCount),
		MembersOnly: c.MembersOnly, AllowInvites: c.AllowInvites, MuteAll: c.MuteAll,
	}
	out.CreateTime = vendorTime(c.Created)
	return out
}

// vendorTime is a time the vendor sent, or nil when it sent none or one a
// google.protobuf.Timestamp cannot hold (outside the years 1 to 9999):
// protojson refuses to write such a Timestamp, and the REST answer that
// holds it would fail whole.
func vendorTime(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	if ts := timestamppb.New(t); ts.CheckValid() == nil {
		return ts
	}
	return nil
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// maskPath is an update mask path in the proto's own spelling: REST callers
// may write the JSON names they see (maxUsers for max_users).
func maskPath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
