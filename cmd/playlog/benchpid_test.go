package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/playlog/playlog/gateway"
)

// A -pid counts its children: those it forked and reaped during the
// window (a PostgreSQL postmaster's backends and autovacuum workers),
// which the kernel adds to its cutime, and those still running. A parent
// that only sleeps while its child does fixed work inside the window is
// measured at the child's CPU, not at its own idle nothing.
func TestBenchPidCountsItsChildren(t *testing.T) {
	url, secretFile := benchServer(t, gateway.Config{MessagesPerSecond: 10000, Burst: 10000})
	parent := exec.Command("sh", "-c", "sleep 1; sh -c 'i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done'; sleep 30")
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { parent.Process.Kill(); parent.Wait() }()
	code, stdout, stderr := runCLI(t, nil, "bench", "-url", url, "-games", "2", "-duration", "6s", "-warmup", "500ms",
		"-secret-file", secretFile, "-pid", strconv.Itoa(parent.Process.Pid), "-json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep benchReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("report %q: %v", stdout, err)
	}
	// What the child used, as the kernel has added it to the parent by now.
	st, err := readStat(parent.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	child := time.Duration(st.children) * time.Second / clockTicks
	if child < 100*time.Millisecond {
		t.Fatalf("the child used %v: it did not run within the window, the test tests nothing", child)
	}
	if got := time.Duration(rep.Processes[0].CPUSeconds * float64(time.Second)); got < child-20*time.Millisecond {
		t.Fatalf("a parent whose child used %v in the window: %v of CPU", child, got)
	}
}

// A -pid that ends during the window is reported as not measured and left
// out of the total: a difference with its zero read at the end counted
// minus all the CPU it had ever used.
func TestBenchPidEndingInTheWindow(t *testing.T) {
	url, secretFile := benchServer(t, gateway.Config{MessagesPerSecond: 10000, Burst: 10000})
	child := exec.Command("sh", "-c", "while :; do :; done")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(2 * time.Second) // warmup 1.5 s, then 2 s measured
		child.Process.Kill()
		child.Wait()
	}()
	self := os.Getpid()
	code, stdout, stderr := runCLI(t, nil, "bench", "-url", url, "-games", "2", "-duration", "2s", "-warmup", "1500ms",
		"-secret-file", secretFile, "-pid", strconv.Itoa(self)+","+strconv.Itoa(child.Process.Pid), "-json")
	var rep benchReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("report %q: %v", stdout, err)
	}
	if code != 1 || len(rep.Processes) != 2 || !rep.Processes[1].Unmeasured || !rep.Incomplete ||
		rep.Processes[1].CPUSeconds != 0 || rep.CPUSeconds != rep.Processes[0].CPUSeconds {
		t.Fatalf("exit %d (stderr %q): %+v", code, stderr, rep)
	}
}
