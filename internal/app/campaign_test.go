package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/callback"
	"github.com/imbridge/imbridge/internal/callback/examples"
)

// campaignBodies is how many mutated bodies the campaign posts; the seed
// makes every run post the same ones.
const (
	campaignBodies = 300
	campaignSeed   = 20261122
)

// The vendor's example bodies, signed, then mutated — types swapped, keys
// dropped, huge and odd values, broken UTF-8 — are each answered 200, 400,
// 401 or 413: a definitive answer, never a 5xx that the vendor would retry
// until it gives up. Every 200 reads back, with the body as sent.
func TestMutationCampaign(t *testing.T) {
	r := start(t, ingestConfig(t))
	var seeds []map[string]any
	names, _ := fs.Glob(examples.FS, "[0-9]*.json")
	for _, name := range names {
		b, _ := fs.ReadFile(examples.FS, name)
		var m map[string]any
		if json.Unmarshal(b, &m) == nil {
			seeds = append(seeds, m)
		}
	}
	if len(seeds) < 50 {
		t.Fatalf("only %d example bodies", len(seeds))
	}
	rng := rand.New(rand.NewPCG(campaignSeed, 1))
	codes := map[int]int{}
	for i := range campaignBodies {
		m := deepCopy(seeds[rng.IntN(len(seeds))]).(map[string]any)
		m["appkey"] = appkey
		m["callId"] = appkey + "_campaign_" + strconv.Itoa(i)
		m["timestamp"] = 1700000000000 + i
		var applied []string
		for range 1 + rng.IntN(3) {
			applied = append(applied, mutate(rng, m))
		}
		signCampaign(m)
		body, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("body %d: %v", i, err)
		}
		if rng.IntN(8) == 0 {
			body = breakUTF8(rng, body)
			applied = append(applied, "broken UTF-8")
		}
		res := r.post(t, body)
		codes[res.code]++
		switch res.code {
		case http.StatusOK:
			checkReadBack(t, r, body, res.body, applied)
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusRequestEntityTooLarge:
		default:
			t.Errorf("body %d (%s) answered %d %s: want 200, 400, 401 or 413\n%.300s", i, strings.Join(applied, "; "), res.code, res.body, body)
		}
		if len(res.body) > 1000 {
			t.Errorf("body %d: an answer of %d bytes (the vendor counts over 1,000 characters as a failure)", i, len(res.body))
		}
	}
	t.Logf("answers: %v", codes)
	if codes[http.StatusOK] < campaignBodies/4 {
		t.Errorf("only %d of %d mutated bodies stored: the campaign no longer exercises the write path", codes[http.StatusOK], campaignBodies)
	}
}

func checkReadBack(t *testing.T, r *running, body []byte, answer string, applied []string) {
	t.Helper()
	var a struct {
		Result string `json:"result"`
		Cursor string `json:"cursor"`
	}
	if err := json.Unmarshal([]byte(answer), &a); err != nil || a.Cursor == "" {
		if !strings.Contains(answer, `"dropped"`) {
			t.Errorf("(%s) 200 without a cursor: %s", strings.Join(applied, "; "), answer)
		}
		return
	}
	cursor, _ := strconv.ParseUint(a.Cursor, 10, 64)
	got, err := imbridgev1.NewEventServiceClient(r.conn).GetEvent(withKey(ctxT(t), testKey), &imbridgev1.GetEventRequest{Cursor: cursor})
	if err != nil {
		t.Errorf("(%s) stored at %d but GetEvent: %v", strings.Join(applied, "; "), cursor, err)
		return
	}
	switch a.Result {
	case "stored":
		if !bytes.Equal(got.GetEvent().GetRawBody(), body) {
			t.Errorf("(%s) event %d does not hold the body as sent", strings.Join(applied, "; "), cursor)
		}
	case "duplicate": // an earlier body had the same callId: it is the one stored
		if want := callback.Peek(body).CallID(); want != "" && got.GetEvent().GetCallId() != want {
			t.Errorf("(%s) duplicate of event %d, whose call id differs", strings.Join(applied, "; "), cursor)
		}
	default:
		t.Errorf("(%s) 200 %s", strings.Join(applied, "; "), answer)
	}
	if id := callback.Peek(body).CallID(); id != "" {
		// The event itself, or the first stored of its siblings (other
		// callbacks under the same call id).
		byID, err := imbridgev1.NewEventServiceClient(r.conn).GetEvent(withKey(ctxT(t), testKey), &imbridgev1.GetEventRequest{CallId: got.GetEvent().GetCallId()})
		first := byID.GetEvent()
		sibling := first.GetCursor() < cursor && first.GetCallId() == got.GetEvent().GetCallId()
		if err != nil || first.GetCursor() != cursor && !sibling {
			t.Errorf("(%s) event %d not found by its call id: %v (found %d)", strings.Join(applied, "; "), cursor, err, first.GetCursor())
		}
	}
}

// signCampaign signs m as the vendor would, over whatever callId and
// timestamp it now has (as their JSON text when not strings).
func signCampaign(m map[string]any) {
	text := func(v any) string {
		if s, ok := v.(string); ok {
			return s
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	if _, ok := m["security"]; ok {
		m["security"] = callback.Sign(text(m["callId"]), secret, text(m["timestamp"]))
	}
}

// mutate changes one value somewhere in m and says what it did.
func mutate(rng *rand.Rand, m map[string]any) string {
	path, parent, key := pick(rng, m, "")
	odd := []any{
		nil, true, 0, -1, 1e308, 3.5, "", "\u0000", "🙂", "<script>", strings.Repeat("x", 70_000),
		strings.Repeat("9", 400), []any{}, []any{1, "a", nil}, map[string]any{}, map[string]any{"a": map[string]any{"b": []any{}}},
		strings.Repeat("[", 0) + "{\"nested\":\"json in a string\"}",
	}
	switch rng.IntN(4) {
	case 0:
		delete(parent, key)
		return "dropped " + path
	case 1:
		parent[key] = swapType(parent[key])
		return "swapped the type of " + path
	case 2:
		parent[key] = odd[rng.IntN(len(odd))]
		return fmt.Sprintf("set %s to an odd value", path)
	default:
		parent[key] = hugeValue(rng)
		return "made " + path + " huge"
	}
}

// pick chooses a key at random, at any depth of objects.
func pick(rng *rand.Rand, m map[string]any, prefix string) (string, map[string]any, string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return prefix + "new", m, "new"
	}
	slices.Sort(keys) // map order is random; the campaign is reproducible
	k := keys[rng.IntN(len(keys))]
	if child, ok := m[k].(map[string]any); ok && rng.IntN(2) == 0 {
		return pick(rng, child, prefix+k+".")
	}
	return prefix + k, m, k
}

func swapType(v any) any {
	switch x := v.(type) {
	case string:
		if n, err := strconv.ParseFloat(x, 64); err == nil {
			return n
		}
		return []any{x}
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case map[string]any:
		b, _ := json.Marshal(x)
		return string(b) // JSON inside a string, as the vendor sometimes sends
	case []any:
		return map[string]any{"0": x}
	}
	return "null"
}

func hugeValue(rng *rand.Rand) any {
	switch rng.IntN(3) {
	case 0:
		return strings.Repeat("长", 100_000)
	case 1:
		a := make([]any, 50_000)
		for i := range a {
			a[i] = i
		}
		return a
	default:
		return strings.Repeat("z", 2<<20) // over the body limit
	}
}

// breakUTF8 puts bytes that are not UTF-8 inside one of the body's strings.
func breakUTF8(rng *rand.Rand, body []byte) []byte {
	quotes := bytes.Count(body, []byte(`"`))
	if quotes < 2 {
		return body
	}
	n := rng.IntN(quotes/2) * 2 // an opening quote
	idx := 0
	for i := 0; i <= n; i++ {
		idx += bytes.IndexByte(body[idx:], '"') + 1
	}
	out := append([]byte{}, body[:idx]...)
	out = append(out, 0xff, 0xfe, 0xc3)
	return append(out, body[idx:]...)
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(x))
		for k, e := range x {
			c[k] = deepCopy(e)
		}
		return c
	case []any:
		c := make([]any, len(x))
		for i, e := range x {
			c[i] = deepCopy(e)
		}
		return c
	}
	return v
}
