package eventlog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
)

// chatroomID names one chatroom: group ids are unique per application.
type chatroomID struct{ appkey, groupID string }

// chatroomValue is a chatroom bucket entry's value; the key is a hash, so
// the value carries the names.
type chatroomValue struct {
	Appkey  string `json:"appkey"`
	GroupID string `json:"group_id"`
}

// chatrooms is the in-memory set of known chatrooms, kept current by a
// watcher on the chatroom bucket.
type chatrooms struct {
	mu    sync.RWMutex
	known map[chatroomID]struct{}
	byKey map[string]chatroomID // bucket key → id, to apply deletes
}

func (c *chatrooms) init() {
	c.known = map[chatroomID]struct{}{}
	c.byKey = map[string]chatroomID{}
}

func (c *chatrooms) add(key string, id chatroomID) {
	c.mu.Lock()
	c.known[id] = struct{}{}
	c.byKey[key] = id
	c.mu.Unlock()
}

func (c *chatrooms) remove(key string) {
	c.mu.Lock()
	if id, ok := c.byKey[key]; ok {
		delete(c.known, id)
		delete(c.byKey, key)
	}
	c.mu.Unlock()
}

func (c *chatrooms) has(id chatroomID) bool {
	c.mu.RLock()
	_, ok := c.known[id]
	c.mu.RUnlock()
	return ok
}

// chatroomKey is the bucket key of a chatroom: hex of the first 16 bytes of
// SHA-256 over appkey, NUL, group id.
func chatroomKey(id chatroomID) string {
	h := sha256.New()
	h.Write([]byte(id.appkey))
	h.Write([]byte{0})
	h.Write([]byte(id.groupID))
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// MarkChatroom records durably that groupID of appkey is a chatroom. It is
// idempotent, and does no I/O when the chatroom is already known.
func (l *Log) MarkChatroom(ctx context.Context, appkey, groupID string) error {
	if groupID == "" {
		return errors.New("eventlog: MarkChatroom: empty group id")
	}
	id := chatroomID{appkey, groupID}
	if l.chatrooms.has(id) {
		return nil
	}
	key := chatroomKey(id)
	val, err := json.Marshal(chatroomValue{Appkey: appkey, GroupID: groupID})
	if err != nil {
		return fmt.Errorf("eventlog: MarkChatroom: %w", err)
	}
	if _, err := l.rooms.Put(ctx, key, val); err != nil {
		return fmt.Errorf("eventlog: MarkChatroom %s %s: %w", appkey, ShortID(groupID), unavailable(err))
	}
	l.chatrooms.add(key, id)
	return nil
}

// IsChatroom reports whether groupID of appkey is a known chatroom: marked
// by this process or, through the bucket watcher, by any process sharing
// the log. Memory only, no I/O.
func (l *Log) IsChatroom(appkey, groupID string) bool {
	return l.chatrooms.has(chatroomID{appkey, groupID})
}

// startWatcher loads the chatroom bucket into memory, returning once the
// initial values are in, and keeps following it until Close.
func (l *Log) startWatcher(ctx context.Context) error {
	// The watcher lives until Close, not until ctx ends.
	w, err := l.rooms.WatchAll(context.WithoutCancel(ctx))
	if err != nil {
		return fmt.Errorf("eventlog: watch %s: %w", ChatroomBucket, err)
	}
	l.watcher = w
	ready := make(chan struct{})
	l.watchDone = make(chan struct{})
	go func() {
		defer close(l.watchDone)
		initial := true
		for e := range w.Updates() {
			if e == nil {
				if initial {
					initial = false
					close(ready)
				}
				continue
			}
			l.applyChatroom(e)
		}
	}()
	select {
	case <-ready:
		return nil
	case <-l.watchDone:
		return fmt.Errorf("eventlog: watch %s: stopped while loading", ChatroomBucket)
	case <-ctx.Done():
		return fmt.Errorf("eventlog: loading %s: %w", ChatroomBucket, ctx.Err())
	}
}

func (l *Log) applyChatroom(e jetstream.KeyValueEntry) {
	if e.Operation() != jetstream.KeyValuePut {
		l.chatrooms.remove(e.Key())
		return
	}
	var v chatroomValue
	if err := json.Unmarshal(e.Value(), &v); err != nil || v.GroupID == "" {
		l.log.Warn("eventlog: ignoring a malformed chatroom entry", "key", e.Key(), "err", err)
		return
	}
	l.chatrooms.add(e.Key(), chatroomID{v.Appkey, v.GroupID})
}

// maxGroupIDBytes bounds a learned group id: the vendor's ids are numbers
// of about 18 digits, and each learned id is kept in every process's
// memory and in the bucket.
const maxGroupIDBytes = 256

// LearnChatroom records the group of ev as a chatroom when ev says it is
// one: a legacy muc event with is_chatroom set (presence, kick, update…),
// or a current group operation of type CHATROOM. It is the one place that
// decides what teaches imbridge a chatroom. Call it before appending ev,
// so that once ev is acknowledged every later message in the room is
// classified `chatroom:…`. Events that teach nothing, and group ids over
// 256 bytes, are no-ops.
func (l *Log) LearnChatroom(ctx context.Context, ev *imbridgev1.Event) error {
	m, g := ev.GetMuc(), ev.GetGroupOp()
	if !m.GetIsChatroom() && g.GetKind() != imbridgev1.RoomKind_ROOM_KIND_CHATROOM {
		return nil
	}
	gid := ev.GetGroupId()
	if gid == "" {
		gid = m.GetMucId().GetGroupId()
	}
	if gid == "" || len(gid) > maxGroupIDBytes {
		return nil
	}
	return l.MarkChatroom(ctx, ev.GetAppkey(), gid)
}
