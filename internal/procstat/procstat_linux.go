package procstat

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on every
// Linux architecture Go runs on.
const clockTicks = 100

// CPU is the user plus system CPU time process pid has used, from
// /proc/<pid>/stat; false if it cannot be read.
func CPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after its closing parenthesis, where the state is the first.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * (time.Second / clockTicks), true
}

// Machine is the busy and total time of all the machine's CPUs together,
// in clock ticks (only their ratio means anything), and how many CPUs
// there are, from /proc/stat; zeros if it cannot be read.
func Machine() (busy, total uint64, cpus int) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, _ := strings.Cut(sc.Text(), " ")
		switch {
		case name == "cpu":
			// user nice system idle iowait irq softirq steal ...: idle
			// and iowait are not busy; guest time is already in user.
			for i, v := range strings.Fields(rest) {
				if i == 8 {
					break
				}
				n, err := strconv.ParseUint(v, 10, 64)
				if err != nil {
					return 0, 0, 0
				}
				total += n
				if i != 3 && i != 4 {
					busy += n
				}
			}
		case strings.HasPrefix(name, "cpu"):
			cpus++
		}
	}
	if sc.Err() != nil {
		return 0, 0, 0
	}
	return busy, total, cpus
}

// Memory is VmRSS and VmHWM (the peak RSS) of process pid, in bytes.
func Memory(pid int) (rss, hwm int64, err error) {
	st := status(pid, "VmRSS", "VmHWM")
	kb := func(name string) int64 {
		n, perr := strconv.ParseInt(strings.TrimSuffix(st[name], " kB"), 10, 64)
		if perr != nil && err == nil {
			err = fmt.Errorf("/proc/%d/status: no %s", pid, name)
		}
		return n << 10
	}
	return kb("VmRSS"), kb("VmHWM"), err
}

// AllowedCPUs is the cores process pid may run on (Cpus_allowed_list,
// such as "0-3,8"), or "?".
func AllowedCPUs(pid int) string {
	if v := status(pid, "Cpus_allowed_list")["Cpus_allowed_list"]; v != "" {
		return v
	}
	return "?"
}

// status is the named fields of /proc/<pid>/status, their values
// trimmed; nil if it cannot be read.
func status(pid int, names ...string) map[string]string {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil
	}
	defer f.Close()
	out := make(map[string]string, len(names))
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		for _, n := range names {
			if k == n {
				out[n] = strings.TrimSpace(v)
			}
		}
	}
	return out
}
