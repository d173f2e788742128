package config

import (
	"io"
	"os"
	"path/filepath"
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
	if strings.Join(cfg.APIKeys, ",") != "env-a,env-b" {
		t.Errorf("api_keys = %q, want the environment's list", cfg.APIKeys)
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
		{name: "bad address", args: []string{"--grpc-addr", "nohostport"}, want: "grpc_addr"},
		{name: "bad log level", env: map[string]string{"IMBRIDGE_LOG_LEVEL": "loud"}, want: "log_level"},
		{name: "bad env duration", env: map[string]string{"IMBRIDGE_SHUTDOWN_TIMEOUT": "x"}, want: "IMBRIDGE_SHUTDOWN_TIMEOUT"},
		{name: "negative timeout", args: []string{"--shutdown-timeout", "-1s"}, want: "shutdown_timeout"},
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
