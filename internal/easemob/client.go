// Package easemob is imbridge's client of the Easemob (环信) chat-room REST
// API. It holds each app's client secret, fetches and caches the app token,
// and calls the vendor for internal callers, who never see either.
//
// Every call is bounded: a timeout per attempt, a bounded number of attempts
// with exponential backoff and jitter (honouring Retry-After), never past the
// caller's deadline, and a client-side rate limit per app and operation at the
// documented rates, so that imbridge slows itself down instead of being
// banned. A call that is not safe to repeat is retried only when the vendor
// provably did not process it. See the fact sheet in shared/spec/chatroom-api.md.
//
// Errors, for the one place that translates them:
//   - ErrInvalidArgument: refused before sending (empty ID, batch over the
//     documented limit, zero MuteDuration…).
//   - *Error (errors.As): the vendor's non-2xx answer with its status, type
//     and description, or a 200 whose single result is false
//     (TypeResultFalse).
//   - ErrRateLimited (wraps the 429 *Error): 429 after every attempt.
//   - ErrUnavailable: unreachable or 5xx after every attempt; with
//     ErrOutcomeUnknown when a call that is not safe to repeat may have been
//     processed and was therefore not retried.
//   - ErrTokenFetch: no app token (our credentials or the vendor's token
//     endpoint), wrapping the cause.
//   - context.Canceled / context.DeadlineExceeded: the caller's context
//     ended (or a client-side rate-limit wait would pass its deadline).
//   - ErrUnexpectedResponse: a 2xx body this client cannot read.
package easemob

import (
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

// AppConfig is one Easemob app and its credentials.
type AppConfig struct {
	Appkey       string // "org#app"
	BaseURL      string // e.g. "https://a1.easemob.com" (no org/app); requests go to BaseURL + "/" + org + "/" + app + path
	ClientID     string
	ClientSecret string
}

// Options tune a Client. The zero value is the production setting.
type Options struct {
	HTTPClient     *http.Client          // nil: a client with sane transport timeouts that follows no redirects
	RequestTimeout time.Duration         // per attempt; 0 = 10s
	MaxAttempts    int                   // 0 = 4 (first try included)
	Logger         *slog.Logger          // nil: discard
	Registerer     prometheus.Registerer // nil: metrics are kept but not registered
	// RateLimits overrides the client-side limit, in calls per second per
	// app, of the operations it names (keys as in DefaultRateLimits; a key
	// that names no operation is an error). +Inf means no limit.
	RateLimits map[string]float64
	// RateShare is the share of every limit (after RateLimits) this client
	// keeps to: 1/N when N processes call the vendor for the same apps,
	// whose limits are per app. 0 = 1.
	RateShare float64
	// BackoffInitial and BackoffMax shape the exponential backoff between
	// attempts (jitter ±50%, factor 2); 0 = 200ms and 5s.
	BackoffInitial, BackoffMax time.Duration
}

// OpToken is the operation name of the app-token fetch in RateLimits,
// metrics and errors. The other operations are named after their method.
const OpToken = "Token"

// defaultRates are the documented per-app limits (limitationapi.md and each
// operation's page). Ops not listed run at 100 calls/s.
var defaultRates = map[string]float64{
	OpToken:               300,
	"ListChatrooms":       50,
	"CreateChatroom":      50,
	"ListJoinedChatrooms": 50,
}

// ops lists every operation; sharedLimit maps an operation onto the one
// whose limiter it shares because both call the same vendor API.
var (
	ops = []string{
		OpToken,
		"ListChatrooms", "ListJoinedChatrooms", "GetChatrooms", "CreateChatroom", "UpdateChatroom",
		"TransferChatroomOwner", "DeleteChatroom",
		"ListMembers", "AddMember", "AddMembers", "RemoveMember", "RemoveMembers",
		"ListAdmins", "AddAdmin", "RemoveAdmin", "ListSuperAdmins", "AddSuperAdmin", "RemoveSuperAdmin",
		"ListMutes", "MuteMembers", "UnmuteMembers", "MuteAll", "UnmuteAll", "MuteTag", "SetMemberTags", "GetMemberTags",
		"ListAllowlist", "AddAllowlistMember", "AddAllowlistMembers", "RemoveAllowlistMembers",
		"ListBlocklist", "AddBlocklistMember", "AddBlocklistMembers", "RemoveBlocklistMembers",
		"GetAnnouncement", "UpdateAnnouncement", "GetAttributes", "SetAttributes", "DeleteAttributes",
	}
	// TransferChatroomOwner is PUT /chatrooms/{id}, the same API as
	// UpdateChatroom, and RemoveMembers DELETE /chatrooms/{id}/users/{u,…},
	// the same API as RemoveMember: one budget each.
	sharedLimit = map[string]string{"TransferChatroomOwner": "UpdateChatroom", "RemoveMembers": "RemoveMember"}
)

// DefaultRateLimits returns the client-side limit of every operation, in
// calls per second per app, keyed by operation name. The operations of
// sharedLimit share a limiter (the same vendor API) and are not listed.
func DefaultRateLimits() map[string]float64 {
	m := make(map[string]float64, len(ops))
	for _, op := range ops {
		if _, shared := sharedLimit[op]; shared {
			continue
		}
		r, ok := defaultRates[op]
		if !ok {
			r = 100
		}
		m[op] = r
	}
	return m
}

// Client calls the vendor for a fixed set of apps. It is safe for concurrent
// use.
type Client struct {
	hc             *http.Client
	ownHTTP        bool
	reqTimeout     time.Duration
	maxAttempts    int
	backoffInitial time.Duration
	backoffMax     time.Duration
	log            *slog.Logger
	m              *metrics
	apps           map[string]*App
}

// App is one Easemob app: one method per vendor chat-room operation. It is
// safe for concurrent use.
type App struct {
	c        *Client
	cfg      AppConfig
	key      string // appkey, for errors, logs and metrics
	prefix   string // BaseURL + "/" + org + "/" + app, escaped
	tok      *tokenCache
	limiters map[string]*rate.Limiter
}

// New validates the apps and options and returns a Client. It sends nothing.
func New(apps []AppConfig, opts Options) (*Client, error) {
	c := &Client{
		hc:             opts.HTTPClient,
		reqTimeout:     opts.RequestTimeout,
		maxAttempts:    opts.MaxAttempts,
		backoffInitial: opts.BackoffInitial,
		backoffMax:     opts.BackoffMax,
		log:            opts.Logger,
		apps:           make(map[string]*App, len(apps)),
	}
	if c.hc == nil {
		c.hc, c.ownHTTP = defaultHTTPClient(), true
	}
	if c.reqTimeout < 0 || c.maxAttempts < 0 || c.backoffInitial < 0 || c.backoffMax < 0 {
		return nil, fmt.Errorf("easemob: negative RequestTimeout, MaxAttempts, BackoffInitial or BackoffMax")
	}
	if c.reqTimeout == 0 {
		c.reqTimeout = 10 * time.Second
	}
	if c.maxAttempts == 0 {
		c.maxAttempts = 4
	}
	if c.backoffInitial == 0 {
		c.backoffInitial = 200 * time.Millisecond
	}
	if c.backoffMax == 0 {
		c.backoffMax = 5 * time.Second
	}
	if c.backoffMax < c.backoffInitial {
		c.backoffMax = c.backoffInitial
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	rates := DefaultRateLimits()
	for op, r := range opts.RateLimits {
		if _, ok := rates[op]; !ok {
			return nil, fmt.Errorf("easemob: RateLimits: %q names no operation (TransferChatroomOwner shares UpdateChatroom's, RemoveMembers RemoveMember's)", op)
		}
		if !(r > 0) {
			return nil, fmt.Errorf("easemob: RateLimits: %s: %v calls/s is not positive", op, r)
		}
		rates[op] = r
	}
	switch share := opts.RateShare; {
	case share == 0:
	case !(share > 0 && share <= 1):
		return nil, fmt.Errorf("easemob: RateShare %v: want more than 0, at most 1", share)
	default:
		for op := range rates {
			rates[op] *= share
		}
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	c.m = m
	for i, ac := range apps {
		a, err := c.newApp(ac, rates)
		if err != nil {
			return nil, fmt.Errorf("easemob: apps[%d]: %w", i, err)
		}
		if _, dup := c.apps[a.key]; dup {
			return nil, fmt.Errorf("easemob: apps[%d]: app %q is listed twice", i, a.key)
		}
		c.apps[a.key] = a
	}
	return c, nil
}

func (c *Client) newApp(ac AppConfig, rates map[string]float64) (*App, error) {
	org, name, ok := strings.Cut(ac.Appkey, "#")
	if !ok || org == "" || name == "" || strings.Contains(name, "#") {
		return nil, fmt.Errorf("app %q: appkey must be org#app", ac.Appkey)
	}
	u, err := url.Parse(ac.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, fmt.Errorf("app %q: base URL %q must be an absolute http(s) URL with no query", ac.Appkey, ac.BaseURL)
	}
	if ac.ClientID == "" {
		return nil, fmt.Errorf("app %q: client ID is empty", ac.Appkey)
	}
	if ac.ClientSecret == "" {
		return nil, fmt.Errorf("app %q: client secret is empty", ac.Appkey)
	}
	a := &App{
		c:        c,
		cfg:      ac,
		key:      ac.Appkey,
		prefix:   strings.TrimRight(u.String(), "/") + "/" + url.PathEscape(org) + "/" + url.PathEscape(name),
		limiters: make(map[string]*rate.Limiter, len(rates)),
	}
	for op, r := range rates {
		lim := rate.Limit(r)
		if math.IsInf(r, 1) {
			lim = rate.Inf
		}
		// Burst 1: calls are spaced evenly, so no window of one second ever
		// holds more than the documented count (plus the one at its edge).
		a.limiters[op] = rate.NewLimiter(lim, 1)
	}
	a.tok = &tokenCache{app: a}
	return a, nil
}

// App returns the app with this appkey ("org#app").
func (c *Client) App(appkey string) (*App, bool) {
	a, ok := c.apps[appkey]
	return a, ok
}

// Appkeys returns the configured appkeys, sorted.
func (c *Client) Appkeys() []string {
	keys := make([]string, 0, len(c.apps))
	for k := range c.apps {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Close releases idle connections of the HTTP client the Client made itself.
// Calls in flight are not affected.
func (c *Client) Close() {
	if c.ownHTTP {
		c.hc.CloseIdleConnections()
	}
}

// Appkey is the app's "org#app".
func (a *App) Appkey() string { return a.key }

func (a *App) limiter(op string) *rate.Limiter {
	if s, ok := sharedLimit[op]; ok {
		op = s
	}
	return a.limiters[op]
}

func defaultHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = 5 * time.Second
	tr.ResponseHeaderTimeout = 0 // bounded by the per-attempt timeout
	tr.ExpectContinueTimeout = time.Second
	tr.MaxIdleConnsPerHost = 16
	tr.IdleConnTimeout = 90 * time.Second
	return &http.Client{
		Transport: tr,
		// The API never redirects; following one would resend a body.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
