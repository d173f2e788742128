//go:build !linux

package main

import "time"

// processCPU is not measured on this system; reports show –.
func processCPU() time.Duration { return 0 }

// offHeap returns n zeroed bytes (on the heap, on this system).
func offHeap(n int) ([]byte, bool) { return make([]byte, n), false }

// releaseOffHeap leaves b to the garbage collector on this system.
func releaseOffHeap([]byte, bool) {}
