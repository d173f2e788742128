//go:build pprof

package main

import (
	"fmt"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"time"
)

// A binary built with -tags pprof serves Go's profiler on
// IMBRIDGE_PPROF_ADDR, a listener of its own, so that bench-ingest can
// profile imbridge running as a separate, pinned process (-imbridge with
// -cpuprofile). Release builds leave this file out: no profiler is ever
// reachable on a deployed bridge.
func init() {
	addr := os.Getenv("IMBRIDGE_PPROF_ADDR")
	if addr == "" {
		return
	}
	runtime.SetMutexProfileFraction(20)
	runtime.SetBlockProfileRate(int(20 * time.Microsecond))
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go func() {
		if err := http.ListenAndServe(addr, mux); err != nil {
			fmt.Fprintln(os.Stderr, "imbridge: pprof:", err)
		}
	}()
}
