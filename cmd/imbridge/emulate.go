package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/imbridge/imbridge/internal/config"
	"github.com/imbridge/imbridge/internal/emulator"
)

// Environment variables of `imbridge emulate` besides config's appkey and
// callback secrets. The client credentials are the ones `imbridge serve`
// reads for the vendor API, so one environment configures both.
const (
	emulatorAddrEnv         = "IMBRIDGE_EMULATOR_ADDR"
	emulatorClientIDEnv     = config.EasemobClientIDEnv
	emulatorClientSecretEnv = config.EasemobClientSecretEnv
)

// emulate serves an in-memory emulator of the vendor's chat-room REST API
// for one app, posting signed chat-room callbacks to a running bridge, so
// that imbridge runs on a machine that cannot reach the vendor.
func emulate(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet("imbridge emulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: imbridge emulate [flags]   (serve the Easemob chat-room REST API in memory)")
		fs.PrintDefaults()
	}
	addr := fs.String("addr", firstNonEmpty(getenv(emulatorAddrEnv), "127.0.0.1:8090"), "listen address (env "+emulatorAddrEnv+")")
	appkey := fs.String("appkey", firstNonEmpty(getenv(config.AppKeyEnv), "demo#imbridge"), "the app's appkey, org#app (env "+config.AppKeyEnv+")")
	clientID := fs.String("client-id", firstNonEmpty(getenv(emulatorClientIDEnv), "demo-client-id"), "client id the token request must send (env "+emulatorClientIDEnv+")")
	clientSecret := secretFlag(fs, "client-secret", "demo-client-secret", "client secret the token request must send", emulatorClientSecretEnv,
		func() string { return getenv(emulatorClientSecretEnv) })
	callbackURL := fs.String("callback-url", "http://127.0.0.1:8080/v1/callbacks/easemob", "where chat-room callbacks are posted; empty sends none")
	callbackSecret := secretFlag(fs, "callback-secret", "dev-callback-secret", "secret the callbacks are signed with", config.CallbackSecretsEnv+", first one",
		func() string { return firstOf(getenv(config.CallbackSecretsEnv)) })
	autoUsers := fs.Bool("auto-users", true, "every username exists; false: none does")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	emu, err := emulator.New(emulator.Options{
		Apps:            []emulator.App{{Appkey: *appkey, ClientID: *clientID, ClientSecret: clientSecret()}},
		CallbackURL:     *callbackURL,
		CallbackSecret:  callbackSecret(),
		AutoCreateUsers: *autoUsers,
		Logger:          log,
	})
	if err != nil {
		return err
	}
	defer emu.Close()
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", *addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle(emulator.ControlPath, emu.Control()) // fault switches, see emulator.Control
	mux.Handle("/", emu)
	// Requests get a context that ends when shutdown begins, so that one
	// waiting out an injected latency does not hold Ctrl-C up.
	baseCtx, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return baseCtx }}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("emulating the Easemob chat-room API; fault switches at "+emulator.ControlPath, "addr", ln.Addr().String(), "appkey", *appkey,
		"callback_url", *callbackURL, "auto_users", strconv.FormatBool(*autoUsers))

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	cancelBase()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	log.Info("emulator stopped")
	return err
}
