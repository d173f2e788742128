package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/imbridge/imbridge/internal/callback"
	"github.com/imbridge/imbridge/internal/config"
	"github.com/imbridge/imbridge/internal/selector"
)

// send succeeds when the bridge answers what the flags ask of it: 200, or
// with -tamper the 401 a wrong signature must get.
func TestSendChecksTheAnswer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper bool
		status int
		ok     bool
	}{
		{"signed, stored", false, http.StatusOK, true},
		{"signed, refused", false, http.StatusUnauthorized, false},
		{"tampered, refused", true, http.StatusUnauthorized, true},
		{"tampered, stored", true, http.StatusOK, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.WriteHeader(tc.status)
			}))
			defer srv.Close()
			args := []string{"-url", srv.URL}
			if tc.tamper {
				args = append(args, "-tamper")
			}
			var out strings.Builder
			err := send(context.Background(), append(args, "chat:txt"), func(string) string { return "" }, &out, io.Discard)
			if (err == nil) != tc.ok {
				t.Errorf("answer %d: %v (%s), want ok %v", tc.status, err, strings.TrimSpace(out.String()), tc.ok)
			}
		})
	}
}

// Every selector `imbridge send -list` offers is stored by a real bridge
// as that selector (README: "every selector works").
func TestSendEverySelectorIsStoredAsIt(t *testing.T) {
	b := startBridge(t, bridgeConfig(t))
	want := map[string]string{} // callId of the last body → selector
	var order []string
	for _, sel := range selector.List() {
		ids := b.post(t, sel)
		want[ids[len(ids)-1]] = sel
		order = append(order, ids...)
	}
	tr := startTail(t, map[string]string{apiKeyEnv: tailKey}, nil, "-addr", b.grpcAddr(), "-from", "earliest", "-json")
	tr.printed(t, order)
	var bad []string
	for _, ev := range tr.events(t) {
		if sel, ok := want[ev.GetCallId()]; ok && ev.GetSelector() != sel {
			bad = append(bad, sel+" stored as "+ev.GetSelector())
		}
	}
	if len(bad) > 0 {
		t.Errorf("sent selectors stored as others:\n%s", strings.Join(bad, "\n"))
	}
}

// send signs with the first secret of IMBRIDGE_CALLBACK_SECRETS as the
// bridge reads that list (config.SplitList skips empty items), so that a
// callback it sends is accepted by a bridge configured from the same
// environment.
func TestSendSecretFromEnvMatchesTheBridge(t *testing.T) {
	for _, env := range []string{"s1,s2", " s1 , s2", ",s1", " , s1,s2"} {
		var verified bool
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			cb, err := callback.Parse(body)
			verified = err == nil && cb.Verify([]string{"s1"})
			if !verified {
				w.WriteHeader(http.StatusUnauthorized)
			}
		}))
		getenv := func(k string) string {
			if k == config.CallbackSecretsEnv {
				return env
			}
			return ""
		}
		err := send(context.Background(), []string{"-url", srv.URL, "chat:txt"}, getenv, io.Discard, io.Discard)
		srv.Close()
		if err != nil || !verified {
			t.Errorf("%s=%q: not signed with s1, the bridge's first secret (%v)", config.CallbackSecretsEnv, env, err)
		}
	}
}
