//go:build !linux

package procstat

import (
	"errors"
	"time"
)

// CPU is not measured on this system.
func CPU(int) (time.Duration, bool) { return 0, false }

// Machine is not measured on this system.
func Machine() (busy, total uint64, cpus int) { return 0, 0, 0 }

// Memory is not measured on this system.
func Memory(int) (rss, hwm int64, err error) {
	return 0, 0, errors.New("memory is read from /proc, which this system lacks")
}

// AllowedCPUs is not known on this system.
func AllowedCPUs(int) string { return "?" }
