// Command imbridge bridges the Easemob IM cloud to internal services.
//
//	imbridge [serve] [flags]   run the service (the default command)
//	imbridge send SELECTOR     send a signed example callback to a running bridge
//	imbridge version           print the version
//
// Run `imbridge serve -h` for every setting.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/imbridge/imbridge/internal/app"
	"github.com/imbridge/imbridge/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "imbridge:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stderr)
	case "send":
		return send(ctx, args, getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, version())
		return nil
	default:
		return fmt.Errorf("unknown command %q: want serve, send or version", cmd)
	}
}

func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := config.Load("imbridge serve", args, getenv, stderr)
	if err != nil {
		return err
	}
	log := cfg.NewLogger(stderr)
	a, err := app.New(cfg, log)
	if err != nil {
		return err
	}
	return a.Run(ctx)
}

func version() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return "imbridge " + info.Main.Version
	}
	return "imbridge (devel)"
}
