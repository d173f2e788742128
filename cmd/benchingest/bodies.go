package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"golang.org/x/sync/errgroup"

	"github.com/imbridge/imbridge/internal/trigger"
)

// bodySet is a run of request bodies stored back to back: body i is
// data[off[i]:off[i+1]].
type bodySet struct {
	data []byte
	off  []int
}

func (s bodySet) len() int { return len(s.off) - 1 }

func (s bodySet) at(i int) []byte { return s.data[s.off[i]:s.off[i+1]:s.off[i+1]] }

// sub is bodies lo to hi-1, sharing the storage.
func (s bodySet) sub(lo, hi int) bodySet { return bodySet{data: s.data, off: s.off[lo : hi+1]} }

// generate builds n signed chat:txt bodies, each with its own callId, on
// every core at once, and packs them outside the garbage-collected heap.
func generate(n int, o trigger.Options) (bodySet, error) {
	built := make([][]byte, n)
	workers := runtime.GOMAXPROCS(0)
	chunk := (n + workers - 1) / workers
	var g errgroup.Group
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		g.Go(func() error {
			for i := lo; i < hi; i++ {
				b, err := trigger.Build("chat:txt", o)
				if err != nil {
					return err
				}
				if len(b) != 1 {
					return fmt.Errorf("chat:txt built %d bodies, want 1", len(b))
				}
				built[i] = b[0]
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return bodySet{}, err
	}
	s := bodySet{off: make([]int, n+1)}
	for i, b := range built {
		s.off[i+1] = s.off[i] + len(b)
	}
	s.data = offHeap(s.off[n])
	for i, b := range built {
		copy(s.data[s.off[i]:], b)
	}
	built = nil
	debug.FreeOSMemory() // drop the generation's garbage before anything is timed
	return s, nil
}
