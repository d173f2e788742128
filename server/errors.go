package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"unicode/utf8"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

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
// carries one.
func eventMetadata(err error) map[string]string {
	var e *eventError
	switch {
	case !errors.As(err, &e):
		return nil
	case e.cursor != 0:
		return map[string]string{"cursor": strconv.FormatUint(e.cursor, 10)}
	case e.callID != "":
		return map[string]string{"call_id": e.callID}
	}
	return nil
}

// authError is a caller without a valid key, or (denied) with a key that
// is not granted what it asks; its text is for the caller.
type authError struct {
	msg    string
	denied bool
}

func (e *authError) Error() string { return e.msg }

// errShuttingDown ends streams still open when the server stops.
var errShuttingDown = errors.New("server shutting down")

// Bounds of what one log line keeps of a cause and of a panic's stack.
const (
	maxLoggedCause = 1 << 10
	maxLoggedStack = 8 << 10
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
		field *fieldError
		auth  *authError
	)
	st, isStatus := status.FromError(err)
	switch {
	case isStatus && hasOurInfo(st):
		return err
	case errors.As(err, &field):
		return statusError(codes.InvalidArgument, ReasonInvalidArgument, field.msg, map[string]string{"field": field.field})
	case errors.Is(err, eventlog.ErrNotFound):
		return statusError(codes.NotFound, ReasonEventNotFound,
			"no stored event has that cursor or call_id (it may have passed retention)", eventMetadata(err))
	case errors.Is(err, eventlog.ErrCorrupt):
		t.logCause(ctx, slog.LevelError, "stored event is corrupt", method, err)
		return statusError(codes.DataLoss, ReasonEventCorrupt,
			"a stored event is corrupt and cannot be read; retrying will not help", eventMetadata(err))
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
