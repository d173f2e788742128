package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on every
// Linux architecture Go runs on.
const clockTicks = 100

// procTicks is the user plus system CPU time of process pid, in clock
// ticks, from /proc/<pid>/stat; false if it cannot be read.
func procTicks(pid int) (uint64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after its closing parenthesis, where the state is the first.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	return utime + stime, err1 == nil && err2 == nil
}

// machineTicks is the busy and total time of all the machine's CPUs, in
// clock ticks, and their number, from /proc/stat; zeros if unreadable.
func machineTicks() (busy, total uint64, cpus int) {
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
			// user nice system idle iowait irq softirq steal: idle and
			// iowait are not busy; guest time is already in user.
			for i, v := range strings.Fields(rest) {
				if i == 8 {
					break
				}
				n, _ := strconv.ParseUint(v, 10, 64)
				total += n
				if i != 3 && i != 4 {
					busy += n
				}
			}
		case strings.HasPrefix(name, "cpu"):
			cpus++
		}
	}
	return busy, total, cpus
}

// procStatus is the named fields of /proc/<pid>/status, their values
// trimmed; nil if it cannot be read.
func procStatus(pid int, names ...string) map[string]string {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil
	}
	defer f.Close()
	out := make(map[string]string, len(names))
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		for _, n := range names {
			if ok && k == n {
				out[n] = strings.TrimSpace(v)
			}
		}
	}
	return out
}

// readMemory is VmRSS and VmHWM of process pid, in bytes.
func readMemory(pid int) (rss, hwm int64, err error) {
	st := procStatus(pid, "VmRSS", "VmHWM")
	kb := func(name string) int64 {
		n, perr := strconv.ParseInt(strings.TrimSuffix(st[name], " kB"), 10, 64)
		if perr != nil && err == nil {
			err = fmt.Errorf("/proc/%d/status: no %s", pid, name)
		}
		return n << 10
	}
	return kb("VmRSS"), kb("VmHWM"), err
}

// allowedCPUs is the cores process pid may run on (Cpus_allowed_list),
// or "?".
func allowedCPUs(pid int) string {
	if v := procStatus(pid, "Cpus_allowed_list")["Cpus_allowed_list"]; v != "" {
		return v
	}
	return "?"
}
