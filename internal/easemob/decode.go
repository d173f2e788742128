package easemob

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// envelope is the success body. Only what this client reads is kept; the
// rest (action, uri, entities, timestamp, …) varies between operations.
type envelope struct {
	Data   json.RawMessage `json:"data"`
	Count  *flexInt        `json:"count"`
	Cursor flexString      `json:"cursor"`
}

// call runs rq and decodes the envelope's data into out (nil: not read).
func (a *App) call(ctx context.Context, rq *request, out any) (*envelope, error) {
	body, err := a.do(ctx, rq)
	if err != nil {
		return nil, err
	}
	var env envelope
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &env); err != nil {
			return nil, a.badResponse(rq.op, err)
		}
	}
	if out != nil && !isNull(env.Data) {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return nil, a.badResponse(rq.op, err)
		}
	}
	return &env, nil
}

func (a *App) badResponse(op string, err error) error {
	return fmt.Errorf("%w: %s: %s: %w", ErrUnexpectedResponse, a.key, op, err)
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// oneOrMany is a list the vendor sends as an array, or as a single object
// when there is one item (list-all-rooms, details of one room).
type oneOrMany[T any] []T

func (o *oneOrMany[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case isNull(b):
		*o = nil
		return nil
	case b[0] == '[':
		var s []T
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*o = s
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*o = oneOrMany[T]{v}
	return nil
}

// flexInt is a number the vendor may send as a JSON number or a string
// ("count", "expire" of tags); null and "" are 0.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		*f = 0
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		s = strings.TrimSpace(str)
		if s == "" {
			*f = 0
			return nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*f = flexInt(n)
		return nil
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || x != math.Trunc(x) || math.Abs(x) > 1<<62 {
		return fmt.Errorf("not an integer: %.40q", s)
	}
	*f = flexInt(x)
	return nil
}

// flexBool is a flag the vendor may send as a boolean or a string: "disabled"
// is "false", admin results are "success".
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "success", "ok", "1":
		*f = true
	case "false", "fail", "failed", "failure", "0", "", "null":
		*f = false
	default:
		return fmt.Errorf("not a boolean: %.40q", s)
	}
	return nil
}

// flexString is a string the vendor may send as a number; null is "".
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	switch {
	case s == "null":
		*f = ""
	case strings.HasPrefix(s, `"`):
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		*f = flexString(str)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*f = flexString(n)
	}
	return nil
}

// permanentExpiry is the expiry older vendor documents give a permanent
// mute: 2117-01-01 00:00 Beijing time (2116-12-31T16:00:00Z).
const permanentExpiry = 4638873600000

// msTime is a time in epoch milliseconds: -1 (any negative) or
// permanentExpiry is permanent, 0 is unset.
func msTime(ms int64) (t time.Time, permanent bool) {
	switch {
	case ms < 0 || ms == permanentExpiry:
		return time.Time{}, true
	case ms == 0:
		return time.Time{}, false
	}
	return time.UnixMilli(ms).UTC(), false
}

// itemJSON is one per-user result of a batch call (or the data of a
// single-user call).
type itemJSON struct {
	Result *flexBool  `json:"result"`
	Reason string     `json:"reason"`
	User   flexString `json:"user"`
	Expire flexInt    `json:"expire"`
}

func (it itemJSON) result() ItemResult {
	r := ItemResult{Username: string(it.User), OK: it.Result == nil || bool(*it.Result), Reason: it.Reason}
	r.Expire, r.Permanent = msTime(int64(it.Expire))
	return r
}
