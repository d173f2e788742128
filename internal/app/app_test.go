package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/app"
	"github.com/imbridge/imbridge/internal/config"
	"github.com/imbridge/imbridge/internal/testlog"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testKey = "test-key-0123456789"

// running is an imbridge process started by a test on random loopback ports.
type running struct {
	app  *app.App
	conn *grpc.ClientConn
	stop func() time.Duration // cancels Run and returns how long it took to return
	done chan error
	logs *testlog.Buffer // the process log, as text
}

func testConfig(t *testing.T) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.GRPCAddr = "127.0.0.1:0"
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.APIKeys = config.Keys(testKey)
	cfg.ShutdownTimeout = config.Duration(2 * time.Second)
	return cfg
}

func start(t *testing.T, cfg config.Config) *running {
	t.Helper()
	logs := &testlog.Buffer{}
	a, err := app.New(cfg, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{app: a, done: make(chan error, 1), logs: logs}
	go func() { r.done <- a.Run(ctx) }()
	var stopped bool
	r.stop = func() time.Duration {
		if stopped {
			return 0
		}
		stopped = true
		begin := time.Now()
		cancel()
		if err := <-r.done; err != nil {
			t.Errorf("Run: %v", err)
		}
		return time.Since(begin)
	}
	conn, err := grpc.NewClient(a.GRPCAddr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	r.conn = conn
	t.Cleanup(func() {
		_ = conn.Close()
		r.stop()
	})
	return r
}

func withKey(ctx context.Context, key string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
}

// ctxT bounds one call of a test. The bound only turns a hang into a
// failure: it is far above what any call takes even on a busy 2-core
// machine under -race, so that starvation cannot break a test.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestHealthIsServing(t *testing.T) {
	r := start(t, testConfig(t))
	ctx := ctxT(t)
	hc := healthpb.NewHealthClient(r.conn)
	for _, svc := range []string{"", "imbridge.v1.EventService", "imbridge.v1.ChatroomService"} {
		// Health needs no key.
		resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil {
			t.Fatalf("Check(%q): %v", svc, err)
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("Check(%q) = %v, want SERVING", svc, resp.GetStatus())
		}
	}
	res := httpGet(t, "http://"+r.app.HTTPAddr().String()+"/healthz", "")
	if res.code != http.StatusOK {
		t.Errorf("GET /healthz = %d %s, want 200", res.code, res.body)
	}
}

func TestReflectionListsBothServices(t *testing.T) {
	r := start(t, testConfig(t))
	list := func(ctx context.Context) ([]string, error) {
		stream, err := reflectionpb.NewServerReflectionClient(r.conn).ServerReflectionInfo(ctx)
		if err != nil {
			return nil, err
		}
		// A Send that fails with io.EOF means the server ended the stream;
		// Recv then reports why.
		_ = stream.Send(&reflectionpb.ServerReflectionRequest{
			MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{},
		})
		resp, err := stream.Recv()
		if err != nil {
			return nil, err
		}
		_ = stream.CloseSend()
		var names []string
		for _, s := range resp.GetListServicesResponse().GetService() {
			names = append(names, s.GetName())
		}
		return names, nil
	}
	if _, err := list(ctxT(t)); status.Code(err) != codes.Unauthenticated {
		t.Errorf("reflection without a key: %v, want Unauthenticated", err)
	}
	names, err := list(withKey(ctxT(t), testKey))
	if err != nil {
		t.Fatalf("reflection: %v", err)
	}
	got := strings.Join(names, " ")
	for _, want := range []string{"imbridge.v1.EventService", "imbridge.v1.ChatroomService", "grpc.health.v1.Health"} {
		if !strings.Contains(got, want) {
			t.Errorf("reflection lists %q, want %s among them", got, want)
		}
	}
}

func TestAPIKeyIsRequired(t *testing.T) {
	r := start(t, testConfig(t))
	events := imbridgev1.NewEventServiceClient(r.conn)
	for name, ctx := range map[string]context.Context{
		"no key":    ctxT(t),
		"wrong key": withKey(ctxT(t), "not-the-key"),
		"empty key": withKey(ctxT(t), ""),
		"key+1":     withKey(ctxT(t), testKey+"x"),
	} {
		_, err := events.ListEvents(ctx, &imbridgev1.ListEventsRequest{Parent: "orgs/-/apps/-"})
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s: ListEvents = %v, want Unauthenticated", name, err)
			continue
		}
		if reason := errorReason(err); reason != "UNAUTHENTICATED" {
			t.Errorf("%s: ErrorInfo reason %q, want UNAUTHENTICATED", name, reason)
		}
	}
	// With the key the call reaches the RPC.
	if _, err := events.ListEvents(withKey(ctxT(t), testKey), &imbridgev1.ListEventsRequest{Parent: "orgs/-/apps/-"}); err != nil {
		t.Errorf("ListEvents with key = %v", err)
	}
	_, err := imbridgev1.NewChatroomServiceClient(r.conn).GetChatroom(ctxT(t), &imbridgev1.GetChatroomRequest{Name: "orgs/o/apps/a/chatrooms/1"})
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("GetChatroom without key = %v, want Unauthenticated", err)
	}
}

func TestGatewayMapsRESTToRPC(t *testing.T) {
	r := start(t, testConfig(t))
	base := "http://" + r.app.HTTPAddr().String()
	cases := []struct {
		method, path, body string
		code               int
		contains           string
		rpc, grpcCode      string // proves which RPC answered, by its metrics
	}{
		// testConfig has no apps: a chatroom of an app imbridge does not
		// know is not found, before anything is sent upstream.
		{"GET", "/v1/orgs/acme/apps/chat/chatrooms/1234", "", 404, "APP_NOT_CONFIGURED", "GetChatroom", "NotFound"},
		{"GET", "/v1/orgs/acme/apps/chat/chatrooms", "", 404, "APP_NOT_CONFIGURED", "ListChatrooms", "NotFound"},
		{"POST", "/v1/orgs/acme/apps/chat/chatrooms", `{"displayName":"room","owner":"u1"}`, 400, "chatroom.description", "CreateChatroom", "InvalidArgument"},
		{"DELETE", "/v1/orgs/acme/apps/chat/chatrooms/1234/members/u2", "", 404, "APP_NOT_CONFIGURED", "RemoveChatroomMember", "NotFound"},
		{"POST", "/v1/orgs/acme/apps/chat/chatrooms/1234/mutes:batchAdd", `{"usernames":["u2"],"permanent":true}`, 404, "APP_NOT_CONFIGURED", "MuteChatroomMembers", "NotFound"},
		{"GET", "/v1/orgs/-/apps/-/events", "", 200, `{"events":[]}`, "ListEvents", "OK"},
		{"GET", "/v1/events/42", "", 404, `"cursor":"42"`, "GetEvent", "NotFound"},
	}
	for _, c := range cases {
		res := httpDo(t, c.method, base+c.path, c.body, "")
		if res.code != http.StatusUnauthorized {
			t.Errorf("%s %s without key = %d, want 401", c.method, c.path, res.code)
		}
		res = httpDo(t, c.method, base+c.path, c.body, testKey)
		if res.code != c.code || !strings.Contains(res.body, c.contains) {
			t.Errorf("%s %s = %d %s, want %d with %s", c.method, c.path, res.code, res.body, c.code, c.contains)
		}
	}
	res := httpGet(t, base+"/metrics", "")
	for _, c := range cases {
		want := fmt.Sprintf(`grpc_server_handled_total{grpc_code=%q,grpc_method=%q`, c.grpcCode, c.rpc)
		if line := grepLines(res.body, want); line == "" || strings.HasSuffix(line, " 0") {
			t.Errorf("%s %s did not reach %s: %q in /metrics", c.method, c.path, c.rpc, line)
		}
	}
	res = httpGet(t, base+"/openapi.json", "")
	var doc struct {
		Swagger string                    `json:"swagger"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal([]byte(res.body), &doc); err != nil || doc.Swagger != "2.0" {
		t.Fatalf("GET /openapi.json: %d %v", res.code, err)
	}
	if _, ok := doc.Paths["/v1/orgs/{org}/apps/{app}/events"]["get"]; !ok {
		t.Errorf("OpenAPI document lacks GET /v1/orgs/{org}/apps/{app}/events")
	}
}

// An open stream cannot hold shutdown: the server ends it itself, so the
// graceful stop completes instead of running into its timeout. Checked by
// what happened, not by how long it took (a busy machine is slow).
func TestShutdownIsBoundedWithOpenStreams(t *testing.T) {
	cfg := testConfig(t)
	cfg.ShutdownTimeout = config.Duration(time.Minute)
	r := start(t, cfg)
	ctx := ctxT(t)
	// Health Watch is a server stream that stays open until the server ends it.
	watch, err := healthpb.NewHealthClient(r.conn).Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if first, err := watch.Recv(); err != nil || first.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Watch first message: %v %v", first, err)
	}

	r.stop()
	for _, forced := range []string{"graceful stop timed out", "HTTP shutdown cut requests"} {
		if strings.Contains(r.logs.String(), forced) {
			t.Errorf("shutdown with a stream open was forced (%q):\n%s", forced, r.logs.String())
		}
	}
	if !strings.Contains(r.logs.String(), "shutdown complete") {
		t.Errorf("no clean shutdown in the log:\n%s", r.logs.String())
	}
	for {
		_, err := watch.Recv()
		if err == nil {
			continue // NOT_SERVING is announced before the stream ends
		}
		// The server ends the stream itself, with a reason the client can
		// act on, rather than leaving GracefulStop to time out.
		if c, reason := status.Code(err), errorReason(err); c != codes.Unavailable || reason != "SHUTTING_DOWN" {
			t.Errorf("open stream ended with %v (reason %q), want Unavailable SHUTTING_DOWN", err, reason)
		}
		break
	}
}

func TestNoKeysRunsOpenOnlyOnLoopback(t *testing.T) {
	cfg := testConfig(t)
	cfg.APIKeys = nil
	cfg.GRPCAddr = ":0"
	if _, err := app.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil || !strings.Contains(err.Error(), "api_keys") {
		t.Fatalf("app.New without keys on a wildcard address = %v, want a refusal naming api_keys", err)
	}
	cfg.GRPCAddr = "127.0.0.1:0"
	r := start(t, cfg)
	if _, err := imbridgev1.NewEventServiceClient(r.conn).ListEvents(ctxT(t), &imbridgev1.ListEventsRequest{Parent: "orgs/-/apps/-"}); err != nil {
		t.Errorf("open loopback server: ListEvents without key = %v, want to reach the RPC", err)
	}
}

func errorReason(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

type httpResult struct {
	code int
	body string
}

func httpGet(t *testing.T, url, key string) httpResult {
	return httpDo(t, http.MethodGet, url, "", key)
}

func httpDo(t *testing.T, method, url, body, key string) httpResult {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxT(t), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return httpResult{resp.StatusCode, string(b)}
}

// The embedded server's NATS listener takes clients without credentials:
// beyond loopback it would hand every app's events, and their deletion,
// to the network around every API key. imbridge refuses to start so,
// keys or not, naming the setting.
func TestNATSListenerOnlyOnLoopback(t *testing.T) {
	cfg := testConfig(t) // with api_keys
	cfg.EventLog.Listen = "0.0.0.0:4222"
	if _, err := app.New(cfg, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "event_log.listen") {
		t.Fatalf("app.New with event_log.listen on every interface: %v, want a refusal naming event_log.listen", err)
	}
}
