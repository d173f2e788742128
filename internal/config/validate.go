package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/imbridge/imbridge/internal/eventlog"
	"github.com/imbridge/imbridge/internal/ingest"
	"github.com/imbridge/imbridge/internal/selector"
	"github.com/imbridge/imbridge/server"
)

// Validate reports every setting that cannot work, each named as the
// user wrote it (see Load). The event log's own rules are checked here too,
// through eventlog.Config.Validate, so that a bad configuration stops the
// process before anything starts.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s %s", c.name(key), fmt.Sprintf(format, args...)))
	}
	for _, k := range []struct{ key, addr string }{{"grpc_addr", c.GRPCAddr}, {"http_addr", c.HTTPAddr}} {
		if _, port, err := net.SplitHostPort(k.addr); err != nil {
			bad(k.key, "%q: want host:port (%v)", k.addr, err)
		} else if n, err := strconv.Atoi(port); err == nil && (n < 0 || n > 65535) {
			bad(k.key, "%q: port %d: want 0 to 65535 (0 picks a free port)", k.addr, n)
		}
	}
	if _, err := ParseLevel(c.LogLevel); err != nil {
		bad("log_level", "%q: want debug, info, warn or error", c.LogLevel)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		bad("log_format", "%q: want json or text", c.LogFormat)
	}
	if c.ShutdownTimeout <= 0 {
		bad("shutdown_timeout", "%v: want a positive duration", time.Duration(c.ShutdownTimeout))
	}
	if c.HTTPReadHeaderTimeout <= 0 {
		bad("http_read_header_timeout", "%v: want a positive duration", time.Duration(c.HTTPReadHeaderTimeout))
	}
	if _, err := c.KeyGrants(); err != nil {
		bad("api_keys", "%v", err)
	}
	for i, k := range c.APIKeys {
		if strings.TrimSpace(k.Key) == "" {
			bad("api_keys", "[%d] is empty", i)
		}
		for _, a := range k.Apps {
			if !slices.ContainsFunc(c.Apps, func(x App) bool { return x.Appkey == a }) {
				bad("api_keys", "[%d].apps: %q is not a configured app", i, a)
			}
		}
	}
	for i, o := range c.CORSAllowedOrigins {
		if o == "*" {
			continue
		}
		switch canon, ok := canonicalOrigin(o); {
		case !ok:
			bad("cors_allowed_origins", "[%d] %q: want an origin such as https://console.example.com, or *", i, o)
		case canon != o:
			// The Origin header is compared as sent, and browsers send
			// this form only.
			bad("cors_allowed_origins", "[%d] %q: browsers send this origin as %q: write that", i, o, canon)
		}
	}
	errs = append(errs, c.validateApps()...)
	if max := eventlog.MaxBodyFor(eventlog.MaxEventBytes); c.Webhook.MaxBodyBytes <= 0 || c.Webhook.MaxBodyBytes > max {
		bad("webhook.max_body_bytes", "%d: want 1 to %d (a stored event holds the raw body and its decoded form)", c.Webhook.MaxBodyBytes, max)
	}
	if c.EasemobProcesses < 1 || c.EasemobProcesses > 1000 {
		bad("easemob_processes", "%d: want 1 to 1000", c.EasemobProcesses)
	}
	if c.Webhook.AppendTimeout <= 0 {
		bad("webhook.append_timeout", "%v: want a positive duration", time.Duration(c.Webhook.AppendTimeout))
	}
	if d := time.Duration(c.Streams.HeartbeatInterval); d < 100*time.Millisecond || d > 5*time.Minute {
		bad("streams.heartbeat_interval", "%v: want 100ms to 5m", d)
	}
	if c.Streams.SendTimeout <= 0 {
		bad("streams.send_timeout", "%v: want a positive duration", time.Duration(c.Streams.SendTimeout))
	}
	if c.Webhook.BodyReadTimeout <= 0 {
		bad("webhook.body_read_timeout", "%v: want a positive duration", time.Duration(c.Webhook.BodyReadTimeout))
	}
	if c.Webhook.TimestampTolerance < 0 {
		bad("webhook.timestamp_tolerance", "%v must not be negative (0 is off)", time.Duration(c.Webhook.TimestampTolerance))
	}
	if c.EventLog.DuplicateWindow == 0 { // the event log would read 0 as its default
		bad("event_log.duplicate_window", "0s: want at least %v (default %v)", eventlog.MinDuplicateWindow, eventlog.DefaultDuplicateWindow)
	}
	if c.EventLog.Replicas > 5 {
		bad("event_log.replicas", "%d: want 1 to 5", c.EventLog.Replicas)
	}
	el := c.EventLogConfig(nil)
	for _, err := range unjoin(el.Validate()) {
		var ce *eventlog.ConfigError
		if errors.As(err, &ce) {
			bad(eventLogKeys[ce.Field], "%s", ce.Problem)
		} else {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// eventLogKeys names eventlog.Config's fields by their YAML keys.
var eventLogKeys = map[string]string{
	"DataDir":         "data_dir",
	"NATSURL":         "event_log.nats_url",
	"Replicas":        "event_log.replicas",
	"MaxAge":          "event_log.max_age",
	"MaxBytes":        "event_log.max_bytes",
	"SyncAlways":      "event_log.sync_always",
	"Compression":     "event_log.compression",
	"DuplicateWindow": "event_log.duplicate_window",
	"CallIDIndexTTL":  "event_log.call_id_index_ttl",
	"ListenAddr":      "event_log.listen",
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err != nil {
		return []error{err}
	}
	return nil
}

// EventLogConfig is the event log's part of the configuration.
func (c *Config) EventLogConfig(log *slog.Logger) eventlog.Config {
	return eventlog.Config{
		DataDir:         c.DataDir,
		NATSURL:         c.EventLog.NATSURL,
		Replicas:        c.EventLog.Replicas,
		MaxAge:          time.Duration(c.EventLog.MaxAge),
		MaxBytes:        c.EventLog.MaxBytes,
		SyncAlways:      c.EventLog.SyncAlways,
		Compression:     eventlog.Compression(c.EventLog.Compression),
		DuplicateWindow: time.Duration(c.EventLog.DuplicateWindow),
		CallIDIndexTTL:  time.Duration(c.EventLog.CallIDIndexTTL),
		ListenAddr:      c.EventLog.Listen,
		Logger:          log,
	}
}

// IngestApps is the apps as the write path takes them, their selectors
// parsed (Validate has checked them).
func (c *Config) IngestApps() ([]ingest.App, error) {
	out := make([]ingest.App, 0, len(c.Apps))
	for _, a := range c.Apps {
		x := ingest.App{Appkey: a.Appkey, Secrets: a.Secrets}
		var err error
		if x.Unsigned, err = selector.ParseAll(a.UnsignedSelectors); err == nil {
			if x.Keep, err = selector.ParseAll(a.Keep); err == nil {
				x.Drop, err = selector.ParseAll(a.Drop)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("apps %s: %w", a.Appkey, err)
		}
		out = append(out, x)
	}
	return out, nil
}

func (c *Config) validateApps() []error {
	var errs []error
	seen := map[string]bool{}
	for i, a := range c.Apps {
		name := fmt.Sprintf("apps[%d]", i)
		appkeyName := name + ".appkey"
		if c.name(name) == AppKeyEnv { // the environment's app
			appkeyName = AppKeyEnv
		}
		org, app, ok := strings.Cut(a.Appkey, "#")
		if !ok || org == "" || app == "" || strings.ContainsAny(app, "#/_ \t") || strings.ContainsAny(org, "/_ \t") {
			// The vendor's org and app names hold no `_` (user and room
			// addresses are `{org#app}_{name}`), `/` (paths) or spaces.
			errs = append(errs, fmt.Errorf("%s %q: want org#app, the names without _, / or spaces", appkeyName, a.Appkey))
		}
		if seen[a.Appkey] {
			errs = append(errs, fmt.Errorf("%s.appkey %q is configured twice", name, a.Appkey))
		}
		seen[a.Appkey] = true
		if len(a.Secrets) == 0 {
			errs = append(errs, fmt.Errorf("%s.secrets: at least one callback secret is required", name))
		}
		for j, s := range a.Secrets {
			if s == "" {
				errs = append(errs, fmt.Errorf("%s.secrets[%d] is empty", name, j))
			}
		}
		for _, list := range []struct {
			key string
			sel []string
		}{{"unsigned_selectors", a.UnsignedSelectors}, {"keep", a.Keep}, {"drop", a.Drop}} {
			if _, err := selector.ParseAll(list.sel); err != nil {
				errs = append(errs, fmt.Errorf("%s.%s: %w", name, list.key, err))
			}
		}
		for j, id := range a.Chatrooms {
			if id == "" || strings.ContainsAny(id, "/#@ \t") || len(id) > 128 {
				errs = append(errs, fmt.Errorf("%s.chatrooms[%d] %q: want a chatroom id (no /, #, @ or spaces)", name, j, id))
			}
		}
		if v := a.Easemob; v != nil {
			if u, err := url.Parse(v.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				errs = append(errs, fmt.Errorf("%s.easemob.base_url %q: want https://host (%s)", name, v.BaseURL, EasemobBaseURLEnv))
			}
			if v.ClientID == "" || v.ClientSecret == "" {
				errs = append(errs, fmt.Errorf("%s.easemob: client_id and client_secret are both required (%s, %s)", name, EasemobClientIDEnv, EasemobClientSecretEnv))
			}
		}
	}
	return errs
}

// KeyGrants is the API keys as the server checks them.
func (c *Config) KeyGrants() (*server.APIKeys, error) {
	grants := make([]server.KeyGrant, 0, len(c.APIKeys))
	for _, k := range c.APIKeys {
		grants = append(grants, server.KeyGrant{Key: k.Key, Scopes: k.Scopes, Apps: k.Apps})
	}
	return server.NewScopedAPIKeys(grants)
}

// canonicalOrigin is the form in which browsers send origin o in their
// Origin header (scheme and host in lower case, no default port, no path);
// false when o is no origin.
func canonicalOrigin(o string) (string, bool) {
	u, err := url.Parse(o)
	if err != nil || u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery ||
		(u.Path != "" && u.Path != "/") || u.Hostname() == "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6
	}
	if port := u.Port(); port != "" && !(scheme == "https" && port == "443" || scheme == "http" && port == "80") {
		host += ":" + port
	}
	return scheme + "://" + host, true
}
