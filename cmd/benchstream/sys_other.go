//go:build !linux

package main

import "errors"

const clockTicks = 100

// procTicks is not measured on this system; reports show –.
func procTicks(int) (uint64, bool) { return 0, false }

// machineTicks is not measured on this system; reports show –.
func machineTicks() (busy, total uint64, cpus int) { return 0, 0, 0 }

// readMemory is not measured on this system.
func readMemory(int) (rss, hwm int64, err error) {
	return 0, 0, errors.New("memory is read from /proc, which this system lacks")
}

// allowedCPUs is not known on this system.
func allowedCPUs(int) string { return "?" }
