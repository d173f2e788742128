package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// jsonMarshaler is runtime.JSONPb with one change: in an RPC's response
// message, and only at its top level, an empty repeated field is written as
// [] instead of being left out, so that an empty list reads {"events":[]}.
// Nested messages keep protojson's output (unpopulated fields omitted), and
// field names stay protojson's (lowerCamelCase, or proto names when
// UseProtoNames is set).
type jsonMarshaler struct {
	*runtime.JSONPb
	responses map[protoreflect.FullName]bool
}

// newJSONMarshaler wraps j for the response messages of every service in
// files.
func newJSONMarshaler(j *runtime.JSONPb, files ...protoreflect.FileDescriptor) *jsonMarshaler {
	m := &jsonMarshaler{JSONPb: j, responses: make(map[protoreflect.FullName]bool)}
	for _, f := range files {
		for i := range f.Services().Len() {
			methods := f.Services().Get(i).Methods()
			for j := range methods.Len() {
				m.responses[methods.Get(j).Output().FullName()] = true
			}
		}
	}
	return m
}

// Marshal marshals v as runtime.JSONPb does, then adds the empty lists of
// a response message.
func (m *jsonMarshaler) Marshal(v any) ([]byte, error) {
	b, err := m.JSONPb.Marshal(v)
	if err != nil {
		return nil, err
	}
	msg, ok := v.(proto.Message)
	if !ok || m.EmitUnpopulated {
		return b, nil
	}
	r := msg.ProtoReflect()
	if !r.IsValid() || !m.responses[r.Descriptor().FullName()] {
		return b, nil
	}
	var empty []string
	fields := r.Descriptor().Fields()
	for i := range fields.Len() {
		if fd := fields.Get(i); fd.IsList() && r.Get(fd).List().Len() == 0 {
			name := fd.JSONName()
			if m.UseProtoNames {
				name = string(fd.Name())
			}
			empty = append(empty, name)
		}
	}
	return withEmptyLists(b, empty), nil
}

// NewDecoder returns runtime.JSONPb's decoder, whose errors are marked as
// the body's (bodyMark) when encoding/json, which reads the body before
// protojson decodes it, gives them: "unexpected EOF", "invalid
// character…". protojson's own are known by their prefix.
func (m *jsonMarshaler) NewDecoder(r io.Reader) runtime.Decoder {
	d := m.JSONPb.NewDecoder(r)
	return runtime.DecoderFunc(func(v any) error {
		err := d.Decode(v)
		if err == nil || errors.Is(err, io.EOF) || protoPrefix.MatchString(err.Error()) {
			return err // io.EOF: an empty body, which the gateway allows
		}
		return fmt.Errorf("%s%w", bodyMark, err)
	})
}

// NewEncoder returns an encoder that writes as Marshal does.
func (m *jsonMarshaler) NewEncoder(w io.Writer) runtime.Encoder {
	return runtime.EncoderFunc(func(v any) error {
		b, err := m.Marshal(v)
		if err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		_, err = w.Write(m.Delimiter())
		return err
	})
}

// withEmptyLists adds "name":[] for each name to the JSON object b.
func withEmptyLists(b []byte, names []string) []byte {
	end := bytes.LastIndexByte(b, '}')
	start := bytes.IndexByte(b, '{')
	if len(names) == 0 || start < 0 || end < start {
		return b
	}
	var add bytes.Buffer
	if len(bytes.TrimSpace(b[start+1:end])) > 0 {
		add.WriteByte(',')
	}
	for i, name := range names {
		if i > 0 {
			add.WriteByte(',')
		}
		quoted, _ := json.Marshal(name)
		add.Write(quoted)
		add.WriteString(":[]")
	}
	out := make([]byte, 0, len(b)+add.Len())
	out = append(out, b[:end]...)
	out = append(out, add.Bytes()...)
	return append(out, b[end:]...)
}
