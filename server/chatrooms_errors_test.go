package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/easemob"
)

// Vendor answers map to canonical codes at the one translation point.
func TestVendorErrorsMapToCanonicalCodes(t *testing.T) {
	const create, update = "/imbridge.v1.ChatroomService/CreateChatroom", "/imbridge.v1.ChatroomService/UpdateChatroom"
	vendor := func(status int, typ, desc string) error {
		return fmt.Errorf("get chatroom: %w", &easemob.Error{Status: status, Type: typ, Description: desc, Op: "GetChatrooms", App: roomsAppkey})
	}
	md := func(status int, typ, desc string) map[string]string {
		return map[string]string{"vendor_error": typ, "vendor_description": desc, "vendor_status": fmt.Sprint(status)}
	}
	token := strings.Repeat("YWMtAbC9", 12)
	cases := []struct {
		name   string
		method string
		err    error
		code   codes.Code
		reason string
		md     map[string]string // nil: INTERNAL, checked apart
		msg    string
	}{
		{"room not found", "", vendor(404, "resource_not_found", "grpID 1 does not exist!"), codes.NotFound, "RESOURCE_NOT_FOUND",
			md(404, "resource_not_found", "grpID 1 does not exist!"), "grpID 1 does not exist!"},
		{"service resource not found", "", vendor(404, "service_resource_not_found", "do not find this group:1"), codes.NotFound, "SERVICE_RESOURCE_NOT_FOUND",
			md(404, "service_resource_not_found", "do not find this group:1"), "do not find"},
		{"not a member, 400", "", vendor(400, "forbidden_op", "users [u] are not members of this group!"), codes.FailedPrecondition, "FORBIDDEN_OP",
			md(400, "forbidden_op", "users [u] are not members of this group!"), "not members"},
		{"not a member, 403", "", vendor(403, "forbidden_op", "users [u] are not members of this group!"), codes.FailedPrecondition, "FORBIDDEN_OP",
			md(403, "forbidden_op", "users [u] are not members of this group!"), "not members"},
		{"quota", "", vendor(403, "exceed_limit", "user u has joined too many chatrooms!"), codes.FailedPrecondition, "EXCEED_LIMIT",
			md(403, "exceed_limit", "user u has joined too many chatrooms!"), "too many"},
		{"feature off, no type", "", vendor(403, "", "Group tag mute is disabled"), codes.FailedPrecondition, "VENDOR_FORBIDDEN",
			md(403, "", "Group tag mute is disabled"), "disabled"},
		{"too long", "", vendor(403, "forbidden_op", "announce info length exceeds limit!"), codes.InvalidArgument, "FORBIDDEN_OP",
			md(403, "forbidden_op", "announce info length exceeds limit!"), "length"},
		{"room id taken", "", vendor(400, "illegal_argument", "group ID r1 already exists!"), codes.AlreadyExists, "ILLEGAL_ARGUMENT",
			md(400, "illegal_argument", "group ID r1 already exists!"), "already exists"},
		{"caller's bad value", "", vendor(400, "invalid_parameter", "addMembers: addMembers number more than maxSize : 100"), codes.InvalidArgument, "INVALID_PARAMETER",
			md(400, "invalid_parameter", "addMembers: addMembers number more than maxSize : 100"), "maxSize"},
		{"not in the room (attributes)", "", vendor(401, "MetadataException", "user is not in chatroom"), codes.FailedPrecondition, "METADATA_EXCEPTION",
			md(401, "MetadataException", "user is not in chatroom"), "not in chatroom"},
		{"key of another user", "", vendor(400, "", "others are not allowed to be set"), codes.FailedPrecondition, ReasonVendorBadRequest,
			md(400, "", "others are not allowed to be set"), "not allowed"},
		{"forbidden otherwise", "", vendor(403, "", "Forbidden"), codes.PermissionDenied, ReasonVendorForbidden, md(403, "", "Forbidden"), "403"},
		{"untyped 404", "", vendor(404, "", "Not Found"), codes.NotFound, ReasonVendorNotFound, md(404, "", "Not Found"), "404"},
		{"vendor timeout", "", vendor(408, "", "Request Timeout"), codes.DeadlineExceeded, ReasonVendorError, md(408, "", "Request Timeout"), "408"},
		{"429 answer", "", vendor(429, "", "Too Many Requests"), codes.ResourceExhausted, ReasonVendorRateLimited, md(429, "", "Too Many Requests"), "429"},
		{"refused item", "", &userTarget{"u1", &easemob.Error{Status: 200, Type: easemob.TypeResultFalse, Description: "user: u1 doesn't exist in group: 1"}},
			codes.FailedPrecondition, ReasonVendorRefused, map[string]string{"username": "u1", "vendor_error": easemob.TypeResultFalse,
				"vendor_description": "user: u1 doesn't exist in group: 1", "vendor_status": "200"}, "doesn't exist"},
		{"a token echoed is blanked", "", vendor(404, "resource_not_found", "token "+token+" unknown"), codes.NotFound, "RESOURCE_NOT_FOUND",
			md(404, "resource_not_found", "token [redacted] unknown"), "[redacted]"},
		{"rate limited after retries", "", fmt.Errorf("%w: %w", easemob.ErrRateLimited, &easemob.Error{Status: 429}), codes.ResourceExhausted, ReasonVendorRateLimited,
			md(429, "", ""), "retry with backoff"},
		{"unavailable", create, fmt.Errorf("%w: dial tcp: connection refused", easemob.ErrUnavailable), codes.Unavailable, ReasonVendorUnavailable,
			map[string]string{}, "retry with backoff"},
		{"outcome unknown, not idempotent", create, fmt.Errorf("%w: %w: read: reset", easemob.ErrUnavailable, easemob.ErrOutcomeUnknown), codes.Unavailable, ReasonVendorUnavailable,
			map[string]string{"outcome": "unknown"}, "the outcome is unknown; check the state before retrying"},
		{"outcome unknown, idempotent", update, fmt.Errorf("%w: %w: read: reset", easemob.ErrUnavailable, easemob.ErrOutcomeUnknown), codes.Unavailable, ReasonVendorUnavailable,
			map[string]string{"outcome": "unknown"}, "retrying is safe"},
		{"client refused an argument", "", fmt.Errorf("%w: acme#chat: MuteTag: tag is empty", easemob.ErrInvalidArgument), codes.InvalidArgument, ReasonInvalidArgument,
			map[string]string{}, "tag is empty"},
		{"our token refused", "", vendor(401, "unauthorized", "Unable to authenticate due to expired access token"), codes.Internal, ReasonInternal, nil, ""},
		{"our client secret refused", "", fmt.Errorf("%w: %w", easemob.ErrTokenFetch, &easemob.Error{Status: 400, Type: "invalid_grant", Description: "client_secret does not match", Op: "Token"}),
			codes.Internal, ReasonInternal, nil, ""},
		{"our app unknown to the vendor", "", fmt.Errorf("%w: %w", easemob.ErrTokenFetch, &easemob.Error{Status: 404, Type: "organization_application_not_found", Description: "Could not find application", Op: "Token"}),
			codes.Internal, ReasonInternal, nil, ""},
		{"our malformed request", "", vendor(400, "invalid_parameter", "some of [chatroom_id] are not valid fields"), codes.Internal, ReasonInternal, nil, ""},
		{"wrong method of ours", "", vendor(405, "", "Method Not Allowed"), codes.Internal, ReasonInternal, nil, ""},
		{"unreadable answer", "", fmt.Errorf("%w: GetChatrooms: no id", easemob.ErrUnexpectedResponse), codes.Internal, ReasonInternal, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			logs := &logBuffer{}
			tr := errorTranslator{log: slog.New(slog.NewJSONHandler(logs, nil))}
			method := c.method
			if method == "" {
				method = "/imbridge.v1.ChatroomService/GetChatroom"
			}
			err := tr.toStatus(context.Background(), method, c.err)
			if c.md == nil {
				st := status.Convert(err)
				if st.Code() != codes.Internal || !internalMessage.MatchString(st.Message()) {
					t.Fatalf("%v, want INTERNAL with a correlation id", err)
				}
				if strings.Contains(st.Message(), "Easemob") || len(logs.lines(t, "correlation_id")) != 1 {
					t.Errorf("INTERNAL carries the cause, or its cause was not logged once: %v", err)
				}
				return
			}
			st := wantStatus(t, err, c.code, c.reason, c.md)
			if !strings.Contains(st.Message(), c.msg) {
				t.Errorf("message %q, want it to contain %q", st.Message(), c.msg)
			}
			if strings.Contains(st.Message(), token) || strings.Contains(st.Message(), "client-secret") {
				t.Errorf("message %q carries a token", st.Message())
			}
		})
	}

	// The caller's own deadline wins over the vendor error it caused.
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	err := errorTranslator{log: slog.New(slog.DiscardHandler)}.toStatus(ctx, create, fmt.Errorf("%w: %w", easemob.ErrUnavailable, context.DeadlineExceeded))
	wantStatus(t, err, codes.DeadlineExceeded, ReasonDeadlineExceeded, nil)
}

func TestUpperSnake(t *testing.T) {
	for in, want := range map[string]string{
		"resource_not_found": "RESOURCE_NOT_FOUND", "MetadataException": "METADATA_EXCEPTION", "auth_bad_access_token": "AUTH_BAD_ACCESS_TOKEN",
		"exceeded-limit": "EXCEEDED_LIMIT", "__x__": "X", "": "", "404_thing": "VENDOR_404_THING", "中文": "",
		strings.Repeat("ab_", 40): strings.TrimRight(strings.Repeat("AB_", 21)[:63], "_"),
	} {
		if got := upperSnake(in); got != want {
			t.Errorf("upperSnake(%q) = %q, want %q", in, got, want)
		}
	}
}

// A room ID or a username of "." or ".." is a dot segment in the vendor's
// URL: /{org}/{app}/chatrooms/../users/bob is the vendor's "delete user"
// (DELETE /{org}/{app}/users/bob) once the path is resolved, and
// GET /{org}/{app}/chatrooms/../users its list of every user of the app.
// Such names must be refused before anything is sent to the vendor.
func TestDotSegmentsNeverReachTheVendor(t *testing.T) {
	var mu sync.Mutex
	var sent []string
	e := startRooms(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			sent = append(sent, r.Method+" "+r.RequestURI)
			mu.Unlock()
			h.ServeHTTP(w, r)
		})
	})
	ctx := ctxT(t)
	calls := map[string]error{}
	_, calls["RemoveChatroomMember room .."] = e.rooms.RemoveChatroomMember(ctx, &imbridgev1.RemoveChatroomMemberRequest{Name: roomsApp + "/chatrooms/../members/bob"})
	_, calls["ListChatroomMembers room .."] = e.rooms.ListChatroomMembers(ctx, &imbridgev1.ListChatroomMembersRequest{Parent: roomsApp + "/chatrooms/.."})
	_, calls["GetChatroom room .."] = e.rooms.GetChatroom(ctx, &imbridgev1.GetChatroomRequest{Name: roomsApp + "/chatrooms/.."})
	_, calls["ListJoinedChatrooms username .."] = e.rooms.ListJoinedChatrooms(ctx, &imbridgev1.ListJoinedChatroomsRequest{Parent: roomsApp, Username: ".."})
	for what, err := range calls {
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want INVALID_ARGUMENT", what, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, s := range sent {
		if strings.Contains(s, "/../") || strings.HasSuffix(strings.SplitN(s, "?", 2)[0], "/..") || strings.Contains(s, "/./") {
			t.Errorf("the vendor got a dot segment: %s", s)
		}
	}
}
