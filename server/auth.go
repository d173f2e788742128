package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"slices"
	"strings"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/eventlog"
)

// Scopes a key can be granted: what it may call.
const (
	// ScopeEvents: EventService (reading stored events) and StatusService
	// (the process's counters, streams and subscriptions).
	ScopeEvents = "events"
	// ScopeChatroomsRead: the ChatroomService RPCs without side effects.
	ScopeChatroomsRead = "chatrooms:read"
	// ScopeChatrooms: every ChatroomService RPC (chatrooms:read included).
	ScopeChatrooms = "chatrooms"
)

// Scopes lists every scope, in documentation order.
func Scopes() []string { return []string{ScopeEvents, ScopeChatroomsRead, ScopeChatrooms} }

// KeyGrant is one bearer key and what it may do.
type KeyGrant struct {
	Key string
	// Scopes the key is granted; empty grants every scope.
	Scopes []string
	// Apps (`org#app`) the key may act on; empty allows every app.
	Apps []string
}

// grant is a KeyGrant as checked: the key's digest only.
type grant struct {
	digest [sha256.Size]byte
	scopes []string // nil: every scope
	apps   []string // nil: every app
}

// APIKeys holds the bearer keys callers of our API present and what each
// may do. Only SHA-256 digests are kept, so that every comparison is over
// equal lengths and takes the same time whichever key (if any) matches.
type APIKeys struct {
	grants []grant
}

// NewAPIKeys returns keys that may do everything; with no keys the API is
// open.
func NewAPIKeys(keys []string) *APIKeys {
	k := &APIKeys{}
	for _, key := range keys {
		k.grants = append(k.grants, grant{digest: sha256.Sum256([]byte(key))})
	}
	return k
}

// NewScopedAPIKeys returns keys limited to scopes and apps.
func NewScopedAPIKeys(grants []KeyGrant) (*APIKeys, error) {
	k := &APIKeys{}
	for i, g := range grants {
		for _, s := range g.Scopes {
			if !slices.Contains(Scopes(), s) {
				return nil, fmt.Errorf("key %d: unknown scope %q: want one of %s", i, s, strings.Join(Scopes(), ", "))
			}
		}
		// Empty (`scopes: []` in YAML) grants all, as none does.
		gr := grant{digest: sha256.Sum256([]byte(g.Key))}
		if len(g.Scopes) > 0 {
			gr.scopes = g.Scopes
		}
		if len(g.Apps) > 0 {
			gr.apps = g.Apps
		}
		k.grants = append(k.grants, gr)
	}
	return k, nil
}

// Open reports whether no keys are configured, so every caller is allowed.
func (k *APIKeys) Open() bool { return len(k.grants) == 0 }

// Valid reports whether key is one of the configured keys.
func (k *APIKeys) Valid(key string) bool { return k.find(key) != nil }

// find returns the grant of key, comparing against every key in constant
// time.
func (k *APIKeys) find(key string) *grant {
	d := sha256.Sum256([]byte(key))
	found := -1
	for i := range k.grants {
		if subtle.ConstantTimeCompare(d[:], k.grants[i].digest[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return nil
	}
	return &k.grants[found]
}

type grantKey struct{}

// authenticate is the auth interceptor's check: a bearer key in the
// `authorization` metadata (the gateway forwards the HTTP header there).
// The key's grant goes into the context for authorize.
func (k *APIKeys) authenticate(ctx context.Context) (context.Context, error) {
	if k.Open() {
		return ctx, nil
	}
	token, err := auth.AuthFromMD(ctx, "bearer")
	if err != nil {
		return nil, &authError{msg: "missing bearer key: send the header \"authorization: Bearer <key>\""}
	}
	g := k.find(strings.TrimSpace(token))
	if g == nil {
		return nil, &authError{msg: "invalid bearer key"}
	}
	return context.WithValue(ctx, grantKey{}, g), nil
}

// grantedApps is the apps (`org#app`) the caller's key may act on; nil
// when it may act on every app (or no keys are configured).
func grantedApps(ctx context.Context) []string {
	if g, _ := ctx.Value(grantKey{}).(*grant); g != nil {
		return g.apps
	}
	return nil
}

// authorizeUnary lets a call through when the caller's key grants its
// method and its app. A stored event of an app the key may not see is not
// found, as if it did not exist.
func authorizeUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	g, _ := ctx.Value(grantKey{}).(*grant)
	if err := g.allows(info.FullMethod, req); err != nil {
		return nil, err
	}
	resp, err := handler(ctx, req)
	if ev, ok := resp.(*imbridgev1.GetEventResponse); ok && err == nil && g != nil && g.apps != nil && !slices.Contains(g.apps, ev.GetEvent().GetAppkey()) {
		r, _ := req.(*imbridgev1.GetEventRequest)
		return nil, &eventError{cursor: r.GetCursor(), callID: r.GetCallId(), err: eventlog.ErrNotFound}
	}
	return resp, err
}

// authorizeStream checks a stream's method, and its request when it
// comes.
func authorizeStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	g, _ := ss.Context().Value(grantKey{}).(*grant)
	if err := g.allows(info.FullMethod, nil); err != nil {
		return err
	}
	return handler(srv, &authorizedStream{ServerStream: ss, grant: g, method: info.FullMethod})
}

type authorizedStream struct {
	grpc.ServerStream
	grant  *grant
	method string
}

func (s *authorizedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return s.grant.allows(s.method, m)
}

// allows reports, as a permission error, why g may not call method with
// req (nil: the method alone). A nil grant (an open API, or a method that
// needs no key) allows everything.
func (g *grant) allows(method string, req any) error {
	if g == nil {
		return nil
	}
	need := scopeOf(method)
	if need != "" && g.scopes != nil && !slices.Contains(g.scopes, need) &&
		(need != ScopeChatroomsRead || !slices.Contains(g.scopes, ScopeChatrooms)) {
		return &authError{denied: true, msg: fmt.Sprintf("this key is not granted the scope %q that %s needs", need, method)}
	}
	if g.apps == nil || req == nil || need == "" {
		return nil
	}
	switch req.(type) {
	case *imbridgev1.GetEventRequest:
		return nil // the event's app is known once it is read: authorizeUnary checks it
	case *imbridgev1.GetStatusRequest:
		return nil // names no app: GetStatus shows only the key's apps (grantedApps)
	}
	app, ok := appOf(req)
	switch {
	case !ok || app == "-#-":
		return &authError{denied: true, msg: "this key is limited to apps " + strings.Join(g.apps, ", ") + ": name one of them (orgs/{org}/apps/{app}), not every app"}
	case !slices.Contains(g.apps, app):
		return &authError{denied: true, msg: fmt.Sprintf("this key may not act on app %q", app)}
	}
	return nil
}

// scopeOf is the scope a method needs: "" for methods any valid key may
// call (reflection).
func scopeOf(method string) string {
	service, _, _ := strings.Cut(strings.TrimPrefix(method, "/"), "/")
	switch service {
	case imbridgev1.EventService_ServiceDesc.ServiceName, imbridgev1.StatusService_ServiceDesc.ServiceName:
		return ScopeEvents
	case imbridgev1.ChatroomService_ServiceDesc.ServiceName:
		if methodIdempotency(method) == descriptorpb.MethodOptions_NO_SIDE_EFFECTS {
			return ScopeChatroomsRead // the contract marks reads NO_SIDE_EFFECTS
		}
		return ScopeChatrooms
	}
	return ""
}

// appOf finds the app a request acts on: the `orgs/{org}/apps/{app}` a
// resource name starts with: the request's `name`, `parent` or
// `subscription`, or the `name` of the resource it carries
// (`chatroom.name`). Every app, `orgs/-/apps/-`, is "-#-".
func appOf(req any) (string, bool) {
	m, ok := req.(proto.Message)
	if !ok {
		return "", false
	}
	if app, ok := appOfName(m.ProtoReflect()); ok {
		return app, true
	}
	var app string
	var found bool
	m.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap() {
			app, found = appOfName(v.Message())
		}
		return !found
	})
	return app, found
}

// appOfName reads the app off m's `name` or `parent` field.
func appOfName(m protoreflect.Message) (string, bool) {
	fields := m.Descriptor().Fields()
	for _, name := range []protoreflect.Name{"name", "parent", "subscription"} {
		fd := fields.ByName(name)
		if fd == nil || fd.Kind() != protoreflect.StringKind || fd.IsList() {
			continue
		}
		parts := strings.Split(m.Get(fd).String(), "/")
		if len(parts) >= 4 && parts[0] == "orgs" && parts[2] == "apps" && parts[1] != "" && parts[3] != "" {
			return parts[1] + "#" + parts[3], true
		}
	}
	return "", false
}

// requiresAuth tells which methods need a key: everything but health.
func requiresAuth(fullMethod string) bool { return !isHealth(fullMethod) }

// isHealth tells the methods of grpc.health.v1.Health.
func isHealth(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/"+grpc_health_v1.Health_ServiceDesc.ServiceName+"/")
}
