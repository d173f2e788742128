package main

import (
	"errors"
	"flag"
	"runtime/debug"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut strings.Builder
	err = run(t.Context(), args, func(string) string { return "" }, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestHelpListsTheCommands(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		out, _, err := runCLI(t, args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		for _, cmd := range []string{"serve", "send", "version", "help"} {
			if !strings.Contains(out, "imbridge "+cmd) {
				t.Errorf("%v does not list %q:\n%s", args, cmd, out)
			}
		}
	}
	_, stderr, err := runCLI(t, "frobnicate")
	if err == nil || !strings.Contains(err.Error(), `"frobnicate"`) || !strings.Contains(stderr, "imbridge send") {
		t.Errorf("unknown command: %v, usage %q", err, stderr)
	}
}

func TestServeHelpNamesTheEnvironment(t *testing.T) {
	_, stderr, err := runCLI(t, "serve", "-h")
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("serve -h: %v", err)
	}
	for _, want := range []string{"IMBRIDGE_CONFIG", "IMBRIDGE_DATA_DIR", "IMBRIDGE_API_KEYS", "IMBRIDGE_APP_KEY", "IMBRIDGE_CALLBACK_SECRETS", "--body-read-timeout", "webhook.body_read_timeout"} {
		if !strings.Contains(stderr, strings.TrimPrefix(want, "-")) {
			t.Errorf("serve -h does not name %s", want)
		}
	}
}

func TestVersion(t *testing.T) {
	out, _, err := runCLI(t, "version")
	if err != nil || !strings.HasPrefix(out, "imbridge ") || !strings.Contains(out, "go1.") {
		t.Errorf("version = %q, %v", out, err)
	}
}

// Help never shows a secret taken from the environment.
func TestHelpShowsNoSecret(t *testing.T) {
	const secret = "REAL-SECRET-XYZ"
	env := func(k string) string {
		switch k {
		case "IMBRIDGE_CALLBACK_SECRETS", "IMBRIDGE_EASEMOB_CLIENT_SECRET":
			return secret
		}
		return ""
	}
	for _, cmd := range []string{"send", "emulate"} {
		var out, errOut strings.Builder
		_ = run(t.Context(), []string{cmd, "-h"}, env, &out, &errOut)
		if strings.Contains(out.String()+errOut.String(), secret) {
			t.Errorf("%s -h prints the secret from the environment", cmd)
		}
		if !strings.Contains(errOut.String(), "secret") {
			t.Errorf("%s -h does not describe its secret flags:\n%s", cmd, errOut.String())
		}
	}
}

// The service collects garbage half as often as Go's default, unless GOGC
// says otherwise.
func TestServeGCPercent(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	tuneGC(func(string) string { return "" })
	if got := debug.SetGCPercent(100); got != serveGCPercent {
		t.Errorf("GOGC unset: GC percent %d, want %d", got, serveGCPercent)
	}
	tuneGC(func(k string) string {
		if k == "GOGC" {
			return "50"
		}
		return ""
	})
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC set: GC percent %d, want it left as it was (100)", got)
	}
}
