// Package testwait waits in tests for a condition, by polling it within a
// bound, instead of sleeping: on a busy machine a sleep is too short, and a
// bound far above what the condition needs only turns a hang into a
// failure.
package testwait

import (
	"testing"
	"time"
)

// For calls f every interval until it returns nil, and fails the test with
// f's last error when timeout has passed.
func For(t testing.TB, timeout, interval time.Duration, f func() error) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		err := f()
		if err == nil {
			return
		}
		select {
		case <-deadline.C:
			t.Fatalf("condition not met after %v: %v", timeout, err)
		case <-tick.C:
		}
	}
}
