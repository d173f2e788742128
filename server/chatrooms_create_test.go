package server

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/easemob"
)

// A request that waited on a create with its request_id gets that create's
// failure, and sends nothing: a create whose outcome is unknown may have
// made the room, and a second create would make another.
func TestCreateWaiterSharesAnUnknownOutcome(t *testing.T) {
	joined, started, release := make(chan struct{}), make(chan struct{}), make(chan struct{})
	c := &createCache{joined: func() { close(joined) }}
	var calls atomic.Int32
	lost := fmt.Errorf("connection closed after the request was sent: %w", easemob.ErrOutcomeUnknown)
	create := func(context.Context) (string, error) {
		if calls.Add(1) == 1 {
			close(started)
		}
		<-release
		return "", lost
	}
	req := &imbridgev1.CreateChatroomRequest{Parent: roomsApp, RequestId: "k-1", Chatroom: &imbridgev1.Chatroom{DisplayName: "once"}}
	errs := make(chan error, 2)
	go func() { _, err := c.do(t.Context(), req, create); errs <- err }()
	<-started
	go func() { _, err := c.do(t.Context(), req, create); errs <- err }()
	<-joined
	close(release)
	for range 2 {
		if err := <-errs; !errors.Is(err, easemob.ErrOutcomeUnknown) {
			t.Errorf("do: %v, want the create's unknown outcome", err)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d creates sent for one request_id, want 1", n)
	}
	// Forgotten once it failed: the caller, having checked, may try again.
	release = make(chan struct{})
	close(release)
	if _, err := c.do(t.Context(), req, create); !errors.Is(err, easemob.ErrOutcomeUnknown) || calls.Load() != 2 {
		t.Errorf("a later request with the key: %v after %d creates, want a new create", err, calls.Load())
	}
}
