package server

import (
	"context"
	"slices"
	"strconv"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Enums in proto3 are open: a request may carry a number its enum does not
// define (over REST too, where JSON takes enum numbers), and the services
// would read it as the default. Every request is checked here instead. A
// service that lists every bad field of a request at once (enumMerger)
// gets the undefined values in its context, for newViolations; any other
// request with one is refused here, naming the field.

// enumMerger is a service whose every handler starts its violations with
// newViolations(ctx), and refuses the request when there are any.
type enumMerger interface {
	mergesEnumViolations()
}

type enumViolationsKey struct{}

// newViolations starts a handler's violations with the undefined enum
// values the interceptor found in its request.
func newViolations(ctx context.Context) *violations {
	list, _ := ctx.Value(enumViolationsKey{}).([]*errdetails.BadRequest_FieldViolation)
	return &violations{list: slices.Clone(list)}
}

func checkEnumsUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	v := enumViolations(req)
	if len(v.list) == 0 {
		return handler(ctx, req)
	}
	if _, ok := info.Server.(enumMerger); ok {
		return handler(context.WithValue(ctx, enumViolationsKey{}, v.list), req)
	}
	return nil, v.err()
}

func checkEnumsStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return handler(srv, enumCheckedStream{ss})
}

type enumCheckedStream struct{ grpc.ServerStream }

func (s enumCheckedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return enumViolations(m).err()
}

// enumViolations has a violation for each undefined enum number in m.
func enumViolations(m any) *violations {
	var v violations
	if msg, ok := m.(proto.Message); ok {
		v.undefinedEnums(msg.ProtoReflect(), "")
	}
	return &v
}

// undefinedEnums adds a violation for every enum value in m, at any
// depth, that its enum does not define, named by its path (with [i] for
// list elements and [key] for map values).
func (v *violations) undefinedEnums(m protoreflect.Message, prefix string) {
	check := func(path string, fd protoreflect.FieldDescriptor, val protoreflect.Value) {
		switch fd.Kind() {
		case protoreflect.EnumKind:
			if n := val.Enum(); fd.Enum().Values().ByNumber(n) == nil {
				v.add(path, "%s: %d is not a value of %s", path, n, fd.Enum().FullName())
			}
		case protoreflect.MessageKind, protoreflect.GroupKind:
			v.undefinedEnums(val.Message(), path+".")
		}
	}
	m.Range(func(fd protoreflect.FieldDescriptor, val protoreflect.Value) bool {
		name := prefix + string(fd.Name())
		switch {
		case fd.IsList():
			for i, l := 0, val.List(); i < l.Len(); i++ {
				check(name+"["+strconv.Itoa(i)+"]", fd, l.Get(i))
			}
		case fd.IsMap():
			val.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				check(name+"["+k.String()+"]", fd.MapValue(), mv)
				return true
			})
		default:
			check(name, fd, val)
		}
		return true
	})
}
