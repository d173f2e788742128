package easemob

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Sentinel errors. Each is returned wrapped (test with errors.Is) together with
// its cause, which may itself be an *Error (test with errors.As).
var (
	// ErrUnavailable: the vendor could not be reached, or kept answering 5xx
	// after every attempt. It is also returned for a call that is not safe to
	// repeat when its outcome is unknown (the request may have been processed);
	// such errors say "outcome unknown".
	ErrUnavailable = errors.New("easemob: vendor unavailable")
	// ErrOutcomeUnknown comes wrapped together with ErrUnavailable when a
	// call that is not safe to repeat may have been processed (the connection
	// broke or timed out after the request was sent, or the vendor answered a
	// 5xx other than 503 with Retry-After). It was not retried; check the
	// state before repeating it.
	ErrOutcomeUnknown = errors.New("outcome unknown")
	// ErrRateLimited: the vendor kept answering 429 after every attempt.
	ErrRateLimited = errors.New("easemob: rate limited by the vendor")
	// ErrTokenFetch comes wrapped around the cause when a call failed
	// because no app token could be had (bad credentials: an *Error with Op
	// OpToken; vendor down: ErrUnavailable too). It is imbridge's problem,
	// not the caller's.
	ErrTokenFetch = errors.New("easemob: could not get an app token")
	// ErrInvalidArgument: the call was refused before anything was sent,
	// because an argument breaks a documented rule (empty ID, too many users…).
	ErrInvalidArgument = errors.New("easemob: invalid argument")
	// ErrUnexpectedResponse: the vendor answered 2xx with a body this client
	// cannot read.
	ErrUnexpectedResponse = errors.New("easemob: unexpected response")
)

// TypeResultFalse is the Type of an *Error made from an HTTP 200 answer whose
// single item reports "result": false (the vendor declined the change).
const TypeResultFalse = "result_false"

// Error is an answer of the vendor that is not a success: a non-2xx status
// with its error body, or a 200 whose single result is false (Type
// TypeResultFalse). Its text never contains a token or a secret.
type Error struct {
	Status      int    // HTTP status code
	Type        string // vendor "error" (e.g. "forbidden_op"); may be empty
	Description string // vendor "error_description"
	Op          string // operation, e.g. "GetChatrooms"
	App         string // appkey "org#app"
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("easemob: ")
	if e.App != "" {
		b.WriteString(e.App)
		b.WriteString(": ")
	}
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "status %d", e.Status)
	if e.Type != "" {
		b.WriteString(" ")
		b.WriteString(e.Type)
	}
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	return b.String()
}

// errorBody is the vendor's error body.
type errorBody struct {
	Error       string `json:"error"`
	Exception   string `json:"exception"`
	Description string `json:"error_description"`
}

// maxDescription bounds the text kept from a vendor error body.
const maxDescription = 512

// vendorError builds the *Error of a non-2xx answer. Text that is not a
// vendor error body (an HTML page from a proxy) is not kept; the secret and
// the current token are blanked out of whatever is kept.
func (a *App) vendorError(op string, status int, body []byte) *Error {
	e := &Error{Status: status, Op: op, App: a.key}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil && (eb.Error != "" || eb.Description != "" || eb.Exception != "") {
		e.Type = a.scrub(eb.Error)
		e.Description = a.scrub(eb.Description)
		if e.Type == "" && e.Description == "" {
			e.Description = a.scrub(eb.Exception)
		}
	} else {
		e.Description = http.StatusText(status)
	}
	if len(e.Description) > maxDescription {
		// Cut on a rune boundary: a split rune is not UTF-8, which gRPC
		// details and the gateway's JSON refuse.
		cut := maxDescription
		for cut > 0 && !utf8.RuneStart(e.Description[cut]) {
			cut--
		}
		e.Description = e.Description[:cut] + "…"
	}
	return e
}

// resultFalse is the *Error of a 200 answer whose item says result false.
func (a *App) resultFalse(op, reason string) *Error {
	if reason == "" {
		reason = "the vendor reported result false"
	}
	return &Error{Status: http.StatusOK, Type: TypeResultFalse, Description: a.scrub(reason), Op: op, App: a.key}
}

// scrub blanks the client secret and the cached token out of vendor text.
func (a *App) scrub(s string) string {
	if s == "" {
		return s
	}
	if a.cfg.ClientSecret != "" {
		s = strings.ReplaceAll(s, a.cfg.ClientSecret, "[redacted]")
	}
	if tok := a.tok.current(); tok != "" {
		s = strings.ReplaceAll(s, tok, "[redacted]")
	}
	return s
}

// invalid is an ErrInvalidArgument naming the operation.
func (a *App) invalid(op, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s: %s", ErrInvalidArgument, a.key, op, fmt.Sprintf(format, args...))
}
