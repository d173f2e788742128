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
	"net"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/imbridge/imbridge/internal/eventlog"
)

// Config is the whole configuration of an imbridge process.
type Config struct {
	// GRPCAddr is the gRPC listen address.
	GRPCAddr string `json:"grpc_addr"`
	// HTTPAddr is the HTTP gateway listen address (REST, webhook, metrics).
	HTTPAddr string `json:"http_addr"`
	// DataDir holds the callId index and the embedded event log.
	DataDir string `json:"data_dir"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `json:"log_level"`
	// LogFormat is json or text.
	LogFormat string `json:"log_format"`
	// ShutdownTimeout bounds a graceful shutdown, open streams included.
	ShutdownTimeout Duration `json:"shutdown_timeout"`
	// APIKeys are the bearer keys callers of our own API present, each
	// with what it may do.
	APIKeys []APIKey `json:"api_keys"`
	// CORSAllowedOrigins are the browser origins (`https://host[:port]`)
	// that may call the REST API from another origin; `*` allows any.
	CORSAllowedOrigins []string `json:"cors_allowed_origins"`
	// Apps are the Easemob applications whose callbacks are accepted.
	Apps []App `json:"apps"`
	// HTTPReadHeaderTimeout bounds reading a request's headers on the HTTP
	// listener; a slower client is disconnected.
	HTTPReadHeaderTimeout Duration `json:"http_read_header_timeout"`
	// Webhook tunes the callback route.
	Webhook Webhook `json:"webhook"`
	// EventLog is where accepted callbacks are stored.
	EventLog EventLog `json:"event_log"`
	// Streams tunes SubscribeEvents.
	Streams Streams `json:"streams"`
	// EasemobProcesses is how many imbridge processes call the vendor's
	// REST API for the same apps: each keeps to that share of the
	// vendor's per-app rate limits.
	EasemobProcesses int64 `json:"easemob_processes"`

	// origin maps a setting's YAML key to the name the user set it by
	// (`--flag` or `IMBRIDGE_X`) when not the file, so that errors name
	// what the user typed.
	origin map[string]string
}

// APIKey is a bearer key of our API and what it may do. In YAML it is a
// plain string (every scope, every app) or {key, scopes, apps}.
type APIKey struct {
	// Key is the bearer key itself.
	Key string `json:"key"`
	// Scopes the key is granted: events, chatrooms:read, chatrooms (see
	// server.Scopes); empty grants all.
	Scopes []string `json:"scopes"`
	// Apps (`org#app`) the key may act on; empty allows every app.
	Apps []string `json:"apps"`
}

// UnmarshalJSON reads a plain key string or a {key, scopes, apps} object.
func (k *APIKey) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		*k = APIKey{}
		return json.Unmarshal(b, &k.Key)
	}
	type plain APIKey // without this method
	return json.Unmarshal(b, (*plain)(k))
}

// Keys is a list of keys that may do everything.
func Keys(keys ...string) []APIKey {
	out := make([]APIKey, 0, len(keys))
	for _, k := range keys {
		out = append(out, APIKey{Key: k})
	}
	return out
}

// Easemob is how imbridge reaches the vendor's REST API for an app: the
// base URL of its cluster and the app's client credentials (console:
// Overview → Development configuration).
type Easemob struct {
	// BaseURL is `https://{host}`, without org and app.
	BaseURL string `json:"base_url"`
	// ClientID and ClientSecret obtain the app token.
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
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
	// reach the webhook can forge events of these selectors. Unsigned
	// reaction, thread and push callbacks not listed are answered 200 and
	// not stored; any other unsigned callback is refused.
	UnsignedSelectors []string `json:"unsigned_selectors"`
	// Keep, when set, stores only events these selectors choose.
	Keep []string `json:"keep"`
	// Drop never stores events these selectors choose (applied after Keep).
	Drop []string `json:"drop"`
	// Chatrooms are group ids known to be chatrooms before any room event
	// says so: messages in them are classified chatroom:* from the first.
	// Rooms created through imbridge, and rooms named by room events, are
	// learned without this.
	Chatrooms []string `json:"chatrooms"`
	// Easemob reaches the vendor's REST API for this app (chatroom
	// administration). Without it imbridge uses its embedded emulator of
	// the vendor, and says so in its log.
	Easemob *Easemob `json:"easemob"`
}

// Streams tunes SubscribeEvents streams.
type Streams struct {
	// HeartbeatInterval is how long an idle stream waits before sending a
	// heartbeat (a request may ask for another).
	HeartbeatInterval Duration `json:"heartbeat_interval"`
	// SendTimeout is how long a stream waits on a client that accepts
	// nothing while its buffer is full; then it ends with
	// RESOURCE_EXHAUSTED.
	SendTimeout Duration `json:"send_timeout"`
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
	// Compression on disk: event (the default: each event on its own),
	// s2 (the stream's blocks) or none (see eventlog.Compression for the
	// trade).
	Compression string `json:"compression"`
	// DuplicateWindow is how long a callId is remembered by JetStream's
	// message-id deduplication (in memory); at least 20s.
	DuplicateWindow Duration `json:"duplicate_window"`
	// CallIDIndexTTL is how long the durable callId index (on local disk,
	// in data_dir) remembers a callId: duplicates beyond the window,
	// GetEvent by call id.
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
		return &json.UnmarshalTypeError{Value: string(b), Type: reflect.TypeFor[Duration]()}
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
		EasemobProcesses:      1,
		Webhook: Webhook{
			MaxBodyBytes:    1 << 20,
			AppendTimeout:   Duration(5 * time.Second),
			BodyReadTimeout: Duration(10 * time.Second),
		},
		Streams: Streams{
			HeartbeatInterval: Duration(15 * time.Second),
			SendTimeout:       Duration(30 * time.Second),
		},
		EventLog: EventLog{
			Replicas:        1,
			MaxAge:          Duration(7 * 24 * time.Hour),
			MaxBytes:        10 << 30,
			DuplicateWindow: Duration(eventlog.DefaultDuplicateWindow),
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
	// isBool: the flag alone means true (--sync-always).
	isBool bool
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
	{"grpc_addr", "grpc-addr", "IMBRIDGE_GRPC_ADDR", "gRPC listen address (default :9090)", str(func(c *Config) *string { return &c.GRPCAddr }), false},
	{"http_addr", "http-addr", "IMBRIDGE_HTTP_ADDR", "HTTP listen address: REST, webhook, /healthz, /metrics, /openapi.json, /docs, /console (default :8080)", str(func(c *Config) *string { return &c.HTTPAddr }), false},
	{"http_read_header_timeout", "http-read-header-timeout", "IMBRIDGE_HTTP_READ_HEADER_TIMEOUT", "disconnect HTTP clients whose headers take longer (default 10s)", dur(func(c *Config) *Duration { return &c.HTTPReadHeaderTimeout }), false},
	{"data_dir", "data-dir", "IMBRIDGE_DATA_DIR", "directory of the callId index and the embedded event log, locked while imbridge runs (default data)", str(func(c *Config) *string { return &c.DataDir }), false},
	{"log_level", "log-level", "IMBRIDGE_LOG_LEVEL", "log level: debug, info, warn, error (default info)", str(func(c *Config) *string { return &c.LogLevel }), false},
	{"log_format", "log-format", "IMBRIDGE_LOG_FORMAT", "log format: json or text (default json)", str(func(c *Config) *string { return &c.LogFormat }), false},
	{"shutdown_timeout", "shutdown-timeout", "IMBRIDGE_SHUTDOWN_TIMEOUT", "bound of a graceful shutdown (default 10s)", dur(func(c *Config) *Duration { return &c.ShutdownTimeout }), false},
	{"api_keys", "api-keys", "IMBRIDGE_API_KEYS", "comma-separated bearer keys for the gRPC and REST API, each with every scope (scoped keys: the YAML file)", func(c *Config, v string) error {
		keys := SplitList(v)
		if len(keys) == 0 && v != "" {
			// Meant to set keys, it would leave the API open.
			return fmt.Errorf("%q holds no key", v)
		}
		c.APIKeys = Keys(keys...)
		return nil
	}, false},
	{"cors_allowed_origins", "cors-allowed-origins", "IMBRIDGE_CORS_ALLOWED_ORIGINS", "comma-separated browser origins allowed to call the REST API (default none: same origin only)", func(c *Config, v string) error {
		c.CORSAllowedOrigins = SplitList(v)
		return nil
	}, false},
	{"easemob_processes", "easemob-processes", "IMBRIDGE_EASEMOB_PROCESSES", "imbridge processes calling the vendor's REST API for the same apps; each keeps to its share of the vendor's per-app rate limits (default 1)", integer(func(c *Config) *int64 { return &c.EasemobProcesses }), false},
	{"webhook.max_body_bytes", "max-body-bytes", "IMBRIDGE_MAX_BODY_BYTES", "largest callback body accepted; larger gets 413 (default 1048576)", integer(func(c *Config) *int64 { return &c.Webhook.MaxBodyBytes }), false},
	{"webhook.append_timeout", "append-timeout", "IMBRIDGE_APPEND_TIMEOUT", "wait for the event log before answering 503 (default 5s)", dur(func(c *Config) *Duration { return &c.Webhook.AppendTimeout }), false},
	{"streams.heartbeat_interval", "heartbeat-interval", "IMBRIDGE_HEARTBEAT_INTERVAL", "idle time before a stream sends a heartbeat (default 15s)", dur(func(c *Config) *Duration { return &c.Streams.HeartbeatInterval }), false},
	{"streams.send_timeout", "stream-send-timeout", "IMBRIDGE_STREAM_SEND_TIMEOUT", "end a stream whose client accepts nothing this long with RESOURCE_EXHAUSTED (default 30s)", dur(func(c *Config) *Duration { return &c.Streams.SendTimeout }), false},
	{"webhook.body_read_timeout", "body-read-timeout", "IMBRIDGE_BODY_READ_TIMEOUT", "refuse a callback (408) or REST call (400) whose body takes longer to arrive (default 10s)", dur(func(c *Config) *Duration { return &c.Webhook.BodyReadTimeout }), false},
	{"webhook.timestamp_tolerance", "timestamp-tolerance", "IMBRIDGE_TIMESTAMP_TOLERANCE", "reject callbacks whose timestamp is further from now (default 0: off)", dur(func(c *Config) *Duration { return &c.Webhook.TimestampTolerance }), false},
	{"event_log.nats_url", "nats-url", "IMBRIDGE_NATS_URL", "external NATS cluster URL; empty embeds JetStream (default empty)", str(func(c *Config) *string { return &c.EventLog.NATSURL }), false},
	{"event_log.replicas", "nats-replicas", "IMBRIDGE_NATS_REPLICAS", "stream replicas on an external cluster (default 1)", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q: want a whole number", v)
		}
		c.EventLog.Replicas = n
		return nil
	}, false},
	{"event_log.max_age", "retention-max-age", "IMBRIDGE_RETENTION_MAX_AGE", "drop events older than this; 0 keeps them (default 168h)", dur(func(c *Config) *Duration { return &c.EventLog.MaxAge }), false},
	{"event_log.max_bytes", "retention-max-bytes", "IMBRIDGE_RETENTION_MAX_BYTES", "drop the oldest events past this size; 0 is unlimited (default 10 GiB)", integer(func(c *Config) *int64 { return &c.EventLog.MaxBytes }), false},
	{"event_log.sync_always", "sync-always", "IMBRIDGE_SYNC_ALWAYS", "fsync every append before answering 200 (default false)", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q: want true or false", v)
		}
		c.EventLog.SyncAlways = b
		return nil
	}, true},
	{"event_log.compression", "compression", "IMBRIDGE_COMPRESSION", "compression on disk: event (each event on its own, with a dictionary learned from the events: no latency bursts), s2 (the stream's 8 MB blocks: least disk, latency bursts on small machines) or none (default event)", str(func(c *Config) *string { return &c.EventLog.Compression }), false},
	{"event_log.call_id_index_ttl", "call-id-index-ttl", "IMBRIDGE_CALL_ID_INDEX_TTL", "how long the callId index on disk remembers a callId (default 72h)", dur(func(c *Config) *Duration { return &c.EventLog.CallIDIndexTTL }), false},
	{"event_log.duplicate_window", "duplicate-window", "IMBRIDGE_DUPLICATE_WINDOW", "how long JetStream remembers a callId in memory, at least 20s (default 30s)", dur(func(c *Config) *Duration { return &c.EventLog.DuplicateWindow }), false},
	{"event_log.listen", "nats-listen", "IMBRIDGE_NATS_LISTEN", "open a NATS client listener on the embedded server, on a loopback host:port: it takes clients without credentials (default none)", str(func(c *Config) *string { return &c.EventLog.Listen }), false},
}

// Single-app environment: container deployments configure one app with
// these variables instead of a file: the appkey and callback secrets, and
// optionally the vendor REST API's base URL and client credentials.
const (
	AppKeyEnv              = "IMBRIDGE_APP_KEY"
	CallbackSecretsEnv     = "IMBRIDGE_CALLBACK_SECRETS"
	EasemobBaseURLEnv      = "IMBRIDGE_EASEMOB_BASE_URL"
	EasemobClientIDEnv     = "IMBRIDGE_EASEMOB_CLIENT_ID"
	EasemobClientSecretEnv = "IMBRIDGE_EASEMOB_CLIENT_SECRET"
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
		register := fs.Func
		if s.isBool {
			register = fs.BoolFunc // --sync-always, or --sync-always=false
		}
		register(s.flag, s.usage+" (env "+s.env+", YAML "+s.key+")", func(v string) error {
			given = append(given, flagValue{s, v})
			return nil
		})
	}
	fs.Usage = func() {
		fmt.Fprintf(usageOut, "usage: %s [flags]\n\nSettings come from, in rising precedence: defaults, the YAML file, IMBRIDGE_* environment variables, flags.\n\nFlags:\n", name)
		fs.PrintDefaults()
		fmt.Fprintf(usageOut, "\nOne app without a file (both or neither; replaces that app's secrets if the file has it):\n"+
			"  %s=org#app\n  %s=secret1,secret2\n"+
			"and its vendor REST API (all three, or none for the embedded emulator):\n"+
			"  %s=https://host\n  %s=...\n  %s=...\n",
			AppKeyEnv, CallbackSecretsEnv, EasemobBaseURLEnv, EasemobClientIDEnv, EasemobClientSecretEnv)
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
	if err := unquotedSecrets(b); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	if err := yaml.UnmarshalStrict(b, c); err != nil {
		return fmt.Errorf("config file %s: %s", path, yamlProblem(err))
	}
	return nil
}

// unquotedSecrets refuses a secret YAML reads as a number or a boolean:
// converted to its setting's text, an unquoted 0x1F, 0123 or 1e3 would
// become 31, 83 or 1000, a secret nobody wrote. (Other text settings, such
// as numeric chatroom ids, are kept as their digits.)
func unquotedSecrets(b []byte) error {
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		return nil // UnmarshalStrict says what is wrong
	}
	var doc struct {
		// A plain key, or {key: …, scopes: …, apps: …}.
		APIKeys []json.RawMessage `json:"api_keys"`
		Apps    []struct {
			Secrets []json.RawMessage `json:"secrets"`
			Easemob struct {
				ClientSecret json.RawMessage `json:"client_secret"`
			} `json:"easemob"`
		} `json:"apps"`
	}
	if json.Unmarshal(j, &doc) != nil {
		return nil
	}
	bare := func(v json.RawMessage) bool { return len(v) > 0 && v[0] != '"' && string(v) != "null" }
	for i, k := range doc.APIKeys {
		name := fmt.Sprintf("api_keys[%d]", i)
		if len(k) > 0 && k[0] == '{' {
			var scoped struct {
				Key json.RawMessage `json:"key"`
			}
			if json.Unmarshal(k, &scoped) != nil {
				continue // UnmarshalStrict says what is wrong
			}
			k, name = scoped.Key, name+".key"
		}
		if bare(k) && k[0] != '[' {
			return fmt.Errorf("%s: write it in quotes (YAML reads it as %s)", name, k)
		}
	}
	for i, a := range doc.Apps {
		for n, s := range a.Secrets {
			if bare(s) {
				return fmt.Errorf("apps[%d].secrets[%d]: write it in quotes (YAML reads it as %s)", i, n, s)
			}
		}
		if bare(a.Easemob.ClientSecret) {
			return fmt.Errorf("apps[%d].easemob.client_secret: write it in quotes (YAML reads it as %s)", i, a.Easemob.ClientSecret)
		}
	}
	return nil
}

// yamlProblem is a YAML decoding error without the layers of prefixes the
// YAML-to-JSON decoder adds ("error unmarshaling JSON: while decoding JSON:
// json: …"), and with JSON's word for a key.
func yamlProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return typeProblem(typeErr)
	}
	msg := err.Error()
	for _, prefix := range []string{"error converting YAML to JSON: ", "error unmarshaling JSON: ", "while decoding JSON: ", "json: "} {
		msg = strings.ReplaceAll(msg, prefix, "")
	}
	msg = strings.ReplaceAll(msg, "unknown field", "unknown setting")
	msg = strings.ReplaceAll(msg, "Go struct field ", "")
	msg = strings.ReplaceAll(msg, "Go value of type ", "")
	return msg
}

// typeProblem says what a setting of the wrong type should be, naming it
// by its YAML key, without Go's types.
func typeProblem(e *json.UnmarshalTypeError) string {
	key := e.Field // the keys' path: apps.easemob.base_url
	want := "a value of another type"
	switch e.Type.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		want = "a whole number"
		if e.Type == reflect.TypeFor[Duration]() {
			want = `a duration such as "10s"`
		}
	case reflect.Bool:
		want = "true or false"
	case reflect.String:
		want = "text"
	case reflect.Slice:
		want = "a list"
	case reflect.Struct, reflect.Map, reflect.Pointer:
		want = "a mapping"
	}
	got := e.Value
	if e.Type == reflect.TypeFor[Duration]() {
		got = strings.TrimPrefix(strings.TrimSuffix(got, ` (want text such as "10s")`), "duration ")
	}
	return fmt.Sprintf("%s %s: want %s", key, got, want)
}

// applyAppEnv adds (or replaces the secrets of) the app named by
// IMBRIDGE_APP_KEY with IMBRIDGE_CALLBACK_SECRETS.
func (c *Config) applyAppEnv(getenv func(string) string) error {
	appkey, secrets := getenv(AppKeyEnv), SplitList(getenv(CallbackSecretsEnv))
	var vendor *Easemob
	if base, id, secret := getenv(EasemobBaseURLEnv), getenv(EasemobClientIDEnv), getenv(EasemobClientSecretEnv); base != "" || id != "" || secret != "" {
		vendor = &Easemob{BaseURL: base, ClientID: id, ClientSecret: secret}
	}
	switch {
	case appkey == "" && len(secrets) == 0 && vendor != nil:
		return fmt.Errorf("IMBRIDGE_EASEMOB_* belong to the app of %s and %s: set those too (the same appkey as the file's app to give it these credentials), or set apps[].easemob in the file", AppKeyEnv, CallbackSecretsEnv)
	case appkey == "" && len(secrets) == 0:
		return nil
	case appkey == "" || len(secrets) == 0:
		return fmt.Errorf("%s and %s go together: set both or neither", AppKeyEnv, CallbackSecretsEnv)
	}
	for i := range c.Apps {
		if c.Apps[i].Appkey == appkey {
			c.origin[fmt.Sprintf("apps[%d]", i)] = AppKeyEnv
			c.Apps[i].Secrets = secrets
			if vendor != nil {
				c.Apps[i].Easemob = vendor
			}
			return nil
		}
	}
	c.origin[fmt.Sprintf("apps[%d]", len(c.Apps))] = AppKeyEnv
	c.Apps = append(c.Apps, App{Appkey: appkey, Secrets: secrets, Easemob: vendor})
	return nil
}

func lookup(getenv func(string) string, key string) (string, bool) {
	v := getenv(key)
	return v, v != ""
}

// SplitList reads a comma-separated setting: items trimmed, empty ones
// skipped.
func SplitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// NotLoopback names the listen addresses not bound to a loopback interface
// (127.0.0.0/8, ::1 or localhost), each as `setting "address"`; an empty
// host binds every interface and is not loopback.
func (c *Config) NotLoopback() []string {
	var open []string
	for _, l := range []struct{ setting, addr string }{
		{"grpc_addr", c.GRPCAddr}, {"http_addr", c.HTTPAddr}, {"event_log.listen", c.EventLog.Listen},
	} {
		if (l.addr != "" || l.setting != "event_log.listen") && !IsLoopback(l.addr) {
			open = append(open, fmt.Sprintf("%s %q", c.name(l.setting), l.addr))
		}
	}
	return open
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
