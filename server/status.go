package server

import (
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrorDomain is the google.rpc.ErrorInfo domain of every error imbridge
// returns.
const ErrorDomain = "imbridge.dev"

// Reasons carried in google.rpc.ErrorInfo; UPPER_SNAKE and stable, so that
// clients can branch on them.
const (
	// ReasonUnauthenticated: no bearer key, or one that is not configured.
	ReasonUnauthenticated = "UNAUTHENTICATED"
	// ReasonShuttingDown: the server is stopping; retry elsewhere or later.
	ReasonShuttingDown = "SHUTTING_DOWN"
	// ReasonInternal: a fault inside imbridge; the log has the details.
	ReasonInternal = "INTERNAL"
	// ReasonInvalidArgument: a request field is wrong; metadata "field"
	// names it.
	ReasonInvalidArgument = "INVALID_ARGUMENT"
	// ReasonEventNotFound: no stored event has that cursor or call id.
	ReasonEventNotFound = "EVENT_NOT_FOUND"
	// ReasonStoreUnavailable: the event log did not answer; retry.
	ReasonStoreUnavailable = "STORE_UNAVAILABLE"
)

// statusError is the one place that builds an RPC error: a canonical code,
// a message for people and an ErrorInfo for programs.
func statusError(code codes.Code, reason, msg string, metadata map[string]string) error {
	st := status.New(code, msg)
	withInfo, err := st.WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: ErrorDomain, Metadata: metadata})
	if err != nil {
		return st.Err()
	}
	return withInfo.Err()
}
