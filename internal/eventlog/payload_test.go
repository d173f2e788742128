package eventlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/s2"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/callback"
	"github.com/imbridge/imbridge/internal/selector"
	"github.com/imbridge/imbridge/internal/trigger"
)

// noDicts reads only what the built-in dictionary wrote.
var noDicts *dicts

// eventDict1SHA256 is the digest of eventdict1.s2dict. Events stored as
// formatS2Dict1 decode only with exactly these bytes.
const eventDict1SHA256 = "dda19c6d9a5604b792e45b602fe4df015113cc35c014c054aa7f79116b4ea9a2"

func TestEventDictFrozen(t *testing.T) {
	sum := sha256.Sum256(eventDict1Bytes)
	if got := hex.EncodeToString(sum[:]); got != eventDict1SHA256 {
		t.Fatalf("eventdict1.s2dict has SHA-256 %s, want %s: stored events need the dictionary they were written with; "+
			"a new dictionary is a new file and a new format byte (payload.go)", got, eventDict1SHA256)
	}
}

// TestWriteEventDict is how eventdict1.s2dict was made, kept for the next
// dictionary: IMBRIDGE_WRITE_EVENT_DICT=FILE go test -run TestWriteEventDict
// ./internal/eventlog writes one to FILE.
func TestWriteEventDict(t *testing.T) {
	path := os.Getenv("IMBRIDGE_WRITE_EVENT_DICT")
	if path == "" {
		t.Skip("IMBRIDGE_WRITE_EVENT_DICT is not set")
	}
	// Rarest first: the encoder finds the end of the dictionary nearest,
	// and keeps only the last s2.MaxDictSize bytes.
	sels := selector.List()
	slices.Reverse(sels)
	var data []byte
	for _, sel := range sels {
		data = append(data, vendorEvent(t, sel, "")...)
	}
	for _, text := range []string{"好的，明天见", "see you at the meeting tomorrow"} {
		data = append(data, vendorEvent(t, "chat:txt", text)...)
	}
	d := s2.MakeDict(data, nil)
	if d == nil {
		t.Fatal("no dictionary")
	}
	if err := os.WriteFile(path, d.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d bytes of examples, a dictionary of %d bytes", len(data), len(d.Bytes()))
}

// vendorEvent is the marshalled event of the vendor's example of sel, as
// trigger.Build stamps it (fresh ids), with its message text replaced
// when text is not empty.
func vendorEvent(t testing.TB, sel, text string) []byte {
	t.Helper()
	return marshalEvent(t, decodeBody(t, vendorBody(t, sel, text)))
}

func vendorBody(t testing.TB, sel, text string) []byte {
	t.Helper()
	bodies, err := trigger.Build(sel, trigger.Options{Appkey: "easemob-demo#imbridge", Secret: "secret", Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	b := bodies[len(bodies)-1]
	if text != "" {
		i := bytes.Index(b, []byte(`"msg":"`))
		j := bytes.IndexByte(b[i+7:], '"')
		if i < 0 || j < 0 {
			t.Fatalf("%s: no message text in %s", sel, b)
		}
		b = slices.Concat(b[:i+7], []byte(text), b[i+7+j:])
	}
	return b
}

func decodeBody(t testing.TB, body []byte) *imbridgev1.Event {
	t.Helper()
	cb, err := callback.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	ev := cb.Decode(time.Now(), nil)
	ev.RawBody = body
	return ev
}

func marshalEvent(t testing.TB, ev *imbridgev1.Event) []byte {
	t.Helper()
	b, err := proto.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var chatWords = strings.Fields(`the of and to in is you that it was for on are as with they at be this have
from or one had by word but not what all were we when your can said there use each which she do how
你好 明天 见面 会议 好的 谢谢 收到 晚上 一起 吃饭`)

// chatEvents are n chat:txt events of the vendor's example, each with its
// own ids and about textBytes of words drawn at random.
func chatEvents(t testing.TB, n, textBytes int) []*imbridgev1.Event {
	var out []*imbridgev1.Event
	for range n {
		var sb strings.Builder
		for sb.Len() < textBytes {
			sb.WriteString(chatWords[rand.IntN(len(chatWords))])
			sb.WriteByte(' ')
		}
		out = append(out, decodeBody(t, vendorBody(t, "chat:txt", sb.String())))
	}
	return out
}

// Every selector's event, and chat messages with texts the dictionary
// never saw, come back from their stored form as they went in, framed and
// smaller; whole or without the raw body.
func TestSealOpen(t *testing.T) {
	var events []*imbridgev1.Event
	for _, sel := range selector.List() {
		events = append(events, decodeBody(t, vendorBody(t, sel, "")))
	}
	events = append(events, chatEvents(t, 50, 150)...)
	var plainBytes, sealedBytes int
	for _, ev := range events {
		plain := marshalEvent(t, ev)
		sealed := sealEvent(nil, plain)
		if sealed[0] != formatS2Dict1 || len(sealed) >= len(plain) {
			t.Errorf("%s: stored %d bytes as 0x%02x for %d plain, want fewer, framed", ev.GetSelector(), len(sealed), sealed[0], len(plain))
		}
		plainBytes += len(plain)
		sealedBytes += len(sealed)
		keep := slices.Clone(sealed)
		for _, full := range []bool{true, false} {
			got, err := noDicts.decodeEvent(sealed, 7, full)
			if err != nil {
				t.Fatalf("%s: %v", ev.GetSelector(), err)
			}
			want := proto.Clone(ev).(*imbridgev1.Event)
			want.Cursor = 7
			if !full {
				want.RawBody = nil
			}
			if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
				t.Errorf("%s (full %t): decoded event differs (-want +got):\n%s", ev.GetSelector(), full, diff)
			}
		}
		if !bytes.Equal(sealed, keep) {
			t.Errorf("%s: decoding changed the stored bytes", ev.GetSelector())
		}
	}
	t.Logf("%d events: %d bytes plain, %d stored (%.2f)", len(events), plainBytes, sealedBytes, float64(sealedBytes)/float64(plainBytes))
}

// What does not compress is stored plain, never larger; plain events,
// as earlier versions and the other settings store them, read as before.
func TestSealIncompressible(t *testing.T) {
	ev := decodeBody(t, vendorBody(t, "chat:txt", ""))
	noise := make([]byte, 1<<20)
	for i := range noise {
		noise[i] = byte(rand.Uint32())
	}
	ev.RawBody = noise
	plain := marshalEvent(t, ev)
	sealed := sealEvent(make([]byte, 0, 64), plain)
	if !bytes.Equal(sealed, plain) {
		t.Fatalf("an incompressible event was stored as %d bytes (first 0x%02x), want its %d plain bytes", len(sealed), sealed[0], len(plain))
	}
	for _, full := range []bool{true, false} {
		got, err := noDicts.decodeEvent(plain, 3, full)
		if err != nil {
			t.Fatal(err)
		}
		if full != bytes.Equal(got.GetRawBody(), noise) || got.GetCallId() != ev.GetCallId() || got.GetCursor() != 3 {
			t.Errorf("plain event (full %t): raw body of %d bytes, call id %q, cursor %d", full, len(got.GetRawBody()), got.GetCallId(), got.GetCursor())
		}
	}
	if !bytes.Equal(sealed, plain) {
		t.Error("decoding a plain event changed its bytes")
	}
}

// A stored payload that is not an event is ErrCorrupt with what is wrong;
// a corrupt length is refused before anything is allocated for it.
func TestOpenCorrupt(t *testing.T) {
	sealed := sealEvent(nil, vendorEvent(t, "chat:txt", "hello"))
	huge := append([]byte{formatS2Dict1}, 0xff, 0xff, 0xff, 0xff, 0x0f) // 4 GiB - 1 decoded
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"unknown format", append([]byte{0x03}, sealed[1:]...), "unknown stored format 0x03"},
		{"no dictionary number", []byte{formatS2Learned}, "format 0x02: no dictionary number"},
		{"dictionary 0", append([]byte{formatS2Learned, 0}, sealed[1:]...), "format 0x02: no dictionary number"},
		{"no dictionaries", append([]byte{formatS2Learned, 5}, sealed[1:]...), "learned dictionary 5, but no dictionaries"},
		{"truncated", sealed[:len(sealed)/2], "format 0x01"},
		{"too long", huge, "more than the 3145728 an event may have"},
		{"no length", []byte{formatS2Dict1}, "format 0x01"},
	} {
		_, err := noDicts.decodeEvent(c.data, 9, true)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "cursor 9") {
			t.Errorf("%s: %v, want ErrCorrupt naming the cursor and %q", c.name, err, c.want)
		}
	}
	// A plain event cut in a field: its bytes are shared (a followed
	// event's), so reading it without the raw body must neither change
	// them nor keep them as a buffer for the next read.
	plain := vendorEvent(t, "chat:txt", "hello")
	cut := append(make([]byte, 0, 8192), plain[:len(plain)-3]...) // room for what a pooled buffer holds
	keep := slices.Clone(cut)
	for range 3 {
		if _, err := noDicts.decodeEvent(cut, 4, false); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("a cut plain event: %v, want ErrCorrupt", err)
		}
		if _, err := noDicts.decodeEvent(sealed, 5, false); err != nil {
			t.Fatalf("the next read: %v", err)
		}
	}
	if !bytes.Equal(cut, keep) {
		t.Error("reading a cut plain event changed its bytes")
	}
}

// BenchmarkPayload prices compressing each event: storing a chat
// callback's event (marshal, and seal) and reading it back (open, and
// unmarshal), plain beside framed in one run. The stored bytes per event
// are reported as B/event.
func BenchmarkPayload(b *testing.B) {
	events := chatEvents(b, 256, 150)
	plains := make([][]byte, len(events))
	sealed := make([][]byte, len(events))
	var plainBytes, sealedBytes int
	for i, ev := range events {
		plains[i] = marshalEvent(b, ev)
		sealed[i] = sealEvent(nil, plains[i])
		plainBytes += len(plains[i])
		sealedBytes += len(sealed[i])
	}
	for _, c := range []struct {
		name   string
		stored [][]byte
		bytes  int
	}{{"plain", plains, plainBytes}, {"framed", sealed, sealedBytes}} {
		b.Run("write/"+c.name, func(b *testing.B) {
			var buf, out []byte
			for i := 0; b.Loop(); i++ {
				var err error
				if buf, err = marshalOpts.MarshalAppend(buf[:0], events[i%len(events)]); err != nil {
					b.Fatal(err)
				}
				if c.name == "framed" {
					out = sealEvent(out, buf)
				}
			}
			b.ReportMetric(float64(c.bytes)/float64(len(events)), "B/event")
		})
		b.Run("read/"+c.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if _, err := noDicts.decodeEvent(c.stored[i%len(c.stored)], 1, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
