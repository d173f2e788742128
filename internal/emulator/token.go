package emulator

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// token is an issued app token.
type token struct {
	app     *appState
	expires time.Time // zero: never (ttl 0)
	expired bool      // ExpireTokens
}

// tokenPrefix starts every vendor app token ("YWMt" is base64 of "amc-").
const tokenPrefix = "YWMt"

// tokenLen is the length of the tokens issued: the prefix and 64 bytes
// of base64url.
var tokenLen = len(tokenPrefix) + base64.RawURLEncoding.EncodedLen(64)

// handleToken is POST /{org}/{app}/token (fact sheet §2).
func handleToken(c *call) (any, error) {
	var req struct {
		GrantType    string          `json:"grant_type"`
		ClientID     string          `json:"client_id"`
		ClientSecret string          `json:"client_secret"`
		TTL          json.RawMessage `json:"ttl"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	switch {
	case req.GrantType != "client_credentials":
		// Undocumented: the page only says the value is fixed.
		return nil, errTokenArg("grant_type must be client_credentials")
	case req.ClientID == "":
		return nil, errTokenArg("client_id must be provided.")
	case req.ClientSecret == "":
		return nil, errTokenArg("client_secret must be provided")
	case req.ClientID != c.app.ClientID:
		return nil, errInvalidGrant("client_id does not match")
	case subtle.ConstantTimeCompare([]byte(req.ClientSecret), []byte(c.app.ClientSecret)) != 1:
		return nil, errInvalidGrant("client_secret does not match")
	}
	ttl := c.e.ttl
	if !isNull(req.TTL) {
		var secs int64
		if err := json.Unmarshal(req.TTL, &secs); err != nil || secs < 0 || secs > 100*365*24*3600 {
			return nil, errTokenArg("ttl must be a non-negative number of seconds")
		}
		ttl = time.Duration(secs) * time.Second
	}
	var raw [64]byte
	_, _ = rand.Read(raw[:])
	tok := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	t := &token{app: c.app}
	if ttl > 0 {
		t.expires = c.now.Add(ttl)
	}
	c.e.tokens[tok] = t
	return map[string]any{
		"access_token": tok,
		"expires_in":   int64(ttl / time.Second),
		"application":  c.app.uuid,
	}, nil
}

// authorize checks the request's bearer token for app a (fact sheet §1).
func (e *Emulator) authorize(r *http.Request, a *appState, now time.Time) *apiError {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return errOAuth()
	}
	tok = strings.TrimSpace(tok)
	t := e.tokens[tok]
	switch {
	case t == nil && !wellFormed(tok):
		return errCorruptToken()
	case t == nil:
		return errForeignToken()
	case t.app != a:
		return errOAuth()
	case t.expired || (!t.expires.IsZero() && !now.Before(t.expires)):
		return errExpiredToken()
	}
	return nil
}

// wellFormed reports whether tok has the shape of the tokens issued here.
func wellFormed(tok string) bool {
	if len(tok) != tokenLen || !strings.HasPrefix(tok, tokenPrefix) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(tok[len(tokenPrefix):])
	return err == nil
}

// ExpireTokens makes every token issued so far answer 401 "Unable to
// authenticate due to expired access token". Tokens issued later are
// valid.
func (e *Emulator) ExpireTokens() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, t := range e.tokens {
		t.expired = true
	}
}
