package server

import (
	"context"
	"fmt"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/easemob"
)

// The announcement and custom attributes of ChatroomService.

// GetChatroomAnnouncement returns a room's announcement.
func (s *ChatroomService) GetChatroomAnnouncement(ctx context.Context, req *imbridgev1.GetChatroomAnnouncementRequest) (*imbridgev1.GetChatroomAnnouncementResponse, error) {
	v := newViolations(ctx)
	room := v.announcement("name", req.GetName())
	a, err := s.vendorApp(v, room.appRef)
	if err != nil {
		return nil, err
	}
	text, err := a.GetAnnouncement(ctx, room.id)
	if err != nil {
		return nil, err
	}
	return &imbridgev1.GetChatroomAnnouncementResponse{Announcement: &imbridgev1.ChatroomAnnouncement{Name: req.GetName(), Text: text}}, nil
}

// UpdateChatroomAnnouncement replaces a room's announcement; empty text
// clears it.
func (s *ChatroomService) UpdateChatroomAnnouncement(ctx context.Context, req *imbridgev1.UpdateChatroomAnnouncementRequest) (*imbridgev1.UpdateChatroomAnnouncementResponse, error) {
	v := newViolations(ctx)
	ann := req.GetAnnouncement()
	if ann == nil {
		v.add("announcement", "required")
	}
	room := v.announcement("announcement.name", ann.GetName())
	v.maxChars("announcement.text", ann.GetText(), maxAnnouncement)
	paths := req.GetUpdateMask().GetPaths()
	named, bad := false, false
	for i, p := range paths {
		switch p {
		case "text", "*":
			named = true
		case "name", "": // the identifier, or grpc-gateway's mask of an empty body
		default:
			bad = true
			v.add(indexed("update_mask.paths", i), "%q cannot be updated: only text can", p)
		}
	}
	if !named && !bad && len(paths) > 0 {
		// A mask naming only the identifier (or grpc-gateway's mask of a
		// PATCH body {}) names nothing to update, as UpdateChatroom says;
		// taking it as "text" would clear the announcement.
		v.add("update_mask", "names nothing to update: name text")
	}
	a, err := s.vendorApp(v, room.appRef)
	if err != nil {
		return nil, err
	}
	if err := a.UpdateAnnouncement(ctx, room.id, ann.GetText()); err != nil {
		return nil, err
	}
	return &imbridgev1.UpdateChatroomAnnouncementResponse{Announcement: &imbridgev1.ChatroomAnnouncement{Name: ann.GetName(), Text: ann.GetText()}}, nil
}

// GetChatroomAttributes returns a room's custom attributes, all or some.
func (s *ChatroomService) GetChatroomAttributes(ctx context.Context, req *imbridgev1.GetChatroomAttributesRequest) (*imbridgev1.GetChatroomAttributesResponse, error) {
	v := newViolations(ctx)
	room := v.room("parent", req.GetParent())
	v.attributeKeys("keys", req.GetKeys(), maxAttributesPerRoom)
	a, err := s.vendorApp(v, room.appRef)
	if err != nil {
		return nil, err
	}
	attrs, err := a.GetAttributes(ctx, room.id, req.GetKeys())
	if err != nil {
		return nil, err
	}
	return &imbridgev1.GetChatroomAttributesResponse{Attributes: attrs}, nil
}

// SetChatroomAttributes sets attributes a member owns.
func (s *ChatroomService) SetChatroomAttributes(ctx context.Context, req *imbridgev1.SetChatroomAttributesRequest) (*imbridgev1.SetChatroomAttributesResponse, error) {
	res, err := s.setAttributes(ctx, req.GetParent(), req.GetUsername(), req.GetAttributes(), req.GetAutoDelete(), false)
	if err != nil {
		return nil, err
	}
	return &imbridgev1.SetChatroomAttributesResponse{SuccessfulKeys: res.SuccessKeys, FailedKeys: res.ErrorKeys}, nil
}

// ForceSetChatroomAttributes sets attributes, taking over keys other users
// own.
func (s *ChatroomService) ForceSetChatroomAttributes(ctx context.Context, req *imbridgev1.ForceSetChatroomAttributesRequest) (*imbridgev1.ForceSetChatroomAttributesResponse, error) {
	res, err := s.setAttributes(ctx, req.GetParent(), req.GetUsername(), req.GetAttributes(), req.GetAutoDelete(), true)
	if err != nil {
		return nil, err
	}
	return &imbridgev1.ForceSetChatroomAttributesResponse{SuccessfulKeys: res.SuccessKeys, FailedKeys: res.ErrorKeys}, nil
}

// DeleteChatroomAttributes deletes attributes a member owns: the keys
// given, or all of them.
func (s *ChatroomService) DeleteChatroomAttributes(ctx context.Context, req *imbridgev1.DeleteChatroomAttributesRequest) (*imbridgev1.DeleteChatroomAttributesResponse, error) {
	res, err := s.deleteAttributes(ctx, req.GetParent(), req.GetUsername(), req.GetKeys(), false)
	if err != nil {
		return nil, err
	}
	return &imbridgev1.DeleteChatroomAttributesResponse{SuccessfulKeys: res.SuccessKeys, FailedKeys: res.ErrorKeys}, nil
}

// ForceDeleteChatroomAttributes deletes attributes whoever owns them.
func (s *ChatroomService) ForceDeleteChatroomAttributes(ctx context.Context, req *imbridgev1.ForceDeleteChatroomAttributesRequest) (*imbridgev1.ForceDeleteChatroomAttributesResponse, error) {
	res, err := s.deleteAttributes(ctx, req.GetParent(), req.GetUsername(), req.GetKeys(), true)
	if err != nil {
		return nil, err
	}
	return &imbridgev1.ForceDeleteChatroomAttributesResponse{SuccessfulKeys: res.SuccessKeys, FailedKeys: res.ErrorKeys}, nil
}

func (s *ChatroomService) setAttributes(ctx context.Context, parent, username string, attrs map[string]string,
	autoDelete imbridgev1.ChatroomAttributeAutoDelete, force bool) (easemob.AttributeResult, error) {
	v := newViolations(ctx)
	room := v.room("parent", parent)
	v.username("username", username)
	v.attributes("attributes", attrs)
	// An undefined auto_delete is refused before (checkEnums).
	keep := autoDelete == imbridgev1.ChatroomAttributeAutoDelete_CHATROOM_ATTRIBUTE_AUTO_DELETE_NO_DELETE
	a, err := s.vendorApp(v, room.appRef)
	if err != nil {
		return easemob.AttributeResult{}, err
	}
	res, err := a.SetAttributes(ctx, room.id, username, attrs, !keep, force)
	if err != nil {
		return res, &userTarget{username, err}
	}
	return res, nil
}

func (s *ChatroomService) deleteAttributes(ctx context.Context, parent, username string, keys []string, force bool) (easemob.AttributeResult, error) {
	v := newViolations(ctx)
	room := v.room("parent", parent)
	v.username("username", username)
	v.attributeKeys("keys", keys, maxAttributesPerCall)
	a, err := s.vendorApp(v, room.appRef)
	if err != nil {
		return easemob.AttributeResult{}, err
	}
	if len(keys) == 0 {
		keys = nil // the vendor's rule when keys are omitted: all of username's
	}
	res, err := a.DeleteAttributes(ctx, room.id, username, keys, force)
	if err != nil {
		return res, &userTarget{username, fmt.Errorf("delete attributes: %w", err)}
	}
	return res, nil
}
