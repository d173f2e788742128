// Package app assembles an imbridge process: listeners, the gRPC server,
// the HTTP gateway, and the order in which they start and stop.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/imbridge/imbridge/gateway"
	"github.com/imbridge/imbridge/internal/config"
	"github.com/imbridge/imbridge/internal/datadir"
	"github.com/imbridge/imbridge/internal/easemob"
	"github.com/imbridge/imbridge/internal/eventlog"
	"github.com/imbridge/imbridge/internal/ingest"
	"github.com/imbridge/imbridge/server"
)

// App is one imbridge process.
type App struct {
	cfg     config.Config
	log     *slog.Logger
	grpcLis net.Listener
	httpLis net.Listener
	grpc    *server.Server
	gateway *gateway.Gateway
	events  *eventlog.Log
	dirLock *datadir.Held   // the data_dir, held until shutdown ends
	vendor  *embeddedVendor // apps without vendor credentials: the emulator
	client  *easemob.Client // the vendor's REST API, for ChatroomService
}

// New checks the configuration, opens the listeners and builds the servers.
// Nothing is served until Run.
func New(cfg config.Config, log *slog.Logger) (_ *App, err error) {
	startTime := time.Now() // the counters count from here
	// The embedded server's NATS listener takes any client, without
	// credentials: beyond loopback it would hand the whole log to the
	// network around every api_key.
	if l := cfg.EventLog.Listen; l != "" && !config.IsLoopback(l) {
		return nil, fmt.Errorf("refusing to start: %s %q is not on loopback: the embedded NATS listener takes clients without credentials, "+
			"around api_keys; bind it to 127.0.0.1", cfg.NameOf("event_log.listen"), l)
	}
	if len(cfg.APIKeys) == 0 {
		if open := cfg.NotLoopback(); len(open) > 0 {
			return nil, fmt.Errorf("refusing to start: no api_keys are configured and not every listener is on loopback "+
				"(%s); set api_keys (IMBRIDGE_API_KEYS) or bind them to 127.0.0.1", strings.Join(open, ", "))
		}
		log.Warn("no api_keys configured: the API is open to every caller on this machine (loopback only)")
	}
	if len(cfg.Apps) == 0 {
		log.Warn("no apps configured: every callback will be rejected as from an unknown appkey")
	}
	a := &App{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			a.closeListeners()
			if a.vendor != nil {
				_ = a.vendor.shutdown(context.Background())
				if a.vendor.lis != nil {
					_ = a.vendor.lis.Close()
				}
			}
			if a.events != nil {
				_ = a.events.Close()
			}
			_ = a.dirLock.Release() // last, after the event log
		}
	}()
	// Before anything else touches data_dir: a second process on one
	// store or call id index corrupts both (see package datadir).
	if a.dirLock, err = datadir.Lock(cfg.DataDir); err != nil {
		return nil, namedAs(err, "data_dir", cfg.NameOf("data_dir"))
	}
	if a.grpcLis, err = net.Listen("tcp", cfg.GRPCAddr); err != nil {
		return nil, fmt.Errorf("%s %q: %w", cfg.NameOf("grpc_addr"), cfg.GRPCAddr, errors.Unwrap(err))
	}
	if a.httpLis, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, fmt.Errorf("%s %q: %w", cfg.NameOf("http_addr"), cfg.HTTPAddr, errors.Unwrap(err))
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	abandoned := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "imbridge_subscription_events_abandoned_total",
		Help: "Events a shared subscription stopped delivering after its last delivery attempt, by subscription. Every imbridge process on the log counts them.",
	}, []string{"subscription"})
	reg.MustRegister(abandoned)

	openCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	elc := cfg.EventLogConfig(log)
	elc.OnAbandoned = func(appkey, id string, cursor uint64, deliveries int) {
		name := server.SubscriptionName(appkey, id)
		abandoned.WithLabelValues(name).Inc()
		log.Warn("subscription: event abandoned after its last delivery attempt; it stays in the log", "subscription", name, "cursor", cursor, "deliveries", deliveries)
	}
	if a.events, err = eventlog.Open(openCtx, elc); err != nil {
		return nil, err // eventlog's errors name it
	}
	for _, app := range cfg.Apps {
		for _, id := range app.Chatrooms {
			if err := a.events.MarkChatroom(openCtx, app.Appkey, id); err != nil {
				return nil, fmt.Errorf("apps %s: chatrooms: %w", app.Appkey, err)
			}
		}
	}
	if max := a.events.MaxEventBytes(); eventlog.MaxBodyFor(max) < cfg.Webhook.MaxBodyBytes {
		log.Warn("the NATS server's max_payload is small for webhook.max_body_bytes: the largest callbacks will be refused with 413; raise max_payload to at least 4MB",
			"max_event_bytes", max, "max_body_bytes", cfg.Webhook.MaxBodyBytes)
	}

	apps, err := cfg.IngestApps()
	if err != nil {
		return nil, err
	}
	ingester, err := ingest.New(apps, a.events, ingest.Options{
		AppendTimeout:      time.Duration(cfg.Webhook.AppendTimeout),
		TimestampTolerance: time.Duration(cfg.Webhook.TimestampTolerance),
		Logger:             log,
		Registerer:         reg,
	})
	if err != nil {
		return nil, err
	}
	keys, err := cfg.KeyGrants()
	if err != nil {
		return nil, err
	}
	if a.client, err = a.newVendor(reg); err != nil {
		return nil, err
	}
	events := &server.EventService{Store: a.events, Streams: server.StreamOptions{
		HeartbeatInterval: time.Duration(cfg.Streams.HeartbeatInterval),
		SendTimeout:       time.Duration(cfg.Streams.SendTimeout),
	}}
	a.grpc, err = server.New(server.Options{
		Logger:     log,
		Keys:       keys,
		Registerer: reg,
		Events:     events,
		Chatrooms:  &server.ChatroomService{Vendor: a.client, Rooms: a.events, Logger: log},
		Status:     &server.StatusService{Store: a.events, Metrics: ingester.Counters(), Events: events, StartTime: startTime},
	})
	if err != nil {
		return nil, err
	}
	a.events.WatchConnection(a.grpc.SetEventLogUp)
	a.gateway, err = gateway.New(gateway.Options{
		GRPCTarget:         dialTarget(a.grpcLis.Addr()),
		Logger:             log,
		Gatherer:           reg,
		Registerer:         reg,
		ReadHeaderTimeout:  time.Duration(cfg.HTTPReadHeaderTimeout),
		BodyReadTimeout:    time.Duration(cfg.Webhook.BodyReadTimeout),
		CORSAllowedOrigins: cfg.CORSAllowedOrigins,
		LocalOnly:          len(cfg.APIKeys) == 0,
	})
	if err != nil {
		return nil, err
	}
	if err := a.gateway.HandlePath("POST", gateway.WebhookPath, gateway.Webhook(ingester, gateway.WebhookOptions{
		MaxBodyBytes:    cfg.Webhook.MaxBodyBytes,
		BodyReadTimeout: time.Duration(cfg.Webhook.BodyReadTimeout),
	})); err != nil {
		return nil, err
	}
	return a, nil
}

// GRPCAddr is the address the gRPC server listens on.
func (a *App) GRPCAddr() net.Addr { return a.grpcLis.Addr() }

// HTTPAddr is the address the HTTP gateway listens on.
func (a *App) HTTPAddr() net.Addr { return a.httpLis.Addr() }

// Run serves until ctx ends or a server fails, then shuts down in order:
// HTTP (bounded), open streams, gRPC (graceful, then hard), all within the
// configured shutdown timeout.
func (a *App) Run(ctx context.Context) error {
	a.log.Info("imbridge serving", "grpc_addr", a.grpcLis.Addr().String(), "http_addr", a.httpLis.Addr().String())
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.grpc.Serve(a.grpcLis) })
	g.Go(func() error { return a.gateway.Serve(a.httpLis) })
	if a.vendor != nil {
		g.Go(a.vendor.serve)
	}
	g.Go(func() error {
		<-gctx.Done()
		a.shutdown()
		return nil
	})
	err := g.Wait()
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

func (a *App) shutdown() {
	start := time.Now()
	timeout := time.Duration(a.cfg.ShutdownTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	a.log.Info("shutting down", "timeout", timeout.String())
	a.grpc.SetNotServing()
	// The embedded emulator's callbacks first: they go to our webhook.
	if a.vendor != nil {
		if err := a.vendor.stopCallbacks(); err != nil {
			a.log.Warn("embedded vendor emulator: stopping its callbacks", "err", err)
		}
	}

	// Live streams end first, with UNAVAILABLE: the gateway's streaming
	// requests proxy them, and HTTP shutdown would otherwise wait on them.
	a.grpc.EndStreams()
	// HTTP gets half the budget: requests in flight finish, idle
	// connections close; streams still open after that are cut.
	httpCtx, httpCancel := context.WithTimeout(ctx, timeout/2)
	if err := a.gateway.Shutdown(httpCtx); err != nil {
		a.log.Warn("HTTP shutdown cut requests still open", "err", err)
	}
	httpCancel()
	// Then gRPC: streams end at once, unary calls get the rest.
	a.grpc.Shutdown(ctx)
	// No RPC can call the vendor any more (a create its caller gave up on
	// may still run: it fails now, and a retry finds no room recorded):
	// the embedded one's listener goes, and the client's connections.
	if a.vendor != nil {
		if err := a.vendor.shutdown(ctx); err != nil {
			a.log.Warn("embedded vendor emulator shutdown", "err", err)
		}
	}
	a.client.Close()
	// Last the event log, once nothing can append or read any more, in
	// what is left of the budget: servers that stopped answering would
	// otherwise hold each connection for its drain timeout.
	if err := a.events.CloseContext(ctx); err != nil {
		a.log.Warn("event log close", "err", err)
	}
	// The data_dir lock goes after the server that wrote there has stopped.
	if err := a.dirLock.Release(); err != nil {
		a.log.Warn("data_dir unlock", "err", err)
	}
	a.log.Info("shutdown complete", "took", time.Since(start).Round(time.Millisecond).String())
}

func (a *App) closeListeners() {
	for _, l := range []net.Listener{a.grpcLis, a.httpLis} {
		if l != nil {
			_ = l.Close()
		}
	}
}

// namedAs is err with the setting key at its start written as the user
// set it (--data-dir, IMBRIDGE_DATA_DIR); errors.As still finds the cause.
func namedAs(err error, key, name string) error {
	if key == name || !strings.HasPrefix(err.Error(), key) {
		return err
	}
	return &renamedError{msg: name + strings.TrimPrefix(err.Error(), key), err: err}
}

type renamedError struct {
	msg string
	err error
}

func (e *renamedError) Error() string { return e.msg }
func (e *renamedError) Unwrap() error { return e.err }

// dialTarget is how the gateway reaches the gRPC listener: a wildcard
// listen address is dialled on loopback.
func dialTarget(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	host := tcp.IP.String()
	if tcp.IP == nil || tcp.IP.IsUnspecified() {
		host = "127.0.0.1" // a wildcard listener also accepts on IPv4 loopback
	}
	return net.JoinHostPort(host, fmt.Sprint(tcp.Port))
}
