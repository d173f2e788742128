package main

import (
	"syscall"
	"time"
)

// processCPU is the user and system CPU time this process has used, from
// getrusage: exact, where /proc counts whole clock ticks.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// offHeap returns n zeroed bytes the garbage collector does not manage, so
// the pregenerated bodies are no ballast for the servers' collections;
// mapped says whether releaseOffHeap must unmap them (false: the mapping
// failed and they are on the heap).
func offHeap(n int) (b []byte, mapped bool) {
	if n == 0 {
		return nil, false
	}
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]byte, n), false
	}
	return b, true
}

// releaseOffHeap returns what offHeap mapped.
func releaseOffHeap(b []byte, mapped bool) {
	if mapped {
		_ = syscall.Munmap(b[:cap(b)])
	}
}
