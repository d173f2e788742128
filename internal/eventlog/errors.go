package eventlog

import (
	"context"
	"errors"
	"fmt"
)

// The log's errors, which callers tell apart with errors.Is. Every error a
// Log method returns is one of these, a context error (the caller's ctx
// ended), or a misuse of the API (a bad Query, an empty call id).
var (
	// ErrNotFound: the log does not hold that event (never stored, or
	// dropped by retention).
	ErrNotFound = errors.New("eventlog: event not found")
	// ErrCorrupt: a stored message is not a readable event. Reading it again
	// will not help.
	ErrCorrupt = errors.New("eventlog: stored event is corrupt")
	// ErrUnavailable: the NATS server did not answer or refused the request
	// (disconnected, no responders, an API error). Retrying may help.
	ErrUnavailable = errors.New("eventlog: event log unavailable")
)

// unavailable marks an error of the NATS connection or server as
// ErrUnavailable, keeping the cause; context errors stay what they are, so
// that a caller's deadline is told apart from a broken log.
func unavailable(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrCorrupt) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}
