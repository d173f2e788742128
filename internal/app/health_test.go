package app_test

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/imbridge/imbridge/internal/eventlog"
)

// With an external NATS server, health follows the connection: while
// imbridge cannot store callbacks, /healthz answers 503 and the server and
// EventService are NOT_SERVING, so that a load balancer sends callbacks to
// another process; the ChatroomService, which needs no log, stays
// SERVING. When the server is back, so is imbridge.
func TestHealthFollowsTheNATSConnection(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	store := t.TempDir()
	var nats *server.Server
	startNATS := func() {
		t.Helper()
		s, err := server.NewServer(&server.Options{
			Host: "127.0.0.1", Port: port, NoSigs: true, NoLog: true,
			MaxPayload: eventlog.EmbeddedMaxPayload,
			JetStream:  true, StoreDir: store, JetStreamMaxMemory: 64 << 20, JetStreamMaxStore: 1 << 30,
		})
		if err != nil {
			t.Fatalf("NATS server: %v", err)
		}
		s.Start()
		if !s.ReadyForConnections(clusterWait) {
			t.Fatal("NATS server not ready for connections")
		}
		nats = s
	}
	startNATS()
	t.Cleanup(func() { nats.Shutdown(); nats.WaitForShutdown() }) // after the app's

	cfg := testConfig(t)
	cfg.EventLog.NATSURL = nats.ClientURL()
	cfg.EventLog.MaxBytes = 256 << 20 // the server's JetStream store is 1 GiB
	r := start(t, cfg)
	healthz := "http://" + r.app.HTTPAddr().String() + "/healthz"
	hc := healthpb.NewHealthClient(r.conn)
	want := func(up bool) func() error {
		return func() error {
			code, serving := http.StatusOK, healthpb.HealthCheckResponse_SERVING
			if !up {
				code, serving = http.StatusServiceUnavailable, healthpb.HealthCheckResponse_NOT_SERVING
			}
			var errs []error
			if res := httpGet(t, healthz, ""); res.code != code {
				errs = append(errs, fmt.Errorf("/healthz %d %s, want %d", res.code, res.body, code))
			}
			for svc, st := range map[string]healthpb.HealthCheckResponse_ServingStatus{
				"": serving, "imbridge.v1.EventService": serving, "imbridge.v1.StatusService": serving,
				"imbridge.v1.ChatroomService": healthpb.HealthCheckResponse_SERVING,
			} {
				resp, err := hc.Check(ctxT(t), &healthpb.HealthCheckRequest{Service: svc})
				if err != nil {
					return fmt.Errorf("Check(%q): %w", svc, err)
				}
				if resp.GetStatus() != st {
					errs = append(errs, fmt.Errorf("Check(%q) = %v, want %v", svc, resp.GetStatus(), st))
				}
			}
			return errors.Join(errs...)
		}
	}
	clusterPoll(t, "healthy on a running NATS server", want(true))

	nats.Shutdown()
	nats.WaitForShutdown()
	clusterPoll(t, "not serving while NATS is down", want(false))

	startNATS()
	clusterPoll(t, "healthy again once NATS is back", want(true))
}
