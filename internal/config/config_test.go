package config

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "imbridge.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaults(t *testing.T) {
	cfg, err := Load("t", nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.GRPCAddr != ":9090" || cfg.HTTPAddr != ":8080" || time.Duration(cfg.ShutdownTimeout) != 10*time.Second {
		t.Errorf("defaults = %+v", cfg)
	}
}

func TestPrecedenceFlagOverEnvOverFileOverDefault(t *testing.T) {
	file := writeFile(t, "grpc_addr: 127.0.0.1:1001\nhttp_addr: 127.0.0.1:2001\nlog_level: warn\nshutdown_timeout: 3s\napi_keys: [file-key]\n")
	e := env(map[string]string{
		"IMBRIDGE_CONFIG":    file,
		"IMBRIDGE_HTTP_ADDR": "127.0.0.1:2002",
		"IMBRIDGE_LOG_LEVEL": "debug",
		"IMBRIDGE_API_KEYS":  "env-a, env-b",
	})
	cfg, err := Load("t", []string{"--log-level", "error"}, e, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.GRPCAddr != "127.0.0.1:1001" {
		t.Errorf("grpc_addr = %q, want the file's", cfg.GRPCAddr)
	}
	if cfg.HTTPAddr != "127.0.0.1:2002" {
		t.Errorf("http_addr = %q, want the environment's", cfg.HTTPAddr)
	}
	if cfg.LogLevel != "error" {
		t.Errorf("log_level = %q, want the flag's", cfg.LogLevel)
	}
	if time.Duration(cfg.ShutdownTimeout) != 3*time.Second {
		t.Errorf("shutdown_timeout = %v, want the file's 3s", time.Duration(cfg.ShutdownTimeout))
	}
	if !reflect.DeepEqual(cfg.APIKeys, Keys("env-a", "env-b")) {
		t.Errorf("api_keys = %q, want the environment's list", cfg.APIKeys)
	}
	// Keys that are all blanks would leave the API open: refused.
	for _, v := range []string{" ", ",", " , "} {
		if _, err := Load("t", []string{"--api-keys", v}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "holds no key") {
			t.Errorf("--api-keys %q: %v, want it refused", v, err)
		}
		if _, err := Load("t", nil, env(map[string]string{"IMBRIDGE_API_KEYS": v}), io.Discard); err == nil || !strings.Contains(err.Error(), "holds no key") {
			t.Errorf("IMBRIDGE_API_KEYS=%q: %v, want it refused", v, err)
		}
	}
}

// A key is a plain string (every scope and app) or an object that limits
// it; a scope or app that does not exist is an error naming it.
func TestScopedKeys(t *testing.T) {
	e := map[string]string{"IMBRIDGE_CONFIG": writeFile(t, `
apps:
- appkey: acme#chat
  secrets: [s]
api_keys:
- full-key
- key: reader
  scopes: [events, chatrooms:read]
  apps: [acme#chat]
cors_allowed_origins: [https://console.example.com]
`)}
	cfg, err := Load("t", nil, env(e), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []APIKey{{Key: "full-key"}, {Key: "reader", Scopes: []string{"events", "chatrooms:read"}, Apps: []string{"acme#chat"}}}
	if !reflect.DeepEqual(cfg.APIKeys, want) {
		t.Errorf("api_keys = %+v, want %+v", cfg.APIKeys, want)
	}
	for file, wantErr := range map[string]string{
		"api_keys:\n- key: k\n  scopes: [everything]\n": `unknown scope "everything"`,
		"api_keys:\n- key: k\n  apps: [other#app]\n":    `"other#app" is not a configured app`,
		"cors_allowed_origins: [console.example.com]\n": `cors_allowed_origins [0] "console.example.com": want an origin`,
		// What a browser never sends as its Origin could never match.
		"cors_allowed_origins: ['https://console.example.com/']\n":         `browsers send this origin as "https://console.example.com"`,
		"cors_allowed_origins: ['https://Console.Example.com']\n":          `browsers send this origin as "https://console.example.com"`,
		"cors_allowed_origins: ['https://console.example.com:443']\n":      `browsers send this origin as "https://console.example.com"`,
		"cors_allowed_origins: ['https://console.example.com/?x=1']\n":     `want an origin`,
		"apps:\n- appkey: a#b\n  secrets: [s]\n  easemob: {base_url: x}\n": "apps[0].easemob.base_url",
	} {
		_, err := Load("t", nil, env(map[string]string{"IMBRIDGE_CONFIG": writeFile(t, file)}), io.Discard)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%q: %v, want an error with %s", file, err, wantErr)
		}
	}
}

// The single-app environment can carry the vendor's credentials too.
func TestVendorCredentialsFromTheEnvironment(t *testing.T) {
	cfg, err := Load("t", nil, env(map[string]string{
		AppKeyEnv: "acme#chat", CallbackSecretsEnv: "s",
		EasemobBaseURLEnv: "https://a1.easemob.com", EasemobClientIDEnv: "id", EasemobClientSecretEnv: "secret",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if v := cfg.Apps[0].Easemob; v == nil || v.BaseURL != "https://a1.easemob.com" || v.ClientID != "id" || v.ClientSecret != "secret" {
		t.Errorf("easemob = %+v", v)
	}
	if _, err := Load("t", nil, env(map[string]string{AppKeyEnv: "acme#chat", CallbackSecretsEnv: "s", EasemobClientIDEnv: "id"}), io.Discard); err == nil || !strings.Contains(err.Error(), "client_secret") {
		t.Errorf("half the credentials: %v", err)
	}
}

func TestBadInputNamesTheSetting(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  map[string]string
		file string
		want string
	}{
		{name: "unknown yaml key", file: "grpc_adr: :1\n", want: "grpc_adr"},
		{name: "bad duration in file", file: "shutdown_timeout: soon\n", want: "shutdown_timeout"},
		{name: "bad address", args: []string{"--grpc-addr", "nohostport"}, want: `--grpc-addr "nohostport": want host:port`},
		{name: "bad address in file", file: "grpc_addr: nohostport\n", want: `grpc_addr "nohostport"`},
		{name: "port out of range", args: []string{"--http-addr", "127.0.0.1:70000"}, want: `--http-addr "127.0.0.1:70000": port 70000: want 0 to 65535`},
		{name: "nats url port out of range", file: "event_log:\n  nats_url: nats://nats:99999\n", want: `event_log.nats_url server 1: port "99999"`},
		{name: "bad log level", env: map[string]string{"IMBRIDGE_LOG_LEVEL": "loud"}, want: `IMBRIDGE_LOG_LEVEL "loud": want debug`},
		{name: "bad env duration", env: map[string]string{"IMBRIDGE_SHUTDOWN_TIMEOUT": "x"}, want: `IMBRIDGE_SHUTDOWN_TIMEOUT "x": want a duration`},
		{name: "negative timeout", args: []string{"--shutdown-timeout", "-1s"}, want: "--shutdown-timeout -1s: want a positive duration"},
		{name: "retention by flag", args: []string{"--retention-max-age", "1s"}, want: "--retention-max-age 1s is shorter than the duplicate window"},
		{name: "retention by env", env: map[string]string{"IMBRIDGE_RETENTION_MAX_AGE": "1s"}, want: "IMBRIDGE_RETENTION_MAX_AGE 1s is shorter"},
		{name: "retention in file", file: "event_log:\n  max_age: 1s\n", want: "event_log.max_age 1s is shorter"},
		{name: "flag wins over file in errors", file: "event_log:\n  max_age: 1h\n", args: []string{"--retention-max-age", "2s"}, want: "--retention-max-age 2s"},
		{name: "window", args: []string{"--duplicate-window", "10s"}, want: "--duplicate-window 10s is shorter than the minimum 20s"},
		{name: "window 0", args: []string{"--duplicate-window", "0s"}, want: "--duplicate-window 0s: want at least 20s"},
		{name: "compression", env: map[string]string{"IMBRIDGE_COMPRESSION": "zstd"}, want: `IMBRIDGE_COMPRESSION "zstd": want "event", "s2" or "none"`},
		{name: "compression in file", file: "event_log:\n  compression: S2\n", want: `event_log.compression "S2": want "event", "s2" or "none"`},
		{name: "replicas embedded", env: map[string]string{"IMBRIDGE_NATS_REPLICAS": "3"}, want: "IMBRIDGE_NATS_REPLICAS 3: the embedded server keeps one replica"},
		{name: "body limit", args: []string{"--max-body-bytes", "99999999"}, want: "--max-body-bytes 99999999: want 1 to"},
		{name: "body read timeout", file: "webhook:\n  body_read_timeout: 0s\n", want: "webhook.body_read_timeout 0s: want a positive duration"},
		{name: "vendor processes", env: map[string]string{"IMBRIDGE_EASEMOB_PROCESSES": "0"}, want: "IMBRIDGE_EASEMOB_PROCESSES 0: want 1 to 1000"},
		{name: "appkey with _", file: "apps:\n- appkey: a#b_c\n  secrets: [s]\n", want: `apps[0].appkey "a#b_c": want org#app`},
		{name: "bad selector", file: "apps:\n- appkey: a#b\n  secrets: [s]\n  drop: [chat:text]\n", want: "apps[0].drop"},
		{name: "bad chatroom id", file: "apps:\n- appkey: a#b\n  secrets: [s]\n  chatrooms: [\"a/b\"]\n", want: `apps[0].chatrooms[0] "a/b": want a chatroom id`},
		{name: "missing file", args: []string{"--config", "/nonexistent/imbridge.yaml"}, want: "config file"},
		{name: "stray argument", args: []string{"extra"}, want: "unexpected arguments"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := map[string]string{}
			for k, v := range c.env {
				e[k] = v
			}
			if c.file != "" {
				e["IMBRIDGE_CONFIG"] = writeFile(t, c.file)
			}
			_, err := Load("t", c.args, env(e), io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load = %v, want an error naming %q", err, c.want)
			}
			for _, stutter := range []string{"eventlog:", "error unmarshaling JSON", "json:", "Go struct", "config.Config"} {
				if strings.Contains(err.Error(), stutter) {
					t.Errorf("error %q carries %q", err, stutter)
				}
			}
		})
	}
}

func TestLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:9090": true, "localhost:1": true, "[::1]:9090": true, "127.1.2.3:80": true,
		":9090": false, "0.0.0.0:9090": false, "10.0.0.1:9090": false, "[::]:1": false, "example.com:1": false,
	} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

// NotLoopback names every listener open beyond loopback, the embedded NATS
// server's included, so that a refusal to run without keys says which.
func TestNotLoopback(t *testing.T) {
	lo := "127.0.0.1:1"
	for _, c := range []struct {
		grpc, http, nats string
		want             []string
	}{
		{lo, lo, "", nil},
		{lo, lo, lo, nil},
		{lo, lo, "0.0.0.0:4222", []string{`event_log.listen "0.0.0.0:4222"`}},
		{":9090", lo, "", []string{`grpc_addr ":9090"`}},
		{lo, ":8080", ":4222", []string{`http_addr ":8080"`, `event_log.listen ":4222"`}},
	} {
		cfg := Config{GRPCAddr: c.grpc, HTTPAddr: c.http}
		cfg.EventLog.Listen = c.nats
		if got := cfg.NotLoopback(); !slices.Equal(got, c.want) {
			t.Errorf("NotLoopback(%q, %q, %q) = %q, want %q", c.grpc, c.http, c.nats, got, c.want)
		}
	}
}

// A listener set by a flag or the environment is named so.
func TestNotLoopbackNamesTheFlag(t *testing.T) {
	cfg, err := Load("t", []string{"--grpc-addr", "0.0.0.0:0"}, env(map[string]string{"IMBRIDGE_HTTP_ADDR": ":0"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.NotLoopback(), []string{`--grpc-addr "0.0.0.0:0"`, `IMBRIDGE_HTTP_ADDR ":0"`}; !slices.Equal(got, want) {
		t.Errorf("NotLoopback = %q, want %q", got, want)
	}
}

// A boolean setting's flag alone turns it on.
func TestBooleanFlagIsASwitch(t *testing.T) {
	for _, c := range []struct {
		args []string
		want bool
	}{{[]string{"--sync-always"}, true}, {[]string{"--sync-always=false"}, false}, {[]string{"--sync-always=true"}, true}, {nil, false}} {
		cfg, err := Load("t", c.args, env(nil), io.Discard)
		if err != nil || cfg.EventLog.SyncAlways != c.want {
			t.Errorf("%q: sync_always %v %v, want %v", c.args, cfg.EventLog.SyncAlways, err, c.want)
		}
	}
}

// Errors name the setting as the user wrote it, without Go's types.
func TestErrorsSpeakTheUsersWords(t *testing.T) {
	for _, c := range []struct {
		file string
		env  map[string]string
		want string
	}{
		{file: "event_log:\n  max_age: abc\n", want: `event_log.max_age "abc": want a duration such as "10s"`},
		{file: "event_log:\n  replicas: many\n", want: `event_log.replicas string: want a whole number`},
		{file: "log_level: [a]\n", want: "log_level array: want text"},
		{file: "apps:\n- appkey: a#b\n  secrets: [s]\n  easemob: {base_url: [1]}\n", want: "apps.easemob.base_url array: want text"},
		{env: map[string]string{EasemobBaseURLEnv: "https://a1.easemob.com", EasemobClientIDEnv: "id", EasemobClientSecretEnv: "s"},
			want: "IMBRIDGE_EASEMOB_* belong to the app of IMBRIDGE_APP_KEY and IMBRIDGE_CALLBACK_SECRETS"},
		{env: map[string]string{AppKeyEnv: "bad", CallbackSecretsEnv: "s"}, want: `IMBRIDGE_APP_KEY "bad": want org#app`},
	} {
		e := map[string]string{}
		for k, v := range c.env {
			e[k] = v
		}
		if c.file != "" {
			e[ConfigFileEnv] = writeFile(t, c.file)
		}
		_, err := Load("t", nil, env(e), io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q %v: %v, want %s", c.file, c.env, err, c.want)
			continue
		}
		for _, goName := range []string{"config.", "EventLog", "of type", "Go "} {
			if strings.Contains(err.Error(), goName) {
				t.Errorf("%q: %v names Go's %q", c.file, err, goName)
			}
		}
	}
}

// A secret YAML would read as a number (0x1F, 0123, 1e3) is refused, not
// loaded as the text of that number, a secret nobody wrote; quoted, it is
// kept as written.
// Plain API keys, scoped ones, or none beside them change nothing.
func TestNumericLookingSecretsMustBeQuoted(t *testing.T) {
	for _, keys := range []string{"", "api_keys: [key1]\n", "api_keys: [{key: key1}]\n"} {
		for _, s := range []string{"0x1F", "0123", "1e3", "1_000", "123456789012345678901"} {
			load := func(v string) (Config, error) {
				yaml := keys + "apps:\n  - appkey: acme#chat\n    secrets: [" + v + "]\n"
				return Load("t", nil, env(map[string]string{"IMBRIDGE_CONFIG": writeFile(t, yaml)}), io.Discard)
			}
			if _, err := load(s); err == nil || !strings.Contains(err.Error(), "secrets") || !strings.Contains(err.Error(), "in quotes") {
				t.Errorf("%ssecrets: [%s]: %v, want an error naming secrets and asking for quotes", keys, s, err)
			}
			if cfg, err := load(`"` + s + `"`); err != nil || cfg.Apps[0].Secrets[0] != s {
				t.Errorf(`%ssecrets: ["%s"]: %v %v, want it as written`, keys, s, cfg.Apps, err)
			}
		}
	}
	for yaml, want := range map[string]string{
		"api_keys: [0123]\n":               "api_keys[0]: write it in quotes",
		"api_keys: [k, {key: 0x1F}]\n":     "api_keys[1].key: write it in quotes",
		"api_keys: [\"0123\", {key: k}]\n": "",
	} {
		_, err := Load("t", nil, env(map[string]string{"IMBRIDGE_CONFIG": writeFile(t, yaml)}), io.Discard)
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%q: %v, want %q", yaml, err, want)
		}
	}
}

// Text settings other than secrets keep their digits unquoted, as the
// README's own example writes numeric chatroom ids.
func TestUnquotedNumericChatroomIDsLoad(t *testing.T) {
	yaml := "apps:\n  - appkey: acme#chat\n    secrets: [s]\n    chatrooms: [262291372310529]\n"
	cfg, err := Load("t", nil, env(map[string]string{"IMBRIDGE_CONFIG": writeFile(t, yaml)}), io.Discard)
	if err != nil || len(cfg.Apps) != 1 || len(cfg.Apps[0].Chatrooms) != 1 || cfg.Apps[0].Chatrooms[0] != "262291372310529" {
		t.Fatalf("chatrooms: [262291372310529]: %+v %v", cfg.Apps, err)
	}
}
