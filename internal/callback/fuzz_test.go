package callback_test

import (
	"io/fs"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/imbridge/imbridge/internal/callback"
	"github.com/imbridge/imbridge/internal/callback/examples"
	"github.com/imbridge/imbridge/internal/selector"
)

// FuzzVerifyDecode feeds arbitrary bodies through the same steps as the
// webhook: peek, parse, verify, decode, and the marshalling the event log
// does. None may panic; the head must agree with the full decode (appkey,
// callId, signature, selector, and the typed body the selector names) and
// read what encoding/json reads for the same keys; every decoded event must
// be storable, and its selector must be in the vocabulary.
func FuzzVerifyDecode(f *testing.F) {
	names, _ := fs.Glob(examples.FS, "[0-9]*.json")
	for _, name := range names {
		b, _ := examples.FS.ReadFile(name)
		f.Add(b)
	}
	f.Add([]byte("{\"chat_type\":\"chat\",\"payload\":{\"bodies\":[{\"type\":\"custom\",\"v2:customExts\":{\"k\":{\"x\":\"\xff\"}}}]}}"))
	f.Add([]byte(`{"callId":1,"timestamp":"12","security":"00000000000000000000000000000000"}`))
	f.Add([]byte(`{"chat_type":"chat","Chat_Type":"muc","chat_type":"groupchat","group_id":12,"payload":{"bodies":[{"type":"t\u0078t","Type":"img"}]},"payload":{"operation":"kick"}}`))
	f.Add([]byte(`{"callId":"a\ud800\u0041","timestamp":1,"security":"2ca02c394bef9e7abc83958bcc3156d3","user":"u","status":null,"reason":"login"}`))
	f.Add([]byte(`[{"appkey":"a#b"}]`))
	// The envelope, matched in any case as encoding/json matches fields:
	// the last key of the right kind counts, `-` and `_` are not folded.
	f.Add([]byte(`{"chat_type":"chat","host":"a","HOST":1,"From":"u1","from":null,"TO":12,"to":{},"Msg_Id":-3,"msg-id":"x","msgid":"y","ſecurityVerſion":"v","chatType":"c"}`))
	f.Add([]byte(`{"chat_type":"chat","payload":{"ext":{"a":1},"EXT":null,"bodies":[{"type":"txt","msg":"m"}]}}`))
	f.Add([]byte(`{"chat_type":"chat","payload":{"Ext":{"a":1},"ext":[1],"bodies":[]},"payload":{"eXt":"s"}}`))
	// An empty ext, which skips protojson, and ext texts that are not JSON.
	f.Add([]byte(`{"chat_type":"chat","payload":{"ext":{ ` + "\n" + ` },"bodies":[{"type":"txt","msg":"m"}]}}`))
	f.Add([]byte(`{"chat_type":"muc","payload":{"operation":"update","event_info":{"ext":"{"}}}`))
	f.Add([]byte(`{"chat_type":"muc","payload":{"operation":"update","event_info":{"ext":"{ }"}}}`))
	f.Add([]byte(`{"chat_type":"muc","payload":{"operation":"update","event_info":{"ext":"{\u00a0}"}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var r callback.Chatrooms = rooms{}
		if len(body)%2 == 1 {
			r = everyRoom{}
		}
		h := callback.Peek(body) // on any input, JSON or not
		_, _ = h.Selector(r), h.Verify([]string{"secret", ""})
		ev := checkHeadAgrees(t, "fuzzed body", body, r)
		if ev == nil {
			return
		}
		if !selector.IsCanonical(ev.GetSelector()) {
			t.Fatalf("selector %q is not canonical", ev.GetSelector())
		}
		if _, err := proto.Marshal(ev); err != nil {
			t.Fatalf("decoded event cannot be stored: %v", err)
		}
		if _, err := protojson.Marshal(ev); err != nil {
			t.Fatalf("decoded event cannot be served as JSON: %v", err)
		}
	})
}
