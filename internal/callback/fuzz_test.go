package callback_test

import (
	"io/fs"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/imbridge/imbridge/internal/callback"
	"github.com/imbridge/imbridge/internal/callback/examples"
	"github.com/imbridge/imbridge/internal/selector"
)

// FuzzVerifyDecode feeds arbitrary bodies through the same steps as the
// webhook: parse, verify, decode, and the marshalling the event log does.
// None may panic, every decoded event must be storable, and its selector
// must be in the vocabulary.
func FuzzVerifyDecode(f *testing.F) {
	names, _ := fs.Glob(examples.FS, "[0-9]*.json")
	for _, name := range names {
		b, _ := examples.FS.ReadFile(name)
		f.Add(b)
	}
	f.Add([]byte("{\"chat_type\":\"chat\",\"payload\":{\"bodies\":[{\"type\":\"custom\",\"v2:customExts\":{\"k\":{\"x\":\"\xff\"}}}]}}"))
	f.Add([]byte(`{"callId":1,"timestamp":"12","security":"00000000000000000000000000000000"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		cb, err := callback.Parse(body)
		if err != nil {
			return
		}
		_ = cb.Verify([]string{"secret", ""})
		ev := cb.Decode(receiveTime, rooms{})
		if !selector.IsCanonical(ev.GetSelector()) {
			t.Fatalf("selector %q is not canonical", ev.GetSelector())
		}
		if _, err := proto.Marshal(ev); err != nil {
			t.Fatalf("decoded event cannot be stored: %v", err)
		}
	})
}
