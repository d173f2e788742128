package procstat

import (
	"os"
	"runtime"
	"testing"
	"time"
)

func TestSelf(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("procstat reads /proc, which only Linux has")
	}
	pid := os.Getpid()

	// Burn CPU until /proc shows at least one clock tick of it (a tick is
	// 10ms; give up after a few seconds of wall time).
	var cpu time.Duration
	var ok bool
	sink := 0
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		for i := range 1_000_000 {
			sink += i * i
		}
		if cpu, ok = CPU(pid); !ok || cpu > 0 {
			break
		}
	}
	if !ok || cpu <= 0 {
		t.Errorf("CPU(%d) = %v, %v after busy work (sink %d); want > 0, true", pid, cpu, ok, sink)
	}

	rss, hwm, err := Memory(pid)
	if err != nil || rss <= 0 || hwm < rss {
		t.Errorf("Memory(%d) = %d, %d, %v; want rss > 0, hwm >= rss, nil", pid, rss, hwm, err)
	}

	busy, total, cpus := Machine()
	if cpus < 1 || busy > total || total == 0 {
		t.Errorf("Machine() = %d, %d, %d; want cpus >= 1, 0 < total, busy <= total", busy, total, cpus)
	}

	if s := AllowedCPUs(pid); s == "" || s == "?" {
		t.Errorf("AllowedCPUs(%d) = %q; want a core list", pid, s)
	}

	if _, ok := CPU(-1); ok {
		t.Error("CPU(-1) succeeded")
	}
	if _, _, err := Memory(-1); err == nil {
		t.Error("Memory(-1) succeeded")
	}
	if s := AllowedCPUs(-1); s != "?" {
		t.Errorf("AllowedCPUs(-1) = %q; want ?", s)
	}
}
