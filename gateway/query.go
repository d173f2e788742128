package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/imbridge/imbridge/gen/openapiv2"
)

// queryParser is grpc-gateway's query parser (runtime.DefaultQueryParser)
// with two changes:
//
//   - an enum value is accepted as users see it in events: any case, with
//     or without the prefix of its enum (filter.eventTypes=keyword_alert is
//     EVENT_TYPE_KEYWORD_ALERT), or by number;
//   - a value that does not parse is refused with a message for people:
//     "pageSize: want an integer, got \"x\"".
type queryParser struct{}

// Parse checks values, spells enum values the way protobuf names them, and
// hands the rest to runtime.DefaultQueryParser.
func (queryParser) Parse(msg proto.Message, values url.Values, filter *utilities.DoubleArray) error {
	skip := func([]string) bool { return false }
	if filter != nil {
		skip = filter.HasCommonPrefix
	}
	canonical, perr := checkQuery(msg.ProtoReflect().Descriptor(), values, skip)
	if perr != nil {
		return perr
	}
	return (&runtime.DefaultQueryParser{}).Parse(msg, canonical, filter)
}

// paramError is a path or query parameter that cannot be read.
type paramError struct {
	field string // as the caller wrote it: "pageSize", "filter.eventTypes", "cursor"
	msg   string // what was wanted, what came
}

func (e *paramError) Error() string { return e.field + ": " + e.msg }

// mapEntryKey is how a query parameter sets a map entry: "labels[key]".
var mapEntryKey = regexp.MustCompile(`^(.*)\[(.*)\]$`)

// checkQuery checks query values against the request message md the way
// runtime.DefaultQueryParser reads them (a key is a dotted path of proto or
// JSON field names), except that a key that names no field is refused;
// skip tells the fields bound elsewhere, from the path or the body. It returns the values with enum
// values spelled as protobuf names them.
func checkQuery(md protoreflect.MessageDescriptor, values url.Values, skip func([]string) bool) (url.Values, *paramError) {
	out := make(url.Values, len(values))
	seen := make(map[string]string)              // field path → the key that set it
	oneofs := make(map[string]protoreflect.Name) // parent path and oneof → the field set
	for _, key := range slices.Sorted(maps.Keys(values)) {
		vals := values[key]
		out[key] = vals
		name, entry := key, false
		if m := mapEntryKey.FindStringSubmatch(key); m != nil {
			name, entry = m[1], true
		}
		segs := strings.Split(name, ".")
		var (
			fields []protoreflect.FieldDescriptor
			path   []string
		)
		cur := md
		for i, seg := range segs {
			if cur == nil {
				return nil, &paramError{key, fmt.Sprintf("%s takes a value, not fields of its own", strings.Join(segs[:i], "."))}
			}
			fd := cur.Fields().ByTextName(seg)
			if fd == nil {
				fd = cur.Fields().ByJSONName(seg)
			}
			if fd == nil {
				// A misspelt parameter would be ignored, and the call
				// answered as if it were not there: a list unfiltered.
				return nil, &paramError{key, fmt.Sprintf("no such parameter; %s", fieldNames(cur, strings.Join(segs[:i], ".")))}
			}
			fields, path = append(fields, fd), append(path, string(fd.Name()))
			cur = nil
			if fd.Message() != nil && !fd.IsList() && !fd.IsMap() {
				cur = fd.Message()
			}
		}
		if skip(path) {
			continue
		}
		if last := fields[len(fields)-1]; entry {
			if !last.IsMap() {
				return nil, &paramError{key, fmt.Sprintf("%s is not a map: set it as %s=…", name, name)}
			}
			continue
		}
		joined := strings.Join(path, ".")
		if prev, dup := seen[joined]; dup {
			return nil, &paramError{key, fmt.Sprintf("set twice, as %s and as %s", prev, key)}
		}
		seen[joined] = key
		for i, fd := range fields {
			o := fd.ContainingOneof()
			if o == nil || o.IsSynthetic() {
				continue
			}
			at := strings.Join(path[:i], ".") + "/" + string(o.Name())
			if set, ok := oneofs[at]; ok && set != fd.Name() {
				return nil, &paramError{key, "set only one of " + oneofNames(o)}
			}
			oneofs[at] = fd.Name()
		}
		fd := fields[len(fields)-1]
		if fd.IsMap() {
			continue
		}
		if !fd.IsList() && len(vals) > 1 {
			return nil, &paramError{key, fmt.Sprintf("want one value, got %d", len(vals))}
		}
		canonical := make([]string, len(vals))
		for i, v := range vals {
			c, problem := checkValue(key, fd, v)
			if problem != "" {
				return nil, &paramError{key, problem}
			}
			canonical[i] = c
		}
		out[key] = canonical
	}
	return out, nil
}

// fieldNames says which parameters md's fields make, under prefix (a
// dotted path, or "" for the request's own).
func fieldNames(md protoreflect.MessageDescriptor, prefix string) string {
	var names []string
	for i := range md.Fields().Len() {
		names = append(names, md.Fields().Get(i).JSONName())
	}
	if prefix == "" {
		return "this call takes " + strings.Join(names, ", ")
	}
	return prefix + " has the fields " + strings.Join(names, ", ")
}

func oneofNames(o protoreflect.OneofDescriptor) string {
	var names []string
	for i := range o.Fields().Len() {
		names = append(names, o.Fields().Get(i).JSONName())
	}
	return strings.Join(names, ", ")
}

// checkValue checks one value of field fd, set by key. It returns the value
// as runtime.DefaultQueryParser reads it, or a problem: what was wanted and
// what came.
func checkValue(key string, fd protoreflect.FieldDescriptor, v string) (string, string) {
	switch fd.Kind() {
	case protoreflect.EnumKind:
		ev, ok := enumValue(fd.Enum(), v)
		if !ok {
			return "", fmt.Sprintf("want one of %s, got %.64q", strings.Join(enumNames(fd.Enum()), ", "), v)
		}
		return string(ev.Name()), ""
	case protoreflect.MessageKind, protoreflect.GroupKind:
		if want := checkMessage(fd.Message(), v); want != "" {
			if want == wantFields {
				return "", fmt.Sprintf("want its fields set one at a time, as %s.<field>=…", key)
			}
			return "", fmt.Sprintf("want %s, got %.64q", want, v)
		}
		return v, ""
	}
	if want := checkScalar(fd.Kind(), v); want != "" {
		return "", fmt.Sprintf("want %s, got %.64q", want, v)
	}
	return v, ""
}

// checkScalar returns what a value of kind k must be when v is not one,
// else "".
func checkScalar(k protoreflect.Kind, v string) string {
	integer := func(bits int, err error) string {
		switch {
		case err == nil:
			return ""
		case errors.Is(err, strconv.ErrRange):
			return fmt.Sprintf("an integer from %d to %d", int64(-1)<<(bits-1), int64(math.MaxInt64)>>(64-bits))
		default:
			return "an integer"
		}
	}
	unsigned := func(bits int, err error) string {
		switch {
		case err == nil:
			return ""
		case errors.Is(err, strconv.ErrRange):
			return fmt.Sprintf("a positive integer up to %d", uint64(math.MaxUint64)>>(64-bits))
		default:
			return "a positive integer"
		}
	}
	var err error
	switch k {
	case protoreflect.BoolKind:
		if _, err = strconv.ParseBool(v); err != nil {
			return "true or false"
		}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		_, err = strconv.ParseInt(v, 10, 32)
		return integer(32, err)
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		_, err = strconv.ParseInt(v, 10, 64)
		return integer(64, err)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		_, err = strconv.ParseUint(v, 10, 32)
		return unsigned(32, err)
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		_, err = strconv.ParseUint(v, 10, 64)
		return unsigned(64, err)
	case protoreflect.FloatKind:
		if _, err = strconv.ParseFloat(v, 32); err != nil {
			return "a number"
		}
	case protoreflect.DoubleKind:
		if _, err = strconv.ParseFloat(v, 64); err != nil {
			return "a number"
		}
	case protoreflect.BytesKind:
		if _, err = runtime.Bytes(v); err != nil {
			return "base64"
		}
	}
	return ""
}

// wantFields is checkMessage's answer for a message that a query sets field
// by field, never as one value.
const wantFields = "fields"

// checkMessage checks a value of a message field, which only well-known
// types take; it returns what the value must be when v is not one.
func checkMessage(md protoreflect.MessageDescriptor, v string) string {
	switch md.FullName() {
	case "google.protobuf.Timestamp":
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil || !timestamppb.New(t).IsValid() {
			return "an RFC 3339 time such as 2025-01-31T15:04:05Z"
		}
	case "google.protobuf.Duration":
		if _, err := time.ParseDuration(v); err != nil {
			return "a duration such as 90s or 1h30m"
		}
	case "google.protobuf.FieldMask":
	case "google.protobuf.Value":
		if protojson.Unmarshal([]byte(v), &structpb.Value{}) != nil {
			return "a JSON value"
		}
	case "google.protobuf.Struct":
		if protojson.Unmarshal([]byte(v), &structpb.Struct{}) != nil {
			return "a JSON object"
		}
	case "google.protobuf.Empty":
		if v != "" && v != "{}" {
			return `"" or {}`
		}
	default:
		if md.ParentFile().Path() == "google/protobuf/wrappers.proto" {
			return checkScalar(md.Fields().ByName("value").Kind(), v)
		}
		return wantFields
	}
	return ""
}

// enumValue finds v among ed's values: its name in any case, with or
// without the enum's prefix, or its number.
func enumValue(ed protoreflect.EnumDescriptor, v string) (protoreflect.EnumValueDescriptor, bool) {
	prefix := enumPrefix(ed)
	upper := strings.ToUpper(v)
	values := ed.Values()
	if ev := values.ByName(protoreflect.Name(upper)); ev != nil {
		return ev, true
	}
	if ev := values.ByName(protoreflect.Name(prefix + upper)); ev != nil && prefix != "" {
		return ev, true
	}
	if n, err := strconv.ParseInt(v, 10, 32); err == nil {
		if ev := values.ByNumber(protoreflect.EnumNumber(n)); ev != nil {
			return ev, true
		}
	}
	return nil, false
}

// enumNames lists the values of ed as users write them: lower case, without
// the prefix, the zero (unspecified) value left out.
func enumNames(ed protoreflect.EnumDescriptor) []string {
	prefix := enumPrefix(ed)
	var names []string
	for i := range ed.Values().Len() {
		if ev := ed.Values().Get(i); ev.Number() != 0 {
			names = append(names, strings.ToLower(strings.TrimPrefix(string(ev.Name()), prefix)))
		}
	}
	return names
}

// enumPrefix is the prefix that every value name of ed carries: the enum's
// name in UPPER_SNAKE and "_" (EventType → EVENT_TYPE_), as buf lint's
// ENUM_VALUE_PREFIX requires; "" for an enum whose values do not all carry
// it.
func enumPrefix(ed protoreflect.EnumDescriptor) string {
	prefix := upperSnake(string(ed.Name())) + "_"
	for i := range ed.Values().Len() {
		if name := string(ed.Values().Get(i).Name()); !strings.HasPrefix(name, prefix) || name == prefix {
			return ""
		}
	}
	return prefix
}

// upperSnake spells a CamelCase name in UPPER_SNAKE: EventType →
// EVENT_TYPE, HTTPMethod → HTTP_METHOD.
func upperSnake(name string) string {
	r := []rune(name)
	var b strings.Builder
	for i, c := range r {
		if i > 0 && unicode.IsUpper(c) &&
			(unicode.IsLower(r[i-1]) || unicode.IsDigit(r[i-1]) || i+1 < len(r) && unicode.IsLower(r[i+1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(c))
	}
	return b.String()
}

type pathParamsKey struct{}

// rememberPathParams is a mux middleware that keeps a route's path
// parameters in the request's context, for diagnose.
func rememberPathParams(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		if len(params) > 0 {
			r = r.WithContext(context.WithValue(r.Context(), pathParamsKey{}, params))
		}
		next(w, r, params)
	}
}

// diagnose finds the path or query parameter of r that the generated
// handler of the RPC in ctx could not read. grpc-gateway reports those as a
// bare INVALID_ARGUMENT with Go's parse error as the message; this reads the
// parameters again with the same rules to name the parameter and say what
// it should be. nil when every parameter reads.
func diagnose(ctx context.Context, r *http.Request) *paramError {
	method, ok := runtime.RPCMethod(ctx)
	if !ok {
		return nil
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(strings.ReplaceAll(strings.TrimPrefix(method, "/"), "/", ".")))
	if err != nil {
		return nil
	}
	md, ok := d.(protoreflect.MethodDescriptor)
	if !ok {
		return nil
	}
	in := md.Input()
	params, _ := r.Context().Value(pathParamsKey{}).(map[string]string)
	for _, name := range slices.Sorted(maps.Keys(params)) {
		fd := fieldAt(in, name)
		if fd == nil || fd.IsList() || fd.IsMap() {
			continue
		}
		if _, problem := checkValue(name, fd, params[name]); problem != "" {
			return &paramError{name, problem}
		}
	}
	values := r.Form
	if values == nil {
		values = r.URL.Query()
	}
	_, perr := checkQuery(in, values, func(path []string) bool {
		p := strings.Join(path, ".")
		for name := range params {
			if p == name || strings.HasPrefix(p, name+".") || strings.HasPrefix(name, p+".") {
				return true
			}
		}
		return false
	})
	return perr
}

// fieldAt finds the field at a dotted path of proto names, as path
// parameters name them ("cursor", "chatroom.name").
func fieldAt(md protoreflect.MessageDescriptor, path string) protoreflect.FieldDescriptor {
	var fd protoreflect.FieldDescriptor
	for seg := range strings.SplitSeq(path, ".") {
		if md == nil {
			return nil
		}
		if fd = md.Fields().ByName(protoreflect.Name(seg)); fd == nil {
			return nil
		}
		md = fd.Message()
	}
	return fd
}

// restOp is a REST route of the OpenAPI document generated with the
// routes: its method, its path's segments ("{chatroom}:muteAll" holds a
// variable and a verb) and whether it takes query parameters.
type restOp struct {
	method     string
	segs       []string
	takesQuery bool
}

var restOps = sync.OnceValue(func() []restOp {
	type param struct {
		In string `json:"in"`
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []param `json:"parameters"`
		} `json:"paths"`
	}
	_ = json.Unmarshal(openapiv2.Document, &doc)
	var ops []restOp
	for path, methods := range doc.Paths {
		for method, op := range methods {
			ops = append(ops, restOp{
				method:     strings.ToUpper(method),
				segs:       strings.Split(strings.TrimPrefix(path, "/"), "/"),
				takesQuery: slices.ContainsFunc(op.Parameters, func(p param) bool { return p.In == "query" }),
			})
		}
	}
	return ops
})

// matches reports whether the request path's segments fit the route's.
func (o restOp) matches(method string, segs []string) bool {
	if o.method != method || len(o.segs) != len(segs) {
		return false
	}
	for i, t := range o.segs {
		if !strings.HasPrefix(t, "{") {
			if t != segs[i] {
				return false
			}
			continue
		}
		verb := t[strings.IndexByte(t, '}')+1:] // ":muteAll", or ""
		if v, ok := strings.CutSuffix(segs[i], verb); !ok || v == "" || verb == "" && strings.Contains(v, ":") {
			return false
		}
	}
	return true
}

// refuseQuery is a mux middleware that refuses a query parameter sent to
// a route that takes none. The generated handlers of those routes (every
// field in the path or the body) do not read the query, so the query
// parser, which names a parameter no call takes, never sees it.
func (g *Gateway) refuseQuery(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		if r.URL.RawQuery != "" {
			segs := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
			matched, takes := false, false
			for _, o := range restOps() {
				if o.matches(r.Method, segs) {
					matched, takes = true, takes || o.takesQuery
				}
			}
			if values, err := url.ParseQuery(r.URL.RawQuery); matched && !takes && err == nil && len(values) > 0 {
				key := slices.Min(slices.Collect(maps.Keys(values)))
				g.httpError(w, r, newStatus(codes.InvalidArgument, key+": no such parameter; this call takes no query parameters",
					ReasonInvalidArgument, map[string]string{"field": key}).Err())
				return
			}
		}
		next(w, r, params)
	}
}
