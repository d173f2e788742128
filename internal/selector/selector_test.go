package selector_test

import (
	"strings"
	"testing"

	"github.com/imbridge/imbridge/internal/selector"
)

func TestParse(t *testing.T) {
	for _, ok := range []string{"*", "chat", "chat:txt", "chatroom:unknown", "muc", "muc:assing_owner", "roster:decline", "userStatus:login", "recall", "unknown"} {
		if _, err := selector.Parse(ok); err != nil {
			t.Errorf("Parse(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "chat:", "chat:text", "recall:x", "muc:assign_owner", "userstatus:login", "Chat", "**"} {
		if _, err := selector.Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	if _, err := selector.ParseAll([]string{"chat", "nope"}); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("ParseAll error %v does not name the bad selector", err)
	}
}
