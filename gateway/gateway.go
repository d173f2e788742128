// Package gateway is imbridge's HTTP front: the REST/JSON form of every RPC
// (grpc-gateway, dialling the gRPC server so that interceptors and streams
// work as over gRPC), the OpenAPI document, /healthz and /metrics.
//
// Every error it answers, whether from the gRPC server or from the gateway
// itself (an unknown path, a wrong method, a parameter that does not parse),
// is a google.rpc.Status in JSON with a google.rpc.ErrorInfo of domain
// imbridge.dev; see errors.go.
package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/gen/openapiv2"
)

// DefaultReadHeaderTimeout is how long a client may take to send a
// request's headers when Options.ReadHeaderTimeout is 0.
const DefaultReadHeaderTimeout = 10 * time.Second

// Options are what the gateway is built from.
type Options struct {
	// GRPCTarget is the address of imbridge's own gRPC server.
	GRPCTarget string
	// Logger receives server errors.
	Logger *slog.Logger
	// Gatherer is served at /metrics.
	Gatherer prometheus.Gatherer
	// Registerer receives the gateway's own metrics; nil registers none.
	Registerer prometheus.Registerer
	// CORSAllowedOrigins are the browser origins allowed to call the REST
	// API from another origin; `*` allows any; empty allows none.
	CORSAllowedOrigins []string
	// ReadHeaderTimeout bounds how long a client may take to send a
	// request's headers (http.Server.ReadHeaderTimeout), so that slow or
	// idle clients cannot hold connections open; 0 means
	// DefaultReadHeaderTimeout (10s).
	ReadHeaderTimeout time.Duration
	// BodyReadTimeout bounds reading a REST call's body once its headers
	// are in (the routes of HandlePath bound their own); 0 is no bound.
	BodyReadTimeout time.Duration
	// LocalOnly answers only requests for a loopback Host, from no
	// browser origin but its own or CORSAllowedOrigins (the webhook
	// excepted): for an imbridge without API keys (localOnly).
	LocalOnly bool
}

// Gateway is the HTTP server.
type Gateway struct {
	http *http.Server
	conn *grpc.ClientConn
	mux  *runtime.ServeMux
	// routes is a copy of mux's route table that runs no handler; it
	// answers which methods a path allows (the Allow header of a 405).
	routes *routeTable
	// own are the patterns of the routes added by HandlePath, whose wire
	// format, body limit included, is not ours. Written before Serve.
	own map[string]bool
	// bodyReadTimeout is Options.BodyReadTimeout.
	bodyReadTimeout time.Duration
}

// register adds the REST form of every service to a mux.
var register = []func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error{
	imbridgev1.RegisterEventServiceHandler,
	imbridgev1.RegisterChatroomServiceHandler,
	imbridgev1.RegisterStatusServiceHandler,
}

// services are the services registered above: their response messages
// get the JSON treatment of jsonMarshaler.
var services = []protoreflect.FileDescriptor{
	imbridgev1.File_imbridge_v1_event_service_proto,
	imbridgev1.File_imbridge_v1_chatroom_service_proto,
	imbridgev1.File_imbridge_v1_status_service_proto,
}

// setQueryParser installs the query parameter parser. grpc-gateway keeps
// it in a package variable, not per mux, so it is set once per process.
var setQueryParser sync.Once

// New builds the gateway and its client connection to the gRPC server.
func New(opts Options) (*Gateway, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	conn, err := grpc.NewClient(opts.GRPCTarget, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("gateway: dial gRPC server %s: %w", opts.GRPCTarget, err)
	}
	setQueryParser.Do(func() { runtime.NewServeMux(runtime.SetQueryParameterParser(queryParser{})) })
	g := &Gateway{conn: conn, routes: newRouteTable(), own: map[string]bool{}, bodyReadTimeout: opts.BodyReadTimeout}
	marshaler := newJSONMarshaler(&runtime.JSONPb{
		MarshalOptions:   protojson.MarshalOptions{EmitUnpopulated: false},
		UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
	}, services...)
	g.mux = runtime.NewServeMux(
		// First, so that it wraps every route added after it.
		runtime.WithMiddlewares(rememberPathParams, g.refuseSwallowedVerb, g.limitBody, g.refuseQuery, g.writeStreams),
		runtime.WithHealthzEndpoint(healthpb.NewHealthClient(conn)),
		runtime.WithMarshalerOption(runtime.MIMEWildcard, marshaler),
		runtime.WithForwardResponseOption(startStream(marshaler)),
		runtime.WithErrorHandler(handleError),
		runtime.WithStreamErrorHandler(handleStreamError),
		runtime.WithRoutingErrorHandler(g.handleRoutingError),
	)
	ctx := context.Background()
	for _, r := range register {
		if err := errors.Join(r(ctx, g.mux, conn), r(ctx, g.routes.mux, conn)); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("gateway: register handlers: %w", err)
		}
	}
	metrics := promhttp.HandlerFor(opts.Gatherer, promhttp.HandlerOpts{})
	if err := errors.Join(
		g.routes.mux.HandlePath(http.MethodGet, "/healthz", nil),
		g.HandlePath(http.MethodGet, "/metrics", func(w http.ResponseWriter, r *http.Request, _ map[string]string) {
			metrics.ServeHTTP(w, r)
		}),
		g.HandlePath(http.MethodGet, "/openapi.json", serveOpenAPI),
		g.HandlePath(http.MethodGet, "/docs", g.docsFile),
		g.HandlePath(http.MethodGet, "/docs/{file}", g.docsFile),
		g.HandlePath(http.MethodGet, "/console", g.consoleFile),
		g.HandlePath(http.MethodGet, "/console/{file}", g.consoleFile),
	); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("gateway: routes: %w", err)
	}
	readHeaderTimeout := opts.ReadHeaderTimeout
	if readHeaderTimeout == 0 {
		readHeaderTimeout = DefaultReadHeaderTimeout
	}
	watch, err := newHeaderWatch(opts.Registerer)
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("gateway: metrics: %w", err)
	}
	var h http.Handler = headAsGet(g.mux)
	if opts.LocalOnly {
		h = g.localOnly(opts.CORSAllowedOrigins, h)
	}
	g.http = &http.Server{
		// Outermost: a request answered by cors or localOnly was read
		// whole too, and is no cut header read.
		Handler:           watch.handler(cors(opts.CORSAllowedOrigins, h)),
		ConnContext:       watch.connContext,
		ConnState:         watch.connState,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn),
	}
	return g, nil
}

// HandlePath adds a non-RPC route, such as the vendor webhook, whose wire
// format is not ours.
func (g *Gateway) HandlePath(method, pattern string, h runtime.HandlerFunc) error {
	if err := g.mux.HandlePath(method, pattern, h); err != nil {
		return err
	}
	g.own[pattern] = true
	return g.routes.mux.HandlePath(method, pattern, nil)
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
	_, _ = w.Write(servedOpenAPI())
}

// servedOpenAPI is the generated OpenAPI document with one correction: a
// PATCH body requires nothing. protoc-gen-openapiv2 gives it the resource's
// create-time required fields (grpc-gateway#2566), and a client that sent
// them would be refused, since an update changes only what it sends.
var servedOpenAPI = sync.OnceValue(func() []byte {
	var doc map[string]any
	if err := json.Unmarshal(openapiv2.Document, &doc); err != nil {
		return openapiv2.Document
	}
	paths, _ := doc["paths"].(map[string]any)
	for _, item := range paths {
		op, _ := item.(map[string]any)["patch"].(map[string]any)
		params, _ := op["parameters"].([]any)
		for _, p := range params {
			if p, _ := p.(map[string]any); p["in"] == "body" {
				if schema, ok := p["schema"].(map[string]any); ok {
					delete(schema, "required")
				}
			}
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return openapiv2.Document
	}
	return out
})

// headKey marks, in its context, a HEAD request that headAsGet made a GET.
type headKey struct{}

// headAsGet answers HEAD as GET (RFC 9110 §9.3.2): the mux routes by
// method, and net/http leaves out the body of an answer to HEAD.
func headAsGet(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			r = r.Clone(context.WithValue(r.Context(), headKey{}, true))
			r.Method = http.MethodGet
		}
		next.ServeHTTP(w, r)
	})
}
