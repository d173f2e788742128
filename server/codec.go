package server

import (
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
)

// encodedMessage is a message marshalled once and sent as it is on many
// streams: a stream sends the same event to every subscriber, and
// marshalling it for each was most of the cost of a fan-out. The bytes
// are shared and never modified.
type encodedMessage struct{ data []byte }

// codec is gRPC's proto codec, which also sends an encodedMessage as its
// bytes. Compression, when a client asks for it, applies after it as to
// any message.
type codec struct{ encoding.CodecV2 }

func newCodec() codec { return codec{encoding.GetCodecV2(proto.Name)} }

func (c codec) Marshal(v any) (mem.BufferSlice, error) {
	if m, ok := v.(*encodedMessage); ok {
		return mem.BufferSlice{mem.SliceBuffer(m.data)}, nil
	}
	return c.CodecV2.Marshal(v)
}
