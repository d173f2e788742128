package main

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/imbridge/imbridge/internal/trigger"
)

// bodySet is a run of request bodies stored back to back: body i is
// data[off[i]:off[i+1]].
type bodySet struct {
	data   []byte
	off    []int
	mapped bool // data is off the heap (offHeap)
}

func (s bodySet) len() int { return len(s.off) - 1 }

func (s bodySet) at(i int) []byte { return s.data[s.off[i]:s.off[i+1]:s.off[i+1]] }

// free gives the storage back; s is not used afterwards.
func (s bodySet) free() { releaseOffHeap(s.data, s.mapped) }

// maker stamps signed chat:txt callbacks from the vendor's example (as
// trigger.Build gives it): body i has its own msg_id and callId, sender,
// recipient and message text, all a function of i, the timestamp it is
// stamped with, and its signature. The text is words drawn at random, so
// that the bodies compress as chat does rather than as one body repeated.
type maker struct {
	appkey, secret string
	// parts is the example around its stamped fields, in the order the
	// marshalled JSON has them (order says which field each gap holds).
	parts [8]string
	order [7]string
	base  uint64 // msg_id of body 0: random per run, so runs never share ids
	text  int    // approximate text length in bytes
}

var words = strings.Fields(`the of and to in is you that it he was for on are as with his they at be
this have from or one had by word but not what all were we when your can said there use an each which
she do how their if will up other about out many then them these so some her would make like him into
time has look two more write go see number no way could people my than first water been call who its
now find long down day did get come made may part 你好 明天 见面 会议 好的 谢谢 收到 晚上 一起 吃饭`)

const (
	fieldCallID = "callId"
	fieldFrom   = "from"
	fieldTo     = "to"
	fieldMsgID  = "msg_id"
	fieldText   = "msg"
	fieldSig    = "security"
	fieldTime   = "timestamp"
)

func newMaker(o trigger.Options, textBytes int) (*maker, error) {
	built, err := trigger.Build("chat:txt", o)
	if err != nil {
		return nil, err
	}
	if len(built) != 1 {
		return nil, fmt.Errorf("chat:txt built %d bodies, want 1", len(built))
	}
	var m map[string]any
	if err := json.Unmarshal(built[0], &m); err != nil {
		return nil, err
	}
	mark := func(f string) string { return "@@" + f + "@@" }
	bodies, _ := m["payload"].(map[string]any)["bodies"].([]any)
	if len(bodies) != 1 {
		return nil, fmt.Errorf("the chat:txt example has %d bodies, want 1", len(bodies))
	}
	bodies[0].(map[string]any)["msg"] = mark(fieldText)
	for _, f := range []string{fieldCallID, fieldFrom, fieldTo, fieldMsgID, fieldSig, fieldTime} {
		if _, ok := m[f]; !ok {
			return nil, fmt.Errorf("the chat:txt example has no %q", f)
		}
		m[f] = mark(f)
	}
	tmpl, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	// The timestamp is a JSON number.
	tmpl = bytes.Replace(tmpl, []byte(`"`+mark(fieldTime)+`"`), []byte(mark(fieldTime)), 1)
	mk := &maker{appkey: o.Appkey, secret: o.Secret, base: 1e17 + rand.Uint64N(8e17), text: textBytes}
	split := strings.Split(string(tmpl), "@@")
	// split alternates text and field names: t0 f0 t1 f1 … t7.
	if len(split) != 2*len(mk.parts)-1 {
		return nil, fmt.Errorf("the chat:txt template split into %d pieces, want %d", len(split), 2*len(mk.parts)-1)
	}
	for i := range mk.parts {
		mk.parts[i] = split[2*i]
		if i < len(mk.order) {
			mk.order[i] = split[2*i+1]
		}
	}
	return mk, nil
}

// appendBody appends body i, stamped at ts, to dst. Live callbacks carry
// the time they were sent; a repeat carries its first copy's.
func (m *maker) appendBody(dst []byte, i uint64, ts time.Time) []byte {
	msgID := strconv.FormatUint(m.base+i, 10)
	callID := m.appkey + "_" + msgID
	tsText := strconv.FormatInt(ts.UnixMilli(), 10)
	sum := md5.Sum([]byte(callID + m.secret + tsText))
	rng := rand.New(rand.NewPCG(m.base, i))
	for g, f := range m.order {
		dst = append(dst, m.parts[g]...)
		switch f {
		case fieldCallID:
			dst = append(dst, callID...)
		case fieldMsgID:
			dst = append(dst, msgID...)
		case fieldFrom, fieldTo:
			dst = append(dst, "user"...)
			dst = strconv.AppendUint(dst, rng.Uint64N(10000), 10)
		case fieldText:
			for n := 0; n < m.text; {
				if n > 0 {
					dst = append(dst, ' ')
					n++
				}
				w := words[rng.IntN(len(words))]
				dst = append(dst, w...)
				n += len(w)
			}
		case fieldSig:
			dst = hex.AppendEncode(dst, sum[:])
		case fieldTime:
			dst = append(dst, tsText...)
		}
	}
	return append(dst, m.parts[len(m.parts)-1]...)
}

// generate builds bodies first to first+n-1, stamped now, on every core at
// once, and packs them outside the garbage-collected heap.
func (m *maker) generate(first uint64, n int) bodySet {
	now := time.Now()
	built := make([][]byte, n)
	workers := runtime.GOMAXPROCS(0)
	chunk := (n + workers - 1) / workers
	var g errgroup.Group
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		g.Go(func() error {
			for i := lo; i < hi; i++ {
				built[i] = m.appendBody(nil, first+uint64(i), now)
			}
			return nil
		})
	}
	_ = g.Wait()
	s := bodySet{off: make([]int, n+1)}
	for i, b := range built {
		s.off[i+1] = s.off[i] + len(b)
	}
	s.data, s.mapped = offHeap(s.off[n])
	for i, b := range built {
		copy(s.data[s.off[i]:], b)
	}
	built = nil
	debug.FreeOSMemory() // drop the generation's garbage before anything is timed
	return s
}
