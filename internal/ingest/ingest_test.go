package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/callback"
	"github.com/imbridge/imbridge/internal/eventlog"
	"github.com/imbridge/imbridge/internal/ingest"
	"github.com/imbridge/imbridge/internal/selector"
	"github.com/imbridge/imbridge/internal/trigger"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	appkey = "acme#chat"
	secret = "s3cret"
)

type fixture struct {
	in  *ingest.Ingester
	log *eventlog.Log
	reg *prometheus.Registry
	out *bytes.Buffer // the ingester's log
}

// newIngester runs the write path on a real embedded event log.
func newIngester(t *testing.T, app ingest.App, opts ingest.Options) *fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l, err := eventlog.Open(ctx, eventlog.Config{DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	f := &fixture{log: l, reg: prometheus.NewRegistry(), out: &bytes.Buffer{}}
	if app.Appkey == "" {
		app.Appkey, app.Secrets = appkey, []string{secret}
	}
	if opts.AppendTimeout == 0 {
		opts.AppendTimeout = time.Minute
	}
	opts.Registerer = f.reg
	opts.Logger = slog.New(slog.NewJSONHandler(f.out, nil))
	if f.in, err = ingest.New([]ingest.App{app}, l, opts); err != nil {
		t.Fatal(err)
	}
	return f
}

func body(t *testing.T, sel string, o trigger.Options) []byte {
	t.Helper()
	if o.Appkey == "" {
		o.Appkey, o.Secret = appkey, secret
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	bodies, err := trigger.Build(sel, o)
	if err != nil {
		t.Fatal(err)
	}
	return bodies[len(bodies)-1]
}

func (f *fixture) ingest(t *testing.T, b []byte) ingest.Outcome {
	t.Helper()
	return f.in.Ingest(t.Context(), b, time.Now())
}

func TestRefusals(t *testing.T) {
	f := newIngester(t, ingest.App{}, ingest.Options{TimestampTolerance: time.Hour})
	signed := body(t, "chat:txt", trigger.Options{})
	var m map[string]any
	_ = json.Unmarshal(signed, &m)
	with := func(key string, v any) []byte {
		c := map[string]any{}
		for k, x := range m {
			c[k] = x
		}
		if v == nil {
			delete(c, key)
		} else {
			c[key] = v
		}
		b, _ := json.Marshal(c)
		return b
	}
	for _, tc := range []struct {
		name string
		body []byte
		want ingest.Refusal
	}{
		{"not json", []byte("hello"), ingest.RefusalMalformed},
		{"array", []byte("[1,2]"), ingest.RefusalMalformed},
		{"empty", nil, ingest.RefusalMalformed},
		{"no appkey", with("appkey", nil), ingest.RefusalUnknownApp},
		{"unknown appkey", with("appkey", "other#app"), ingest.RefusalUnknownApp},
		{"wrong signature", body(t, "chat:txt", trigger.Options{Tamper: true}), ingest.RefusalBadSignature},
		{"signature without callId", with("callId", nil), ingest.RefusalMissingCallID},
		{"signature without timestamp", with("timestamp", nil), ingest.RefusalMissingTimestamp},
		{"unsigned", body(t, "chat:txt", trigger.Options{Unsigned: true}), ingest.RefusalUnsigned},
		{"stale", body(t, "chat:txt", trigger.Options{Now: time.Now().Add(-2 * time.Hour)}), ingest.RefusalStale},
		{"signed but broken JSON", append(bytes.TrimSuffix(signed, []byte("}")), []byte(`,"x":}`)...), ingest.RefusalMalformed},
	} {
		out := f.ingest(t, tc.body)
		if out.Result != ingest.Refused || out.Refusal != tc.want {
			t.Errorf("%s: %+v, want refused %s", tc.name, out, tc.want)
		}
		if out.Detail == "" || strings.Contains(out.Detail, "callback.") || strings.Contains(out.Detail, "Go value") {
			t.Errorf("%s: detail %q", tc.name, out.Detail)
		}
	}
	if n := testutil.ToFloat64(f.in.RejectedCounter("none", ingest.RefusalUnknownApp)); n != 2 {
		t.Errorf("rejected{none,unknown_app} = %v, want 2", n)
	}
}

// Keep and drop rules do not keep imbridge from learning which groups are
// chatrooms: a muc event they leave out still teaches it, so that the
// chatroom's messages are classified (and kept) as chatroom messages.
func TestRulesStillLearnChatrooms(t *testing.T) {
	keep, _ := selector.ParseAll([]string{"chatroom"})
	drop, _ := selector.ParseAll([]string{"muc"})
	for name, app := range map[string]ingest.App{
		"keep [chatroom]": {Appkey: appkey, Secrets: []string{secret}, Keep: keep},
		"drop [muc]":      {Appkey: appkey, Secrets: []string{secret}, Drop: drop},
	} {
		t.Run(name, func(t *testing.T) {
			f := newIngester(t, app, ingest.Options{})
			// The muc presence that says the group is a chatroom, then a
			// message in it (chat_type groupchat, as the vendor sends).
			bodies, err := trigger.Build("chatroom:txt", trigger.Options{Appkey: appkey, Secret: secret, Now: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			var outs []ingest.Outcome
			for _, b := range bodies {
				outs = append(outs, f.ingest(t, b))
			}
			if first := outs[0]; first.Result != ingest.Dropped {
				t.Errorf("the muc event: %+v, want dropped by the rule", first)
			}
			if last := outs[len(outs)-1]; last.Result != ingest.Stored || last.Selector != "chatroom:txt" {
				t.Errorf("the chatroom message: %+v, want stored as chatroom:txt", last)
			}
		})
	}
}

func TestStoredDuplicateDropped(t *testing.T) {
	drop, _ := selector.ParseAll([]string{"userStatus"})
	f := newIngester(t, ingest.App{Appkey: appkey, Secrets: []string{"old", secret}, Drop: drop}, ingest.Options{})
	b := body(t, "chat:txt", trigger.Options{})
	first := f.ingest(t, b)
	if first.Result != ingest.Stored || first.Cursor == 0 || first.Selector != "chat:txt" {
		t.Fatalf("first: %+v", first)
	}
	if again := f.ingest(t, b); again.Result != ingest.Duplicate || again.Cursor != first.Cursor {
		t.Errorf("again: %+v, want duplicate at %d", again, first.Cursor)
	}
	if d := f.ingest(t, body(t, "userStatus:login", trigger.Options{})); d.Result != ingest.Dropped || d.Cursor != 0 {
		t.Errorf("dropped selector: %+v", d)
	}
	ev, err := f.log.Get(t.Context(), first.Cursor)
	if err != nil || ev.GetVerification() != imbridgev1.Verification_VERIFICATION_SIGNED || !bytes.Equal(ev.GetRawBody(), b) {
		t.Fatalf("stored event: %v %v", ev, err)
	}

	// Counters, what GetStatus reads, has the counters with a count and
	// nothing else of the registry.
	families, err := f.in.Counters().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetValue())
			}
			got = append(got, fmt.Sprintf("%s{%s} %g", mf.GetName(), strings.Join(labels, ","), m.GetCounter().GetValue()))
		}
	}
	want := []string{
		ingest.MetricDropped + "{userStatus} 1",
		ingest.MetricDuplicate + "{chat} 1",
		ingest.MetricReceived + "{chat} 2",
		ingest.MetricReceived + "{userStatus} 1",
		ingest.MetricStored + "{chat} 1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Counters gathered %q, want %q", got, want)
	}
}

// The vendor sends one operation to several users under one callId: both
// sides of an answered contact request (callback_contact.md: remote_accept
// to the requester, accept to the user who accepted), a group message's
// uplink callback and its copy for each offline member. Each is stored,
// and each one's retry is its own duplicate.
func TestSiblingsUnderOneCallIDAreEachStored(t *testing.T) {
	f := newIngester(t, ingest.App{}, ingest.Options{})
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	sign := func(callID, fields string) []byte {
		return []byte(`{"callId":"` + callID + `","timestamp":` + ts + `,"appkey":"` + appkey + `",` + fields +
			`,"security":"` + callback.Sign(callID, secret, ts) + `"}`)
	}
	roster := func(op, to string) []byte {
		return sign(appkey+"_966725899779049516", `"chat_type":"roster","payload":{"operation":"`+op+
			`"},"from":"`+appkey+`_tst01@easemob.com","to":"`+to+`","eventType":"chat","msg_id":"966725899779049516"`)
	}
	group := func(eventType, to string) []byte {
		return sign(appkey+"_8924312242322", `"chat_type":"groupchat","group_id":"169348092","from":"user1","to":"`+to+
			`","eventType":"`+eventType+`","msg_id":"8924312242322","payload":{"bodies":[{"msg":"hi","type":"txt"}]}`)
	}
	bodies := [][]byte{
		roster("remote_accept", "tst01"), roster("accept", "tst01"), // one to, as fixture 060 has it
		group("chat", "169348092"), group("chat_offline", "user2"), group("chat_offline", "user3"),
	}
	cursors := map[uint64]bool{}
	for _, b := range bodies {
		out := f.ingest(t, b)
		if out.Result != ingest.Stored || cursors[out.Cursor] {
			t.Fatalf("%s: %+v, want stored at a cursor of its own", b, out)
		}
		cursors[out.Cursor] = true
		ev, err := f.log.Get(t.Context(), out.Cursor)
		if err != nil || !bytes.Equal(ev.GetRawBody(), b) {
			t.Fatalf("stored at %d: %v %v, want %s", out.Cursor, ev.GetRawBody(), err, b)
		}
		if again := f.ingest(t, b); again.Result != ingest.Duplicate || again.Cursor != out.Cursor {
			t.Errorf("retry of %s: %+v, want a duplicate of %d", b, again, out.Cursor)
		}
	}
}

// An unsigned body is accepted only for the selectors the app opts in to,
// and its selector is known before it is decoded.
func TestUnsignedSelectors(t *testing.T) {
	unsigned, _ := selector.ParseAll([]string{"reaction"})
	f := newIngester(t, ingest.App{Appkey: appkey, Secrets: []string{secret}, Unsigned: unsigned}, ingest.Options{})
	out := f.ingest(t, body(t, "reaction", trigger.Options{Unsigned: true}))
	if out.Result != ingest.Stored {
		t.Fatalf("unsigned reaction: %+v", out)
	}
	ev, err := f.log.Get(t.Context(), out.Cursor)
	if err != nil || ev.GetVerification() != imbridgev1.Verification_VERIFICATION_UNSIGNED_ALLOWED || !strings.HasPrefix(ev.GetCallId(), "imbridge:") {
		t.Errorf("unsigned reaction stored as %v (%v)", ev, err)
	}
	// The vendor sends threads unsigned too: not opted in, one is
	// answered 200 and not stored (a refusal would count towards a ban of
	// the app's callback rules); any other unsigned body is refused.
	if out := f.ingest(t, body(t, "thread", trigger.Options{Unsigned: true})); out.Result != ingest.Dropped || out.Selector != "thread" {
		t.Errorf("unsigned thread: %+v, want dropped with its selector", out)
	}
	if out := f.ingest(t, body(t, "chat:txt", trigger.Options{Unsigned: true})); out.Refusal != ingest.RefusalUnsigned || out.Selector != "chat:txt" {
		t.Errorf("unsigned chat:txt: %+v, want refused unsigned with its selector", out)
	}
	if n := testutil.ToFloat64(f.in.DroppedCounter("thread")); n != 1 {
		t.Errorf("dropped{thread} = %v, want 1", n)
	}
}

// An unsigned body that claims a callId is stored under a digest of the
// body, not that callId: a forged one cannot take the callId of a signed
// callback still to come, which would then be answered as its duplicate
// and never stored.
func TestUnsignedBodyCannotTakeACallID(t *testing.T) {
	unsigned, _ := selector.ParseAll([]string{"push"})
	f := newIngester(t, ingest.App{Appkey: appkey, Secrets: []string{secret}, Unsigned: unsigned}, ingest.Options{})
	genuine := body(t, "chat:txt", trigger.Options{})
	var claim struct {
		CallID string `json:"callId"`
	}
	if err := json.Unmarshal(genuine, &claim); err != nil || claim.CallID == "" {
		t.Fatalf("no callId in %s: %v", genuine, err)
	}
	forged, _ := json.Marshal(map[string]any{
		"callId": claim.CallID, "appkey": appkey, "chat_type": "chat", "step": "push", "status": "success",
		"target": "x", "msg_id": "1029174929922197880", "timestamp": time.Now().UnixMilli(),
	})
	out := f.ingest(t, forged)
	if out.Result != ingest.Stored {
		t.Fatalf("unsigned push: %+v", out)
	}
	if again := f.ingest(t, forged); again.Result != ingest.Duplicate || again.Cursor != out.Cursor {
		t.Errorf("the unsigned push again: %+v, want a duplicate of %d", again, out.Cursor)
	}
	if out := f.ingest(t, genuine); out.Result != ingest.Stored {
		t.Errorf("the signed callback whose callId an unsigned body claimed before: %+v, want stored", out)
	}
}

// An unsigned 1 MiB body is refused without being decoded: the work it
// costs is a small constant, whatever the body holds. Measured in bytes
// allocated, which, unlike time, a busy machine cannot distort; the
// benchmark BenchmarkRefuseUnsigned gives the time.
func TestUnsignedBodyIsRefusedCheaply(t *testing.T) {
	f := newIngester(t, ingest.App{}, ingest.Options{})
	b := bigUnsigned()
	if out := f.ingest(t, b); out.Refusal != ingest.RefusalUnsigned {
		t.Fatalf("1 MiB unsigned body: %+v", out)
	}
	// The JetStream server idles in the background, and its allocations
	// count too: take the least of a few measurements, each a few KB at
	// most against the megabytes a decode would allocate.
	const runs = 20
	least := uint64(1 << 62)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range runs {
			f.in.Ingest(t.Context(), b, time.Now())
		}
		runtime.ReadMemStats(&after)
		least = min(least, (after.TotalAlloc-before.TotalAlloc)/runs)
	}
	if least > 64<<10 {
		t.Errorf("refusing a %d-byte unsigned body allocates %d bytes, want a small constant (a decode allocates megabytes)", len(b), least)
	}
}

// bigUnsigned is an unsigned 1 MiB callback of a known app, all of it a
// payload of many small JSON values: the most expensive shape to decode.
func bigUnsigned() []byte {
	return []byte(`{"appkey":"` + appkey + `","chat_type":"chat","payload":{"ext":{"n":[` +
		strings.Repeat("1,", 500_000) + `1]},"bodies":[{"type":"txt","msg":"hi"}]},"from":"a","to":"b"}`)
}

func BenchmarkRefuseUnsigned(b *testing.B) {
	l, err := eventlog.Open(b.Context(), eventlog.Config{DataDir: b.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	unsigned, _ := selector.ParseAll([]string{"reaction"})
	body := bigUnsigned()
	for _, app := range []struct {
		name string
		app  ingest.App
	}{
		{"no_unsigned_selectors", ingest.App{Appkey: appkey, Secrets: []string{secret}}},
		{"unsigned_reaction_allowed", ingest.App{Appkey: appkey, Secrets: []string{secret}, Unsigned: unsigned}},
	} {
		in, err := ingest.New([]ingest.App{app.app}, l, ingest.Options{AppendTimeout: time.Minute})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(app.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if out := in.Ingest(b.Context(), body, time.Now()); out.Refusal != ingest.RefusalUnsigned {
					b.Fatalf("%+v", out)
				}
			}
		})
	}
	// The baseline, in the same run: what the same body cost when it was
	// decoded before being refused.
	b.Run("baseline_json_decode", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var v map[string]any
			if err := json.Unmarshal(body, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The event log gone: a refusal that retrying can fix.
func TestStoreUnavailable(t *testing.T) {
	f := newIngester(t, ingest.App{}, ingest.Options{})
	if err := f.log.Close(); err != nil {
		t.Fatal(err)
	}
	if out := f.ingest(t, body(t, "chat:txt", trigger.Options{})); out.Refusal != ingest.RefusalUnavailable {
		t.Errorf("closed log: %+v, want store_unavailable", out)
	}
}

// A flood of refusals is counted in full and logged at a bounded rate; the
// next line logged says how many were not.
func TestRefusalsAreLoggedAtABoundedRate(t *testing.T) {
	f := newIngester(t, ingest.App{}, ingest.Options{})
	const flood = 1000
	for range flood {
		f.ingest(t, []byte(`{"appkey":"nobody#x"}`))
	}
	if n := testutil.ToFloat64(f.in.RejectedCounter("none", ingest.RefusalUnknownApp)); n != flood {
		t.Errorf("counted %v refusals, want %d", n, flood)
	}
	lines := strings.Count(f.out.String(), "\n")
	if lines >= flood/10 {
		t.Errorf("%d refusals logged %d lines, want a bounded few", flood, lines)
	}
	// Once the rate allows a line again, it says how many were not logged.
	told := regexp.MustCompile(`"unlogged_before":[1-9]`)
	for range 200 {
		f.ingest(t, []byte(`{"appkey":"nobody#x"}`))
		if told.MatchString(f.out.String()) {
			return
		}
		time.Sleep(50 * time.Millisecond) // the limiter refills 5 a second
	}
	t.Errorf("no line says how many refusals were not logged:\n%s", f.out.String())
}

// An outage of the event log refuses every callback with 503, and is
// logged as refusals are, at a bounded rate: not a line per callback.
func TestStoreOutageIsLoggedAtABoundedRate(t *testing.T) {
	f := newIngester(t, ingest.App{}, ingest.Options{})
	if err := f.log.Close(); err != nil {
		t.Fatal(err)
	}
	const flood = 500
	for range flood {
		f.ingest(t, body(t, "chat:txt", trigger.Options{}))
	}
	if n := testutil.ToFloat64(f.in.RejectedCounter("chat", ingest.RefusalUnavailable)); n != flood {
		t.Errorf("counted %v refusals, want %d", n, flood)
	}
	if lines := strings.Count(f.out.String(), "\n"); lines >= flood/10 {
		t.Errorf("%d callbacks refused during an outage logged %d lines, want a bounded few", flood, lines)
	}
	if !strings.Contains(f.out.String(), `"err":`) {
		t.Errorf("the store's error is not logged:\n%s", f.out.String())
	}
}

// BenchmarkIngestChatTxt runs signed chat:txt callbacks, each with its own
// callId, through the whole write path onto a real embedded event log, as
// the webhook does: its allocations per callback are what the garbage
// collector pays for at any rate.
func BenchmarkIngestChatTxt(b *testing.B) {
	l, err := eventlog.Open(b.Context(), eventlog.Config{DataDir: b.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	in, err := ingest.New([]ingest.App{{Appkey: appkey, Secrets: []string{secret}}}, l, ingest.Options{AppendTimeout: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	bodies := make([][]byte, b.N)
	var size int
	for i := range bodies {
		bs, err := trigger.Build("chat:txt", trigger.Options{Appkey: appkey, Secret: secret, Now: time.Now()})
		if err != nil {
			b.Fatal(err)
		}
		bodies[i] = bs[len(bs)-1]
		size += len(bodies[i])
	}
	b.SetBytes(int64(size / max(b.N, 1)))
	b.ReportAllocs()
	b.ResetTimer()
	for _, body := range bodies {
		if out := in.Ingest(b.Context(), body, time.Now()); out.Result != ingest.Stored {
			b.Fatalf("%+v", out)
		}
	}
}
