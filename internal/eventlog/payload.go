package eventlog

import (
	_ "embed"
	"fmt"
	"sync"

	"github.com/klauspost/compress/s2"
	"google.golang.org/protobuf/proto"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
)

// A stored message's payload is an encoded imbridgev1.Event (without its
// cursor), in one of two forms, told apart by its first byte:
//
//   - plain: proto.Marshal output. Its first byte is a field tag, and
//     every tag of a field numbered 1 or more is at least 0x08.
//   - framed: a format byte under 0x08, then the event encoded as that
//     format says. formatS2Dict1 is the only one: an S2 block
//     (github.com/klauspost/compress/s2, its dictionary encoding) made
//     with the frozen dictionary eventdict1.s2dict.
//
// Events are framed when Config.Compression is CompressionEvent and the
// frame is smaller; every form is read whatever the
// setting, so a log written under one setting is read under any other.
// A new dictionary takes a new format byte: stored events keep the one
// they were written with.
const (
	formatS2Dict1 byte = 0x01
	minPlainByte  byte = 0x08
)

// eventDict1 is formatS2Dict1's dictionary (s2.Dict.Bytes form): one
// event of every selector, decoded from the vendor's examples and
// marshalled, the chat messages last, where the encoder finds them
// nearest. It must never change (TestEventDictFrozen); see
// TestWriteEventDict for how it was made.
//
//go:embed eventdict1.s2dict
var eventDict1Bytes []byte

var eventDict1 = func() *s2.Dict {
	d := s2.NewDict(eventDict1Bytes)
	if d == nil {
		panic("eventlog: eventdict1.s2dict is not an S2 dictionary")
	}
	return d
}()

// sealEvent returns the stored form of the plain encoded event, in dst's
// storage when it is large enough (else in a new slice): framed when that
// is smaller, else a copy of plain.
func sealEvent(dst, plain []byte) []byte {
	if need := 1 + s2.MaxEncodedLen(len(plain)); cap(dst) < need {
		dst = make([]byte, 0, need)
	}
	dst = append(dst[:0], formatS2Dict1)
	// With room for the worst case, Encode writes into dst's storage.
	enc := eventDict1.Encode(dst[1:cap(dst)], plain)
	if 1+len(enc) >= len(plain) {
		return append(dst[:0], plain...)
	}
	return dst[:1+len(enc)]
}

// openEvent returns the plain encoded event of a stored payload: data
// itself when it is plain (framed false), else the event decoded into
// dst's storage, or a new slice when dst is too small.
func openEvent(dst, data []byte) (plain []byte, framed bool, err error) {
	if len(data) == 0 || data[0] >= minPlainByte {
		return data, false, nil
	}
	if data[0] != formatS2Dict1 {
		return nil, true, fmt.Errorf("unknown stored format 0x%02x", data[0])
	}
	n, err := s2.DecodedLen(data[1:])
	if err != nil {
		return nil, true, fmt.Errorf("format 0x%02x: %v", formatS2Dict1, err)
	}
	if n > MaxEventBytes {
		// Append never stores more: a corrupt length, not an event.
		return nil, true, fmt.Errorf("format 0x%02x: %d bytes decoded, more than the %d an event may have", formatS2Dict1, n, MaxEventBytes)
	}
	if plain, err = eventDict1.Decode(dst[:0], data[1:]); err != nil {
		return nil, true, fmt.Errorf("format 0x%02x: %v", formatS2Dict1, err)
	}
	return plain, true, nil
}

// openPool holds the buffers events are decoded into: Unmarshal copies
// what it keeps, so a buffer is reused once the event is decoded.
var openPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// decodeEvent decodes the event stored at seq, with its raw body when
// full. data is not modified.
func decodeEvent(data []byte, seq uint64, full bool) (*imbridgev1.Event, error) {
	bp := openPool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledBuf {
			openPool.Put(bp)
		}
	}()
	plain, framed, err := openEvent(*bp, data)
	if err != nil {
		return nil, fmt.Errorf("%w: cursor %d: %v", ErrCorrupt, seq, err)
	}
	if framed {
		*bp = plain
	}
	if !full {
		if framed {
			plain = stripField(plain, rawBodyField)
		} else {
			// data is shared (a followed event's, say): strip a copy.
			plain = appendWithout((*bp)[:0], plain, rawBodyField)
			*bp = plain
		}
	}
	ev := new(imbridgev1.Event)
	if err := proto.Unmarshal(plain, ev); err != nil {
		return nil, fmt.Errorf("%w: cursor %d: %v", ErrCorrupt, seq, err)
	}
	ev.Cursor = seq
	return ev, nil
}
