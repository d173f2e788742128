package eventlog

import (
	"strings"
	"testing"
)

// Every form nats.go takes passes; what it would refuse only when the
// process starts is named, and the problem never repeats a password.
func TestNATSURLProblem(t *testing.T) {
	for _, ok := range []string{
		"nats://127.0.0.1:4222", "127.0.0.1:4222", "nats-1", "tls://nats.example.com", "NATS://nats",
		"nats://user:secret@nats:4222", "ws://nats:8080", "wss://nats", "nats://[::1]:4222", "nats://:4222",
	} {
		if _, p := natsURLProblem(ok, "nats"); p != "" {
			t.Errorf("natsURLProblem(%q) = %q, want none", ok, p)
		}
	}
	for _, bad := range []string{
		"nats://nats:0", "nats://nats:65536", "nats://nats:http", "http://nats:4222",
		"nats://user:s%zzecret@nats:4222", "nats://user:secret@nats:99999",
	} {
		_, p := natsURLProblem(bad, "nats")
		if p == "" {
			t.Errorf("natsURLProblem(%q) found nothing", bad)
		}
		if strings.Contains(p, "secret") {
			t.Errorf("natsURLProblem(%q) = %q repeats the password", bad, p)
		}
	}
}

// Servers without a scheme are of the first server's kind, as nats.go
// reads them: ws://a,b is all websocket.
func TestNATSURLListKinds(t *testing.T) {
	for list, mixed := range map[string]bool{
		"ws://a:1,b:2": false, "b:2,ws://a:1": true, "WS://a,nats://b": true, "nats://a,tls://b,c": false, "wss://a, ws://b": false,
	} {
		err := (&Config{DataDir: "d", NATSURL: list}).Validate()
		if got := err != nil && strings.Contains(err.Error(), "mixes websocket"); got != mixed {
			t.Errorf("Validate(%q) = %v, want mixed %v", list, err, mixed)
		}
	}
}
