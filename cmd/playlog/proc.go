package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// What the load tools read of the server processes they measure (-pid):
// CPU time and resident memory, from /proc.

// pidList is the -pid flag: repeatable, each a comma-separated list.
type pidList []int

func (l *pidList) String() string { return fmt.Sprint([]int(*l)) }

func (l *pidList) Set(s string) error {
	for _, f := range strings.Split(s, ",") {
		pid, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || pid <= 0 {
			return fmt.Errorf("not a process id: %q", f)
		}
		*l = append(*l, pid)
	}
	return nil
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's CPU times: 100 on
// every Linux this runs on.
const clockTicks = 100

// readCPU returns the CPU time (user and system) that process pid and its
// children have used: its own, its reaped children's (which the kernel
// adds to it when it waits for them: cutime, cstime), and its live
// children's, whenever they were started. So a PostgreSQL postmaster's
// pid counts every backend and worker, those forked during a measurement
// and those gone by its end; list a parent, not its children as well.
func readCPU(pid int) (time.Duration, error) {
	st, err := readStat(pid)
	if err != nil {
		return 0, err
	}
	ticks := st.self + st.children
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil || child == pid {
			continue
		}
		if cs, err := readStat(child); err == nil && cs.ppid == pid {
			ticks += cs.self + cs.children // gone meanwhile: in pid's cutime soon
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// procStat is what readCPU takes of /proc/PID/stat, in clock ticks.
type procStat struct {
	ppid     int
	self     int64 // utime + stime
	children int64 // cutime + cstime: its children that it has reaped
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	// pid (comm) state ppid ...: comm may hold spaces and parentheses, so
	// count fields after its last ')'. ppid is field 4, utime to cstime
	// fields 14 to 17.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	var n [5]int64
	for k, field := range []string{f[1], f[11], f[12], f[13], f[14]} {
		if n[k], err = strconv.ParseInt(field, 10, 64); err != nil {
			return procStat{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
		}
	}
	return procStat{ppid: int(n[0]), self: n[1] + n[2], children: n[3] + n[4]}, nil
}

// readRSS returns process pid's resident set size in bytes.
func readRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
}

// readFileLimit returns process pid's soft limit of open files, or 0 if it
// has none.
func readFileLimit(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/limits")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "Max open files"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 && f[0] == "unlimited" {
				return 0, nil
			}
			if len(f) > 0 {
				return strconv.ParseUint(f[0], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("/proc/%d/limits: no Max open files", pid)
}
