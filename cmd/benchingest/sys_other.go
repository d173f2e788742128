//go:build !linux

package main

import "time"

// processCPU is not measured on this system; reports show –.
func processCPU() time.Duration { return 0 }

// offHeap returns n zeroed bytes (on the heap, on this system).
func offHeap(n int) []byte { return make([]byte, n) }
