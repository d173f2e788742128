package server

import (
	"context"
	"fmt"
	"strconv"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Enums in proto3 are open: a request may carry a number its enum does not
// define (over REST too, where JSON takes enum numbers), and the services
// would read it as the default. Every request is checked here instead, and
// one with such a number refused, naming the field.

func checkEnumsUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := checkEnums(req); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func checkEnumsStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return handler(srv, enumCheckedStream{ss})
}

type enumCheckedStream struct{ grpc.ServerStream }

func (s enumCheckedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return checkEnums(m)
}

// checkEnums refuses a message that holds an undefined enum number.
func checkEnums(m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return nil
	}
	if field, v, e := undefinedEnum(msg.ProtoReflect(), ""); field != "" {
		return invalidArgument(field, fmt.Sprintf("%s: %d is not a value of %s", field, v, e.FullName()))
	}
	return nil
}

// undefinedEnum finds the first enum value in m, at any depth, that its
// enum does not define: the field's path (as in field violations, with
// [i] for list elements and [key] for map values), the number and the
// enum; "" when there is none.
func undefinedEnum(m protoreflect.Message, prefix string) (field string, v protoreflect.EnumNumber, e protoreflect.EnumDescriptor) {
	check := func(path string, fd protoreflect.FieldDescriptor, val protoreflect.Value) bool {
		switch fd.Kind() {
		case protoreflect.EnumKind:
			if n := val.Enum(); fd.Enum().Values().ByNumber(n) == nil {
				field, v, e = path, n, fd.Enum()
				return true
			}
		case protoreflect.MessageKind, protoreflect.GroupKind:
			field, v, e = undefinedEnum(val.Message(), path+".")
			return field != ""
		}
		return false
	}
	m.Range(func(fd protoreflect.FieldDescriptor, val protoreflect.Value) bool {
		name := prefix + string(fd.Name())
		switch {
		case fd.IsList():
			l := val.List()
			for i := range l.Len() {
				if check(name+"["+strconv.Itoa(i)+"]", fd, l.Get(i)) {
					return false
				}
			}
		case fd.IsMap():
			val.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				return !check(name+"["+k.String()+"]", fd.MapValue(), mv)
			})
			return field == ""
		default:
			return !check(name, fd, val)
		}
		return true
	})
	return field, v, e
}
