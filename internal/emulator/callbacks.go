package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/imbridge/imbridge/internal/callback"
)

// mucBody is a legacy chat-room callback, its keys in the order of the
// vendor's examples (internal/callback/examples/*muc*chatroom*.json).
type mucBody struct {
	ChatType  string     `json:"chat_type"`
	CallID    string     `json:"callId"`
	Security  string     `json:"security"`
	Payload   mucPayload `json:"payload"`
	GroupID   string     `json:"group_id"`
	Host      string     `json:"host"`
	Appkey    string     `json:"appkey"`
	From      string     `json:"from"`
	To        string     `json:"to"`
	EventType string     `json:"eventType"`
	MsgID     string     `json:"msg_id"`
	Timestamp int64      `json:"timestamp"`
}

type mucPayload struct {
	MucID      string     `json:"muc_id"`
	Reason     *string    `json:"reason,omitempty"`
	IsChatroom bool       `json:"is_chatroom"`
	EventInfo  *eventInfo `json:"event_info,omitempty"`
	Operation  string     `json:"operation"`
	Status     *mucStatus `json:"status,omitempty"`
}

type mucStatus struct {
	Description string `json:"description"`
	ErrorCode   string `json:"error_code"`
}

type eventInfo struct {
	Ext  string `json:"ext"`
	Type string `json:"type"`
}

// callbackHost is the `host` of the callbacks sent.
const callbackHost = "imbridge-emulator"

// mucEvent is what one callback says beyond the room and operation.
type mucEvent struct {
	op, from, to string
	reason       *string
	noStatus     bool // presence and absence carry no status
	info         *eventInfo
}

// emit queues one chat-room callback. It runs under the emulator's lock,
// so callbacks queue in the order of the changes they report.
func (c *call) emit(rm *room, ev mucEvent) {
	e := c.e
	if e.cb == nil {
		return
	}
	e.msgSeq++
	// The time keeps ids unique across restarts (imbridge dedupes by
	// callId); the counter keeps them unique within one millisecond.
	msgID := strconv.FormatInt(c.nowMs(), 10) + fmt.Sprintf("%05d", e.msgSeq%100000)
	appkey := c.app.Appkey
	callID := appkey + "_" + msgID
	ts := c.nowMs()
	b := mucBody{
		ChatType: "muc", CallID: callID,
		Security: callback.Sign(callID, e.secret, strconv.FormatInt(ts, 10)),
		Payload: mucPayload{
			MucID: appkey + "_" + rm.id + "@conference.easemob.com", Reason: ev.reason, IsChatroom: true,
			EventInfo: ev.info, Operation: ev.op,
		},
		GroupID: rm.id, Host: callbackHost, Appkey: appkey, From: ev.from, To: ev.to,
		EventType: "chat", MsgID: msgID, Timestamp: ts,
	}
	if !ev.noStatus {
		b.Payload.Status = &mucStatus{Description: "", ErrorCode: "ok"}
	}
	raw, err := json.Marshal(b)
	if err != nil {
		e.log.Error("emulator: encoding a callback", "err", err)
		return
	}
	e.cb.enqueue(raw, ev.op)
}

// jid is a user's address as callbacks write it.
func (c *call) jid(user string) string { return c.app.Appkey + "_" + user + "@easemob.com" }

func text(s string) *string { return &s }

// emitUser sends op about user from the app (kick, add_admin, add_mute…).
func (c *call) emitUser(rm *room, op, user string) {
	c.emit(rm, mucEvent{op: op, from: c.app.Appkey, to: user})
}

// emitRoom sends op about the room itself (update, ban_group…).
func (c *call) emitRoom(rm *room, op string) {
	c.emit(rm, mucEvent{op: op, from: c.app.Appkey, to: rm.id})
}

// emitPresence sends presence (joined) or absence (left) of user.
func (c *call) emitPresence(rm *room, op, user string) {
	c.emit(rm, mucEvent{op: op, from: c.jid(user), to: rm.id, noStatus: true})
}

// emitMetadata sends set_metadata or delete_metadata with the vendor's
// event_info: a JSON text of the result and the properties.
func (c *call) emitMetadata(rm *room, op, operator string, forced bool, keys []string, props map[string]string) {
	if c.e.cb == nil {
		return
	}
	if props == nil {
		props = map[string]string{}
	}
	ext, _ := json.Marshal(map[string]any{
		"result":      map[string]any{"successKeys": keys, "errorKeys": map[string]string{}},
		"identify":    "",
		"is_forced":   forced,
		"muc_name":    rm.name,
		"need_notify": true,
		"properties":  props,
		"operator":    operator,
	})
	c.emit(rm, mucEvent{op: op, from: rm.id, to: operator, info: &eventInfo{Ext: string(ext), Type: "event_none"}})
}

// deliverer posts queued callbacks in order, one at a time, retrying a
// failed one once at once, as the vendor does.
type deliverer struct {
	url    string
	log    *slog.Logger
	client *http.Client
	queue  chan queued
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

type queued struct {
	body []byte
	op   string
}

// queueSize bounds the callbacks waiting; past it they are dropped (and
// logged) rather than block an API call.
const queueSize = 4096

// deliveryTimeout is the vendor's: a callback not answered in 10 s failed.
const deliveryTimeout = 10 * time.Second

func newDeliverer(url string, log *slog.Logger) *deliverer {
	ctx, cancel := context.WithCancel(context.Background())
	d := &deliverer{url: url, log: log, client: &http.Client{Timeout: deliveryTimeout}, queue: make(chan queued, queueSize), ctx: ctx, cancel: cancel}
	d.wg.Add(1)
	go d.run()
	return d
}

func (d *deliverer) enqueue(body []byte, op string) {
	if d.ctx.Err() != nil {
		return
	}
	select {
	case d.queue <- queued{body, op}:
	default:
		d.log.Warn("emulator: callback queue full, callback dropped", "operation", op)
	}
}

func (d *deliverer) run() {
	defer d.wg.Done()
	for {
		select {
		case <-d.ctx.Done():
			if n := len(d.queue); n > 0 {
				d.log.Info("emulator: closed with callbacks undelivered", "count", n)
			}
			return
		case q := <-d.queue:
			for attempt := 1; attempt <= 2 && d.ctx.Err() == nil; attempt++ {
				err := d.post(q.body)
				if err == nil {
					break
				}
				d.log.Warn("emulator: callback delivery failed", "operation", q.op, "attempt", attempt, "err", err)
			}
		}
	}
}

func (d *deliverer) post(body []byte) error {
	req, err := http.NewRequestWithContext(d.ctx, http.MethodPost, d.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("answered %s", resp.Status)
	}
	return nil
}

func (d *deliverer) close() {
	d.once.Do(func() {
		d.cancel()
		d.wg.Wait()
		d.client.CloseIdleConnections()
	})
}
