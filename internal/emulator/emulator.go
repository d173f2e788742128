// Package emulator is an in-memory emulator of the Easemob chat-room REST
// API (the app token and every chat-room operation of
// /work/shared/spec/chatroom-api.md), for imbridge's tests and for running
// imbridge on a machine that cannot reach the vendor. It answers with the
// vendor's documented shapes, limits and error bodies, quirks included, and
// posts signed legacy `muc` callbacks for state changes, as the cloud does.
package emulator

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// App is one vendor app the emulator serves.
type App struct {
	// Appkey is "org#app"; requests address it as /{org}/{app}.
	Appkey string
	// ClientID and ClientSecret obtain its app token.
	ClientID, ClientSecret string
}

// Options configure an Emulator.
type Options struct {
	// Apps are the apps served; at least one.
	Apps []App
	// CallbackURL receives signed chat-room callbacks when state changes,
	// as the real cloud sends them; "" sends none.
	CallbackURL string
	// CallbackSecret signs them: security = MD5(callId + secret + timestamp).
	CallbackSecret string
	// AutoCreateUsers makes every username exist (for `make run`); false:
	// only users added with AddUsers exist.
	AutoCreateUsers bool
	// TokenTTL is how long an app token lives unless the request's ttl
	// says otherwise; 0 is 24h.
	TokenTTL time.Duration
	// Logger receives delivery failures and dropped callbacks; nil logs
	// nothing.
	Logger *slog.Logger
	// Now is the clock of tokens, timed mutes and timestamps; nil is
	// time.Now.
	Now func() time.Time
}

// Emulator is the vendor API as an http.Handler. It is safe for
// concurrent use.
type Emulator struct {
	log      *slog.Logger
	now      func() time.Time
	autoUser bool
	ttl      time.Duration
	secret   string
	cb       *deliverer

	mu       sync.Mutex
	apps     map[string]*appState // by "org/app"
	tokens   map[string]*token
	requests map[string]int
	msgSeq   int64

	faults faults
}

// maxBody bounds a request body; the vendor's largest (a create with
// 10,000 members and 8 KB of custom) is far below it.
const maxBody = 4 << 20

// New returns an emulator of opts.Apps, with no rooms.
func New(opts Options) (*Emulator, error) {
	e := &Emulator{
		log: opts.Logger, now: opts.Now, autoUser: opts.AutoCreateUsers, ttl: opts.TokenTTL,
		secret: opts.CallbackSecret,
		apps:   map[string]*appState{}, tokens: map[string]*token{}, requests: map[string]int{},
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.ttl == 0 {
		e.ttl = 24 * time.Hour
	}
	if e.ttl < 0 {
		return nil, fmt.Errorf("emulator: TokenTTL %v is negative", opts.TokenTTL)
	}
	if len(opts.Apps) == 0 {
		return nil, errors.New("emulator: no apps")
	}
	for _, a := range opts.Apps {
		org, name, ok := strings.Cut(a.Appkey, "#")
		if !ok || org == "" || name == "" || strings.ContainsAny(a.Appkey, "/_ ") {
			return nil, fmt.Errorf("emulator: appkey %q is not org#app", a.Appkey)
		}
		if a.ClientID == "" || a.ClientSecret == "" {
			return nil, fmt.Errorf("emulator: app %s needs a client id and secret", a.Appkey)
		}
		key := org + "/" + name
		if _, dup := e.apps[key]; dup {
			return nil, fmt.Errorf("emulator: app %s given twice", a.Appkey)
		}
		e.apps[key] = newAppState(a, org, name)
	}
	if opts.CallbackURL != "" {
		u, err := url.Parse(opts.CallbackURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("emulator: callback URL %q is not an http(s) URL", opts.CallbackURL)
		}
		e.cb = newDeliverer(opts.CallbackURL, e.log)
	}
	return e, nil
}

// AddUsers makes usernames exist in the app (ignored for an unknown app).
func (e *Emulator) AddUsers(appkey string, usernames ...string) {
	org, name, _ := strings.Cut(appkey, "#")
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.apps[org+"/"+name]
	if a == nil {
		e.log.Warn("emulator: AddUsers for an unknown app", "appkey", appkey)
		return
	}
	for _, u := range usernames {
		a.users[userID(u)] = true
	}
}

// Close stops callback delivery: the delivery in flight is cancelled,
// callbacks still queued are dropped, and Close returns once the worker
// has exited. The API keeps answering; later callbacks are dropped.
func (e *Emulator) Close() error {
	if e.cb != nil {
		e.cb.close()
	}
	return nil
}

// Requests returns how many requests each operation has served, by
// operation name ("token", "CreateChatroom", …; "unknown" for paths the
// API does not have).
func (e *Emulator) Requests() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int, len(e.requests))
	for k, v := range e.requests {
		out[k] = v
	}
	return out
}

// call is one request being answered: the app, the route's wildcard
// segments, the query and the body.
type call struct {
	e      *Emulator
	r      *http.Request
	app    *appState
	params []string
	query  url.Values
	body   []byte
	now    time.Time
	action string // the envelope's action: the lower-case method
}

func (c *call) nowMs() int64 { return c.now.UnixMilli() }

// ServeHTTP answers one vendor API request.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	written := false
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			e.log.Error("emulator: panic answering a request", "path", r.URL.Path, "panic", p)
			if !written {
				writeJSON(w, http.StatusInternalServerError, e.errorBody(errInjected(http.StatusInternalServerError)), 0)
			}
		}
	}()
	if !e.faults.wait(r.Context()) {
		// The client went away, or the server is shutting down, while
		// the answer was delayed: no answer, not an empty 200.
		panic(http.ErrAbortHandler)
	}
	status, body, retryAfter := e.answer(r)
	written = true
	writeJSON(w, status, body, retryAfter)
}

// answer routes a request and returns the status and body to write.
func (e *Emulator) answer(r *http.Request) (int, any, time.Duration) {
	segs := splitPath(r.URL.EscapedPath())
	if len(segs) < 3 {
		return e.fail(errServiceResourceNotFound())
	}
	org, appName, rest := segs[0], segs[1], segs[2:]
	rt, params := match(r.Method, rest)
	name := "unknown"
	if rt != nil {
		name = rt.name
	}
	in := r.Body
	if in == nil {
		in = http.NoBody
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, in, maxBody))
	if err != nil {
		return e.fail(&apiError{http.StatusRequestEntityTooLarge, "request_entity_too_large", excIllegalArgument, "request body is too large"})
	}
	if rt != nil && rt.nameOf != nil {
		name = rt.nameOf(params, body)
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	e.requests[name]++
	a := e.apps[org+"/"+appName]
	if a == nil {
		return e.fail(errAppNotFound(org, appName, strings.Join(rest, "/")))
	}
	if rt == nil {
		if routedPath(rest) {
			return e.fail(errMethodNotAllowed(r.Method))
		}
		return e.fail(errServiceResourceNotFound())
	}
	c := &call{e: e, r: r, app: a, params: params, query: r.URL.Query(), body: body, now: e.now(), action: strings.ToLower(r.Method)}
	if a.overLimit(rt, c.now) {
		return e.fail(errInjected(http.StatusTooManyRequests))
	}
	if name == "token" {
		return e.result(rt.h(c))
	}
	if fe, retry := e.faults.take(); fe != nil {
		status, b, _ := e.fail(fe)
		return status, b, retry
	}
	if err := e.authorize(r, a, c.now); err != nil {
		return e.fail(err)
	}
	return e.result(rt.h(c))
}

func (e *Emulator) result(body any, err error) (int, any, time.Duration) {
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = errInjected(http.StatusInternalServerError)
		}
		return e.fail(ae)
	}
	return http.StatusOK, body, 0
}

func (e *Emulator) fail(ae *apiError) (int, any, time.Duration) {
	return ae.status, e.errorBody(ae), 0
}

func (e *Emulator) errorBody(ae *apiError) errorBody {
	return errorBody{Error: ae.typ, Exception: ae.exception, Timestamp: e.now().UnixMilli(), ErrorDescription: ae.description}
}

func writeJSON(w http.ResponseWriter, status int, body any, retryAfter time.Duration) {
	b, err := json.Marshal(body)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal_server_error","exception":"EasemobServerException","timestamp":0,"duration":0,"error_description":"Internal Server Error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	if retryAfter > 0 {
		secs := int64((retryAfter + time.Second - 1) / time.Second)
		h.Set("Retry-After", fmt.Sprint(secs))
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// splitPath splits an escaped path into unescaped segments, so that a
// comma list sent as %2C reads as commas.
func splitPath(escaped string) []string {
	escaped = strings.Trim(escaped, "/")
	if escaped == "" {
		return nil
	}
	parts := strings.Split(escaped, "/")
	for i, p := range parts {
		if u, err := url.PathUnescape(p); err == nil {
			parts[i] = u
		}
	}
	return parts
}

// envelope is the vendor's standard success body.
type envelope struct {
	Action          string              `json:"action"`
	Application     string              `json:"application"`
	Params          map[string][]string `json:"params,omitempty"`
	URI             string              `json:"uri"`
	Entities        []any               `json:"entities"`
	Data            any                 `json:"data"`
	Timestamp       int64               `json:"timestamp"`
	Duration        int64               `json:"duration"`
	Properties      *struct{}           `json:"properties,omitempty"`
	Organization    string              `json:"organization"`
	ApplicationName string              `json:"applicationName"`
	Count           *int                `json:"count,omitempty"`
}

// dataOnly is the body of the calls that return only {data}.
type dataOnly struct {
	Data any `json:"data"`
}

// metaEnvelope is the body of the metadata/chatroom calls.
type metaEnvelope struct {
	URI       string `json:"uri"`
	Status    string `json:"status,omitempty"`
	Timestamp int64  `json:"timestamp"`
	Action    string `json:"action"`
	Data      any    `json:"data"`
}

func (c *call) origin() string {
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.r.Host
}

func (c *call) base() string { return c.origin() + "/" + c.app.org + "/" + c.app.name }

// envelope wraps data; its uri is the request URL without the query, a
// comma list still escaped as sent.
func (c *call) envelope(data any) *envelope {
	return &envelope{
		Action: c.action, Application: c.app.uuid, URI: c.origin() + c.r.URL.EscapedPath(),
		Entities: []any{}, Data: data, Timestamp: c.nowMs(), Organization: c.app.org, ApplicationName: c.app.name,
	}
}

// withCount adds count and, when the request had a query, params.
func (env *envelope) withCount(n int, c *call) *envelope {
	env.Count = &n
	if len(c.query) > 0 {
		env.Params = map[string][]string(c.query)
	}
	return env
}

func (env *envelope) withProperties() *envelope {
	env.Properties = &struct{}{}
	return env
}

// appUUID is a stable UUID-shaped id for an appkey.
func appUUID(appkey string) string {
	sum := md5.Sum([]byte("imbridge-emulator:" + appkey))
	h := hex.EncodeToString(sum[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// decode reads a JSON object body into v; an empty body is an empty object.
func (c *call) decode(v any) error {
	if len(strings.TrimSpace(string(c.body))) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		return errJSON(err.Error())
	}
	return nil
}
