package server

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
)

// Keys can be limited to scopes and apps: a read-only key cannot delete a
// chatroom, and an app-limited key sees only its apps.
func TestScopedKeys(t *testing.T) {
	keys, err := NewScopedAPIKeys([]KeyGrant{
		{Key: "admin"},
		{Key: "reader", Scopes: []string{ScopeEvents, ScopeChatroomsRead}, Apps: []string{"acme#chat"}},
		{Key: "events-only", Scopes: []string{ScopeEvents}},
		{Key: "acme-admin", Scopes: []string{ScopeChatrooms}, Apps: []string{"acme#chat"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewScopedAPIKeys([]KeyGrant{{Key: "k", Scopes: []string{"everything"}}}); err == nil {
		t.Error("an unknown scope was accepted")
	}
	l := openLog(t)
	r := startWithKeys(t, &EventService{Store: l}, keys)
	rooms := imbridgev1.NewChatroomServiceClient(r.conn)
	denied := func(what string, err error) {
		t.Helper()
		wantStatus(t, err, codes.PermissionDenied, ReasonPermissionDenied, nil)
	}
	allowed := func(what string, err error) {
		t.Helper()
		if c := status.Code(err); c == codes.PermissionDenied || c == codes.Unauthenticated {
			t.Errorf("%s: %v, want the call to reach the RPC", what, err)
		}
	}
	acme, other := "orgs/acme/apps/chat/chatrooms/1", "orgs/other/apps/x/chatrooms/1"

	allowed("admin deletes", deleteRoom(t, r, rooms, "admin", acme))
	denied("reader deletes", deleteRoom(t, r, rooms, "reader", acme))
	_, err = rooms.GetChatroom(withKey(ctxT(t), "reader"), &imbridgev1.GetChatroomRequest{Name: acme})
	allowed("reader reads its app's room", err)
	_, err = rooms.GetChatroom(withKey(ctxT(t), "reader"), &imbridgev1.GetChatroomRequest{Name: other})
	denied("reader reads another app's room", err)
	_, err = rooms.GetChatroom(withKey(ctxT(t), "events-only"), &imbridgev1.GetChatroomRequest{Name: acme})
	denied("events-only reads a room", err)

	// The app can also be in the resource a request carries.
	_, err = rooms.UpdateChatroom(withKey(ctxT(t), "acme-admin"), &imbridgev1.UpdateChatroomRequest{Chatroom: &imbridgev1.Chatroom{Name: acme}})
	allowed("acme-admin updates its app's room", err)
	_, err = rooms.UpdateChatroom(withKey(ctxT(t), "acme-admin"), &imbridgev1.UpdateChatroomRequest{Chatroom: &imbridgev1.Chatroom{Name: other}})
	denied("acme-admin updates another app's room", err)

	_, err = r.events().ListEvents(withKey(ctxT(t), "reader"), &imbridgev1.ListEventsRequest{})
	denied("reader lists every app's events", err)
	_, err = r.events().ListEvents(withKey(ctxT(t), "reader"), &imbridgev1.ListEventsRequest{Filter: &imbridgev1.EventFilter{Appkey: "acme#chat"}})
	allowed("reader lists its app's events", err)
	_, err = r.events().ListEvents(withKey(ctxT(t), "events-only"), &imbridgev1.ListEventsRequest{})
	allowed("events-only lists every app", err)

	// A stored event of another app is not found for an app-limited key.
	ev := &imbridgev1.Event{CallId: "other#x_1", Appkey: "other#x", Selector: "recall", Body: &imbridgev1.Event_Recall{Recall: &imbridgev1.RecallEvent{}}}
	cursor, _, err := l.Append(ctxT(t), ev)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.events().GetEvent(withKey(ctxT(t), "reader"), &imbridgev1.GetEventRequest{Cursor: cursor})
	wantStatus(t, err, codes.NotFound, ReasonEventNotFound, map[string]string{"cursor": "1"})
	if _, err := r.events().GetEvent(withKey(ctxT(t), "events-only"), &imbridgev1.GetEventRequest{Cursor: cursor}); err != nil {
		t.Errorf("events-only GetEvent: %v", err)
	}
}

func deleteRoom(t *testing.T, r *running, rooms imbridgev1.ChatroomServiceClient, key, name string) error {
	t.Helper()
	_, err := rooms.DeleteChatroom(withKey(ctxT(t), key), &imbridgev1.DeleteChatroomRequest{Name: name})
	return err
}
