//go:build !linux

package main

import "time"

// processCPU is not measured on this system; reports show –.
func processCPU() time.Duration { return 0 }

// machineCPU is not measured on this system; reports show –.
func machineCPU() (busy, total uint64, cpus int) { return 0, 0, 0 }

// offHeap returns n zeroed bytes (on the heap, on this system).
func offHeap(n int) []byte { return make([]byte, n) }

func pidCPU(int) time.Duration { return 0 }
