package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imbridge/imbridge/gateway"
	"github.com/imbridge/imbridge/internal/config"
	"github.com/imbridge/imbridge/internal/easemob"
	"github.com/imbridge/imbridge/internal/emulator"
)

// embeddedVendor is the emulator of the vendor's REST API that serves the
// apps configured without vendor credentials, on a loopback listener of its
// own. Its chatroom callbacks go to this process's webhook, signed with the
// app's first callback secret, as the real cloud's would.
type embeddedVendor struct {
	lis       net.Listener
	srv       *http.Server
	emulators []*emulator.Emulator
}

// newVendor builds the client of the vendor's REST API: the real one for
// apps with credentials, the embedded emulator for the others.
func (a *App) newVendor(reg prometheus.Registerer) (*easemob.Client, error) {
	var apps []easemob.AppConfig
	var emulated []config.App
	for _, x := range a.cfg.Apps {
		if x.Easemob == nil {
			emulated = append(emulated, x)
			continue
		}
		apps = append(apps, easemob.AppConfig{Appkey: x.Appkey, BaseURL: x.Easemob.BaseURL, ClientID: x.Easemob.ClientID, ClientSecret: x.Easemob.ClientSecret})
	}
	if len(emulated) > 0 {
		more, err := a.startEmulator(emulated)
		if err != nil {
			return nil, err
		}
		apps = append(apps, more...)
	}
	share := 1.0 // the vendor's limits are per app, whichever process calls
	if n := a.cfg.EasemobProcesses; n > 1 {
		share = 1 / float64(n)
	}
	return easemob.New(apps, easemob.Options{Logger: a.log, Registerer: reg, RateShare: share})
}

func (a *App) startEmulator(apps []config.App) ([]easemob.AppConfig, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("embedded vendor emulator: %w", err)
	}
	v := &embeddedVendor{lis: lis}
	a.vendor = v
	base := "http://" + lis.Addr().String()
	webhook := "http://" + dialTarget(a.httpLis.Addr()) + gateway.WebhookPath
	mux := http.NewServeMux()
	var out []easemob.AppConfig
	var names []string
	for _, x := range apps {
		id, secret := "emulated-"+rand.Text(), rand.Text()
		emu, err := emulator.New(emulator.Options{
			Apps:            []emulator.App{{Appkey: x.Appkey, ClientID: id, ClientSecret: secret}},
			CallbackURL:     webhook,
			CallbackSecret:  x.Secrets[0],
			AutoCreateUsers: true,
			Logger:          a.log,
		})
		if err != nil {
			return nil, fmt.Errorf("embedded vendor emulator for %s: %w", x.Appkey, err)
		}
		v.emulators = append(v.emulators, emu)
		org, app, _ := strings.Cut(x.Appkey, "#")
		mux.Handle("/"+org+"/"+app+"/", emu)
		out = append(out, easemob.AppConfig{Appkey: x.Appkey, BaseURL: base, ClientID: id, ClientSecret: secret})
		names = append(names, x.Appkey)
	}
	v.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)}
	a.log.Warn("no vendor credentials for these apps: chatroom administration talks to imbridge's embedded emulator of the Easemob REST API, not the real vendor; "+
		"set apps[].easemob (or IMBRIDGE_EASEMOB_*) to reach the vendor", "apps", strings.Join(names, ","), "emulator_url", base)
	return out, nil
}

// Emulator is the embedded emulator of the first app configured without
// vendor credentials (in configuration order), for tests; nil when every
// app has credentials.
func (a *App) Emulator() *emulator.Emulator {
	if a.vendor == nil || len(a.vendor.emulators) == 0 {
		return nil
	}
	return a.vendor.emulators[0]
}

func (v *embeddedVendor) serve() error {
	if err := v.srv.Serve(v.lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("embedded vendor emulator: %w", err)
	}
	return nil
}

// stopCallbacks stops the emulators' callbacks before the webhook they
// post to: those in flight are delivered or dropped.
func (v *embeddedVendor) stopCallbacks() error {
	var errs []error
	for _, e := range v.emulators {
		errs = append(errs, e.Close())
	}
	return errors.Join(errs...)
}

// shutdown closes the emulator's listener, once no RPC can call it any
// more: the chatroom calls the gRPC server lets finish still need it.
func (v *embeddedVendor) shutdown(ctx context.Context) error {
	if err := v.srv.Shutdown(ctx); err != nil {
		return errors.Join(err, v.srv.Close())
	}
	return nil
}
