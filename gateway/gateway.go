// Package gateway is imbridge's HTTP front: the REST/JSON form of every RPC
// (grpc-gateway, dialling the gRPC server so that interceptors and streams
// work as over gRPC), the OpenAPI document, /healthz and /metrics.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/encoding/protojson"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/gen/openapiv2"
)

// Options are what the gateway is built from.
type Options struct {
	// GRPCTarget is the address of imbridge's own gRPC server.
	GRPCTarget string
	// Logger receives server errors.
	Logger *slog.Logger
	// Gatherer is served at /metrics.
	Gatherer prometheus.Gatherer
}

// Gateway is the HTTP server.
type Gateway struct {
	http *http.Server
	conn *grpc.ClientConn
	mux  *runtime.ServeMux
}

// New builds the gateway and its client connection to the gRPC server.
func New(opts Options) (*Gateway, error) {
	conn, err := grpc.NewClient(opts.GRPCTarget, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("gateway: dial gRPC server %s: %w", opts.GRPCTarget, err)
	}
	mux := runtime.NewServeMux(
		runtime.WithHealthzEndpoint(healthpb.NewHealthClient(conn)),
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{EmitUnpopulated: false},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}),
	)
	g := &Gateway{conn: conn, mux: mux}
	ctx := context.Background()
	for _, register := range []func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error{
		imbridgev1.RegisterEventServiceHandler,
		imbridgev1.RegisterChatroomServiceHandler,
	} {
		if err := register(ctx, mux, conn); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("gateway: register handlers: %w", err)
		}
	}
	metrics := promhttp.HandlerFor(opts.Gatherer, promhttp.HandlerOpts{})
	if err := errors.Join(
		mux.HandlePath(http.MethodGet, "/metrics", func(w http.ResponseWriter, r *http.Request, _ map[string]string) {
			metrics.ServeHTTP(w, r)
		}),
		mux.HandlePath(http.MethodGet, "/openapi.json", serveOpenAPI),
	); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("gateway: routes: %w", err)
	}
	g.http = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn),
	}
	return g, nil
}

// HandlePath adds a non-RPC route, such as the vendor webhook, whose wire
// format is not ours.
func (g *Gateway) HandlePath(method, pattern string, h runtime.HandlerFunc) error {
	return g.mux.HandlePath(method, pattern, h)
}

// Serve accepts connections on lis until Shutdown.
func (g *Gateway) Serve(lis net.Listener) error {
	if err := g.http.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting requests and waits for those in flight until ctx
// ends, then closes what is left, and the connection to the gRPC server.
func (g *Gateway) Shutdown(ctx context.Context) error {
	err := g.http.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, g.http.Close())
	}
	return errors.Join(err, g.conn.Close())
}

func serveOpenAPI(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openapiv2.Document)
}
