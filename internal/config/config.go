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
	"unicode/utf8"

	"sigs.k8s.io/yaml"

	"github.com/imbridge/imbridge/internal/eventlog"
	"github.com/imbridge/imbridge/internal/ingest"
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
	// HTTPReadHeaderTimeout bounds reading a request's headers on the HTTP
	// listener; a slower client is disconnected.
	HTTPReadHeaderTimeout Duration `json:"http_read_header_timeout"`
	// Webhook tunes the callback route.
	Webhook Webhook `json:"webhook"`
	// EventLog is where accepted callbacks are stored.
	EventLog EventLog `json:"event_log"`

	// origin maps a setting's YAML key to the name the user set it by
	// (`--flag` or `IMBRIDGE_X`) when not the file, so that errors name
	// what the user typed.
	origin map[string]string
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
	// BodyReadTimeout bounds reading a callback's body once its headers
	// are in; past it the answer is 408 and the connection is closed.
	BodyReadTimeout Duration `json:"body_read_timeout"`
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
		GRPCAddr:              ":9090",
		HTTPAddr:              ":8080",
		DataDir:               "data",
		LogLevel:              "info",
		LogFormat:             "json",
		ShutdownTimeout:       Duration(10 * time.Second),
		HTTPReadHeaderTimeout: Duration(10 * time.Second),
		Webhook: Webhook{
			MaxBodyBytes:    1 << 20,
			AppendTimeout:   Duration(5 * time.Second),
			BodyReadTimeout: Duration(10 * time.Second),
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

// setting is one scalar that a flag and an environment variable can set,
// and the YAML key it stands for.
type setting struct {
	key   string
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
		if err != nil {
			return fmt.Errorf("%q: want a duration such as 10s or 1h30m", v)
		}
		*field(c) = Duration(d)
		return nil
	}
}

func integer(field func(*Config) *int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%q: want a whole number", v)
		}
		*field(c) = n
		return nil
	}
}

var settings = []setting{
	{"grpc_addr", "grpc-addr", "IMBRIDGE_GRPC_ADDR", "gRPC listen address (default :9090)", str(func(c *Config) *string { return &c.GRPCAddr })},
	{"http_addr", "http-addr", "IMBRIDGE_HTTP_ADDR", "HTTP listen address: REST, webhook, /healthz, /metrics (default :8080)", str(func(c *Config) *string { return &c.HTTPAddr })},
	{"http_read_header_timeout", "http-read-header-timeout", "IMBRIDGE_HTTP_READ_HEADER_TIMEOUT", "disconnect HTTP clients whose headers take longer (default 10s)", dur(func(c *Config) *Duration { return &c.HTTPReadHeaderTimeout })},
	{"data_dir", "data-dir", "IMBRIDGE_DATA_DIR", "directory of the embedded event log, locked while imbridge runs (default data)", str(func(c *Config) *string { return &c.DataDir })},
	{"log_level", "log-level", "IMBRIDGE_LOG_LEVEL", "log level: debug, info, warn, error (default info)", str(func(c *Config) *string { return &c.LogLevel })},
	{"log_format", "log-format", "IMBRIDGE_LOG_FORMAT", "log format: json or text (default json)", str(func(c *Config) *string { return &c.LogFormat })},
	{"shutdown_timeout", "shutdown-timeout", "IMBRIDGE_SHUTDOWN_TIMEOUT", "bound of a graceful shutdown (default 10s)", dur(func(c *Config) *Duration { return &c.ShutdownTimeout })},
	{"api_keys", "api-keys", "IMBRIDGE_API_KEYS", "comma-separated bearer keys for the gRPC and REST API", func(c *Config, v string) error {
		c.APIKeys = splitList(v)
		return nil
	}},
	{"webhook.max_body_bytes", "max-body-bytes", "IMBRIDGE_MAX_BODY_BYTES", "largest callback body accepted; larger gets 413 (default 1048576)", integer(func(c *Config) *int64 { return &c.Webhook.MaxBodyBytes })},
	{"webhook.append_timeout", "append-timeout", "IMBRIDGE_APPEND_TIMEOUT", "wait for the event log before answering 503 (default 5s)", dur(func(c *Config) *Duration { return &c.Webhook.AppendTimeout })},
	{"webhook.body_read_timeout", "body-read-timeout", "IMBRIDGE_BODY_READ_TIMEOUT", "answer 408 to a callback whose body takes longer to arrive (default 10s)", dur(func(c *Config) *Duration { return &c.Webhook.BodyReadTimeout })},
	{"webhook.timestamp_tolerance", "timestamp-tolerance", "IMBRIDGE_TIMESTAMP_TOLERANCE", "reject callbacks whose timestamp is further from now (default 0: off)", dur(func(c *Config) *Duration { return &c.Webhook.TimestampTolerance })},
	{"event_log.nats_url", "nats-url", "IMBRIDGE_NATS_URL", "external NATS cluster URL; empty embeds JetStream (default empty)", str(func(c *Config) *string { return &c.EventLog.NATSURL })},
	{"event_log.replicas", "nats-replicas", "IMBRIDGE_NATS_REPLICAS", "stream replicas on an external cluster (default 1)", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q: want a whole number", v)
		}
		c.EventLog.Replicas = n
		return nil
	}},
	{"event_log.max_age", "retention-max-age", "IMBRIDGE_RETENTION_MAX_AGE", "drop events older than this; 0 keeps them (default 168h)", dur(func(c *Config) *Duration { return &c.EventLog.MaxAge })},
	{"event_log.max_bytes", "retention-max-bytes", "IMBRIDGE_RETENTION_MAX_BYTES", "drop the oldest events past this size; 0 is unlimited (default 10 GiB)", integer(func(c *Config) *int64 { return &c.EventLog.MaxBytes })},
	{"event_log.sync_always", "sync-always", "IMBRIDGE_SYNC_ALWAYS", "fsync every append before answering 200 (default false)", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q: want true or false", v)
		}
		c.EventLog.SyncAlways = b
		return nil
	}},
	{"event_log.call_id_index_ttl", "call-id-index-ttl", "IMBRIDGE_CALL_ID_INDEX_TTL", "how long the callId index remembers a callId (default 72h)", dur(func(c *Config) *Duration { return &c.EventLog.CallIDIndexTTL })},
	{"event_log.duplicate_window", "duplicate-window", "IMBRIDGE_DUPLICATE_WINDOW", "how long JetStream remembers a callId, at least 10m (default 10m)", dur(func(c *Config) *Duration { return &c.EventLog.DuplicateWindow })},
	{"event_log.listen", "nats-listen", "IMBRIDGE_NATS_LISTEN", "open a NATS client listener on the embedded server, host:port (default none)", str(func(c *Config) *string { return &c.EventLog.Listen })},
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
// --config or IMBRIDGE_CONFIG, the environment and the flags in args, and
// validates it once. Every error names the setting as the user wrote it:
// the flag, the environment variable or the YAML key.
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
		fs.Func(s.flag, s.usage+" (env "+s.env+", YAML "+s.key+")", func(v string) error {
			given = append(given, flagValue{s, v})
			return nil
		})
	}
	fs.Usage = func() {
		fmt.Fprintf(usageOut, "usage: %s [flags]\n\nSettings come from, in rising precedence: defaults, the YAML file, IMBRIDGE_* environment variables, flags.\n\nFlags:\n", name)
		fs.PrintDefaults()
		fmt.Fprintf(usageOut, "\nOne app without a file (both or neither; replaces that app's secrets if the file has it):\n"+
			"  %s=org#app\n  %s=secret1,secret2\n", AppKeyEnv, CallbackSecretsEnv)
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}

	cfg := Default()
	cfg.origin = map[string]string{}
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
				return Config{}, fmt.Errorf("%s %w", s.env, err)
			}
			cfg.origin[s.key] = s.env
		}
	}
	if err := cfg.applyAppEnv(getenv); err != nil {
		return Config{}, err
	}
	for _, g := range given {
		if err := g.s.apply(&cfg, g.v); err != nil {
			return Config{}, fmt.Errorf("--%s %w", g.s.flag, err)
		}
		cfg.origin[g.s.key] = "--" + g.s.flag
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// NameOf is how errors call the setting with YAML key key: the flag or
// environment variable it was set by, else the key.
func (c *Config) NameOf(key string) string { return c.name(key) }

func (c *Config) name(key string) string {
	if n, ok := c.origin[key]; ok {
		return n
	}
	return key
}

func (c *Config) readFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	if err := yaml.UnmarshalStrict(b, c); err != nil {
		return fmt.Errorf("config file %s: %s", path, yamlProblem(err))
	}
	return nil
}

// yamlProblem is a YAML decoding error without the layers of prefixes the
// YAML-to-JSON decoder adds ("error unmarshaling JSON: while decoding JSON:
// json: …"), and with JSON's word for a key.
func yamlProblem(err error) string {
	msg := err.Error()
	for _, prefix := range []string{"error converting YAML to JSON: ", "error unmarshaling JSON: ", "while decoding JSON: ", "json: "} {
		msg = strings.ReplaceAll(msg, prefix, "")
	}
	msg = strings.ReplaceAll(msg, "unknown field", "unknown setting")
	msg = strings.ReplaceAll(msg, "Go struct field ", "")
	msg = strings.ReplaceAll(msg, "Go value of type ", "")
	return msg
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
		if _, _, err := net.SplitHostPort(k.addr); err != nil {
			bad(k.key, "%q: want host:port (%v)", k.addr, err)
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
	for i, k := range c.APIKeys {
		if strings.TrimSpace(k) == "" {
			bad("api_keys", "[%d] is empty", i)
		}
	}
	errs = append(errs, c.validateApps()...)
	if max := int64(eventlog.MaxEventBytes / 2); c.Webhook.MaxBodyBytes <= 0 || c.Webhook.MaxBodyBytes > max {
		bad("webhook.max_body_bytes", "%d: want 1 to %d (a stored event holds the raw body and its decoded form)", c.Webhook.MaxBodyBytes, max)
	}
	if c.Webhook.AppendTimeout <= 0 {
		bad("webhook.append_timeout", "%v: want a positive duration", time.Duration(c.Webhook.AppendTimeout))
	}
	if c.Webhook.BodyReadTimeout <= 0 {
		bad("webhook.body_read_timeout", "%v: want a positive duration", time.Duration(c.Webhook.BodyReadTimeout))
	}
	if c.Webhook.TimestampTolerance < 0 {
		bad("webhook.timestamp_tolerance", "%v must not be negative (0 is off)", time.Duration(c.Webhook.TimestampTolerance))
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
		return 0, fmt.Errorf("log level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// NewLogger returns the process logger the configuration asks for. Every
// line is bounded: a string or error value over MaxLogValueBytes is cut
// (callbacks carry values of any size, and a log line is no place for
// them).
func (c *Config) NewLogger(w io.Writer) *slog.Logger {
	level, _ := ParseLevel(c.LogLevel)
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: boundAttr}
	if c.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// MaxLogValueBytes bounds one logged value.
const MaxLogValueBytes = 1024

func boundAttr(_ []string, a slog.Attr) slog.Attr {
	switch v := a.Value; v.Kind() {
	case slog.KindString:
		if s := v.String(); len(s) > MaxLogValueBytes {
			a.Value = slog.StringValue(truncate(s))
		}
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			a.Value = slog.StringValue(truncate(err.Error()))
		}
	}
	return a
}

func truncate(s string) string {
	if len(s) <= MaxLogValueBytes {
		return s
	}
	cut := MaxLogValueBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("…(%d bytes cut)", len(s)-cut)
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
