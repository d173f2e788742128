package eventlog

import (
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

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
//     format says:
//   - formatS2Dict1: an S2 block (github.com/klauspost/compress/s2, its
//     dictionary encoding) made with the frozen built-in dictionary
//     eventdict1.s2dict.
//   - formatS2Learned: the number of a learned dictionary (dicts.go) as
//     a uvarint, then an S2 block made with it.
//
// Events are framed when Config.Compression is CompressionEvent (the
// default) and the frame is smaller: with the newest learned dictionary
// once there is one and while it is young enough (dicts.go), with the
// built-in one otherwise. Every form is read whatever the setting,
// so a log written under one setting is read under any other. A new
// built-in dictionary takes a new format byte: stored events keep the one
// they were written with.
const (
	formatS2Dict1   byte = 0x01
	formatS2Learned byte = 0x02
	minPlainByte    byte = 0x08
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

// seal returns the stored form of the plain encoded event, in dst's
// storage when it is large enough (else in a new slice): framed with the
// newest learned dictionary (the built-in one before there is one, or
// once it is too old to use: dicts.go), when that is smaller; else a copy
// of plain.
func (d *dicts) seal(dst, plain []byte) []byte {
	if d != nil {
		if c := d.cur.Load(); c != nil && time.Now().Before(c.until) {
			return sealWith(dst, plain, c.prefix, c.d)
		}
	}
	return sealEvent(dst, plain)
}

// dict1Prefix frames an event of the built-in dictionary.
var dict1Prefix = []byte{formatS2Dict1}

// sealEvent is seal with the built-in dictionary.
func sealEvent(dst, plain []byte) []byte { return sealWith(dst, plain, dict1Prefix, eventDict1) }

func sealWith(dst, plain, prefix []byte, dict *s2.Dict) []byte {
	if need := len(prefix) + s2.MaxEncodedLen(len(plain)); cap(dst) < need {
		dst = make([]byte, 0, need)
	}
	dst = append(dst[:0], prefix...)
	// With room for the worst case, Encode writes into dst's storage.
	enc := dict.Encode(dst[len(prefix):cap(dst)], plain)
	if len(prefix)+len(enc) >= len(plain) {
		return append(dst[:0], plain...)
	}
	return dst[:len(prefix)+len(enc)]
}

// open returns the plain encoded event of a stored payload: data itself
// when it is plain (framed false), else the event decoded into dst's
// storage, or a new slice when dst is too small. An error is
// ErrUnavailable when a learned dictionary could not be fetched; any other
// says what is wrong with data.
func (d *dicts) open(dst, data []byte) (plain []byte, framed bool, err error) {
	if len(data) == 0 || data[0] >= minPlainByte {
		return data, false, nil
	}
	format, block := data[0], data[1:]
	var dict *s2.Dict
	switch format {
	case formatS2Dict1:
		dict = eventDict1
	case formatS2Learned:
		id, n := binary.Uvarint(block)
		if n <= 0 || id == 0 {
			return nil, true, fmt.Errorf("format 0x%02x: no dictionary number", format)
		}
		if dict, err = d.dict(id); err != nil {
			return nil, true, err
		}
		block = block[n:]
	default:
		return nil, true, fmt.Errorf("unknown stored format 0x%02x", format)
	}
	n, err := s2.DecodedLen(block)
	if err != nil {
		return nil, true, fmt.Errorf("format 0x%02x: %v", format, err)
	}
	if n > MaxEventBytes {
		// Append never stores more: a corrupt length, not an event.
		return nil, true, fmt.Errorf("format 0x%02x: %d bytes decoded, more than the %d an event may have", format, n, MaxEventBytes)
	}
	if plain, err = dict.Decode(dst[:0], block); err != nil {
		return nil, true, fmt.Errorf("format 0x%02x: %v", format, err)
	}
	return plain, true, nil
}

// openPool holds the buffers events are decoded into: Unmarshal copies
// what it keeps, so a buffer is reused once the event is decoded.
var openPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// decodeEvent decodes the event stored at seq, with its raw body when
// full. data is not modified.
func (d *dicts) decodeEvent(data []byte, seq uint64, full bool) (*imbridgev1.Event, error) {
	bp := openPool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledBuf {
			openPool.Put(bp)
		}
	}()
	plain, framed, err := d.open(*bp, data)
	switch {
	case err == nil:
	case errors.Is(err, ErrUnavailable):
		return nil, fmt.Errorf("%w (cursor %d)", err, seq)
	case errors.Is(err, ErrCorrupt):
		return nil, &CorruptEventError{Cursor: seq, err: err}
	default:
		return nil, &CorruptEventError{Cursor: seq, err: fmt.Errorf("%w: %v", ErrCorrupt, err)}
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
		return nil, &CorruptEventError{Cursor: seq, err: fmt.Errorf("%w: %v", ErrCorrupt, err)}
	}
	ev.Cursor = seq
	return ev, nil
}
