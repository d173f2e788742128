package server

import (
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrorDomain is the google.rpc.ErrorInfo domain of every error imbridge
// returns.
const ErrorDomain = "imbridge.dev"

// Reasons carried in google.rpc.ErrorInfo; UPPER_SNAKE and stable, so that
// clients can branch on them. This is the whole vocabulary: a status that
// reaches the translator without an ErrorInfo of ours (gRPC's own, such as
// UNIMPLEMENTED from an RPC not built yet) gets its code's google.rpc.Code
// name as its reason (see codeReason).
const (
	// ReasonUnauthenticated: no bearer key, or one that is not configured.
	ReasonUnauthenticated = "UNAUTHENTICATED"
	// ReasonPermissionDenied: the key is valid but not granted the scope
	// or the app the call needs.
	ReasonPermissionDenied = "PERMISSION_DENIED"
	// ReasonShuttingDown: the server is stopping; reconnect and resume
	// from your last cursor.
	ReasonShuttingDown = "SHUTTING_DOWN"
	// ReasonInternal: a fault inside imbridge; metadata "correlation_id"
	// finds the cause in the server log. Retrying will not help.
	ReasonInternal = "INTERNAL"
	// ReasonInvalidArgument: a request field is wrong; metadata "field"
	// names it.
	ReasonInvalidArgument = "INVALID_ARGUMENT"
	// ReasonEventNotFound: no stored event has that cursor or call id;
	// metadata "cursor" or "call_id" repeats the one asked for.
	ReasonEventNotFound = "EVENT_NOT_FOUND"
	// ReasonEventCorrupt: a stored event cannot be decoded (DATA_LOSS).
	// Retrying will not help; metadata "cursor" or "call_id" names it
	// where known.
	ReasonEventCorrupt = "EVENT_CORRUPT"
	// ReasonStoreUnavailable: the event log did not answer; retry.
	ReasonStoreUnavailable = "STORE_UNAVAILABLE"
	// ReasonDeadlineExceeded: the caller's deadline passed before the RPC
	// finished.
	ReasonDeadlineExceeded = "DEADLINE_EXCEEDED"
	// ReasonCancelled: the caller cancelled the RPC (google.rpc.Code
	// spells it CANCELLED).
	ReasonCancelled = "CANCELLED"
)

// codeReason is the reason of a status that carried none of ours: its
// code's google.rpc.Code name (UNIMPLEMENTED, NOT_FOUND, CANCELLED…).
func codeReason(c codes.Code) string { return code.Code(c).String() }

// statusError is the one place that builds an RPC error: a canonical code,
// a message for people and an ErrorInfo for programs. Only the error
// translator (errors.go) calls it.
func statusError(code codes.Code, reason, msg string, metadata map[string]string) error {
	st := status.New(code, msg)
	withInfo, err := st.WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: ErrorDomain, Metadata: metadata})
	if err != nil {
		return st.Err()
	}
	return withInfo.Err()
}
