package eventlog

import (
	"strings"
	"testing"
)

// Every form nats.go takes passes; what it would refuse only when the
// process starts is named, and the problem never repeats a password.
func TestNATSURLProblem(t *testing.T) {
	for _, ok := range []string{
		"nats://127.0.0.1:4222", "127.0.0.1:4222", "nats-1", "tls://nats.example.com",
		"nats://user:secret@nats:4222", "ws://nats:8080", "wss://nats", "nats://[::1]:4222",
	} {
		if p := natsURLProblem(ok); p != "" {
			t.Errorf("natsURLProblem(%q) = %q, want none", ok, p)
		}
	}
	for _, bad := range []string{
		"nats://nats:0", "nats://nats:65536", "nats://nats:http", "http://nats:4222",
		"nats://", "nats://user:s%zzecret@nats:4222", "nats://user:secret@:4222",
	} {
		p := natsURLProblem(bad)
		if p == "" {
			t.Errorf("natsURLProblem(%q) found nothing", bad)
		}
		if strings.Contains(p, "secret") {
			t.Errorf("natsURLProblem(%q) = %q repeats the password", bad, p)
		}
	}
}
