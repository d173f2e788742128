package trigger_test

import (
	"testing"
	"time"

	"github.com/imbridge/imbridge/internal/callback"
	"github.com/imbridge/imbridge/internal/selector"
	"github.com/imbridge/imbridge/internal/trigger"
)

type learned map[string]bool

func (l learned) IsChatroom(appkey, groupID string) bool { return l[appkey+"/"+groupID] }

// Every selector of the vocabulary can be sent, signed so that the bridge
// accepts it, and decodes to that selector once the bodies before it (a
// chatroom presence for chatroom messages) have been seen.
func TestSendBuildsEverySelector(t *testing.T) {
	o := trigger.Options{Appkey: "acme#chat", Secret: "s3cret", Now: time.UnixMilli(1700000000000)}
	for _, sel := range selector.List() {
		bodies, err := trigger.Build(sel, o)
		if err != nil {
			t.Errorf("%s: %v", sel, err)
			continue
		}
		rooms := learned{}
		for i, body := range bodies {
			cb, err := callback.Parse(body)
			if err != nil {
				t.Fatalf("%s: body %d: %v", sel, i, err)
			}
			if cb.Appkey() != "acme#chat" || !cb.Verify([]string{"s3cret"}) {
				t.Errorf("%s: body %d is not signed for acme#chat with the secret", sel, i)
			}
			ev := cb.Decode(time.Now(), rooms)
			if m := ev.GetMuc(); m.GetIsChatroom() {
				rooms[ev.GetAppkey()+"/"+ev.GetGroupId()] = true
			}
			if i == len(bodies)-1 && ev.GetSelector() != sel {
				t.Errorf("%s: the bridge would decode %s", sel, ev.GetSelector())
			}
		}
	}
	if _, err := trigger.Build("chat", o); err == nil {
		t.Error("a family alone was accepted; send needs a canonical selector")
	}
	tampered, _ := trigger.Build("chat:txt", trigger.Options{Appkey: "a#b", Secret: "s", Tamper: true, Now: time.Now()})
	if cb, _ := callback.Parse(tampered[0]); cb.Verify([]string{"s"}) {
		t.Error("-tamper produced a valid signature")
	}
}
