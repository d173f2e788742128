package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/emptypb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/testlog"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// running is a Server built by New, with its real interceptor chain, served
// over bufconn.
type running struct {
	srv  *Server
	conn *grpc.ClientConn
	logs *logBuffer
	reg  *prometheus.Registry // the server's metrics
}

// start serves events (and an unimplemented ChatroomService); with keys,
// callers must present one.
func start(t *testing.T, events imbridgev1.EventServiceServer, keys ...string) *running {
	t.Helper()
	return startWithKeys(t, events, NewAPIKeys(keys))
}

// startWithKeys is start with keys of any grant.
func startWithKeys(t *testing.T, events imbridgev1.EventServiceServer, keys *APIKeys) *running {
	t.Helper()
	return serve(t, Options{Keys: keys, Events: events, Chatrooms: &ChatroomService{}})
}

// serve builds the server from opts — the log into a buffer, a registry
// and an open key set unless given — and serves it over bufconn until the
// test ends.
func serve(t *testing.T, opts Options) *running {
	t.Helper()
	logs := &logBuffer{}
	opts.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	if opts.Keys == nil {
		opts.Keys = NewAPIKeys(nil)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	lis := bufconn.Listen(1 << 20)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &running{srv: srv, conn: conn, logs: logs, reg: reg}
}

func (r *running) events() imbridgev1.EventServiceClient {
	return imbridgev1.NewEventServiceClient(r.conn)
}

// ctxT bounds every call of a test.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func withKey(ctx context.Context, key string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
}

// wantStatus checks err's code, ErrorInfo reason and metadata (all of it)
// and returns the status.
func wantStatus(t *testing.T, err error, code codes.Code, reason string, md map[string]string) *status.Status {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != code {
		t.Errorf("code = %v (%v), want %v", st.Code(), err, code)
	}
	info := errorInfo(st)
	if info == nil {
		t.Fatalf("%v carries no ErrorInfo", err)
	}
	if info.GetReason() != reason || info.GetDomain() != ErrorDomain {
		t.Errorf("ErrorInfo %s/%s, want %s/%s", info.GetDomain(), info.GetReason(), ErrorDomain, reason)
	}
	if got := info.GetMetadata(); len(got) != len(md) || !mapsEqual(got, md) {
		t.Errorf("ErrorInfo metadata %v, want %v", got, md)
	}
	return st
}

func errorInfo(st *status.Status) *errdetails.ErrorInfo {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	return nil
}

func mapsEqual(a, b map[string]string) bool {
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return len(a) == len(b)
}

// logBuffer collects the server's JSON log lines.
type logBuffer struct{ testlog.Buffer }

// lines returns every line containing all of the given strings.
func (b *logBuffer) lines(t *testing.T, contains ...string) []map[string]any {
	t.Helper()
	text := b.String()
	var out []map[string]any
	for line := range strings.Lines(text) {
		ok := true
		for _, c := range contains {
			ok = ok && strings.Contains(line, c)
		}
		if !ok {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func TestHealthProbesAreNotLoggedAtInfo(t *testing.T) {
	r := start(t, &EventService{Store: &fakeStore{}})
	ctx := ctxT(t)
	hc := healthpb.NewHealthClient(r.conn)
	if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatalf("Check: %v", err)
	}
	// gRPC's own NOT_FOUND for an unknown service gets our ErrorInfo too.
	_, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "no.such.Service"})
	wantStatus(t, err, codes.NotFound, "NOT_FOUND", nil)
	if _, err := r.events().ListEvents(ctx, &imbridgev1.ListEventsRequest{Parent: allApps}); err != nil {
		t.Fatalf("ListEvents: %v", err)
	}

	// The interceptors finish before the answer is sent: the lines are
	// written by now.
	probes := r.logs.lines(t, `"grpc.service":"grpc.health.v1.Health"`)
	if len(probes) != 2 {
		t.Errorf("%d log lines for 2 health checks, want 2 (at DEBUG)", len(probes))
	}
	for _, l := range probes {
		if l["level"] != "DEBUG" {
			t.Errorf("health check logged at %v, want DEBUG: %v", l["level"], l)
		}
	}
	other := r.logs.lines(t, `"grpc.method":"ListEvents"`)
	if len(other) != 1 || other[0]["level"] != "INFO" {
		t.Errorf("ListEvents log lines %v, want one at INFO", other)
	}
}

func TestShutdownEndsOpenStreamsWithShuttingDown(t *testing.T) {
	r := start(t, &EventService{Store: &fakeStore{}})
	watch, err := healthpb.NewHealthClient(r.conn).Watch(ctxT(t), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := watch.Recv(); err != nil {
		t.Fatalf("first Watch message: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r.srv.Shutdown(ctx)
	for {
		if _, err = watch.Recv(); err != nil {
			break // NOT_SERVING may come first
		}
	}
	wantStatus(t, err, codes.Unavailable, ReasonShuttingDown, nil)
}

func TestAuthErrorsCarryErrorInfo(t *testing.T) {
	const key = "test-key-0123456789"
	r := start(t, &EventService{Store: &fakeStore{}}, key)
	for name, ctx := range map[string]context.Context{
		"no key":    ctxT(t),
		"wrong key": withKey(ctxT(t), "not-the-key"),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := r.events().ListEvents(ctx, &imbridgev1.ListEventsRequest{Parent: allApps})
			wantStatus(t, err, codes.Unauthenticated, ReasonUnauthenticated, nil)
		})
	}
	if _, err := r.events().ListEvents(withKey(ctxT(t), key), &imbridgev1.ListEventsRequest{Parent: allApps}); err != nil {
		t.Errorf("ListEvents with the key: %v", err)
	}
	// Health needs no key.
	if _, err := healthpb.NewHealthClient(r.conn).Check(ctxT(t), &healthpb.HealthCheckRequest{}); err != nil {
		t.Errorf("Check without a key: %v", err)
	}
}

// A method no service has is UNIMPLEMENTED with an ErrorInfo, like every
// other error.
func TestUnknownMethodCarriesErrorInfo(t *testing.T) {
	r := start(t, &EventService{Store: openLog(t)})
	err := r.conn.Invoke(ctxT(t), "/imbridge.v1.NoSuchService/Nothing", &imbridgev1.GetEventRequest{}, &imbridgev1.GetEventResponse{})
	wantStatus(t, err, codes.Unimplemented, "UNIMPLEMENTED", nil)
}

// Calls to methods that do not exist, keyed or not, add no metric series:
// the gRPC metrics are labelled by method, and a series lives as long as
// the process, so anyone could otherwise grow /metrics without end.
func TestUnknownMethodsAddNoMetrics(t *testing.T) {
	r := serve(t, Options{Keys: NewAPIKeys([]string{"the-key"}), Events: &EventService{}, Chatrooms: &ChatroomService{}})
	series := func() int {
		mfs, err := r.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, mf := range mfs {
			n += len(mf.GetMetric())
		}
		return n
	}
	before := series()
	for i := range 20 {
		method := fmt.Sprintf("/nope.Service%d/Method", i)
		if err := r.conn.Invoke(ctxT(t), method, &emptypb.Empty{}, &emptypb.Empty{}); status.Code(err) != codes.Unauthenticated && status.Code(err) != codes.Unimplemented {
			t.Fatalf("%s: %v", method, err)
		}
	}
	if after := series(); after != before {
		t.Errorf("%d metric series after 20 calls to unknown methods, %d before", after, before)
	}
}
