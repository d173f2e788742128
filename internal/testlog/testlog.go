// Package testlog holds what tests need to read the logs of the code they
// run.
package testlog

import (
	"bytes"
	"sync"
)

// Buffer is a log destination that the code under test writes, from any
// goroutine, while the test reads it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
