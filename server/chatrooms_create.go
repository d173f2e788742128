package server

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
)

// How long, and how many, CreateChatroom request_ids are remembered.
const (
	createKeyTTL = 24 * time.Hour
	maxCreateKey = 10000
)

// createCache remembers, per parent and request_id, the room a
// CreateChatroom created, so that a retry returns it instead of creating
// another. A create in flight is waited for, and runs to its end even when
// the caller that started it gives up: that caller's retry must find the
// room the vendor created. Every request waiting on a create gets its
// outcome, a failure too: a create whose outcome is unknown may have made
// the room, and must not be sent again behind its back. A failure is then
// forgotten: the next request with the key tries again. The zero value is
// ready.
type createCache struct {
	mu      sync.Mutex
	entries map[string]*createEntry
	joined  func() // called when a request finds its key's create in flight (tests)
}

type createEntry struct {
	digest [sha256.Size]byte // of the request, to refuse a key reused for another room
	done   chan struct{}     // closed when the create ended
	id     string            // the room created, once done (and it worked)
	err    error             // why it failed, once done (and it did)
	at     time.Time         // when it was created
}

// do runs create once per req's parent and request_id, or returns the room
// an earlier request with them created.
func (c *createCache) do(ctx context.Context, req *imbridgev1.CreateChatroomRequest, create func(context.Context) (string, error)) (string, error) {
	key := req.GetParent() + "\x00" + req.GetRequestId()
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	digest := sha256.Sum256(b)
	c.mu.Lock()
	if c.entries == nil {
		c.entries = make(map[string]*createEntry)
	}
	e, ok := c.entries[key]
	if ok && e.id != "" && time.Since(e.at) > createKeyTTL {
		delete(c.entries, key)
		ok = false
	}
	if !ok {
		e = &createEntry{digest: digest, done: make(chan struct{})}
		c.makeRoom()
		c.entries[key] = e
		// Not canceled with the caller; the client bounds each
		// attempt (easemob.Options.RequestTimeout).
		go c.run(key, e, context.WithoutCancel(ctx), create)
	} else if c.joined != nil {
		c.joined()
	}
	c.mu.Unlock()
	if e.digest != digest {
		v := newViolations(ctx)
		v.add("request_id", "already used for a different CreateChatroom request: use a fresh request_id for each distinct room")
		return "", v.err()
	}
	select {
	case <-e.done:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return e.id, e.err
}

// run runs the create of entry e and records its outcome.
func (c *createCache) run(key string, e *createEntry, ctx context.Context, create func(context.Context) (string, error)) {
	id, err := create(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		delete(c.entries, key)
		e.err = err
	} else {
		e.id, e.at = id, time.Now()
	}
	close(e.done)
}

// makeRoom keeps the cache within maxCreateKey entries before one is
// added: expired entries go first, then the oldest finished one. Entries
// in flight stay (as many as creates running: each ends within the
// client's attempts, its caller gone or not).
func (c *createCache) makeRoom() {
	if len(c.entries) < maxCreateKey {
		return
	}
	var oldestKey string
	var oldest time.Time
	for k, e := range c.entries {
		if e.id == "" {
			continue
		}
		if time.Since(e.at) > createKeyTTL {
			delete(c.entries, k)
			continue
		}
		if oldestKey == "" || e.at.Before(oldest) {
			oldestKey, oldest = k, e.at
		}
	}
	if len(c.entries) >= maxCreateKey && oldestKey != "" {
		delete(c.entries, oldestKey)
	}
}
