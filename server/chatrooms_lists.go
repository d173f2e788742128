package server

import (
	"context"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/easemob"
)

// The allowlist and blocklist of ChatroomService.

// ListChatroomAllowlist lists a room's allowlist (returned whole by the
// vendor; imbridge pages it).
func (s *ChatroomService) ListChatroomAllowlist(ctx context.Context, req *imbridgev1.ListChatroomAllowlistRequest) (*imbridgev1.ListChatroomAllowlistResponse, error) {
	users, next, err := s.listUsers(ctx, req, req.GetParent(), req.GetPageSize(), req.GetPageToken(), (*easemob.App).ListAllowlist)
	if err != nil {
		return nil, err
	}
	return &imbridgev1.ListChatroomAllowlistResponse{Usernames: users, NextPageToken: next}, nil
}

// AddChatroomAllowlistMember allowlists one member.
func (s *ChatroomService) AddChatroomAllowlistMember(ctx context.Context, req *imbridgev1.AddChatroomAllowlistMemberRequest) (*imbridgev1.AddChatroomAllowlistMemberResponse, error) {
	room, a, err := s.roomUser(ctx, req.GetParent(), req.GetUsername())
	if err != nil {
		return nil, err
	}
	if err := a.AddAllowlistMember(ctx, room.id, req.GetUsername()); err != nil {
		return nil, &userTarget{req.GetUsername(), err}
	}
	return &imbridgev1.AddChatroomAllowlistMemberResponse{}, nil
}

// AddChatroomAllowlistMembers allowlists up to 100 members, reporting per
// user.
func (s *ChatroomService) AddChatroomAllowlistMembers(ctx context.Context, req *imbridgev1.AddChatroomAllowlistMembersRequest) (*imbridgev1.AddChatroomAllowlistMembersResponse, error) {
	room, a, err := s.roomUsers(ctx, req.GetParent(), req.GetUsernames(), maxAllowlistAdd)
	if err != nil {
		return nil, err
	}
	res, err := a.AddAllowlistMembers(ctx, room.id, req.GetUsernames())
	if err != nil {
		return nil, err
	}
	return &imbridgev1.AddChatroomAllowlistMembersResponse{Results: batchResults(req.GetUsernames(), res)}, nil
}

// RemoveChatroomAllowlistMember removes one user from the allowlist.
func (s *ChatroomService) RemoveChatroomAllowlistMember(ctx context.Context, req *imbridgev1.RemoveChatroomAllowlistMemberRequest) (*imbridgev1.RemoveChatroomAllowlistMemberResponse, error) {
	room, user, a, err := s.entry(ctx, req.GetName(), "allowlist")
	if err != nil {
		return nil, err
	}
	if _, err := one(ctx, "RemoveAllowlistMembers", user, func(ctx context.Context, users []string) ([]easemob.ItemResult, error) {
		return a.RemoveAllowlistMembers(ctx, room.id, users)
	}); err != nil {
		return nil, err
	}
	return &imbridgev1.RemoveChatroomAllowlistMemberResponse{}, nil
}

// RemoveChatroomAllowlistMembers removes up to 60 users from the
// allowlist, reporting per user.
func (s *ChatroomService) RemoveChatroomAllowlistMembers(ctx context.Context, req *imbridgev1.RemoveChatroomAllowlistMembersRequest) (*imbridgev1.RemoveChatroomAllowlistMembersResponse, error) {
	room, a, err := s.roomUsers(ctx, req.GetParent(), req.GetUsernames(), maxAllowlistRemove)
	if err != nil {
		return nil, err
	}
	res, err := a.RemoveAllowlistMembers(ctx, room.id, req.GetUsernames())
	if err != nil {
		return nil, err
	}
	return &imbridgev1.RemoveChatroomAllowlistMembersResponse{Results: batchResults(req.GetUsernames(), res)}, nil
}

// ListChatroomBlocklist lists a room's blocklist (returned whole by the
// vendor; imbridge pages it).
func (s *ChatroomService) ListChatroomBlocklist(ctx context.Context, req *imbridgev1.ListChatroomBlocklistRequest) (*imbridgev1.ListChatroomBlocklistResponse, error) {
	users, next, err := s.listUsers(ctx, req, req.GetParent(), req.GetPageSize(), req.GetPageToken(), (*easemob.App).ListBlocklist)
	if err != nil {
		return nil, err
	}
	return &imbridgev1.ListChatroomBlocklistResponse{Usernames: users, NextPageToken: next}, nil
}

// AddChatroomBlocklistMember blocks one member.
func (s *ChatroomService) AddChatroomBlocklistMember(ctx context.Context, req *imbridgev1.AddChatroomBlocklistMemberRequest) (*imbridgev1.AddChatroomBlocklistMemberResponse, error) {
	room, a, err := s.roomUser(ctx, req.GetParent(), req.GetUsername())
	if err != nil {
		return nil, err
	}
	if err := a.AddBlocklistMember(ctx, room.id, req.GetUsername()); err != nil {
		return nil, &userTarget{req.GetUsername(), err}
	}
	return &imbridgev1.AddChatroomBlocklistMemberResponse{}, nil
}

// AddChatroomBlocklistMembers blocks up to 60 members, reporting per user.
func (s *ChatroomService) AddChatroomBlocklistMembers(ctx context.Context, req *imbridgev1.AddChatroomBlocklistMembersRequest) (*imbridgev1.AddChatroomBlocklistMembersResponse, error) {
	room, a, err := s.roomUsers(ctx, req.GetParent(), req.GetUsernames(), maxBlocklistAdd)
	if err != nil {
		return nil, err
	}
	res, err := a.AddBlocklistMembers(ctx, room.id, req.GetUsernames())
	if err != nil {
		return nil, err
	}
	return &imbridgev1.AddChatroomBlocklistMembersResponse{Results: batchResults(req.GetUsernames(), res)}, nil
}

// RemoveChatroomBlocklistMember unblocks one user.
func (s *ChatroomService) RemoveChatroomBlocklistMember(ctx context.Context, req *imbridgev1.RemoveChatroomBlocklistMemberRequest) (*imbridgev1.RemoveChatroomBlocklistMemberResponse, error) {
	room, user, a, err := s.entry(ctx, req.GetName(), "blocklist")
	if err != nil {
		return nil, err
	}
	if _, err := one(ctx, "RemoveBlocklistMembers", user, func(ctx context.Context, users []string) ([]easemob.ItemResult, error) {
		return a.RemoveBlocklistMembers(ctx, room.id, users)
	}); err != nil {
		return nil, err
	}
	return &imbridgev1.RemoveChatroomBlocklistMemberResponse{}, nil
}

// RemoveChatroomBlocklistMembers unblocks up to 60 users, reporting per
// user.
func (s *ChatroomService) RemoveChatroomBlocklistMembers(ctx context.Context, req *imbridgev1.RemoveChatroomBlocklistMembersRequest) (*imbridgev1.RemoveChatroomBlocklistMembersResponse, error) {
	room, a, err := s.roomUsers(ctx, req.GetParent(), req.GetUsernames(), maxBlocklistRemove)
	if err != nil {
		return nil, err
	}
	res, err := a.RemoveBlocklistMembers(ctx, room.id, req.GetUsernames())
	if err != nil {
		return nil, err
	}
	return &imbridgev1.RemoveChatroomBlocklistMembersResponse{Results: batchResults(req.GetUsernames(), res)}, nil
}
