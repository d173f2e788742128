package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/imbridge/imbridge/internal/config"
	"github.com/imbridge/imbridge/internal/selector"
	"github.com/imbridge/imbridge/internal/trigger"
)

// send posts a correctly signed example callback of a selector to a running
// bridge, like `stripe trigger`: `imbridge send chat:txt`.
func send(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("imbridge send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: imbridge send [flags] SELECTOR   (imbridge send -list shows every selector)")
		fs.PrintDefaults()
	}
	url := fs.String("url", "http://127.0.0.1:8080/v1/callbacks/easemob", "webhook URL of the running bridge")
	appkey := fs.String("appkey", firstNonEmpty(getenv(config.AppKeyEnv), "demo#imbridge"), "appkey to send as (env "+config.AppKeyEnv+")")
	secret := secretFlag(fs, "secret", "dev-callback-secret", "callback secret to sign with", config.CallbackSecretsEnv+", first one",
		func() string { return firstOf(getenv(config.CallbackSecretsEnv)) })
	unsigned := fs.Bool("unsigned", false, "send without callId and security, as the vendor sends reaction and thread")
	tamper := fs.Bool("tamper", false, "send a wrong signature (the bridge must answer 401)")
	list := fs.Bool("list", false, "list the selectors that can be sent")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *list {
		for _, s := range selector.List() {
			fmt.Fprintln(stdout, s)
		}
		return nil
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("want exactly one selector")
	}
	bodies, err := trigger.Build(fs.Arg(0), trigger.Options{Appkey: *appkey, Secret: secret(), Unsigned: *unsigned, Tamper: *tamper, Now: time.Now()})
	if err != nil {
		return err
	}
	want := http.StatusOK
	if *tamper {
		want = http.StatusUnauthorized // what -tamper checks
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, body := range bodies {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, *url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		fmt.Fprintf(stdout, "%s %s\n", resp.Status, bytes.TrimSpace(answer))
		if resp.StatusCode != want {
			return fmt.Errorf("the bridge answered %s, want %d", resp.Status, want)
		}
	}
	return nil
}

// secretFlag is a flag for a secret whose value may also come from the
// environment. Unlike a default taken from the environment, it never shows
// the secret: -h names the variable and the built-in fallback only. The
// returned func gives the flag's value, else the environment's, else the
// fallback.
func secretFlag(fs *flag.FlagSet, name, fallback, usage, env string, fromEnv func() string) func() string {
	v := fs.String(name, "", usage+" (env "+env+"; default "+fallback+")")
	return func() string { return firstNonEmpty(*v, fromEnv(), fallback) }
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// firstOf is the first item of a comma list, as config reads it.
func firstOf(list string) string {
	if items := config.SplitList(list); len(items) > 0 {
		return items[0]
	}
	return ""
}
