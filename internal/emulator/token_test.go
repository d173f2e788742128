package emulator

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestTokenFlow(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *Options) { o.TokenTTL = time.Hour })
	r := f.send("POST", "/acme/chat/token", "", map[string]any{"grant_type": "client_credentials", "client_id": testID, "client_secret": testSecret})
	if r.status != 200 || r.body["expires_in"] != float64(3600) || r.body["application"] != appUUID(testAppkey) {
		t.Fatalf("token: %d %s", r.status, r.raw)
	}
	if _, wrapped := r.body["data"]; wrapped {
		t.Errorf("token response is wrapped in data: %s", r.raw)
	}
	tok := r.body["access_token"].(string)
	if !wellFormed(tok) {
		t.Errorf("token %q is not well formed", tok)
	}
	if got := f.send("GET", "/acme/chat/chatrooms", "Bearer "+tok, nil); got.status != 200 {
		t.Fatalf("fresh token: %d %s", got.status, got.raw)
	}
	// ttl in the body, in seconds; 0 never expires.
	r = f.send("POST", "/acme/chat/token", "", map[string]any{"grant_type": "client_credentials", "client_id": testID, "client_secret": testSecret, "ttl": 0})
	forever := r.body["access_token"].(string)
	if r.body["expires_in"] != float64(0) {
		t.Errorf("ttl 0: expires_in %v", r.body["expires_in"])
	}
	r = f.send("POST", "/acme/chat/token", "", map[string]any{"grant_type": "client_credentials", "client_id": testID, "client_secret": testSecret, "ttl": 60})
	short := r.body["access_token"].(string)
	if r.body["expires_in"] != float64(60) {
		t.Errorf("ttl 60: expires_in %v", r.body["expires_in"])
	}
	f.clock.Advance(time.Hour)
	wantErr(t, f.send("GET", "/acme/chat/chatrooms", "Bearer "+tok, nil), 401, "unauthorized", "Unable to authenticate due to expired access token")
	wantErr(t, f.send("GET", "/acme/chat/chatrooms", "Bearer "+short, nil), 401, "unauthorized", "Unable to authenticate due to expired access token")
	if got := f.send("GET", "/acme/chat/chatrooms", "Bearer "+forever, nil); got.status != 200 {
		t.Errorf("ttl 0 token expired: %d %s", got.status, got.raw)
	}
}

func TestTokenDefaultTTLIs24h(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.send("POST", "/acme/chat/token", "", map[string]any{"grant_type": "client_credentials", "client_id": testID, "client_secret": testSecret})
	if r.body["expires_in"] != float64(86400) {
		t.Errorf("expires_in = %v, want 86400", r.body["expires_in"])
	}
}

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, tc := range []struct {
		body       map[string]any
		status     int
		typ, descr string
	}{
		{map[string]any{"grant_type": "client_credentials", "client_secret": testSecret}, 400, "illegal_argument", "client_id must be provided."},
		{map[string]any{"grant_type": "client_credentials", "client_id": testID}, 400, "illegal_argument", "client_secret must be provided"},
		{map[string]any{"grant_type": "client_credentials", "client_id": "x", "client_secret": testSecret}, 400, "invalid_grant", "client_id does not match"},
		{map[string]any{"grant_type": "client_credentials", "client_id": testID, "client_secret": "x"}, 400, "invalid_grant", "client_secret does not match"},
		{map[string]any{"grant_type": "password", "client_id": testID, "client_secret": testSecret}, 400, "illegal_argument", "grant_type must be client_credentials"},
		{map[string]any{"grant_type": "client_credentials", "client_id": testID, "client_secret": testSecret, "ttl": -5}, 400, "illegal_argument", "ttl must be a non-negative number of seconds"},
	} {
		wantErr(t, f.send("POST", "/acme/chat/token", "", tc.body), tc.status, tc.typ, tc.descr)
	}
	// The other app's credentials do not open this one.
	wantErr(t, f.send("POST", "/acme/chat/token", "", map[string]any{"grant_type": "client_credentials", "client_id": "o", "client_secret": "o"}), 400, "invalid_grant", "client_id does not match")
}

func TestEvery401Variant(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	other := f.getToken("other#app", "o", "o")
	forged := tokenPrefix + strings.Repeat("A", tokenLen-len(tokenPrefix))
	for _, tc := range []struct {
		name, auth, typ, descr string
	}{
		{"none", "", "unauthorized", "Unable to authenticate (OAuth)"},
		{"not bearer", "Basic abc", "unauthorized", "Unable to authenticate (OAuth)"},
		{"empty bearer", "Bearer", "unauthorized", "Unable to authenticate (OAuth)"},
		{"corrupt", "Bearer not-a-token", "auth_bad_access_token", "Unable to authenticate due to corrupt access token"},
		{"from another server", "Bearer " + forged, "auth_bad_access_token", "Unable to authenticate"},
		{"another app's", "Bearer " + other, "unauthorized", "Unable to authenticate (OAuth)"},
	} {
		r := f.send("GET", "/acme/chat/chatrooms", tc.auth, nil)
		if r.status != http.StatusUnauthorized || r.body["error"] != tc.typ || r.body["error_description"] != tc.descr {
			t.Errorf("%s: %d %s", tc.name, r.status, r.raw)
		}
	}
	if got := f.send("GET", "/other/app/chatrooms", "Bearer "+other, nil); got.status != 200 {
		t.Errorf("other app's own token: %d %s", got.status, got.raw)
	}
}

func TestExpireTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	old := f.token
	f.e.ExpireTokens()
	wantErr(t, f.do("GET", "/chatrooms", nil), 401, "unauthorized", "Unable to authenticate due to expired access token")
	f.token = f.getToken(testAppkey, testID, testSecret)
	if f.token == old {
		t.Fatal("the same token was issued twice")
	}
	f.ok("GET", "/chatrooms", nil)
}
