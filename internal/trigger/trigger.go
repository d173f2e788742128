// Package trigger builds example callbacks of any selector from the vendor's
// own examples, freshly identified and correctly signed, like `stripe
// trigger`. `imbridge send` posts them; tests use them end to end.
package trigger

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/imbridge/imbridge/internal/callback"
	"github.com/imbridge/imbridge/internal/callback/examples"
	"github.com/imbridge/imbridge/internal/selector"
)

// Options say who the callbacks are from and how they are signed.
type Options struct {
	// Appkey is the app the callbacks are for.
	Appkey string
	// Secret signs them.
	Secret string
	// Unsigned leaves out callId and security, as the vendor sends reaction
	// and thread callbacks.
	Unsigned bool
	// Tamper signs with a wrong secret.
	Tamper bool
	// Now is the callbacks' timestamp.
	Now time.Time
}

// Build returns the request bodies that make the bridge store one
// event of sel: the vendor's example for it, with a fresh callId, msg_id
// and timestamp, the given appkey and a correct signature. A chatroom
// message is preceded by a chatroom presence in the same room, because the
// bridge tells chatrooms from groups only by what it has learned.
func Build(sel string, o Options) ([][]byte, error) {
	if !selector.IsCanonical(sel) {
		return nil, fmt.Errorf("%q is not a canonical selector (imbridge send -list)", sel)
	}
	family, op, _ := strings.Cut(sel, ":")
	var out []map[string]any
	switch {
	case sel == "muc:enable":
		// The vendor shows only the ban (UPDATE/DISABLE, disable true);
		// lifting it is the same body with false.
		ex, err := example("muc:disable")
		if err != nil {
			return nil, err
		}
		ex["payload"].(map[string]any)["disable"] = false
		out = append(out, ex)
	case family == "chat" || family == "groupchat" || family == "chatroom":
		msg, err := example("chat:" + op)
		if err != nil {
			return nil, err
		}
		if family != "chat" {
			groupID := randomDigits(15)
			msg["chat_type"], msg["group_id"] = "groupchat", groupID
			if family == "chatroom" {
				presence, err := example("muc:presence", isChatroom)
				if err != nil {
					return nil, err
				}
				presence["group_id"], presence["to"] = groupID, groupID
				out = append(out, presence)
			}
		}
		out = append(out, msg)
	case family == selector.Unknown:
		// No vendor sends one on purpose: an event of a kind nobody
		// documents.
		out = append(out, map[string]any{"event": "imbridge_send_unknown", "type": "GROUP", "operation": "CREATE"})
	default:
		ex, err := example(sel)
		if err != nil && op == selector.Unknown {
			// No vendor sends these on purpose: take a family example and
			// give it an operation nobody documents.
			if ex, err = example(family + ":" + firstOp(family)); err == nil {
				setUnknownOp(ex, family)
			}
		} else if err != nil && family == "muc" {
			if ex, err = example("muc:update"); err == nil {
				ex["payload"].(map[string]any)["operation"] = op
			}
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ex)
	}
	bodies := make([][]byte, 0, len(out))
	for _, m := range out {
		b, err := stamp(m, o)
		if err != nil {
			return nil, err
		}
		bodies = append(bodies, b)
	}
	return bodies, nil
}

func firstOp(family string) string {
	return map[string]string{"muc": "update", "roster": "add", "userStatus": "login"}[family]
}

func setUnknownOp(m map[string]any, family string) {
	const op = "imbridge_send_unknown"
	switch family {
	case "userStatus":
		m["reason"] = op
	default:
		m["payload"].(map[string]any)["operation"] = op
	}
}

// Restamp gives a vendor body (an example file, say) a fresh callId,
// msg_id and timestamp, o's appkey and o's signature, as Build does.
func Restamp(raw []byte, o Options) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("restamp: %w", err)
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	return stamp(m, o)
}

// stamp gives a body fresh identity and the signature of o.
func stamp(m map[string]any, o Options) ([]byte, error) {
	msgID := randomDigits(18)
	ts := strconv.FormatInt(o.Now.UnixMilli(), 10)
	callID := o.Appkey + "_" + msgID
	m["appkey"], m["timestamp"] = o.Appkey, json.Number(ts)
	if _, ok := m["msg_id"]; ok {
		m["msg_id"] = msgID
	}
	delete(m, "callId")
	delete(m, "security")
	if !o.Unsigned {
		sig := callback.Sign(callID, o.Secret, ts)
		if o.Tamper {
			sig = callback.Sign(callID, o.Secret+"-tampered", ts)
		}
		m["callId"], m["security"] = callID, sig
	}
	return json.Marshal(m)
}

type exampleFilter func(m map[string]any) bool

func isChatroom(m map[string]any) bool {
	p, _ := m["payload"].(map[string]any)
	return p["is_chatroom"] == true
}

// example returns the first vendor example that decodes to sel (and
// passes the filters), as a JSON object with its numbers kept exact.
func example(sel string, filters ...exampleFilter) (map[string]any, error) {
	names, err := fs.Glob(examples.FS, "[0-9]*.json")
	if err != nil {
		return nil, err
	}
next:
	for _, name := range names {
		raw, err := examples.FS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		cb, err := callback.Parse(raw)
		if err != nil || cb.Decode(time.Now(), nil).GetSelector() != sel {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return nil, err
		}
		for _, f := range filters {
			if !f(m) {
				continue next
			}
		}
		return m, nil
	}
	return nil, fmt.Errorf("no vendor example for %s", sel)
}

func randomDigits(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		d, _ := rand.Int(rand.Reader, big.NewInt(10))
		if i == 0 && d.Int64() == 0 {
			d = big.NewInt(9)
		}
		b.WriteString(d.String())
	}
	return b.String()
}
