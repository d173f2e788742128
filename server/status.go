package server

import (
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
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
	// names it (several, comma-separated, when a google.rpc.BadRequest
	// names each with what is wrong with it).
	ReasonInvalidArgument = "INVALID_ARGUMENT"
	// ReasonEventNotFound: no stored event has that cursor or call id;
	// metadata "cursor" or "call_id" repeats the one asked for.
	ReasonEventNotFound = "EVENT_NOT_FOUND"
	// ReasonEventCorrupt: a stored event cannot be decoded (DATA_LOSS).
	// Retrying will not help; metadata "cursor" or "call_id" names it
	// where known.
	ReasonEventCorrupt = "EVENT_CORRUPT"
	// ReasonCursorExpired: a stream's after_cursor is older than
	// retention (OUT_OF_RANGE); metadata "oldest_cursor" is the oldest
	// event kept, "after_cursor" the one asked for.
	ReasonCursorExpired = "CURSOR_EXPIRED"
	// ReasonEpochMismatch: a stream's after_cursor belongs to another log
	// (FAILED_PRECONDITION): another epoch, or past this log's head.
	// Metadata "epoch" is this log's, "head_cursor" its newest cursor.
	ReasonEpochMismatch = "EPOCH_MISMATCH"
	// ReasonSlowConsumer: a stream's client accepted no message for the
	// send timeout while its buffer was full (RESOURCE_EXHAUSTED); metadata
	// "last_cursor" is the last event handed to the connection.
	ReasonSlowConsumer = "SLOW_CONSUMER"
	// ReasonSubscriptionNotFound: no subscription has that name (NOT_FOUND).
	ReasonSubscriptionNotFound = "SUBSCRIPTION_NOT_FOUND"
	// ReasonSubscriptionExists: CreateSubscription named one that exists
	// (ALREADY_EXISTS).
	ReasonSubscriptionExists = "SUBSCRIPTION_EXISTS"
	// ReasonStoreUnavailable: the event log did not answer; retry.
	ReasonStoreUnavailable = "STORE_UNAVAILABLE"
	// ReasonDeadlineExceeded: the caller's deadline passed before the RPC
	// finished.
	ReasonDeadlineExceeded = "DEADLINE_EXCEEDED"
	// ReasonCancelled: the caller cancelled the RPC (google.rpc.Code
	// spells it CANCELLED).
	ReasonCancelled = "CANCELLED"

	// ReasonAppNotConfigured: the request names an app (orgs/{org}/apps/{app})
	// imbridge holds no Easemob credentials for (NOT_FOUND); nothing was
	// sent. Metadata "appkey" is the app key looked up.
	ReasonAppNotConfigured = "APP_NOT_CONFIGURED"
	// ReasonChatroomNotFound: a get named rooms Easemob did not return
	// (NOT_FOUND); metadata "chatrooms" lists their IDs.
	ReasonChatroomNotFound = "CHATROOM_NOT_FOUND"
	// ReasonChatroomUpdateRefused: Easemob refused some fields of an update
	// (FAILED_PRECONDITION); metadata "refused_fields" lists them, and
	// "updated_fields" those it changed all the same.
	ReasonChatroomUpdateRefused = "CHATROOM_UPDATE_REFUSED"
	// ReasonVendorRefused: Easemob answered 200 but declined the change for
	// the one user of the call (FAILED_PRECONDITION); metadata
	// "vendor_description" is its reason, "username" the user.
	ReasonVendorRefused = "VENDOR_REFUSED"
	// ReasonVendorUnavailable: Easemob could not be reached or kept
	// answering 5xx through imbridge's retries (UNAVAILABLE). Metadata
	// "outcome" is "unknown" when the call may have been applied.
	ReasonVendorUnavailable = "VENDOR_UNAVAILABLE"
	// ReasonVendorRateLimited: Easemob kept answering 429 through imbridge's
	// retries (RESOURCE_EXHAUSTED); retry with backoff.
	ReasonVendorRateLimited = "VENDOR_RATE_LIMITED"

	// Any other Easemob error answer has the vendor's own error type as its
	// reason, in UPPER_SNAKE (resource_not_found → RESOURCE_NOT_FOUND,
	// forbidden_op → FORBIDDEN_OP, MetadataException → METADATA_EXCEPTION),
	// with metadata "vendor_error", "vendor_description" and "vendor_status".
	// An answer without a type gets one of these, from its HTTP status:

	// ReasonVendorBadRequest: an Easemob 400 without an error type.
	ReasonVendorBadRequest = "VENDOR_BAD_REQUEST"
	// ReasonVendorUnauthorized: an Easemob 401 without an error type.
	ReasonVendorUnauthorized = "VENDOR_UNAUTHORIZED"
	// ReasonVendorForbidden: an Easemob 403 without an error type.
	ReasonVendorForbidden = "VENDOR_FORBIDDEN"
	// ReasonVendorNotFound: an Easemob 404 without an error type.
	ReasonVendorNotFound = "VENDOR_NOT_FOUND"
	// ReasonVendorError: an Easemob error answer without an error type and
	// of no status above.
	ReasonVendorError = "VENDOR_ERROR"
)

// codeReason is the reason of a status that carried none of ours: its
// code's google.rpc.Code name (UNIMPLEMENTED, NOT_FOUND, CANCELLED…).
func codeReason(c codes.Code) string { return code.Code(c).String() }

// statusError is the one place that builds an RPC error: a canonical code,
// a message for people and an ErrorInfo for programs. Only the error
// translator (errors.go) calls it.
func statusError(code codes.Code, reason, msg string, metadata map[string]string) error {
	return statusErrorWith(code, reason, msg, metadata)
}

// statusErrorWith is statusError with more details after the ErrorInfo
// (a google.rpc.BadRequest, say).
func statusErrorWith(code codes.Code, reason, msg string, metadata map[string]string, details ...protoadapt.MessageV1) error {
	st := status.New(code, msg)
	withInfo, err := st.WithDetails(append([]protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: reason, Domain: ErrorDomain, Metadata: metadata}}, details...)...)
	if err != nil {
		return st.Err()
	}
	return withInfo.Err()
}
