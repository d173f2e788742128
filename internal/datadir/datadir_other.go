//go:build !unix

package datadir

import (
	"errors"
	"runtime"
)

// Held is a locked data directory. Only unix systems can lock one.
type Held struct{}

// Lock refuses on systems without flock(2): imbridge runs on unix only,
// and an unlocked data directory is one two processes can corrupt.
func Lock(dir string) (*Held, error) {
	return nil, errors.New("data_dir: locking a data directory is supported on unix systems only, not " + runtime.GOOS)
}

// Release does nothing.
func (l *Held) Release() error { return nil }
