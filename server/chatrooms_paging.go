package server

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Page tokens of ChatroomService are opaque to callers: base64url of an
// 8-byte digest of the request they belong to (every field but page_token
// and page_size), then a payload: the vendor's cursor, or varints (page
// number and size for the vendor's page-number listings, an offset for
// the lists the vendor returns whole). They are bounded: a token longer
// than maxPageToken, or a page number or offset past its bound, is refused
// before anything is sent.
const (
	maxPageToken  = 4096
	maxVendorPage = 100000 // pagenum
	maxOffset     = 1000000
)

const badPageToken = "not a page_token this listing returned: keep every other field as in the call that returned it"

// chatroomPageToken returns the token that continues req with payload.
func chatroomPageToken(req proto.Message, payload []byte) string {
	return base64.RawURLEncoding.EncodeToString(append(listDigest(req), payload...))
}

// pageToken returns the payload of req's page_token, nil for
// the first page.
func (v *violations) pageToken(req proto.Message, token string) []byte {
	if token == "" {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if len(token) > maxPageToken || err != nil || len(b) <= 8 || string(b[:8]) != string(listDigest(req)) {
		v.add("page_token", badPageToken)
		return nil
	}
	return b[8:]
}

// listDigest identifies a listing: req without its page_token and page_size.
func listDigest(req proto.Message) []byte {
	r := proto.Clone(req)
	fields := r.ProtoReflect().Descriptor().Fields()
	for _, name := range []protoreflect.Name{"page_token", "page_size"} {
		if f := fields.ByName(name); f != nil {
			r.ProtoReflect().Clear(f)
		}
	}
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(r)
	sum := sha256.Sum256(append([]byte(r.ProtoReflect().Descriptor().FullName()+"\x00"), b...))
	return sum[:8]
}

// pageNumber is a position in a vendor listing paged by pagenum/pagesize.
type pageNumber struct{ num, size int }

// pageNumberOf reads the position of a pagenum listing: the token's, or
// the first page of size.
func (v *violations) pageNumberOf(req proto.Message, token string, size int) pageNumber {
	payload := v.pageToken(req, token)
	if payload == nil {
		return pageNumber{1, size}
	}
	num, n1 := binary.Uvarint(payload)
	sz, n2 := 0, 0
	if n1 > 0 {
		var s uint64
		s, n2 = binary.Uvarint(payload[n1:])
		sz = int(s)
	}
	if n1 <= 0 || n2 <= 0 || n1+n2 != len(payload) || num < 2 || num > maxVendorPage || sz < 1 || sz > maxVendorPageSize {
		v.add("page_token", badPageToken)
		return pageNumber{1, size}
	}
	return pageNumber{int(num), sz}
}

// next is the token of the page after p, or "" if got items ended the
// listing: the vendor does not say whether more pages exist, so a full
// page is taken to mean there may be.
func (p pageNumber) next(req proto.Message, got int) string {
	if got < p.size || p.num >= maxVendorPage {
		return ""
	}
	payload := binary.AppendUvarint(nil, uint64(p.num+1))
	return chatroomPageToken(req, binary.AppendUvarint(payload, uint64(p.size)))
}

// offsetOf reads the position in a list the vendor returns whole.
func (v *violations) offsetOf(req proto.Message, token string) int {
	payload := v.pageToken(req, token)
	if payload == nil {
		return 0
	}
	off, n := binary.Uvarint(payload)
	if n <= 0 || n != len(payload) || off < 1 || off > maxOffset {
		v.add("page_token", badPageToken)
		return 0
	}
	return int(off)
}

// pageOf returns the page of list at off of at most size items, and the
// token of the next page ("" if this is the last).
func pageOf[T any](req proto.Message, list []T, off, size int) ([]T, string) {
	if off >= len(list) {
		return nil, ""
	}
	end := min(off+size, len(list))
	if end == len(list) || end > maxOffset {
		return list[off:end], ""
	}
	return list[off:end], chatroomPageToken(req, binary.AppendUvarint(nil, uint64(end)))
}

// cursorOf reads the vendor cursor of a cursor listing ("" for the first
// page).
func (v *violations) cursorOf(req proto.Message, token string) string {
	return string(v.pageToken(req, token))
}

// cursorToken is the token that carries the vendor's next cursor, or ""
// when the vendor gave none (the last page). A cursor too long to carry
// is an error: ending the listing there would hide rooms.
func cursorToken(req proto.Message, cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	if base64.RawURLEncoding.EncodedLen(8+len(cursor)) > maxPageToken {
		return "", fmt.Errorf("the vendor's cursor of %d bytes does not fit a page token", len(cursor))
	}
	return chatroomPageToken(req, []byte(cursor)), nil
}
