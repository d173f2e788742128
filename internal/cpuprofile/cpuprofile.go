// Package cpuprofile starts a CPU profile of the benchmarks' own process.
package cpuprofile

import (
	"os"
	"runtime/pprof"
)

// Start profiles this process into path until stop is called.
func Start(path string) (stop func() error, err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}
