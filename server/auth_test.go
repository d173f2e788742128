package server

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

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
		// Empty lists (`scopes: []` in YAML) grant all, as none do.
		{Key: "empty-lists", Scopes: []string{}, Apps: []string{}},
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
	allowed("a key with empty lists deletes", deleteRoom(t, r, rooms, "empty-lists", other))
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

	// Events are read by app, named in parent: every app, orgs/-/apps/-,
	// is not an app of an app-limited key.
	list := func(key, parent string) error {
		_, err := r.events().ListEvents(withKey(ctxT(t), key), &imbridgev1.ListEventsRequest{Parent: parent})
		return err
	}
	denied("reader lists every app's events", list("reader", "orgs/-/apps/-"))
	denied("reader lists another app's events", list("reader", "orgs/other/apps/x"))
	if err := list("reader", "orgs/acme/apps/chat"); err != nil {
		t.Errorf("reader lists its app's events: %v", err)
	}
	if err := list("events-only", "orgs/-/apps/-"); err != nil {
		t.Errorf("events-only lists every app: %v", err)
	}

	// Streams are checked on their request the same way: parent for a
	// plain stream, subscription for a member of a shared subscription.
	denied("reader streams every app", firstMessage(t, r, "reader", &imbridgev1.SubscribeEventsRequest{Parent: "orgs/-/apps/-"}))
	denied("reader streams another app", firstMessage(t, r, "reader", &imbridgev1.SubscribeEventsRequest{Parent: "orgs/other/apps/x"}))
	if err := firstMessage(t, r, "reader", &imbridgev1.SubscribeEventsRequest{Parent: "orgs/acme/apps/chat"}); err != nil {
		t.Errorf("reader streams its app: %v", err)
	}
	if err := firstMessage(t, r, "events-only", &imbridgev1.SubscribeEventsRequest{Parent: "orgs/-/apps/-"}); err != nil {
		t.Errorf("events-only streams every app: %v", err)
	}

	const mine, theirs = "orgs/acme/apps/chat/subscriptions/x", "orgs/other/apps/x/subscriptions/x"
	create := func(key, parent string) error {
		_, err := r.events().CreateSubscription(withKey(ctxT(t), key), &imbridgev1.CreateSubscriptionRequest{
			Parent: parent, SubscriptionId: "x", Subscription: &imbridgev1.Subscription{}})
		return err
	}
	if err := create("reader", "orgs/acme/apps/chat"); err != nil {
		t.Fatalf("reader creates a subscription of its app: %v", err)
	}
	denied("reader creates a subscription of another app", create("reader", "orgs/other/apps/x"))
	if err := create("admin", "orgs/other/apps/x"); err != nil {
		t.Fatalf("admin creates a subscription of another app: %v", err)
	}
	get := func(key, name string) error {
		_, err := r.events().GetSubscription(withKey(ctxT(t), key), &imbridgev1.GetSubscriptionRequest{Name: name})
		return err
	}
	if err := get("reader", mine); err != nil {
		t.Errorf("reader gets its app's subscription: %v", err)
	}
	denied("reader gets another app's subscription", get("reader", theirs))
	_, err = r.events().AcknowledgeEvents(withKey(ctxT(t), "reader"), &imbridgev1.AcknowledgeEventsRequest{Subscription: theirs, Cursors: []uint64{1}})
	denied("reader acknowledges on another app's subscription", err)
	// Joining one of its app's subscriptions reaches the RPC; one that does
	// not exist shows it without leaving a member's pull behind.
	err = firstMessage(t, r, "reader", &imbridgev1.SubscribeEventsRequest{Subscription: "orgs/acme/apps/chat/subscriptions/missing"})
	wantStatus(t, err, codes.NotFound, ReasonSubscriptionNotFound, nil)
	denied("reader joins another app's subscription", firstMessage(t, r, "reader", &imbridgev1.SubscribeEventsRequest{Subscription: theirs}))
	// Naming its own app in parent does not open another app's subscription.
	err = firstMessage(t, r, "reader", &imbridgev1.SubscribeEventsRequest{Parent: "orgs/acme/apps/chat", Subscription: theirs})
	if c := status.Code(err); c != codes.PermissionDenied && c != codes.InvalidArgument {
		t.Errorf("reader joins another app's subscription naming its own parent: %v, want PERMISSION_DENIED or INVALID_ARGUMENT", err)
	}

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

// firstMessage opens a stream with key and reads its first message: an
// event or, within the 100ms heartbeat interval, a heartbeat.
func firstMessage(t *testing.T, r *running, key string, req *imbridgev1.SubscribeEventsRequest) error {
	t.Helper()
	ctx, cancel := context.WithCancel(withKey(ctxT(t), key))
	defer cancel()
	req.HeartbeatInterval = durationpb.New(100 * time.Millisecond)
	stream, err := r.events().SubscribeEvents(ctx, req)
	if err != nil {
		return err
	}
	_, err = stream.Recv()
	return err
}

func deleteRoom(t *testing.T, r *running, rooms imbridgev1.ChatroomServiceClient, key, name string) error {
	t.Helper()
	_, err := rooms.DeleteChatroom(withKey(ctxT(t), key), &imbridgev1.DeleteChatroomRequest{Name: name})
	return err
}

// An app-limited key's GetEvent error is the RPC's own: authorizeUnary
// must hide only an event of another app, not turn every failure
// (a bad request, STORE_UNAVAILABLE, EVENT_CORRUPT) into EVENT_NOT_FOUND,
// which tells a client the event is gone for good.
func TestLimitedKeyGetEventKeepsItsError(t *testing.T) {
	keys, err := NewScopedAPIKeys([]KeyGrant{{Key: "reader", Scopes: []string{ScopeEvents}, Apps: []string{"acme#chat"}}})
	if err != nil {
		t.Fatal(err)
	}
	r := startWithKeys(t, &EventService{Store: openLog(t)}, keys)
	_, err = r.events().GetEvent(withKey(ctxT(t), "reader"), &imbridgev1.GetEventRequest{Cursor: 1, CallId: "x"})
	wantStatus(t, err, codes.InvalidArgument, ReasonInvalidArgument, map[string]string{"field": "cursor"})
}
