// Package config loads imbridge's configuration from, in rising precedence:
// built-in defaults, a YAML file, IMBRIDGE_* environment variables and
// command-line flags.
//
// Scalars can come from any of the four; structured settings that hold
// secrets per application (apps, their callback secrets) belong in the file,
// with a single-application shortcut in the environment for containers.
package config

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/imbridge/imbridge/internal/selector"
)

// Config is the whole configuration of an imbridge process.
type Config struct {
	// GRPCAddr is the gRPC listen address.
	GRPCAddr string `json:"grpc_addr"`
	// HTTPAddr is the HTTP gateway listen address (REST, webhook, metrics).
	HTTPAddr string `json:"http_addr"`
	// DataDir holds the embedded event log.
	DataDir string `json:"data_dir"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `json:"log_level"`
	// LogFormat is json or text.
	LogFormat string `json:"log_format"`
	// ShutdownTimeout bounds a graceful shutdown, open streams included.
	ShutdownTimeout Duration `json:"shutdown_timeout"`
	// APIKeys are the bearer keys callers of our own API present.
	APIKeys []string `json:"api_keys"`
	// Apps are the Easemob applications whose callbacks are accepted.
	Apps []App `json:"apps"`
	// Webhook tunes the callback route.
	Webhook Webhook `json:"webhook"`
	// EventLog is where accepted callbacks are stored.
	EventLog EventLog `json:"event_log"`
}

// App is one Easemob application whose callbacks imbridge accepts.
type App struct {
	// Appkey is `org#app`, as callbacks carry it.
	Appkey string `json:"appkey"`
	// Secrets are the callback rules' secrets; a callback signed with any of
	// them is accepted (one per rule, two while rotating).
	Secrets []string `json:"secrets"`
	// UnsignedSelectors are selectors accepted without a signature. The
	// vendor sends reaction and thread callbacks unsigned; anyone who can
	// reach the webhook can forge events of these selectors.
	UnsignedSelectors []string `json:"unsigned_selectors"`
	// Keep, when set, stores only events these selectors choose.
	Keep []string `json:"keep"`
	// Drop never stores events these selectors choose (applied after Keep).
	Drop []string `json:"drop"`
}

// Webhook tunes the callback route.
type Webhook struct {
	// MaxBodyBytes bounds a callback body; larger ones get 413.
	MaxBodyBytes int64 `json:"max_body_bytes"`
	// AppendTimeout bounds the wait for the event log; past it the answer
	// is 503, so the vendor retries.
	AppendTimeout Duration `json:"append_timeout"`
	// TimestampTolerance, when positive, rejects callbacks whose vendor
	// timestamp is further than this from now. Off by default: the vendor
	// redelivers stored failed callbacks up to days later.
	TimestampTolerance Duration `json:"timestamp_tolerance"`
}

// EventLog is the JetStream event log's configuration.
type EventLog struct {
	// NATSURL, when set, uses that NATS cluster instead of the embedded
	// server.
	NATSURL string `json:"nats_url"`
	// Replicas is the stream's replica count on an external cluster.
	Replicas int `json:"replicas"`
	// MaxAge drops events older than this; 0 keeps them forever.
	MaxAge Duration `json:"max_age"`
	// MaxBytes drops the oldest events past this size; 0 is unlimited.
	MaxBytes int64 `json:"max_bytes"`
	// SyncAlways fsyncs every append before it is acknowledged.
	SyncAlways bool `json:"sync_always"`
	// DuplicateWindow is how long a callId is remembered by JetStream's
	// message-id deduplication; at least 10m.
	DuplicateWindow Duration `json:"duplicate_window"`
	// CallIDIndexTTL is how long the durable callId index remembers a
	// callId (duplicates beyond the window, GetEvent by call id).
	CallIDIndexTTL Duration `json:"call_id_index_ttl"`
	// Listen, when set, opens a NATS client listener on the embedded server.
	Listen string `json:"listen"`
}

// Duration is a time.Duration written as text ("10s", "1m30s") in YAML.
type Duration time.Duration

// UnmarshalJSON reads a duration text such as "10s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	v, err := time.Duration(0), json.Unmarshal(b, &s)
	if err == nil {
		v, err = time.ParseDuration(s)
	}
	if err != nil {
		// A type error lets encoding/json name the field in its message.
		return &json.UnmarshalTypeError{Value: "duration " + string(b) + ` (want text such as "10s")`, Type: reflect.TypeFor[Duration]()}
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration as text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Default returns the built-in defaults.
func Default() Config {
	return Config{
		GRPCAddr:        ":9090",
		HTTPAddr:        ":8080",
		DataDir:         "data",
		LogLevel:        "info",
		LogFormat:       "json",
		ShutdownTimeout: Duration(10 * time.Second),
		Webhook: Webhook{
			MaxBodyBytes:  1 << 20,
			AppendTimeout: Duration(5 * time.Second),
		},
		EventLog: EventLog{
			Replicas:        1,
			MaxAge:          Duration(7 * 24 * time.Hour),
			MaxBytes:        10 << 30,
			DuplicateWindow: Duration(10 * time.Minute),
			// The vendor's exception storage keeps failed callbacks 3 days
			// for redelivery.
			CallIDIndexTTL: Duration(72 * time.Hour),
		},
	}
}

// setting is one scalar that a flag and an environment variable can set.
type setting struct {
	flag  string
	env   string
	usage string
	apply func(c *Config, v string) error
}

func str(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *field(c) = v; return nil }
}

func dur(field func(*Config) *Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		*field(c) = Duration(d)
		return err
	}
}

func integer(field func(*Config) *int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		*field(c) = n
		return err
	}
}

var settings = []setting{
	{"grpc-addr", "IMBRIDGE_GRPC_ADDR", "gRPC listen address (default :9090)", str(func(c *Config) *string { return &c.GRPCAddr })},
	{"http-addr", "IMBRIDGE_HTTP_ADDR", "HTTP gateway listen address (default :8080)", str(func(c *Config) *string { return &c.HTTPAddr })},
	{"data-dir", "IMBRIDGE_DATA_DIR", "directory of the embedded event log (default data)", str(func(c *Config) *string { return &c.DataDir })},
	{"log-level", "IMBRIDGE_LOG_LEVEL", "log level: debug, info, warn, error (default info)", str(func(c *Config) *string { return &c.LogLevel })},
	{"log-format", "IMBRIDGE_LOG_FORMAT", "log format: json or text (default json)", str(func(c *Config) *string { return &c.LogFormat })},
	{"shutdown-timeout", "IMBRIDGE_SHUTDOWN_TIMEOUT", "bound of a graceful shutdown (default 10s)", dur(func(c *Config) *Duration { return &c.ShutdownTimeout })},
	{"api-keys", "IMBRIDGE_API_KEYS", "comma-separated bearer keys for the gRPC and REST API", func(c *Config, v string) error {
		c.APIKeys = splitList(v)
		return nil
	}},
	{"max-body-bytes", "IMBRIDGE_MAX_BODY_BYTES", "largest callback body accepted; larger gets 413 (default 1048576)", integer(func(c *Config) *int64 { return &c.Webhook.MaxBodyBytes })},
	{"append-timeout", "IMBRIDGE_APPEND_TIMEOUT", "wait for the event log before answering 503 (default 5s)", dur(func(c *Config) *Duration { return &c.Webhook.AppendTimeout })},
	{"timestamp-tolerance", "IMBRIDGE_TIMESTAMP_TOLERANCE", "reject callbacks whose timestamp is further from now (default 0: off)", dur(func(c *Config) *Duration { return &c.Webhook.TimestampTolerance })},
	{"nats-url", "IMBRIDGE_NATS_URL", "external NATS cluster URL; empty embeds JetStream (default empty)", str(func(c *Config) *string { return &c.EventLog.NATSURL })},
	{"nats-replicas", "IMBRIDGE_NATS_REPLICAS", "stream replicas on an external cluster (default 1)", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		c.EventLog.Replicas = n
		return err
	}},
	{"retention-max-age", "IMBRIDGE_RETENTION_MAX_AGE", "drop events older than this; 0 keeps them (default 168h)", dur(func(c *Config) *Duration { return &c.EventLog.MaxAge })},
	{"retention-max-bytes", "IMBRIDGE_RETENTION_MAX_BYTES", "drop the oldest events past this size; 0 is unlimited (default 10 GiB)", integer(func(c *Config) *int64 { return &c.EventLog.MaxBytes })},
	{"sync-always", "IMBRIDGE_SYNC_ALWAYS", "fsync every append before answering 200 (default false)", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		c.EventLog.SyncAlways = b
		return err
	}},
	{"call-id-index-ttl", "IMBRIDGE_CALL_ID_INDEX_TTL", "how long the callId index remembers a callId (default 72h)", dur(func(c *Config) *Duration { return &c.EventLog.CallIDIndexTTL })},
	{"duplicate-window", "IMBRIDGE_DUPLICATE_WINDOW", "how long JetStream remembers a callId, at least 10m (default 10m)", dur(func(c *Config) *Duration { return &c.EventLog.DuplicateWindow })},
}

// Single-app environment: container deployments configure one app with
// these two variables instead of a file.
const (
	AppKeyEnv          = "IMBRIDGE_APP_KEY"
	CallbackSecretsEnv = "IMBRIDGE_CALLBACK_SECRETS"
)

// ConfigFileEnv names the environment variable that points at the YAML file.
const ConfigFileEnv = "IMBRIDGE_CONFIG"

// Load builds the configuration from defaults, the YAML file named by
// --config or IMBRIDGE_CONFIG, the environment and the flags in args.
func Load(name string, args []string, getenv func(string) string, usageOut io.Writer) (Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(usageOut)
	configPath := fs.String("config", "", "YAML configuration file (env "+ConfigFileEnv+")")
	type flagValue struct {
		s setting
		v string
	}
	var given []flagValue
	for _, s := range settings {
		s := s
		fs.Func(s.flag, s.usage+" (env "+s.env+")", func(v string) error {
			given = append(given, flagValue{s, v})
			return nil
		})
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}

	cfg := Default()
	path := *configPath
	if path == "" {
		path = getenv(ConfigFileEnv)
	}
	if path != "" {
		if err := cfg.readFile(path); err != nil {
			return Config{}, err
		}
	}
	for _, s := range settings {
		if v, ok := lookup(getenv, s.env); ok {
			if err := s.apply(&cfg, v); err != nil {
				return Config{}, fmt.Errorf("%s: %w", s.env, err)
			}
		}
	}
	if err := cfg.applyAppEnv(getenv); err != nil {
		return Config{}, err
	}
	for _, g := range given {
		if err := g.s.apply(&cfg, g.v); err != nil {
			return Config{}, fmt.Errorf("--%s: %w", g.s.flag, err)
		}
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func (c *Config) readFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	if err := yaml.UnmarshalStrict(b, c); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

// applyAppEnv adds (or replaces the secrets of) the app named by
// IMBRIDGE_APP_KEY with IMBRIDGE_CALLBACK_SECRETS.
func (c *Config) applyAppEnv(getenv func(string) string) error {
	appkey, secrets := getenv(AppKeyEnv), splitList(getenv(CallbackSecretsEnv))
	switch {
	case appkey == "" && len(secrets) == 0:
		return nil
	case appkey == "" || len(secrets) == 0:
		return fmt.Errorf("%s and %s go together: set both or neither", AppKeyEnv, CallbackSecretsEnv)
	}
	for i := range c.Apps {
		if c.Apps[i].Appkey == appkey {
			c.Apps[i].Secrets = secrets
			return nil
		}
	}
	c.Apps = append(c.Apps, App{Appkey: appkey, Secrets: secrets})
	return nil
}

func lookup(getenv func(string) string, key string) (string, bool) {
	v := getenv(key)
	return v, v != ""
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Validate reports the first setting that cannot work, by its YAML name.
func (c *Config) Validate() error {
	var errs []error
	for name, addr := range map[string]string{"grpc_addr": c.GRPCAddr, "http_addr": c.HTTPAddr} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", name, addr, err))
		}
	}
	if _, err := ParseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		errs = append(errs, fmt.Errorf("log_format %q: want json or text", c.LogFormat))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("shutdown_timeout must be positive"))
	}
	if c.DataDir == "" {
		errs = append(errs, fmt.Errorf("data_dir must not be empty"))
	}
	for i, k := range c.APIKeys {
		if strings.TrimSpace(k) == "" {
			errs = append(errs, fmt.Errorf("api_keys[%d] is empty", i))
		}
	}
	errs = append(errs, c.validateApps()...)
	if c.Webhook.MaxBodyBytes <= 0 {
		errs = append(errs, fmt.Errorf("webhook.max_body_bytes must be positive"))
	}
	if c.Webhook.AppendTimeout <= 0 {
		errs = append(errs, fmt.Errorf("webhook.append_timeout must be positive"))
	}
	if c.Webhook.TimestampTolerance < 0 {
		errs = append(errs, fmt.Errorf("webhook.timestamp_tolerance must not be negative"))
	}
	if c.EventLog.Replicas < 1 || c.EventLog.Replicas > 5 {
		errs = append(errs, fmt.Errorf("event_log.replicas %d: want 1 to 5", c.EventLog.Replicas))
	}
	if c.EventLog.NATSURL == "" && c.EventLog.Replicas != 1 {
		errs = append(errs, fmt.Errorf("event_log.replicas %d needs event_log.nats_url: the embedded server has one replica", c.EventLog.Replicas))
	}
	if c.EventLog.MaxAge < 0 || c.EventLog.MaxBytes < 0 {
		errs = append(errs, fmt.Errorf("event_log.max_age and event_log.max_bytes must not be negative"))
	}
	if time.Duration(c.EventLog.DuplicateWindow) < 10*time.Minute {
		errs = append(errs, fmt.Errorf("event_log.duplicate_window %v: want at least 10m (the vendor retries and redelivers)", time.Duration(c.EventLog.DuplicateWindow)))
	}
	if c.EventLog.CallIDIndexTTL != 0 && c.EventLog.CallIDIndexTTL < c.EventLog.DuplicateWindow {
		errs = append(errs, fmt.Errorf("event_log.call_id_index_ttl %v is shorter than event_log.duplicate_window", time.Duration(c.EventLog.CallIDIndexTTL)))
	}
	if c.EventLog.Listen != "" {
		if _, _, err := net.SplitHostPort(c.EventLog.Listen); err != nil {
			errs = append(errs, fmt.Errorf("event_log.listen %q: %w", c.EventLog.Listen, err))
		}
	}
	return errors.Join(errs...)
}

func (c *Config) validateApps() []error {
	var errs []error
	seen := map[string]bool{}
	for i, a := range c.Apps {
		name := fmt.Sprintf("apps[%d]", i)
		org, app, ok := strings.Cut(a.Appkey, "#")
		if !ok || org == "" || app == "" {
			errs = append(errs, fmt.Errorf("%s.appkey %q: want org#app", name, a.Appkey))
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
	}
	return errs
}

// ParseLevel reads a log level name.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log_level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// NewLogger returns the process logger the configuration asks for.
func (c *Config) NewLogger(w io.Writer) *slog.Logger {
	level, _ := ParseLevel(c.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// Loopback reports whether every listen address is bound to a loopback
// interface (127.0.0.0/8, ::1 or localhost); an empty host binds every
// interface and is not loopback.
func (c *Config) Loopback() bool {
	addrs := []string{c.GRPCAddr, c.HTTPAddr}
	if c.EventLog.Listen != "" {
		addrs = append(addrs, c.EventLog.Listen)
	}
	for _, addr := range addrs {
		if !IsLoopback(addr) {
			return false
		}
	}
	return true
}

// IsLoopback reports whether a listen address binds only loopback.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
