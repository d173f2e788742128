package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/easemob"
)

// The members, admins, super admins, mutes and member tags of
// ChatroomService, and the helpers it shares with chatrooms_lists.go
// (allowlist and blocklist). A single-user RPC the vendor serves only with
// its batch endpoint sends a batch of one, and a refusal of that user
// becomes an error (see one).

// ListChatroomMembers lists a room's users (vendor pagenum).
func (s *ChatroomService) ListChatroomMembers(ctx context.Context, req *imbridgev1.ListChatroomMembersRequest) (*imbridgev1.ListChatroomMembersResponse, error) {
	v := newViolations(ctx)
	room := v.room("parent", req.GetParent())
	p := v.pageNumberOf(req, req.GetPageToken(), v.pageSize("page_size", req.GetPageSize(), maxVendorPageSize, maxVendorPageSize))
	a, err := s.vendorApp(v, room.appRef)
	if err != nil {
		return nil, err
	}
	page, err := a.ListMembers(ctx, room.id, p.num, p.size)
	if err != nil {
		return nil, err
	}
	resp := &imbridgev1.ListChatroomMembersResponse{Members: make([]*imbridgev1.ChatroomMember, 0, len(page.Members))}
	for _, m := range page.Members {
		role := imbridgev1.ChatroomMemberRole_CHATROOM_MEMBER_ROLE_MEMBER
		if m.Owner {
			role = imbridgev1.ChatroomMemberRole_CHATROOM_MEMBER_ROLE_OWNER
		}
		resp.Members = append(resp.Members, &imbridgev1.ChatroomMember{Username: m.Username, Role: role})
	}
	resp.NextPageToken = p.next(req, len(page.Members))
	return resp, nil
}

// AddChatroomMember adds one user to a room.
func (s *ChatroomService) AddChatroomMember(ctx context.Context, req *imbridgev1.AddChatroomMemberRequest) (*imbridgev1.AddChatroomMemberResponse, error) {
	room, a, err := s.roomUser(ctx, req.GetParent(), req.GetUsername())
	if err != nil {
		return nil, err
	}
	if err := a.AddMember(ctx, room.id, req.GetUsername()); err != nil {
		return nil, &userTarget{req.GetUsername(), err}
	}
	return &imbridgev1.AddChatroomMemberResponse{}, nil
}

// AddChatroomMembers adds up to 100 users to a room.
func (s *ChatroomService) AddChatroomMembers(ctx context.Context, req *imbridgev1.AddChatroomMembersRequest) (*imbridgev1.AddChatroomMembersResponse, error) {
	room, a, err := s.roomUsers(ctx, req.GetParent(), req.GetUsernames(), maxAddMembers)
	if err != nil {
		return nil, err
	}
	added, err := a.AddMembers(ctx, room.id, req.GetUsernames())
	if err != nil {
		return nil, err
	}
	return &imbridgev1.AddChatroomMembersResponse{Usernames: added}, nil
}

// RemoveChatroomMember removes one user from a room.
func (s *ChatroomService) RemoveChatroomMember(ctx context.Context, req *imbridgev1.RemoveChatroomMemberRequest) (*imbridgev1.RemoveChatroomMemberResponse, error) {
	room, user, a, err := s.entry(ctx, req.GetName(), "members")
	if err != nil {
		return nil, err
	}
	if err := a.RemoveMember(ctx, room.id, user); err != nil {
		return nil, &userTarget{user, err}
	}
	return &imbridgev1.RemoveChatroomMemberResponse{}, nil
}

// RemoveChatroomMembers removes up to 60 users from a room, reporting per
// user.
func (s *ChatroomService) RemoveChatroomMembers(ctx context.Context, req *imbridgev1.RemoveChatroomMembersRequest) (*imbridgev1.RemoveChatroomMembersResponse, error) {
	room, a, err := s.roomUsers(ctx, req.GetParent(), req.GetUsernames(), maxRemoveMembers)
	if err != nil {
		return nil, err
	}
	res, err := a.RemoveMembers(ctx, room.id, req.GetUsernames())
	if err != nil {
		return nil, err
	}
	return &imbridgev1.RemoveChatroomMembersResponse{Results: batchResults(req.GetUsernames(), res)}, nil
}

// ListChatroomAdmins lists a room's admins (the vendor returns them all;
// imbridge pages them).
func (s *ChatroomService) ListChatroomAdmins(ctx context.Context, req *imbridgev1.ListChatroomAdminsRequest) (*imbridgev1.ListChatroomAdminsResponse, error) {
	users, next, err := s.listUsers(ctx, req, req.GetParent(), req.GetPageSize(), req.GetPageToken(), (*easemob.App).ListAdmins)
	if err != nil {
		return nil, err
	}
	return &imbridgev1.ListChatroomAdminsResponse{Usernames: users, NextPageToken: next}, nil
}

// AddChatroomAdmin makes a member an admin.
func (s *ChatroomService) AddChatroomAdmin(ctx context.Context, req *imbridgev1.AddChatroomAdminRequest) (*imbridgev1.AddChatroomAdminResponse, error) {
	room, a, err := s.roomUser(ctx, req.GetParent(), req.GetUsername())
	if err != nil {
		return nil, err
	}
	if err := a.AddAdmin(ctx, room.id, req.GetUsername()); err != nil {
		return nil, &userTarget{req.GetUsername(), err}
	}
	return &imbridgev1.AddChatroomAdminResponse{}, nil
}

// RemoveChatroomAdmin takes admin rights away.
func (s *ChatroomService) RemoveChatroomAdmin(ctx context.Context, req *imbridgev1.RemoveChatroomAdminRequest) (*imbridgev1.RemoveChatroomAdminResponse, error) {
	room, user, a, err := s.entry(ctx, req.GetName(), "admins")
	if err != nil {
		return nil, err
	}
	if err := a.RemoveAdmin(ctx, room.id, user); err != nil {
		return nil, &userTarget{user, err}
	}
	return &imbridgev1.RemoveChatroomAdminResponse{}, nil
}

// ListChatroomSuperAdmins lists the app's super admins (vendor pagenum).
func (s *ChatroomService) ListChatroomSuperAdmins(ctx context.Context, req *imbridgev1.ListChatroomSuperAdminsRequest) (*imbridgev1.ListChatroomSuperAdminsResponse, error) {
	v := newViolations(ctx)
	app := v.app("parent", req.GetParent())
	p := v.pageNumberOf(req, req.GetPageToken(), v.pageSize("page_size", req.GetPageSize(), 10, maxVendorPageSize))
	a, err := s.vendorApp(v, app)
	if err != nil {
		return nil, err
	}
	users, err := a.ListSuperAdmins(ctx, p.num, p.size)
	if err != nil {
		return nil, err
	}
	return &imbridgev1.ListChatroomSuperAdminsResponse{Usernames: users, NextPageToken: p.next(req, len(users))}, nil
}

// AddChatroomSuperAdmin makes a user a super admin of the app.
func (s *ChatroomService) AddChatroomSuperAdmin(ctx context.Context, req *imbridgev1.AddChatroomSuperAdminRequest) (*imbridgev1.AddChatroomSuperAdminResponse, error) {
	v := newViolations(ctx)
	app := v.app("parent", req.GetParent())
	v.username("username", req.GetUsername())
	a, err := s.vendorApp(v, app)
	if err != nil {
		return nil, err
	}
	if err := a.AddSuperAdmin(ctx, req.GetUsername()); err != nil {
		return nil, &userTarget{req.GetUsername(), err}
	}
	return &imbridgev1.AddChatroomSuperAdminResponse{}, nil
}

// RemoveChatroomSuperAdmin takes super-admin rights away.
func (s *ChatroomService) RemoveChatroomSuperAdmin(ctx context.Context, req *imbridgev1.RemoveChatroomSuperAdminRequest) (*imbridgev1.RemoveChatroomSuperAdminResponse, error) {
	v := newViolations(ctx)
	app, user := v.superAdmin("name", req.GetName())
	a, err := s.vendorApp(v, app)
	if err != nil {
		return nil, err
	}
	if err := a.RemoveSuperAdmin(ctx, user); err != nil {
		return nil, &userTarget{user, err}
	}
	return &imbridgev1.RemoveChatroomSuperAdminResponse{}, nil
}

// ListChatroomMutes lists a room's mute list (returned whole by the
// vendor; imbridge pages it).
func (s *ChatroomService) ListChatroomMutes(ctx context.Context, req *imbridgev1.ListChatroomMutesRequest) (*imbridgev1.ListChatroomMutesResponse, error) {
	v := newViolations(ctx)
	room := v.room("parent", req.GetParent())
	size := v.pageSize("page_size", req.GetPageSize(), maxVendorPageSize, maxVendorPageSize)
	off := v.offsetOf(req, req.GetPageToken())
	a, err := s.vendorApp(v, room.appRef)
	if err != nil {
		return nil, err
	}
	mutes, err := a.ListMutes(ctx, room.id)
	if err != nil {
		return nil, err
	}
	page, next := pageOf(req, mutes, off, size)
	resp := &imbridgev1.ListChatroomMutesResponse{Mutes: make([]*imbridgev1.ChatroomMute, 0, len(page)), NextPageToken: next}
	for _, m := range page {
		resp.Mutes = append(resp.Mutes, &imbridgev1.ChatroomMute{Username: m.Username, ExpireTime: expiry(m.Expire, m.Permanent)})
	}
	return resp, nil
}

// MuteChatroomMember mutes one member.
func (s *ChatroomService) MuteChatroomMember(ctx context.Context, req *imbridgev1.MuteChatroomMemberRequest) (*imbridgev1.MuteChatroomMemberResponse, error) {
	v := newViolations(ctx)
	room := v.room("parent", req.GetParent())
	v.username("username", req.GetUsername())
	d := v.muteDuration(req.GetDuration(), req.GetPermanent(), req.Expiration != nil, "millisecond")
	a, err := s.vendorApp(v, room.appRef)
	if err != nil {
		return nil, err
	}
	res, err := one(ctx, "MuteMembers", req.GetUsername(), func(ctx context.Context, users []string) ([]easemob.ItemResult, error) {
		return a.MuteMembers(ctx, room.id, users, d)
	})
	if err != nil {
		return nil, err
	}
	return &imbridgev1.MuteChatroomMemberResponse{Mute: &imbridgev1.ChatroomMute{
		Username: req.GetUsername(), ExpireTime: expiry(res.Expire, res.Permanent || d == easemob.Permanent),
	}}, nil
}

// MuteChatroomMembers mutes up to 100 members, reporting per user.
func (s *ChatroomService) MuteChatroomMembers(ctx context.Context, req *imbridgev1.MuteChatroomMembersRequest) (*imbridgev1.MuteChatroomMembersResponse, error) {
	v := newViolations(ctx)
	room := v.room("parent", req.GetParent())
	v.usernames("usernames", req.GetUsernames(), maxMuteMembers)
	d := v.muteDuration(req.GetDuration(), req.GetPermanent(), req.Expiration != nil, "millisecond")
	a, err := s.vendorApp(v, room.appRef)
	if err != nil {
		return nil, err
	}
	res, err := a.MuteMembers(ctx, room.id, req.GetUsernames(), d)
	if err != nil {
		return nil, err
	}
	byUser := resultsByUser(res)
	resp := &imbridgev1.MuteChatroomMembersResponse{Results: make([]*imbridgev1.ChatroomMuteResult, 0, len(req.GetUsernames()))}
	for _, u := range req.GetUsernames() {
		r, ok := byUser[strings.ToLower(u)]
		out := &imbridgev1.ChatroomMuteResult{Username: u, Success: ok && r.OK, Reason: r.Reason}
		switch {
		case !ok:
			out.Reason = noResult
		case r.OK:
			out.ExpireTime = expiry(r.Expire, r.Permanent || d == easemob.Permanent)
		}
		resp.Results = append(resp.Results, out)
	}
	return resp, nil
}

// UnmuteChatroomMember lifts one user's mute.
func (s *ChatroomService) UnmuteChatroomMember(ctx context.Context, req *imbridgev1.UnmuteChatroomMemberRequest) (*imbridgev1.UnmuteChatroomMemberResponse, error) {
	room, user, a, err := s.entry(ctx, req.GetName(), "mutes")
	if err != nil {
		return nil, err
	}
	if _, err := one(ctx, "UnmuteMembers", user, func(ctx context.Context, users []string) ([]easemob.ItemResult, error) {
		return a.UnmuteMembers(ctx, room.id, users)
	}); err != nil {
		return nil, err
	}
	return &imbridgev1.UnmuteChatroomMemberResponse{}, nil
}

// UnmuteChatroomMembers lifts up to 60 users' mutes, reporting per user.
func (s *ChatroomService) UnmuteChatroomMembers(ctx context.Context, req *imbridgev1.UnmuteChatroomMembersRequest) (*imbridgev1.UnmuteChatroomMembersResponse, error) {
	room, a, err := s.roomUsers(ctx, req.GetParent(), req.GetUsernames(), maxUnmuteMembers)
	if err != nil {
		return nil, err
	}
	res, err := a.UnmuteMembers(ctx, room.id, req.GetUsernames())
	if err != nil {
		return nil, err
	}
	return &imbridgev1.UnmuteChatroomMembersResponse{Results: batchResults(req.GetUsernames(), res)}, nil
}

// MuteAllChatroomMembers turns mute-all on.
func (s *ChatroomService) MuteAllChatroomMembers(ctx context.Context, req *imbridgev1.MuteAllChatroomMembersRequest) (*imbridgev1.MuteAllChatroomMembersResponse, error) {
	room, a, err := s.roomOnly(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	if err := a.MuteAll(ctx, room.id); err != nil {
		return nil, err
	}
	return &imbridgev1.MuteAllChatroomMembersResponse{}, nil
}

// UnmuteAllChatroomMembers turns mute-all off.
func (s *ChatroomService) UnmuteAllChatroomMembers(ctx context.Context, req *imbridgev1.UnmuteAllChatroomMembersRequest) (*imbridgev1.UnmuteAllChatroomMembersResponse, error) {
	room, a, err := s.roomOnly(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	if err := a.UnmuteAll(ctx, room.id); err != nil {
		return nil, err
	}
	return &imbridgev1.UnmuteAllChatroomMembersResponse{}, nil
}

// MuteChatroomTag mutes the members carrying a tag.
func (s *ChatroomService) MuteChatroomTag(ctx context.Context, req *imbridgev1.MuteChatroomTagRequest) (*imbridgev1.MuteChatroomTagResponse, error) {
	v := newViolations(ctx)
	room := v.room("name", req.GetName())
	v.tag("tag", req.GetTag())
	d := v.muteDuration(req.GetDuration(), req.GetPermanent(), req.Action != nil, "second")
	a, err := s.vendorApp(v, room.appRef)
	if err != nil {
		return nil, err
	}
	if err := a.MuteTag(ctx, room.id, req.GetTag(), d); err != nil {
		return nil, err
	}
	return &imbridgev1.MuteChatroomTagResponse{}, nil
}

// SetChatroomMemberTags replaces a member's tags.
func (s *ChatroomService) SetChatroomMemberTags(ctx context.Context, req *imbridgev1.SetChatroomMemberTagsRequest) (*imbridgev1.SetChatroomMemberTagsResponse, error) {
	v := newViolations(ctx)
	room, user := v.entry("name", req.GetName(), "members")
	if tags := req.GetTags(); len(tags) > maxTags {
		v.add("tags", "%d tags, at most %d are allowed (vendor limit)", len(tags), maxTags)
	} else {
		for i, t := range tags {
			v.tag(indexed("tags", i), t)
		}
	}
	a, err := s.vendorApp(v, room.appRef)
	if err != nil {
		return nil, err
	}
	tags := req.GetTags()
	if tags == nil {
		tags = []string{} // the vendor's `[]` deletes them all
	}
	if err := a.SetMemberTags(ctx, room.id, user, tags); err != nil {
		return nil, &userTarget{user, err}
	}
	return &imbridgev1.SetChatroomMemberTagsResponse{}, nil
}

// GetChatroomMemberTags returns a member's tags.
func (s *ChatroomService) GetChatroomMemberTags(ctx context.Context, req *imbridgev1.GetChatroomMemberTagsRequest) (*imbridgev1.GetChatroomMemberTagsResponse, error) {
	room, user, a, err := s.entry(ctx, req.GetName(), "members")
	if err != nil {
		return nil, err
	}
	tags, err := a.GetMemberTags(ctx, room.id, user)
	if err != nil {
		return nil, &userTarget{user, err}
	}
	resp := &imbridgev1.GetChatroomMemberTagsResponse{Tags: make([]*imbridgev1.MemberTag, 0, len(tags))}
	for _, t := range tags {
		resp.Tags = append(resp.Tags, &imbridgev1.MemberTag{Tag: t.Tag, ExpireTime: expiry(t.Expire, t.Permanent)})
	}
	return resp, nil
}

// roomOnly checks a request naming only a room.
func (s *ChatroomService) roomOnly(ctx context.Context, name string) (roomRef, *easemob.App, error) {
	v := newViolations(ctx)
	room := v.room("name", name)
	a, err := s.vendorApp(v, room.appRef)
	return room, a, err
}

// roomUser checks a request naming a room (parent) and one user (username).
func (s *ChatroomService) roomUser(ctx context.Context, parent, username string) (roomRef, *easemob.App, error) {
	v := newViolations(ctx)
	room := v.room("parent", parent)
	v.username("username", username)
	a, err := s.vendorApp(v, room.appRef)
	return room, a, err
}

// roomUsers checks a batch request: a room (parent) and 1 to max usernames.
func (s *ChatroomService) roomUsers(ctx context.Context, parent string, usernames []string, max int) (roomRef, *easemob.App, error) {
	v := newViolations(ctx)
	room := v.room("parent", parent)
	v.usernames("usernames", usernames, max)
	a, err := s.vendorApp(v, room.appRef)
	return room, a, err
}

// entry checks a request naming one entry of a room's collection,
// `…/chatrooms/{chatroom}/{collection}/{username}`.
func (s *ChatroomService) entry(ctx context.Context, name, collection string) (roomRef, string, *easemob.App, error) {
	v := newViolations(ctx)
	room, user := v.entry("name", name, collection)
	a, err := s.vendorApp(v, room.appRef)
	return room, user, a, err
}

// listUsers serves a list of usernames the vendor returns whole, a page at
// a time.
func (s *ChatroomService) listUsers(ctx context.Context, req proto.Message, parent string, pageSize int32, token string,
	list func(*easemob.App, context.Context, string) ([]string, error)) ([]string, string, error) {
	v := newViolations(ctx)
	room := v.room("parent", parent)
	size := v.pageSize("page_size", pageSize, maxVendorPageSize, maxVendorPageSize)
	off := v.offsetOf(req, token)
	a, err := s.vendorApp(v, room.appRef)
	if err != nil {
		return nil, "", err
	}
	users, err := list(a, ctx, room.id)
	if err != nil {
		return nil, "", err
	}
	page, next := pageOf(req, users, off, size)
	if page == nil {
		page = []string{}
	}
	return page, next, nil
}

// noResult is the reason of a user the vendor's batch answer left out.
const noResult = "the vendor reported no result for this user"

// batchResults maps a vendor batch answer to one result per requested
// user, in the order asked.
func batchResults(asked []string, got []easemob.ItemResult) []*imbridgev1.BatchResult {
	byUser := resultsByUser(got)
	out := make([]*imbridgev1.BatchResult, 0, len(asked))
	for _, u := range asked {
		r, ok := byUser[strings.ToLower(u)]
		switch {
		case !ok:
			out = append(out, &imbridgev1.BatchResult{Username: u, Reason: noResult})
		default:
			out = append(out, &imbridgev1.BatchResult{Username: u, Success: r.OK, Reason: r.Reason})
		}
	}
	return out
}

// resultsByUser indexes batch results by username (case-insensitive, as
// Easemob usernames are).
func resultsByUser(got []easemob.ItemResult) map[string]easemob.ItemResult {
	m := make(map[string]easemob.ItemResult, len(got))
	for _, r := range got {
		m[strings.ToLower(r.Username)] = r
	}
	return m
}

// one sends a batch of one user and turns a refusal of that user into an
// error (FAILED_PRECONDITION, VENDOR_REFUSED).
func one(ctx context.Context, op, user string, batch func(context.Context, []string) ([]easemob.ItemResult, error)) (easemob.ItemResult, error) {
	res, err := batch(ctx, []string{user})
	if err != nil {
		return easemob.ItemResult{}, &userTarget{user, err}
	}
	r, ok := resultsByUser(res)[strings.ToLower(user)]
	switch {
	case !ok:
		return r, &userTarget{user, &easemob.Error{Status: http.StatusOK, Type: easemob.TypeResultFalse, Description: noResult, Op: op}}
	case !r.OK:
		reason := r.Reason
		if reason == "" {
			reason = "the vendor reported result false"
		}
		return r, &userTarget{user, &easemob.Error{Status: http.StatusOK, Type: easemob.TypeResultFalse, Description: reason, Op: op}}
	}
	return r, nil
}

// muteDuration checks a mute's expiration, a oneof of duration and
// permanent (set: one of them is set), in the vendor's unit.
func (v *violations) muteDuration(d *durationpb.Duration, permanent, set bool, unit string) easemob.MuteDuration {
	switch {
	case !set:
		v.add("duration", "required: set duration, or permanent to true")
	case d != nil:
		v.duration("duration", d, unit)
		return easemob.MuteDuration(d.AsDuration())
	case permanent:
		return easemob.Permanent
	default:
		v.add("permanent", "must be true when set; to mute for a time, set duration instead")
	}
	return 0
}

// expiry is the timestamp of an expiry, nil when permanent or unknown.
func expiry(t time.Time, permanent bool) *timestamppb.Timestamp {
	if permanent {
		return nil
	}
	return vendorTime(t)
}

func equalFoldUser(a, b string) bool { return strings.EqualFold(a, b) }
