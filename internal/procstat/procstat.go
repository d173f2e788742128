// Package procstat is what a benchmark reads about a process and the
// machine from Linux's /proc: a process's CPU time, memory and allowed
// cores, and the machine's CPU time. On other systems the functions
// report "not measured": false, zeros, an error or "?".
package procstat
