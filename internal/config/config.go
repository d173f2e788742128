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
	"strings"
	"time"

	"sigs.k8s.io/yaml"
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

var settings = []setting{
	{"grpc-addr", "IMBRIDGE_GRPC_ADDR", "gRPC listen address (default :9090)", str(func(c *Config) *string { return &c.GRPCAddr })},
	{"http-addr", "IMBRIDGE_HTTP_ADDR", "HTTP gateway listen address (default :8080)", str(func(c *Config) *string { return &c.HTTPAddr })},
	{"data-dir", "IMBRIDGE_DATA_DIR", "directory of the embedded event log (default data)", str(func(c *Config) *string { return &c.DataDir })},
	{"log-level", "IMBRIDGE_LOG_LEVEL", "log level: debug, info, warn, error (default info)", str(func(c *Config) *string { return &c.LogLevel })},
	{"log-format", "IMBRIDGE_LOG_FORMAT", "log format: json or text (default json)", str(func(c *Config) *string { return &c.LogFormat })},
	{"shutdown-timeout", "IMBRIDGE_SHUTDOWN_TIMEOUT", "bound of a graceful shutdown (default 10s)", func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		c.ShutdownTimeout = Duration(d)
		return err
	}},
	{"api-keys", "IMBRIDGE_API_KEYS", "comma-separated bearer keys for the gRPC and REST API", func(c *Config, v string) error {
		c.APIKeys = splitList(v)
		return nil
	}},
}

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
	return errors.Join(errs...)
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
	for _, addr := range []string{c.GRPCAddr, c.HTTPAddr} {
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
