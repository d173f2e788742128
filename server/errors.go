package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/imbridge/imbridge/internal/easemob"
	"github.com/imbridge/imbridge/internal/eventlog"
)

// The domain errors of this package. Services, auth and the shutdown
// interceptor return these (or the event log's own errors); the translator
// below is the one place that turns any error into a status.

// fieldError is a request field the caller got wrong.
type fieldError struct{ field, msg string }

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

// invalidArgument reports that field is wrong; msg, shown to the caller,
// names the field and says what is expected.
func invalidArgument(field, msg string) error { return &fieldError{field: field, msg: msg} }

// eventError ties an event log error to the event the caller asked for,
// so that the status can name it in its metadata.
type eventError struct {
	cursor uint64
	callID string
	err    error
}

func (e *eventError) Error() string {
	if e.cursor != 0 {
		return fmt.Sprintf("event %d: %v", e.cursor, e.err)
	}
	return "event by call_id: " + e.err.Error()
}

func (e *eventError) Unwrap() error { return e.err }

// eventMetadata is the cursor or call id the caller asked for, when err
// carries one, or else the cursor of the corrupt event a stream met.
func eventMetadata(err error) map[string]string {
	var e *eventError
	var corrupt *eventlog.CorruptEventError
	switch {
	case !errors.As(err, &e) && errors.As(err, &corrupt):
		return map[string]string{"cursor": strconv.FormatUint(corrupt.Cursor, 10)}
	case e == nil:
		return nil
	case e.cursor != 0:
		return map[string]string{"cursor": strconv.FormatUint(e.cursor, 10)}
	case e.callID != "":
		return map[string]string{"call_id": bound(e.callID, 256)}
	}
	return nil
}

// badRequest is a request that breaks one or more documented rules, each
// violation naming its field; it becomes one INVALID_ARGUMENT with a
// google.rpc.BadRequest.
type badRequest struct {
	violations []*errdetails.BadRequest_FieldViolation
}

func (e *badRequest) Error() string {
	parts := make([]string, len(e.violations))
	for i, v := range e.violations {
		parts[i] = v.GetField() + ": " + v.GetDescription()
	}
	return "invalid request: " + strings.Join(parts, "; ")
}

// fields is the comma-separated list of the fields named, each once.
func (e *badRequest) fields() string {
	var names []string
	for _, v := range e.violations {
		if !slices.Contains(names, v.GetField()) {
			names = append(names, v.GetField())
		}
	}
	return strings.Join(names, ",")
}

// appNotConfigured is a request naming an app imbridge holds no vendor
// credentials for. Nothing was sent.
type appNotConfigured struct{ appkey string }

func (e *appNotConfigured) Error() string { return "app " + e.appkey + " is not configured" }

// updateRefused is an update the vendor applied only in part: it reported
// the fields in refused as not changed.
type updateRefused struct{ refused, updated []string }

func (e *updateRefused) Error() string {
	return "the vendor refused to update " + strings.Join(e.refused, ", ")
}

// chatroomsNotFound names the rooms a get asked for that the vendor did not
// return.
type chatroomsNotFound struct{ ids []string }

func (e *chatroomsNotFound) Error() string { return "chatrooms not found: " + strings.Join(e.ids, ",") }

// userTarget ties a vendor error to the user the RPC was about, so that the
// status can name them.
type userTarget struct {
	username string
	err      error
}

func (e *userTarget) Error() string { return "user " + e.username + ": " + e.err.Error() }

func (e *userTarget) Unwrap() error { return e.err }

// errNoVendor is a ChatroomService RPC in a process without a vendor
// client: UNIMPLEMENTED, as the generated stub answers.
var errNoVendor = errors.New("no vendor client")

// authError is a caller without a valid key, or (denied) with a key that
// is not granted what it asks; its text is for the caller.
type authError struct {
	msg    string
	denied bool
}

func (e *authError) Error() string { return e.msg }

// slowConsumer ends a stream whose client accepted nothing for timeout
// while its buffer was full; lastCursor is the last event handed to the
// connection.
type slowConsumer struct {
	lastCursor uint64
	timeout    time.Duration
}

func (e *slowConsumer) Error() string {
	return fmt.Sprintf("slow consumer: nothing accepted for %v; last cursor sent %d", e.timeout, e.lastCursor)
}

// errShuttingDown ends streams still open when the server stops.
var errShuttingDown = errors.New("server shutting down")

// Bounds of what one log line keeps of a cause and of a panic's stack, and
// of the message of a status.
const (
	maxLoggedCause = 1 << 10
	maxLoggedStack = 8 << 10
	maxMessage     = 1 << 10
)

// errorTranslator is the one error translation point: its interceptors
// hand every error an RPC returns to toStatus.
type errorTranslator struct{ log *slog.Logger }

func (t errorTranslator) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	resp, err := handler(ctx, req)
	if err != nil {
		return nil, t.toStatus(ctx, info.FullMethod, err)
	}
	return resp, nil
}

func (t errorTranslator) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return t.toStatus(ss.Context(), info.FullMethod, handler(srv, ss))
}

// toStatus maps err to the status the caller gets: a canonical code, a
// message that never carries an internal cause, and an ErrorInfo of ours.
func (t errorTranslator) toStatus(ctx context.Context, method string, err error) error {
	if err == nil {
		return nil
	}
	var (
		field   *fieldError
		auth    *authError
		bad     *badRequest
		noApp   *appNotConfigured
		refused *updateRefused
		missing *chatroomsNotFound
		expired *eventlog.CursorExpiredError
		epoch   *eventlog.EpochMismatchError
		slow    *slowConsumer
	)
	st, isStatus := status.FromError(err)
	switch {
	case isStatus && hasOurInfo(st):
		return err
	case errors.As(err, &field):
		return statusError(codes.InvalidArgument, ReasonInvalidArgument, field.msg, map[string]string{"field": field.field})
	case errors.As(err, &bad):
		return statusErrorWith(codes.InvalidArgument, ReasonInvalidArgument, bound(bad.Error(), maxMessage),
			map[string]string{"field": bad.fields()}, &errdetails.BadRequest{FieldViolations: bad.violations})
	case errors.As(err, &noApp):
		return statusError(codes.NotFound, ReasonAppNotConfigured,
			"app "+noApp.appkey+" is not configured in imbridge; nothing was sent to Easemob", map[string]string{"appkey": noApp.appkey})
	case errors.As(err, &refused):
		msg := "Easemob refused to update " + strings.Join(refused.refused, ", ")
		if len(refused.updated) > 0 {
			msg += "; it did update " + strings.Join(refused.updated, ", ")
		}
		return statusError(codes.FailedPrecondition, ReasonChatroomUpdateRefused, msg, map[string]string{
			"refused_fields": strings.Join(refused.refused, ","), "updated_fields": strings.Join(refused.updated, ","),
		})
	case errors.As(err, &missing):
		return statusError(codes.NotFound, ReasonChatroomNotFound, "no chatroom "+strings.Join(missing.ids, ", ")+" in this app",
			map[string]string{"chatrooms": strings.Join(missing.ids, ",")})
	case errors.Is(err, errNoVendor):
		return statusError(codes.Unimplemented, codeReason(codes.Unimplemented), "method "+path.Base(method)+" not implemented", nil)
	case isVendorError(err) && !callerGone(ctx, err):
		return t.vendorStatus(ctx, method, err)
	case errors.As(err, &expired):
		return statusError(codes.OutOfRange, ReasonCursorExpired, expired.Error()[len("eventlog: "):],
			map[string]string{"after_cursor": strconv.FormatUint(expired.After, 10), "oldest_cursor": strconv.FormatUint(expired.Oldest, 10)})
	case errors.As(err, &epoch):
		return statusError(codes.FailedPrecondition, ReasonEpochMismatch, bound(epoch.Error()[len("eventlog: "):], maxMessage),
			map[string]string{"after_cursor": strconv.FormatUint(epoch.After, 10), "epoch": epoch.Epoch, "head_cursor": strconv.FormatUint(epoch.Head, 10)})
	case errors.As(err, &slow):
		return statusError(codes.ResourceExhausted, ReasonSlowConsumer,
			fmt.Sprintf("the client accepted no message for %v while its buffer was full; resume after your last processed cursor", slow.timeout),
			map[string]string{"last_cursor": strconv.FormatUint(slow.lastCursor, 10)})
	case errors.Is(err, eventlog.ErrSubscriptionNotFound):
		return statusError(codes.NotFound, ReasonSubscriptionNotFound, "no such subscription", nil)
	case errors.Is(err, eventlog.ErrSubscriptionExists):
		return statusError(codes.AlreadyExists, ReasonSubscriptionExists, "a subscription of that name exists", nil)
	case errors.Is(err, eventlog.ErrNotFound):
		return statusError(codes.NotFound, ReasonEventNotFound,
			"no stored event has that cursor or call_id (it may have passed retention)", eventMetadata(err))
	case errors.Is(err, eventlog.ErrCorrupt):
		t.logCause(ctx, slog.LevelError, "stored event is corrupt", method, err)
		msg, md := "a stored event is corrupt and cannot be read; retrying will not help", eventMetadata(err)
		if md["cursor"] != "" {
			msg = fmt.Sprintf("the event stored at cursor %s is corrupt and cannot be read; retrying will not help (a stream can resume after it)", md["cursor"])
		}
		return statusError(codes.DataLoss, ReasonEventCorrupt, msg, md)
	case errors.Is(err, eventlog.ErrUnavailable):
		t.logCause(ctx, slog.LevelWarn, "event log unavailable", method, err)
		return statusError(codes.Unavailable, ReasonStoreUnavailable, "event log unavailable; retry", nil)
	case errors.As(err, &auth) && auth.denied:
		return statusError(codes.PermissionDenied, ReasonPermissionDenied, auth.msg, nil)
	case errors.As(err, &auth):
		return statusError(codes.Unauthenticated, ReasonUnauthenticated, auth.msg, nil)
	case errors.Is(err, errShuttingDown):
		return statusError(codes.Unavailable, ReasonShuttingDown, "server is shutting down; reconnect and resume from your last cursor", nil)
	case errors.Is(err, context.DeadlineExceeded):
		return statusError(codes.DeadlineExceeded, ReasonDeadlineExceeded, "the deadline passed before the request finished", nil)
	case errors.Is(err, context.Canceled):
		return statusError(codes.Canceled, ReasonCancelled, "request cancelled", nil)
	case isStatus && st.Code() != codes.Unknown && st.Code() != codes.Internal:
		// gRPC's own statuses (UNIMPLEMENTED from a stub, NOT_FOUND from
		// health, …): same code and message, our ErrorInfo added. Unknown
		// and Internal ones may carry internal text, so they are treated
		// as unknown errors below.
		return statusError(st.Code(), codeReason(st.Code()), st.Message(), nil)
	}
	return t.internal(ctx, method, err)
}

// internal hides an unknown error behind a correlation id: the caller
// gets the id, the log gets the id with the cause, once.
func (t errorTranslator) internal(ctx context.Context, method string, err error) error {
	id := correlationID()
	attrs := []slog.Attr{slog.String("correlation_id", id), slog.String("method", method)}
	msg := "internal error"
	if p := (*recovery.PanicError)(nil); errors.As(err, &p) {
		msg = "panic in RPC handler"
		attrs = append(attrs, slog.String("cause", bound(fmt.Sprint(p.Panic), maxLoggedCause)),
			slog.String("stack", bound(string(p.Stack), maxLoggedStack)))
	} else {
		attrs = append(attrs, slog.String("cause", bound(err.Error(), maxLoggedCause)))
	}
	t.log.LogAttrs(ctx, slog.LevelError, msg, attrs...)
	return statusError(codes.Internal, ReasonInternal, "internal error (id "+id+")", map[string]string{"correlation_id": id})
}

// logCause logs the cause of an error whose status does not carry it.
func (t errorTranslator) logCause(ctx context.Context, level slog.Level, msg, method string, err error) {
	t.log.LogAttrs(ctx, level, msg, slog.String("method", method), slog.String("cause", bound(err.Error(), maxLoggedCause)))
}

// hasOurInfo reports whether st already carries an ErrorInfo of imbridge.
func hasOurInfo(st *status.Status) bool {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == ErrorDomain {
			return true
		}
	}
	return false
}

// correlationID is 8 random hex digits: enough to find one log line, too
// short to mean anything else.
func correlationID() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // never fails (it crashes the program instead)
	return hex.EncodeToString(b[:])
}

// bound cuts s to at most n bytes on a character boundary, saying how much
// was left out.
func bound(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d more bytes)", s[:cut], len(s)-cut)
}

// isVendorError reports whether err came from the Easemob client.
func isVendorError(err error) bool {
	var ve *easemob.Error
	return errors.As(err, &ve) || errors.Is(err, easemob.ErrUnavailable) || errors.Is(err, easemob.ErrRateLimited) ||
		errors.Is(err, easemob.ErrInvalidArgument) || errors.Is(err, easemob.ErrUnexpectedResponse)
}

// callerGone reports whether err is the caller's own context ending (its
// deadline or cancellation), which the context cases of toStatus report.
func callerGone(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled))
}

// vendorStatus maps an error of the Easemob client, as the error table of
// ChatroomService (chatroom_service.proto) documents.
func (t errorTranslator) vendorStatus(ctx context.Context, method string, err error) error {
	md := map[string]string{}
	var target *userTarget
	if errors.As(err, &target) {
		md["username"] = target.username
	}
	var ve *easemob.Error
	if errors.As(err, &ve) {
		md["vendor_error"] = ve.Type
		md["vendor_description"] = redactTokens(ve.Description)
		md["vendor_status"] = strconv.Itoa(ve.Status)
	}
	switch {
	case errors.Is(err, easemob.ErrRateLimited):
		return statusError(codes.ResourceExhausted, ReasonVendorRateLimited,
			"Easemob kept answering 429 (rate limited) through imbridge's retries; retry with backoff", md)
	case errors.Is(err, easemob.ErrUnavailable):
		t.logCause(ctx, slog.LevelWarn, "Easemob unavailable", method, err)
		msg := "Easemob is unavailable (no answer, or 5xx through imbridge's retries); retry with backoff"
		if errors.Is(err, easemob.ErrOutcomeUnknown) {
			md["outcome"] = "unknown"
			msg = "Easemob failed the call after it may have been processed: the outcome is unknown; check the state before retrying"
			if methodIdempotency(method) != descriptorpb.MethodOptions_IDEMPOTENCY_UNKNOWN {
				msg = "Easemob failed the call after it may have been processed: the outcome is unknown; this RPC is idempotent, so retrying is safe"
			}
		}
		return statusError(codes.Unavailable, ReasonVendorUnavailable, msg, md)
	case errors.Is(err, easemob.ErrInvalidArgument):
		return statusError(codes.InvalidArgument, ReasonInvalidArgument, bound(redactTokens(err.Error()), maxMessage), md)
	case errors.Is(err, easemob.ErrTokenFetch):
		// imbridge's own credentials were refused (a wrong client secret,
		// an unknown app at the vendor): the operator's to fix, not the
		// caller's; logged once at ERROR with a correlation id.
		return t.internal(ctx, method, err)
	case ve != nil:
		code, ok := vendorCode(ve)
		if !ok {
			return t.internal(ctx, method, err)
		}
		msg := fmt.Sprintf("Easemob answered %d", ve.Status)
		if ve.Type != "" {
			msg += " " + ve.Type
		}
		if d := md["vendor_description"]; d != "" {
			msg += ": " + d
		}
		return statusError(code, vendorReason(ve), bound(msg, maxMessage), md)
	}
	// ErrUnexpectedResponse: a fault of ours or of the vendor, never the
	// caller's.
	return t.internal(ctx, method, err)
}

// vendorCode is the canonical code of a vendor error answer; false means
// INTERNAL (our own request was wrong, or our app token was refused).
func vendorCode(ve *easemob.Error) (codes.Code, bool) {
	typ, desc := strings.ToLower(ve.Type), strings.ToLower(ve.Description)
	switch {
	case ve.Type == easemob.TypeResultFalse:
		return codes.FailedPrecondition, true
	case typ == "forbidden_op" || typ == "exceed_limit" || typ == "exceeded_limit":
		// A length over the vendor's limit comes as 403 exceed_limit or
		// forbidden_op: the caller's value, not the room's state.
		if strings.Contains(desc, "length exceeds limit") || strings.Contains(desc, "cannot exceed") {
			return codes.InvalidArgument, true
		}
		return codes.FailedPrecondition, true
	case typ == "metadataexception": // 401 "user is not in chatroom"
		return codes.FailedPrecondition, true
	case strings.Contains(desc, "tag mute is disabled"):
		// 403, with forbidden_op or no type at all: a feature the app
		// has not had activated.
		return codes.FailedPrecondition, true
	case ve.Status == http.StatusUnauthorized: // our app token
		return codes.Internal, false
	case ve.Status == http.StatusBadRequest:
		switch {
		case typ == "illegal_argument" && strings.Contains(desc, "already exists"):
			return codes.AlreadyExists, true
		case ourRequestFault(desc):
			return codes.Internal, false
		case typ == "" && strings.Contains(desc, "not allowed"): // "others are not allowed to be set"
			return codes.FailedPrecondition, true
		}
		return codes.InvalidArgument, true
	case ve.Status == http.StatusNotFound:
		return codes.NotFound, true
	case ve.Status == http.StatusForbidden:
		return codes.PermissionDenied, true
	case ve.Status == http.StatusRequestTimeout:
		return codes.DeadlineExceeded, true
	case ve.Status == http.StatusRequestEntityTooLarge:
		return codes.InvalidArgument, true
	case ve.Status == http.StatusTooManyRequests:
		return codes.ResourceExhausted, true
	case ve.Status >= 500:
		return codes.Unavailable, true
	}
	return codes.Internal, false // 405, 415, …: a request of ours the vendor cannot take
}

// ourRequestFault tells the vendor 400 answers that only a malformed
// request of imbridge's own can cause: the caller's values are checked
// before anything is sent.
func ourRequestFault(desc string) bool {
	for _, s := range []string{"are not valid fields", "should be type of", "must be provided", "unexpected character", "json"} {
		if strings.Contains(desc, s) {
			return true
		}
	}
	return false
}

// vendorReason is the ErrorInfo reason of a vendor error answer: its type
// in UPPER_SNAKE, or one derived from the status when it has none.
func vendorReason(ve *easemob.Error) string {
	if ve.Type == easemob.TypeResultFalse {
		return ReasonVendorRefused
	}
	if r := upperSnake(ve.Type); r != "" {
		return r
	}
	switch s := ve.Status; {
	case s == http.StatusBadRequest:
		return ReasonVendorBadRequest
	case s == http.StatusUnauthorized:
		return ReasonVendorUnauthorized
	case s == http.StatusForbidden:
		return ReasonVendorForbidden
	case s == http.StatusNotFound:
		return ReasonVendorNotFound
	case s == http.StatusTooManyRequests:
		return ReasonVendorRateLimited
	case s >= 500:
		return ReasonVendorUnavailable
	}
	return ReasonVendorError
}

// upperSnake spells a vendor error type as an ErrorInfo reason:
// resource_not_found → RESOURCE_NOT_FOUND, MetadataException →
// METADATA_EXCEPTION. The result matches [A-Z][A-Z0-9_]*[A-Z0-9] and has at
// most 63 characters, or is empty.
func upperSnake(typ string) string {
	var b strings.Builder
	prevLower := false
	for _, r := range typ {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(unicode.ToUpper(r))
			prevLower = true
		case r >= 'A' && r <= 'Z':
			if prevLower {
				b.WriteByte('_')
			}
			b.WriteRune(r)
			prevLower = false
		default:
			b.WriteByte('_')
			prevLower = false
		}
	}
	out := strings.Join(strings.FieldsFunc(b.String(), func(r rune) bool { return r == '_' }), "_")
	if out == "" {
		return ""
	}
	if out[0] < 'A' || out[0] > 'Z' {
		out = "VENDOR_" + out
	}
	if len(out) > 63 {
		out = strings.TrimRight(out[:63], "_")
	}
	return out
}

// tokenLike is a run of token characters longer than any ID or username: a
// bearer token, should one ever be echoed in a vendor message.
var tokenLike = regexp.MustCompile(`[A-Za-z0-9_.+/=-]{65,}`)

// redactTokens blanks anything token-like out of vendor text. The client
// already blanks the secret and the current token; this covers earlier
// tokens too.
func redactTokens(s string) string { return tokenLike.ReplaceAllString(s, "[redacted]") }

// methodIdempotency is the idempotency_level the contract declares for a
// full method name ("/imbridge.v1.ChatroomService/GetChatroom").
func methodIdempotency(method string) descriptorpb.MethodOptions_IdempotencyLevel {
	name := protoreflect.FullName(strings.Replace(strings.TrimPrefix(method, "/"), "/", ".", 1))
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(name)
	if err != nil {
		return descriptorpb.MethodOptions_IDEMPOTENCY_UNKNOWN
	}
	md, ok := d.(protoreflect.MethodDescriptor)
	if !ok {
		return descriptorpb.MethodOptions_IDEMPOTENCY_UNKNOWN
	}
	opts, _ := md.Options().(*descriptorpb.MethodOptions)
	return opts.GetIdempotencyLevel()
}
