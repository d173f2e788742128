package main

import (
	"os"
	"slices"
	"sync"
	"time"

	"github.com/imbridge/imbridge/internal/procstat"
)

// serverPID, when not 0, is an imbridge in another process whose CPU each
// run also reports (-target-pid).
var serverPID int

// cpuSample is the CPU time used so far by this process, by serverPID and
// by the whole machine (busy and total, in clock ticks).
type cpuSample struct {
	at               time.Time
	self, server     time.Duration
	selfOK, serverOK bool
	busy, total      uint64
	cpus             int
}

func sampleCPU() cpuSample {
	s := cpuSample{at: time.Now()}
	s.self, s.selfOK = procstat.CPU(os.Getpid())
	if serverPID != 0 {
		s.server, s.serverOK = procstat.CPU(serverPID)
	}
	s.busy, s.total, s.cpus = procstat.Machine()
	return s
}

// cpuUse is the CPU used over a stretch of time, in cores: by this
// process, by the server process (-target-pid) and by the whole machine;
// -1 where not measured.
type cpuUse struct{ self, server, machine float64 }

func cpuBetween(a, b cpuSample) cpuUse {
	u := cpuUse{-1, -1, -1}
	wall := b.at.Sub(a.at).Seconds()
	if wall <= 0 {
		return u
	}
	cores := func(from, to time.Duration) float64 { return (to - from).Seconds() / wall }
	if a.selfOK && b.selfOK {
		u.self = cores(a.self, b.self)
	}
	if a.serverOK && b.serverOK {
		u.server = cores(a.server, b.server)
	}
	if b.total > a.total {
		u.machine = float64(b.busy-a.busy) / float64(b.total-a.total) * float64(b.cpus)
	}
	return u
}

// pct is the p-th percentile (0 to 100) of sorted durations, by nearest
// rank; 0 when there are none.
func pct(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(p/100*float64(n) + 0.999999)
	return sorted[max(0, min(n, rank)-1)]
}

// memSample is one reading of a process's memory.
type memSample struct {
	at       time.Duration // since the watch started
	phase    string
	rss, hwm int64 // bytes
}

// memWatch samples a process's memory at a fixed interval, noting the
// phase running.
type memWatch struct {
	pid   int
	start time.Time

	mu      sync.Mutex
	phase   string
	samples []memSample
	err     error

	quit chan struct{}
	done chan struct{}
}

func watchMemory(pid int, every time.Duration) *memWatch {
	m := &memWatch{pid: pid, start: time.Now(), phase: "start", quit: make(chan struct{}), done: make(chan struct{})}
	m.sample()
	go func() {
		defer close(m.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-m.quit:
				return
			case <-t.C:
				m.sample()
			}
		}
	}()
	return m
}

func (m *memWatch) sample() {
	rss, hwm, err := procstat.Memory(m.pid)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		if m.err == nil {
			m.err = err
		}
		return
	}
	m.samples = append(m.samples, memSample{at: time.Since(m.start), phase: m.phase, rss: rss, hwm: hwm})
}

// enter starts phase name, with a sample at its start.
func (m *memWatch) enter(name string) {
	m.mu.Lock()
	m.phase = name
	m.mu.Unlock()
	m.sample()
}

// memory is what a watch saw.
type memory struct {
	pid     int
	samples []memSample
	err     error // the first failed reading
}

// stop ends the watch with a last sample.
func (m *memWatch) stop() memory {
	close(m.quit)
	<-m.done
	m.sample()
	m.mu.Lock()
	defer m.mu.Unlock()
	return memory{pid: m.pid, samples: slices.Clone(m.samples), err: m.err}
}

// phaseMemory is the RSS of one phase: at its first sample, its highest,
// at its last.
type phaseMemory struct {
	name              string
	from, to          time.Duration
	first, peak, last int64
	samples           int
}

// byPhase summarises the samples phase by phase, in order.
func (m memory) byPhase() []phaseMemory {
	var out []phaseMemory
	for _, s := range m.samples {
		if len(out) == 0 || out[len(out)-1].name != s.phase {
			out = append(out, phaseMemory{name: s.phase, from: s.at, first: s.rss})
		}
		p := &out[len(out)-1]
		p.to, p.last, p.peak, p.samples = s.at, s.rss, max(p.peak, s.rss), p.samples+1
	}
	return out
}

// peak is the highest sampled RSS with its sample, and the last VmHWM.
func (m memory) peak() (top memSample, hwm int64) {
	for _, s := range m.samples {
		if s.rss > top.rss {
			top = s
		}
		hwm = max(hwm, s.hwm)
	}
	return top, hwm
}
