package server

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/easemob"
	"github.com/imbridge/imbridge/internal/emulator"
)

const (
	roomsAppkey = "acme#chat"
	roomsApp    = "orgs/acme/apps/chat"
)

// roomsEnv is a ChatroomService served with the real interceptor chain
// over bufconn, its vendor the emulator behind an HTTP server.
type roomsEnv struct {
	emu   *emulator.Emulator
	rooms imbridgev1.ChatroomServiceClient
	logs  *logBuffer
}

// startRooms starts the emulator (through wrap, if given), a vendor client
// with short backoffs, and the server.
func startRooms(t *testing.T, wrap func(http.Handler) http.Handler) *roomsEnv {
	t.Helper()
	emu, err := emulator.New(emulator.Options{
		Apps:            []emulator.App{{Appkey: roomsAppkey, ClientID: "client-id", ClientSecret: "client-secret-0123456789"}},
		AutoCreateUsers: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = emu
	if wrap != nil {
		h = wrap(emu)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	t.Cleanup(func() { _ = emu.Close() })
	vendor, err := easemob.New([]easemob.AppConfig{{Appkey: roomsAppkey, BaseURL: hs.URL, ClientID: "client-id", ClientSecret: "client-secret-0123456789"}},
		easemob.Options{BackoffInitial: time.Millisecond, BackoffMax: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(vendor.Close)

	r := serve(t, Options{Events: &EventService{Store: &fakeStore{}}, Chatrooms: &ChatroomService{Vendor: vendor}})
	return &roomsEnv{emu: emu, rooms: imbridgev1.NewChatroomServiceClient(r.conn), logs: r.logs}
}

// createRoom creates a room owned by "owner" with members and returns its
// name.
func (e *roomsEnv) createRoom(t *testing.T, members ...string) string {
	t.Helper()
	resp, err := e.rooms.CreateChatroom(ctxT(t), &imbridgev1.CreateChatroomRequest{Parent: roomsApp,
		Chatroom: &imbridgev1.Chatroom{DisplayName: "room", Description: "d", Owner: "owner", Members: members}})
	if err != nil {
		t.Fatalf("CreateChatroom: %v", err)
	}
	return resp.GetChatroom().GetName()
}

func users(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("u%d", i)
	}
	return out
}

// badRequestFields checks that err is INVALID_ARGUMENT with our ErrorInfo
// and a BadRequest, and returns the fields it names, sorted.
func badRequestFields(t *testing.T, err error) []string {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("code %v (%v), want InvalidArgument", st.Code(), err)
	}
	var fields []string
	var info *errdetails.ErrorInfo
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				if v.GetDescription() == "" {
					t.Errorf("violation of %s has no description", v.GetField())
				}
				fields = append(fields, v.GetField())
			}
		case *errdetails.ErrorInfo:
			info = d
		}
	}
	if info.GetReason() != ReasonInvalidArgument || info.GetDomain() != ErrorDomain {
		t.Errorf("ErrorInfo %v, want %s/%s", info, ErrorDomain, ReasonInvalidArgument)
	}
	for _, f := range fields {
		if !strings.Contains(st.Message(), f) || !strings.Contains(info.GetMetadata()["field"], f) {
			t.Errorf("message %q or metadata %v does not name %s", st.Message(), info.GetMetadata(), f)
		}
	}
	slices.Sort(fields)
	return fields
}

// Every documented limit is checked before anything is sent, and one
// INVALID_ARGUMENT names every bad field.
func TestChatroomValidation(t *testing.T) {
	e := startRooms(t, nil)
	room := roomsApp + "/chatrooms/1"
	long := func(n int) string { return strings.Repeat("x", n) }
	wide := strings.Repeat("é", 129) // 129 characters, 258 bytes
	dur := func(d time.Duration) *durationpb.Duration { return durationpb.New(d) }
	mask := func(paths ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: paths} }
	ten := map[string]string{}
	for i := range 11 {
		ten[fmt.Sprintf("k%d", i)] = "v"
	}
	cases := []struct {
		name string
		call func(context.Context, imbridgev1.ChatroomServiceClient) error
		want []string
	}{
		{"create: nothing", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.CreateChatroom(ctx, &imbridgev1.CreateChatroomRequest{})
			return err
		}, []string{"chatroom", "chatroom.description", "chatroom.display_name", "chatroom.owner", "parent"}},
		{"create: every limit", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.CreateChatroom(ctx, &imbridgev1.CreateChatroomRequest{Parent: roomsApp, ChatroomId: "Not-Lower", RequestId: "tab\t",
				Chatroom: &imbridgev1.Chatroom{DisplayName: wide, Description: long(513), MaxUsers: 10001, Owner: "o/wner", Custom: long(8193)}})
			return err
		}, []string{"chatroom.custom", "chatroom.description", "chatroom.display_name", "chatroom.max_users", "chatroom.owner", "chatroom_id", "request_id"}},
		{"create: members", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.CreateChatroom(ctx, &imbridgev1.CreateChatroomRequest{Parent: roomsApp,
				Chatroom: &imbridgev1.Chatroom{DisplayName: "n", Description: "d", MaxUsers: -1, Owner: "o", Members: []string{"a", "O", "A"}}})
			return err
		}, []string{"chatroom.max_users", "chatroom.members[1]", "chatroom.members[2]"}},
		{"create: more members than max_users", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.CreateChatroom(ctx, &imbridgev1.CreateChatroomRequest{Parent: roomsApp,
				Chatroom: &imbridgev1.Chatroom{DisplayName: "n", Description: "d", MaxUsers: 2, Owner: "o", Members: users(3)}})
			return err
		}, []string{"chatroom.members"}},
		{"update: limits under a mask", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.UpdateChatroom(ctx, &imbridgev1.UpdateChatroomRequest{UpdateMask: mask("display_name", "max_users", "owner", "description"),
				Chatroom: &imbridgev1.Chatroom{Name: room, Description: long(513)}})
			return err
		}, []string{"chatroom.description", "chatroom.display_name", "chatroom.max_users", "update_mask.paths[2]"}},
		{"update: nothing to update", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.UpdateChatroom(ctx, &imbridgev1.UpdateChatroomRequest{Chatroom: &imbridgev1.Chatroom{Name: "chatrooms/1"}})
			return err
		}, []string{"chatroom.name", "update_mask"}},
		{"update: a mask that names only the room", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.UpdateChatroom(ctx, &imbridgev1.UpdateChatroomRequest{UpdateMask: mask("name"),
				Chatroom: &imbridgev1.Chatroom{Name: room, DisplayName: "n"}})
			return err
		}, []string{"update_mask"}},
		{"transfer: no new owner", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.TransferChatroomOwnership(ctx, &imbridgev1.TransferChatroomOwnershipRequest{Name: room + ",2"})
			return err
		}, []string{"name", "new_owner"}},
		{"batch get: too many", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			names := make([]string, 101)
			for i := range names {
				names[i] = fmt.Sprintf("%s/chatrooms/%d", roomsApp, i)
			}
			_, err := c.BatchGetChatrooms(ctx, &imbridgev1.BatchGetChatroomsRequest{Parent: roomsApp, Names: names})
			return err
		}, []string{"names"}},
		{"batch get: another app, twice", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.BatchGetChatrooms(ctx, &imbridgev1.BatchGetChatroomsRequest{Parent: roomsApp,
				Names: []string{"orgs/other/apps/x/chatrooms/1", room, room}})
			return err
		}, []string{"names[0]", "names[2]"}},
		{"list: negative page size, foreign token", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.ListChatrooms(ctx, &imbridgev1.ListChatroomsRequest{Parent: roomsApp, PageSize: -1, PageToken: "bm90IG91cnM"})
			return err
		}, []string{"page_size", "page_token"}},
		{"list joined: no user", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.ListJoinedChatrooms(ctx, &imbridgev1.ListJoinedChatroomsRequest{Parent: roomsApp + "/"})
			return err
		}, []string{"parent", "username"}},
		{"add members: 101", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.AddChatroomMembers(ctx, &imbridgev1.AddChatroomMembersRequest{Parent: room, Usernames: users(101)})
			return err
		}, []string{"usernames"}},
		{"add members: bad and twice", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.AddChatroomMembers(ctx, &imbridgev1.AddChatroomMembersRequest{Parent: room, Usernames: []string{"a,b", "c", "C", ""}})
			return err
		}, []string{"usernames[0]", "usernames[2]", "usernames[3]"}},
		{"remove members: 61", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.RemoveChatroomMembers(ctx, &imbridgev1.RemoveChatroomMembersRequest{Parent: room, Usernames: users(61)})
			return err
		}, []string{"usernames"}},
		{"remove member: wrong collection", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.RemoveChatroomMember(ctx, &imbridgev1.RemoveChatroomMemberRequest{Name: room + "/admins/u1"})
			return err
		}, []string{"name"}},
		{"mute: 101, no duration", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.MuteChatroomMembers(ctx, &imbridgev1.MuteChatroomMembersRequest{Parent: room, Usernames: users(101)})
			return err
		}, []string{"duration", "usernames"}},
		{"mute: part of a millisecond", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.MuteChatroomMembers(ctx, &imbridgev1.MuteChatroomMembersRequest{Parent: room, Usernames: users(1),
				Expiration: &imbridgev1.MuteChatroomMembersRequest_Duration{Duration: dur(1500 * time.Microsecond)}})
			return err
		}, []string{"duration"}},
		{"mute one: zero, no user", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.MuteChatroomMember(ctx, &imbridgev1.MuteChatroomMemberRequest{Parent: room,
				Expiration: &imbridgev1.MuteChatroomMemberRequest_Duration{Duration: dur(0)}})
			return err
		}, []string{"duration", "username"}},
		{"mute one: permanent false", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.MuteChatroomMember(ctx, &imbridgev1.MuteChatroomMemberRequest{Parent: room, Username: "u1",
				Expiration: &imbridgev1.MuteChatroomMemberRequest_Permanent{Permanent: false}})
			return err
		}, []string{"permanent"}},
		{"unmute: 61", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.UnmuteChatroomMembers(ctx, &imbridgev1.UnmuteChatroomMembersRequest{Parent: room, Usernames: users(61)})
			return err
		}, []string{"usernames"}},
		{"tag mute: long tag, part of a second", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.MuteChatroomTag(ctx, &imbridgev1.MuteChatroomTagRequest{Name: room, Tag: long(33),
				Action: &imbridgev1.MuteChatroomTagRequest_Duration{Duration: dur(1500 * time.Millisecond)}})
			return err
		}, []string{"duration", "tag"}},
		{"member tags: 11", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.SetChatroomMemberTags(ctx, &imbridgev1.SetChatroomMemberTagsRequest{Name: room + "/members/u1", Tags: users(11)})
			return err
		}, []string{"tags"}},
		{"member tags: long, empty", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.SetChatroomMemberTags(ctx, &imbridgev1.SetChatroomMemberTagsRequest{Name: room + "/members/u1", Tags: []string{long(33), ""}})
			return err
		}, []string{"tags[0]", "tags[1]"}},
		{"allowlist add: 101", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.AddChatroomAllowlistMembers(ctx, &imbridgev1.AddChatroomAllowlistMembersRequest{Parent: room, Usernames: users(101)})
			return err
		}, []string{"usernames"}},
		{"allowlist remove: 61", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.RemoveChatroomAllowlistMembers(ctx, &imbridgev1.RemoveChatroomAllowlistMembersRequest{Parent: room, Usernames: users(61)})
			return err
		}, []string{"usernames"}},
		{"blocklist add: 61", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.AddChatroomBlocklistMembers(ctx, &imbridgev1.AddChatroomBlocklistMembersRequest{Parent: room, Usernames: users(61)})
			return err
		}, []string{"usernames"}},
		{"blocklist remove: none", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.RemoveChatroomBlocklistMembers(ctx, &imbridgev1.RemoveChatroomBlocklistMembersRequest{Parent: room})
			return err
		}, []string{"usernames"}},
		{"admins: negative page size", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.ListChatroomAdmins(ctx, &imbridgev1.ListChatroomAdminsRequest{Parent: room, PageSize: -5})
			return err
		}, []string{"page_size"}},
		{"announcement: 513 characters, bad mask", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.UpdateChatroomAnnouncement(ctx, &imbridgev1.UpdateChatroomAnnouncementRequest{UpdateMask: mask("title"),
				Announcement: &imbridgev1.ChatroomAnnouncement{Name: room + "/announcement", Text: long(513)}})
			return err
		}, []string{"announcement.text", "update_mask.paths[0]"}},
		{"attributes set: 11 pairs", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.SetChatroomAttributes(ctx, &imbridgev1.SetChatroomAttributesRequest{Parent: room, Username: "u1", Attributes: ten})
			return err
		}, []string{"attributes"}},
		{"attributes set: key and value rules", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.ForceSetChatroomAttributes(ctx, &imbridgev1.ForceSetChatroomAttributesRequest{Parent: room,
				Attributes: map[string]string{"bad key": "v", long(129): "v", "ok": long(4097)}, AutoDelete: 7})
			return err
		}, []string{"attributes[" + long(129) + "]", "attributes[bad key]", "attributes[ok]", "auto_delete", "username"}},
		{"attributes set: undefined auto_delete", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.SetChatroomAttributes(ctx, &imbridgev1.SetChatroomAttributesRequest{Parent: room, Username: "u1",
				Attributes: map[string]string{"k": "v"}, AutoDelete: 7})
			return err
		}, []string{"auto_delete"}},
		{"attributes set: none", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.SetChatroomAttributes(ctx, &imbridgev1.SetChatroomAttributesRequest{Parent: room, Username: "u1"})
			return err
		}, []string{"attributes"}},
		{"attributes delete: 11 keys", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.DeleteChatroomAttributes(ctx, &imbridgev1.DeleteChatroomAttributesRequest{Parent: room, Username: "u1", Keys: users(11)})
			return err
		}, []string{"keys"}},
		{"attributes get: 101 keys", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.GetChatroomAttributes(ctx, &imbridgev1.GetChatroomAttributesRequest{Parent: room, Keys: users(101)})
			return err
		}, []string{"keys"}},
		{"super admin: bad name", func(ctx context.Context, c imbridgev1.ChatroomServiceClient) error {
			_, err := c.RemoveChatroomSuperAdmin(ctx, &imbridgev1.RemoveChatroomSuperAdminRequest{Name: roomsApp + "/superAdmins/u1"})
			return err
		}, []string{"name"}},
	}
	before := e.emu.Requests()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := badRequestFields(t, c.call(ctxT(t), e.rooms))
			want := slices.Sorted(slices.Values(c.want))
			if !slices.Equal(got, want) {
				t.Errorf("fields %q, want %q", got, want)
			}
		})
	}
	if after := e.emu.Requests(); !maps.Equal(before, after) {
		t.Errorf("invalid requests reached the vendor: requests %v, then %v", before, after)
	}
}

// An app imbridge holds no credentials for is NOT_FOUND before anything is
// sent.
func TestChatroomUnknownApp(t *testing.T) {
	e := startRooms(t, nil)
	before := e.emu.Requests()
	_, err := e.rooms.GetChatroom(ctxT(t), &imbridgev1.GetChatroomRequest{Name: "orgs/other/apps/x/chatrooms/1"})
	wantStatus(t, err, codes.NotFound, ReasonAppNotConfigured, map[string]string{"appkey": "other#x"})
	if after := e.emu.Requests(); !maps.Equal(before, after) {
		t.Errorf("requests %v, then %v", before, after)
	}
}

// Without a vendor client every RPC answers UNIMPLEMENTED, as the stub.
func TestChatroomWithoutVendorIsUnimplemented(t *testing.T) {
	r := start(t, &EventService{Store: &fakeStore{}})
	_, err := imbridgev1.NewChatroomServiceClient(r.conn).DeleteChatroom(ctxT(t), &imbridgev1.DeleteChatroomRequest{Name: "x"})
	st := wantStatus(t, err, codes.Unimplemented, "UNIMPLEMENTED", nil)
	if st.Message() != "method DeleteChatroom not implemented" {
		t.Errorf("message %q", st.Message())
	}
}

// Batch answers are reported per user, in the order asked, never as one
// error; a single-user RPC served by a batch endpoint fails when its user
// is refused.
func TestChatroomBatchResultsPerUser(t *testing.T) {
	e := startRooms(t, nil)
	ctx := ctxT(t)
	room := e.createRoom(t, "u1", "u2", "u3")
	resp, err := e.rooms.RemoveChatroomMembers(ctx, &imbridgev1.RemoveChatroomMembersRequest{Parent: room, Usernames: []string{"u2", "stranger", "u1"}})
	if err != nil {
		t.Fatalf("RemoveChatroomMembers: %v", err)
	}
	var got []string
	for _, r := range resp.GetResults() {
		got = append(got, fmt.Sprintf("%s=%v", r.GetUsername(), r.GetSuccess()))
		if !r.GetSuccess() && r.GetReason() == "" {
			t.Errorf("%s failed without a reason", r.GetUsername())
		}
	}
	if want := []string{"u2=true", "stranger=false", "u1=true"}; !slices.Equal(got, want) {
		t.Errorf("results %v, want %v", got, want)
	}

	mutes, err := e.rooms.MuteChatroomMembers(ctx, &imbridgev1.MuteChatroomMembersRequest{Parent: room, Usernames: []string{"u3"},
		Expiration: &imbridgev1.MuteChatroomMembersRequest_Duration{Duration: durationpb.New(time.Minute)}})
	if err != nil || len(mutes.GetResults()) != 1 || !mutes.GetResults()[0].GetSuccess() || mutes.GetResults()[0].GetExpireTime() == nil {
		t.Errorf("MuteChatroomMembers = %v, %v; want one success with an expiry", mutes, err)
	}

	// The allowlist removal of a user not on it: a batch of one, refused.
	_, err = e.rooms.RemoveChatroomAllowlistMember(ctx, &imbridgev1.RemoveChatroomAllowlistMemberRequest{Name: room + "/allowlist/nobody"})
	if st := status.Convert(err); st.Code() != codes.FailedPrecondition && st.Code() != codes.NotFound {
		t.Errorf("RemoveChatroomAllowlistMember(nobody) = %v, want FAILED_PRECONDITION", err)
	}
}

// A request_id makes a retried create return the first room; reused for
// another room it is refused.
func TestChatroomCreateRequestID(t *testing.T) {
	e := startRooms(t, nil)
	req := &imbridgev1.CreateChatroomRequest{Parent: roomsApp, RequestId: "4f7d-1",
		Chatroom: &imbridgev1.Chatroom{DisplayName: "once", Description: "d", Owner: "owner"}}
	first, err := e.rooms.CreateChatroom(ctxT(t), req)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.rooms.CreateChatroom(ctxT(t), req)
	if err != nil || again.GetChatroom().GetName() != first.GetChatroom().GetName() {
		t.Errorf("retry = %v, %v; want %s", again.GetChatroom().GetName(), err, first.GetChatroom().GetName())
	}
	if n := e.emu.Requests()["CreateChatroom"]; n != 1 {
		t.Errorf("the vendor saw %d creates, want 1", n)
	}
	req.Chatroom.DisplayName = "another"
	_, err = e.rooms.CreateChatroom(ctxT(t), req)
	if got := badRequestFields(t, err); !slices.Equal(got, []string{"request_id"}) {
		t.Errorf("fields %v, want request_id", got)
	}
}

// A create whose answer the caller gave up on (its deadline passed while
// the vendor was creating the room) and that it retries with the same
// request_id returns the room the vendor created, rather than creating a
// second one: the first create runs to its end.
func TestChatroomCreateRequestIDOutlivesTheCaller(t *testing.T) {
	release := make(chan struct{})
	e := startRooms(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/chatrooms") {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r) // the room exists now; the answer waits
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
			maps.Copy(w.Header(), rec.Header())
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
		})
	})
	req := &imbridgev1.CreateChatroomRequest{Parent: roomsApp, RequestId: "4f7d-2",
		Chatroom: &imbridgev1.Chatroom{DisplayName: "once", Description: "d", Owner: "owner"}}
	ctx, cancel := context.WithTimeout(ctxT(t), 300*time.Millisecond)
	defer cancel()
	if _, err := e.rooms.CreateChatroom(ctx, req); status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("the first create: %v, want its deadline exceeded", err)
	}
	close(release)
	got, err := e.rooms.CreateChatroom(ctxT(t), req)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	list, err := e.rooms.ListChatrooms(ctxT(t), &imbridgev1.ListChatroomsRequest{Parent: roomsApp})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(list.GetChatrooms()); n != 1 || list.GetChatrooms()[0].GetName() != got.GetChatroom().GetName() {
		t.Errorf("after a retry of a create with request_id: rooms %v, want only the one returned, %s (the vendor saw %d creates)",
			list.GetChatrooms(), got.GetChatroom().GetName(), e.emu.Requests()["CreateChatroom"])
	}
}

// Lists the vendor returns whole are paged by imbridge; a token is bound
// to its listing.
func TestChatroomLocalPaging(t *testing.T) {
	e := startRooms(t, nil)
	room := e.createRoom(t, "u1", "u2", "u3", "u4", "u5")
	for _, u := range []string{"u1", "u2", "u3", "u4", "u5"} {
		if _, err := e.rooms.AddChatroomAllowlistMember(ctxT(t), &imbridgev1.AddChatroomAllowlistMemberRequest{Parent: room, Username: u}); err != nil {
			t.Fatalf("AddChatroomAllowlistMember(%s): %v", u, err)
		}
	}
	var all []string
	token := ""
	for range 10 {
		resp, err := e.rooms.ListChatroomAllowlist(ctxT(t), &imbridgev1.ListChatroomAllowlistRequest{Parent: room, PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetUsernames()) > 2 {
			t.Errorf("page of %d, want at most 2", len(resp.GetUsernames()))
		}
		all = append(all, resp.GetUsernames()...)
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
		_, err = e.rooms.ListChatroomBlocklist(ctxT(t), &imbridgev1.ListChatroomBlocklistRequest{Parent: room, PageToken: token})
		if got := badRequestFields(t, err); !slices.Equal(got, []string{"page_token"}) {
			t.Errorf("an allowlist token on the blocklist: fields %v", got)
		}
	}
	for _, u := range []string{"u1", "u2", "u3", "u4", "u5"} {
		if !slices.Contains(all, u) {
			t.Errorf("pages %v lack %s", all, u)
		}
	}
}

// refuseMaxUsers answers a modify that sets maxusers as a vendor that
// changed the name but refused the size.
func refuseMaxUsers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.Count(r.URL.Path, "/") == 4 && strings.Contains(r.URL.Path, "/chatrooms/") {
			body, _ := io.ReadAll(r.Body)
			if strings.Contains(string(body), "maxusers") {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"action":"put","data":{"groupname":true,"maxusers":false}}`)
				return
			}
			r.Body = io.NopCloser(strings.NewReader(string(body)))
		}
		next.ServeHTTP(w, r)
	})
}

// An update the vendor refuses in part fails, naming the fields.
func TestChatroomUpdateRefused(t *testing.T) {
	e := startRooms(t, refuseMaxUsers)
	room := e.createRoom(t)
	_, err := e.rooms.UpdateChatroom(ctxT(t), &imbridgev1.UpdateChatroomRequest{
		Chatroom: &imbridgev1.Chatroom{Name: room, DisplayName: "renamed", MaxUsers: 50}})
	wantStatus(t, err, codes.FailedPrecondition, ReasonChatroomUpdateRefused,
		map[string]string{"refused_fields": "max_users", "updated_fields": "display_name"})
	resp, err := e.rooms.UpdateChatroom(ctxT(t), &imbridgev1.UpdateChatroomRequest{
		Chatroom: &imbridgev1.Chatroom{Name: room, Description: ""}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"description"}}})
	if err != nil || resp.GetChatroom().GetName() != room || resp.GetChatroom().GetDescription() != "" || resp.GetChatroom().GetCreateTime() == nil {
		t.Errorf("UpdateChatroom(description \"\") = %v, %v; want the room read back", resp, err)
	}
}

// A page token is opaque, bounded and bound to its listing.
func TestChatroomPageTokens(t *testing.T) {
	req := &imbridgev1.ListChatroomMembersRequest{Parent: roomsApp + "/chatrooms/1", PageSize: 2}
	tok := pageNumber{num: 1, size: 2}.next(req, 2)
	v := &violations{}
	if p := v.pageNumberOf(&imbridgev1.ListChatroomMembersRequest{Parent: req.Parent, PageSize: 500, PageToken: tok}, tok, 500); p != (pageNumber{2, 2}) || v.err() != nil {
		t.Errorf("read back %v, %v; want page 2 of size 2 (the first call's size)", p, v.err())
	}
	for name, bad := range map[string]string{
		"other room":  tok,
		"not base64":  "!!",
		"too long":    strings.Repeat("A", maxPageToken+1),
		"page 1":      chatroomPageToken(req, []byte{1, 2}),
		"past bound":  chatroomPageToken(req, []byte{0xff, 0xff, 0xff, 0x7f, 2}),
		"trailing":    chatroomPageToken(req, []byte{2, 2, 0}),
		"size 0":      chatroomPageToken(req, []byte{2, 0}),
		"offset over": chatroomPageToken(req, []byte{0xff, 0xff, 0xff, 0x7f}),
	} {
		v := &violations{}
		r := req
		if name == "other room" {
			r = &imbridgev1.ListChatroomMembersRequest{Parent: roomsApp + "/chatrooms/2"}
		}
		if name == "offset over" {
			v.offsetOf(r, bad)
		} else {
			v.pageNumberOf(r, bad, 10)
		}
		if err := v.err(); err == nil {
			t.Errorf("%s: token accepted", name)
		}
	}
	if got := (pageNumber{num: 3, size: 10}).next(req, 9); got != "" {
		t.Errorf("a short page has a next token %q", got)
	}
}

// Usernames are compared case-insensitively, as chatroom_service.proto
// says: against the emulator, which keeps them as the vendor does, a user
// added as "Bob" is removed as "bob".
func TestChatroomUsernamesAreCaseInsensitive(t *testing.T) {
	e := startRooms(t, nil)
	room := e.createRoom(t, "Bob")
	if _, err := e.rooms.RemoveChatroomMember(ctxT(t), &imbridgev1.RemoveChatroomMemberRequest{Name: room + "/members/bob"}); err != nil {
		t.Fatalf("RemoveChatroomMember(bob) of a room created with Bob: %v", err)
	}
	resp, err := e.rooms.AddChatroomMembers(ctxT(t), &imbridgev1.AddChatroomMembersRequest{Parent: room, Usernames: []string{"Carol"}})
	if err != nil || !slices.Equal(resp.GetUsernames(), []string{"carol"}) {
		t.Fatalf("AddChatroomMembers(Carol): %v %v, want carol, as the vendor keeps it", resp.GetUsernames(), err)
	}
	if _, err := e.rooms.MuteChatroomMember(ctxT(t), &imbridgev1.MuteChatroomMemberRequest{Parent: room, Username: "CAROL",
		Expiration: &imbridgev1.MuteChatroomMemberRequest_Permanent{Permanent: true}}); err != nil {
		t.Errorf("MuteChatroomMember(CAROL) of Carol: %v", err)
	}
}

// A mute longer than time.Duration holds (about 292 years) is refused as
// too long, not as "not a whole number of milliseconds" with a value the
// caller never sent.
func TestChatroomLongMuteIsNotMisreported(t *testing.T) {
	e := startRooms(t, nil)
	room := e.createRoom(t, "u1")
	const fourHundredYears = 400 * 365 * 86400
	_, err := e.rooms.MuteChatroomMember(ctxT(t), &imbridgev1.MuteChatroomMemberRequest{Parent: room, Username: "u1",
		Expiration: &imbridgev1.MuteChatroomMemberRequest_Duration{Duration: &durationpb.Duration{Seconds: fourHundredYears}}})
	if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "too long") {
		t.Errorf("MuteChatroomMember(400 years) = %v; want INVALID_ARGUMENT saying the duration is too long", err)
	}
}

// An update mask that names only the identifier names nothing to update:
// UpdateChatroom refuses it, and UpdateChatroomAnnouncement must not take
// it as "update text" and clear the announcement (over REST, a PATCH whose
// body holds only the name gets that mask from grpc-gateway).
func TestChatroomAnnouncementMaskOfNameOnlyClearsNothing(t *testing.T) {
	e := startRooms(t, nil)
	ctx := ctxT(t)
	room := e.createRoom(t)
	ann := room + "/announcement"
	if _, err := e.rooms.UpdateChatroomAnnouncement(ctx, &imbridgev1.UpdateChatroomAnnouncementRequest{
		Announcement: &imbridgev1.ChatroomAnnouncement{Name: ann, Text: "hello"}}); err != nil {
		t.Fatal(err)
	}
	// ["name"]: a PATCH body of only the name; [""]: grpc-gateway's mask of
	// a PATCH body {} (UpdateChatroom refuses both as naming nothing).
	for _, paths := range [][]string{{"name"}, {""}} {
		_, err := e.rooms.UpdateChatroomAnnouncement(ctx, &imbridgev1.UpdateChatroomAnnouncementRequest{
			Announcement: &imbridgev1.ChatroomAnnouncement{Name: ann}, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}})
		got, gerr := e.rooms.GetChatroomAnnouncement(ctx, &imbridgev1.GetChatroomAnnouncementRequest{Name: ann})
		if gerr != nil {
			t.Fatal(gerr)
		}
		if text := got.GetAnnouncement().GetText(); text != "hello" {
			t.Errorf("after an update whose mask is %q (answered %v), the announcement is %q, want %q kept", paths, err, text, "hello")
		}
		if fields := badRequestFields(t, err); len(fields) != 1 || fields[0] != "update_mask" {
			t.Errorf("mask %q: fields %v, want update_mask", paths, fields)
		}
	}
}

// A time the vendor sends outside what a google.protobuf.Timestamp holds
// (years 1 to 9999) is left out: protojson refuses to write it, and the
// REST answer holding the room, or a member's mute, would fail whole.
func TestVendorTimesOutOfRangeAreLeftOut(t *testing.T) {
	far := time.UnixMilli(99999999999999999) // about the year 3,170,000
	room := chatroomOf(appRef{org: "acme", app: "chat"}, easemob.Chatroom{ID: "1", Created: far})
	if room.GetCreateTime() != nil {
		t.Errorf("create time %v, want none", room.GetCreateTime())
	}
	if _, err := protojson.Marshal(room); err != nil {
		t.Errorf("the room cannot be written as JSON: %v", err)
	}
	if ts := expiry(far, false); ts != nil {
		t.Errorf("expiry %v, want none", ts)
	}
	if ts := expiry(time.UnixMilli(1700000000000), false); !ts.AsTime().Equal(time.UnixMilli(1700000000000)) {
		t.Errorf("expiry %v, want the vendor's time", ts)
	}
}

// Only "." and ".." are dot segments; "..." is an ordinary path segment and
// a legal Easemob username (letters, digits, "_", "-" and "."), as are
// "a..b" and ".x". They must still reach the vendor.
func TestUsernamesOfDotsThatAreNotDotSegments(t *testing.T) {
	e := startRooms(t, nil)
	ctx := ctxT(t)
	for _, u := range []string{"a..b", ".x", "x.", "...", "...."} {
		_, err := e.rooms.ListJoinedChatrooms(ctx, &imbridgev1.ListJoinedChatroomsRequest{Parent: roomsApp, Username: u})
		if status.Code(err) == codes.InvalidArgument {
			t.Errorf("ListJoinedChatrooms(username %q): %v, want it sent to the vendor", u, err)
		}
	}
}

// A huge negative duration is refused with the value sent, not the one
// time.Duration saturates to, as a huge positive one is.
func TestHugeNegativeMuteIsNotMisreported(t *testing.T) {
	e := startRooms(t, nil)
	room := e.createRoom(t, "u1")
	_, err := e.rooms.MuteChatroomMember(ctxT(t), &imbridgev1.MuteChatroomMemberRequest{Parent: room, Username: "u1",
		Expiration: &imbridgev1.MuteChatroomMemberRequest_Duration{Duration: &durationpb.Duration{Seconds: -400 * 365 * 86400}}})
	if msg := status.Convert(err).Message(); strings.Contains(msg, "2562047h") {
		t.Errorf("MuteChatroomMember(-400 years): %q names a value never sent", msg)
	}
}
