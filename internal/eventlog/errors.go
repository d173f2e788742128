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

// CorruptEventError is ErrCorrupt for the event stored at Cursor: a stream
// that met it can resume after it, passing it over.
type CorruptEventError struct {
	Cursor uint64
	err    error // wraps ErrCorrupt
}

func (e *CorruptEventError) Error() string { return fmt.Sprintf("%v (cursor %d)", e.err, e.Cursor) }

func (e *CorruptEventError) Unwrap() error { return e.err }

// CursorExpiredError: a stream asked to resume after a cursor whose next
// events retention already dropped. Oldest is the oldest event kept.
type CursorExpiredError struct{ After, Oldest uint64 }

func (e *CursorExpiredError) Error() string {
	return fmt.Sprintf("eventlog: events after cursor %d were dropped by retention; the oldest kept is %d", e.After, e.Oldest)
}

// EpochMismatchError: a stream asked to resume after a cursor of another
// log: Got is the epoch the caller gave ("" when it gave none and the
// cursor lies past this log's head), Epoch this log's, Head its newest
// cursor.
type EpochMismatchError struct {
	After      uint64
	Got, Epoch string
	Head       uint64
}

func (e *EpochMismatchError) Error() string {
	if e.Got != "" && e.Got != e.Epoch {
		return fmt.Sprintf("eventlog: cursor %d belongs to log epoch %q, not this log's %q", e.After, e.Got, e.Epoch)
	}
	return fmt.Sprintf("eventlog: cursor %d is past the head %d of this log (epoch %q): it belongs to another log", e.After, e.Head, e.Epoch)
}

// Errors of shared subscriptions.
var (
	// ErrSubscriptionNotFound: no subscription has that name.
	ErrSubscriptionNotFound = errors.New("eventlog: subscription not found")
	// ErrSubscriptionExists: a subscription of that name exists.
	ErrSubscriptionExists = errors.New("eventlog: subscription already exists")
)
