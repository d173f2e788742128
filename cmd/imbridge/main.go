// Command imbridge bridges the Easemob IM cloud to internal services.
//
//	imbridge [serve] [flags]   run the service (the default command)
//	imbridge send SELECTOR     send a signed example callback to a running bridge
//	imbridge tail              print the events of a running bridge as they are stored
//	imbridge emulate           serve an in-memory Easemob chat-room REST API
//	imbridge version           print the version and the source revision
//	imbridge help              list the commands
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
	// The first signal starts a graceful shutdown; a second one, as soon
	// as it begins, ends the process the default way, for whoever will
	// not wait for shutdown_timeout.
	context.AfterFunc(ctx, stop)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "imbridge:", err)
		os.Exit(1)
	}
}

const usage = `imbridge bridges the Easemob IM cloud to internal services.

Usage:
  imbridge [serve] [flags]   run the service (the default command)
  imbridge send SELECTOR     send a signed example callback to a running bridge
  imbridge tail              print the events of a running bridge as they are stored
  imbridge emulate           serve an in-memory Easemob chat-room REST API
  imbridge version           print the version and the source revision
  imbridge help              show this help

Run "imbridge serve -h" for every setting and its environment variable,
"imbridge tail -h" for the tail's filters and positions, "imbridge send -h"
for the sender's flags, "imbridge emulate -h" for the emulator's.
`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	} else if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		cmd = "help"
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stderr)
	case "send":
		return send(ctx, args, getenv, stdout, stderr)
	case "tail":
		return tail(ctx, args, getenv, stdout, stderr)
	case "emulate":
		return emulate(ctx, args, getenv, stderr)
	case "version":
		fmt.Fprintln(stdout, version())
		return nil
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := config.Load("imbridge serve", args, getenv, stderr)
	if err != nil {
		return err
	}
	log := cfg.NewLogger(stderr)
	tuneGC(getenv)
	a, err := app.New(cfg, log)
	if err != nil {
		return err
	}
	return a.Run(ctx)
}

// serveGCPercent is the service's GOGC when the environment sets none.
// On a 2-core machine at 2,000 callbacks a second, Go's default (100)
// collects about once a second, and the callbacks answered during a
// collection's mark phase were two thirds of those over 4 ms (an execution
// trace of a soak). Twice the growth between collections makes them half
// as frequent, for about 30 MiB more: p99 4.2 ms against 5.1 (medians of 6
// and 14 two-minute soaks, README). The heap is then up to three times
// what is live.
const serveGCPercent = 200

// tuneGC sets serveGCPercent unless GOGC is set.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
}

// version is the module version and, when the binary was built from a
// checkout, the VCS revision, its time and whether the tree was modified.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "imbridge (unknown version)"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	out := "imbridge " + v
	vcs := map[string]string{}
	for _, s := range info.Settings {
		vcs[s.Key] = s.Value
	}
	if rev := vcs["vcs.revision"]; rev != "" {
		out += " " + vcs["vcs"] + " " + rev
		if t := vcs["vcs.time"]; t != "" {
			out += " " + t
		}
		if vcs["vcs.modified"] == "true" {
			out += " (modified)"
		}
	}
	return out + " " + info.GoVersion
}
