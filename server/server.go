// Package server is imbridge's gRPC server: its services, the interceptor
// chain (metrics → logging → error translation → auth → recovery), health,
// reflection and a shutdown that stays bounded while streams are open.
//
// Services, auth and the shutdown interceptor return domain errors; the
// error translation interceptor (errors.go) is the one place that turns
// them, and anything else, into a status with an ErrorInfo. It sits inside
// metrics and logging, so that they see the code the caller gets, and
// outside auth and recovery, so that their errors pass through it too.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/selector"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
)

// Options are what the gRPC server is built from.
type Options struct {
	// Logger receives one line per RPC and every recovered panic.
	Logger *slog.Logger
	// Keys authenticate callers of EventService, ChatroomService and
	// StatusService.
	Keys *APIKeys
	// Registerer receives the per-RPC metrics.
	Registerer prometheus.Registerer
	// Events serves EventService.
	Events imbridgev1.EventServiceServer
	// Chatrooms serves ChatroomService.
	Chatrooms imbridgev1.ChatroomServiceServer
	// Status serves StatusService; nil answers UNIMPLEMENTED.
	Status imbridgev1.StatusServiceServer
}

// KeepaliveMinClientInterval is the shortest client keepalive ping
// interval the server accepts; faster pingers get GOAWAY
// (too_many_pings).
const KeepaliveMinClientInterval = 10 * time.Second

// Server is the gRPC server of imbridge.
type Server struct {
	grpc   *grpc.Server
	health *health.Server
	log    *slog.Logger

	// streams is the parent of every stream's context: cancelling it ends
	// all open streams, which GracefulStop would otherwise wait for.
	streams    context.Context
	endStreams context.CancelFunc
}

// New builds the server and registers every service.
func New(opts Options) (*Server, error) {
	metrics := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(
		grpcprom.WithHistogramBuckets([]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}),
	))
	if err := opts.Registerer.Register(metrics); err != nil {
		return nil, fmt.Errorf("register gRPC metrics: %w", err)
	}
	streams, endStreams := context.WithCancel(context.Background())
	s := &Server{health: health.NewServer(), log: opts.Logger, streams: streams, endStreams: endStreams}

	logger := logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
		opts.Logger.Log(ctx, slog.Level(lvl), msg, fields...)
	})
	// Only the outcome is logged: never payloads or metadata, which carry
	// bearer keys. Health probes come every few seconds: they are logged
	// at DEBUG, every other RPC by its code.
	logOpts := []logging.Option{logging.WithLogOnEvents(logging.FinishCall)}
	probeLogOpts := []logging.Option{logging.WithLogOnEvents(logging.FinishCall),
		logging.WithLevels(func(codes.Code) logging.Level { return logging.LevelDebug })}
	probes := selector.MatchFunc(func(_ context.Context, c interceptors.CallMeta) bool { return isHealth(c.FullMethod()) })
	notProbes := selector.MatchFunc(func(_ context.Context, c interceptors.CallMeta) bool { return !isHealth(c.FullMethod()) })
	authRequired := selector.MatchFunc(func(_ context.Context, c interceptors.CallMeta) bool { return requiresAuth(c.FullMethod()) })
	// Metrics are labelled by method: only the methods served, or anyone
	// could add series without end by calling methods that do not exist.
	// Filled once the services are registered, before Serve.
	served := map[string]bool{}
	known := selector.MatchFunc(func(_ context.Context, c interceptors.CallMeta) bool { return served[c.FullMethod()] })
	// Without a handler of ours, recovery returns a *recovery.PanicError
	// (value and stack), which the translator logs once and hides.
	errs := errorTranslator{log: opts.Logger}

	s.grpc = grpc.NewServer(
		grpc.ForceServerCodecV2(newCodec()),
		// Streams live long and behind load balancers that cut idle
		// connections: clients may ping every 10s or more (the common 10–30s
		// settings), also with no call open; the server pings an idle
		// connection after 30s and drops it when the ping is unanswered for
		// 10s, which frees the streams of clients that vanished.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: KeepaliveMinClientInterval, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
		// An unknown service or method goes through the interceptors too,
		// so that its UNIMPLEMENTED carries an ErrorInfo like every error.
		grpc.UnknownServiceHandler(func(_ any, ss grpc.ServerStream) error {
			method, _ := grpc.Method(ss.Context())
			return status.Errorf(codes.Unimplemented, "unknown method %.200s", method)
		}),
		grpc.ChainUnaryInterceptor(
			selector.UnaryServerInterceptor(metrics.UnaryServerInterceptor(), known),
			selector.UnaryServerInterceptor(logging.UnaryServerInterceptor(logger, logOpts...), notProbes),
			selector.UnaryServerInterceptor(logging.UnaryServerInterceptor(logger, probeLogOpts...), probes),
			errs.unary,
			selector.UnaryServerInterceptor(auth.UnaryServerInterceptor(opts.Keys.authenticate), authRequired),
			authorizeUnary,
			checkEnumsUnary,
			recovery.UnaryServerInterceptor(),
		),
		grpc.ChainStreamInterceptor(
			selector.StreamServerInterceptor(metrics.StreamServerInterceptor(), known),
			selector.StreamServerInterceptor(logging.StreamServerInterceptor(logger, logOpts...), notProbes),
			selector.StreamServerInterceptor(logging.StreamServerInterceptor(logger, probeLogOpts...), probes),
			errs.stream,
			s.endOnShutdown,
			selector.StreamServerInterceptor(auth.StreamServerInterceptor(opts.Keys.authenticate), authRequired),
			authorizeStream,
			checkEnumsStream,
			recovery.StreamServerInterceptor(),
		),
	)
	imbridgev1.RegisterEventServiceServer(s.grpc, opts.Events)
	imbridgev1.RegisterChatroomServiceServer(s.grpc, opts.Chatrooms)
	if opts.Status == nil {
		opts.Status = imbridgev1.UnimplementedStatusServiceServer{}
	}
	imbridgev1.RegisterStatusServiceServer(s.grpc, opts.Status)
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)
	metrics.InitializeMetrics(s.grpc)
	for name, info := range s.grpc.GetServiceInfo() {
		s.health.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
		for _, m := range info.Methods {
			served["/"+name+"/"+m.Name] = true
		}
	}
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	return s, nil
}

// Serve accepts connections on lis until Shutdown.
func (s *Server) Serve(lis net.Listener) error {
	if err := s.grpc.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}

// SetNotServing tells health checkers to stop sending traffic here.
func (s *Server) SetNotServing() { s.health.Shutdown() }

// SetEventLogUp tells health checkers whether the event log can take
// appends: when it cannot, the server as a whole ("", which /healthz
// asks) and the EventService are NOT_SERVING, so that a load balancer
// sends the vendor's callbacks to another process. The ChatroomService
// does not need the log. After SetNotServing nothing changes.
func (s *Server) SetEventLogUp(up bool) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if up {
		st = healthpb.HealthCheckResponse_SERVING
	}
	for _, name := range []string{"", imbridgev1.EventService_ServiceDesc.ServiceName, imbridgev1.StatusService_ServiceDesc.ServiceName} {
		s.health.SetServingStatus(name, st)
	}
}

// EndStreams ends every open stream with UNAVAILABLE (SHUTTING_DOWN), and
// every stream opened later: the first step of a shutdown, before the HTTP
// gateway's streaming requests, which proxy them, can finish.
func (s *Server) EndStreams() { s.endStreams() }

// Shutdown ends every open stream, then stops gracefully: in-flight unary
// calls finish unless ctx ends first, when the server stops hard.
func (s *Server) Shutdown(ctx context.Context) {
	s.health.Shutdown()
	s.endStreams()
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.log.Warn("graceful stop timed out; closing remaining connections")
		s.grpc.Stop()
		<-done
	}
}

// endOnShutdown gives each stream a context that also ends when the server
// shuts down, so that long-lived streams cannot hold GracefulStop open.
func (s *Server) endOnShutdown(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, cancel := context.WithCancelCause(ss.Context())
	defer cancel(nil)
	stop := context.AfterFunc(s.streams, func() { cancel(errShuttingDown) })
	defer stop()
	err := handler(srv, &contextStream{ServerStream: ss, ctx: ctx})
	if context.Cause(ctx) == errShuttingDown {
		return errShuttingDown
	}
	return err
}

type contextStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (c *contextStream) Context() context.Context { return c.ctx }
