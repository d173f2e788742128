package eventlog_test

import (
	"errors"
	"testing"
	"time"

	"github.com/imbridge/imbridge/internal/eventlog"
)

func TestChatrooms(t *testing.T) {
	l := openLog(t, embedded(t))
	ctx := t.Context()
	if l.IsChatroom("org#app", "r1") {
		t.Fatal("unknown chatroom reported")
	}
	for range 3 {
		if err := l.MarkChatroom(ctx, "org#app", "r1"); err != nil {
			t.Fatal(err)
		}
	}
	if !l.IsChatroom("org#app", "r1") {
		t.Error("marked chatroom not known")
	}
	if l.IsChatroom("org#other", "r1") || l.IsChatroom("org#app", "r2") {
		t.Error("chatroom leaked to another app or group")
	}
	if err := l.MarkChatroom(ctx, "org#app", ""); err == nil {
		t.Error("empty group id accepted")
	}
	// Odd characters in appkey and group id.
	if err := l.MarkChatroom(ctx, "org.x#app y", "g.1*>"); err != nil {
		t.Fatal(err)
	}
	if !l.IsChatroom("org.x#app y", "g.1*>") {
		t.Error("chatroom with odd characters not known")
	}
}

func TestEmbeddedListenerSharedChatrooms(t *testing.T) {
	cfg := embedded(t)
	cfg.ListenAddr = "127.0.0.1:0"
	l1 := openLog(t, cfg)
	if l1.ClientURL() == "" {
		t.Fatal("no client URL with ListenAddr set")
	}
	l2 := openLog(t, eventlog.Config{NATSURL: l1.ClientURL(), DataDir: t.TempDir()})
	if err := l2.MarkChatroom(t.Context(), "org#app", "room"); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		if !l1.IsChatroom("org#app", "room") {
			return errors.New("first log does not know the chatroom yet")
		}
		return nil
	})
	if openLog(t, embedded(t)).ClientURL() != "" {
		t.Error("ClientURL without a listener")
	}
}
