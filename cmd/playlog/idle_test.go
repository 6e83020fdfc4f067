package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/playlog/playlog/gateway"
)

// TestIdleAgainstARealServer holds 200 idle connections, players of 100
// games, on an in-process server, measuring this very process (server and
// client both), and checks the JSON report.
func TestIdleAgainstARealServer(t *testing.T) {
	if _, err := raiseFileLimit(); err != nil { // server and client: 400 sockets
		t.Fatal(err)
	}
	url, secretFile := benchServer(t, gateway.Config{})
	start := time.Now()
	code, stdout, stderr := runCLI(t, nil, "idle", "-url", url, "-conns", "200", "-games", "100", "-hold", "500ms",
		"-secret-file", secretFile, "-pid", strconv.Itoa(os.Getpid()), "-json")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("the run took %v", took)
	}
	var rep idleReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("report %q: %v", stdout, err)
	}
	if rep.GamesCreated != 100 || rep.Joined != 200 || rep.Failed != 0 {
		t.Errorf("%d games created, %d joined, %d failed (%+v, %+v); want 100, 200, 0", rep.GamesCreated, rep.Joined, rep.Failed, rep.GameErrors, rep.ConnErrors)
	}
	if n := rep.Dropped.total() + rep.ResignErrors.total(); n > 0 {
		t.Errorf("dropped %+v, resign errors %+v", rep.Dropped, rep.ResignErrors)
	}
	if l := rep.Join; l.N != 200 || l.P50 <= 0 || l.P50 > l.P99 || l.P99 > l.Max {
		t.Errorf("join %+v: want 200 samples and 0 < p50 <= p99 <= max", l)
	}
	if rep.AllJoinedTime <= 0 || rep.AllJoinedTime > rep.ConnectTime || rep.CreateTime <= 0 {
		t.Errorf("all joined after %vs, connect phase %vs, create %vs", rep.AllJoinedTime, rep.ConnectTime, rep.CreateTime)
	}
	if len(rep.Processes) != 1 {
		t.Fatalf("processes %+v, want this one", rep.Processes)
	}
	p := rep.Processes[0]
	if p.PID != os.Getpid() || p.RSSStart <= 0 || p.RSSGames <= 0 || p.RSSJoined <= 0 || p.RSSHeld <= 0 || p.CPU.Total <= 0 {
		t.Errorf("process %+v: want RSS figures and CPU time", p)
	}
	if want := float64(p.RSSHeld-p.RSSGames) / 1024 / 200; p.KBPerConn != want {
		t.Errorf("%v KB/connection, want (held - games) / 200 = %v", p.KBPerConn, want)
	}
	assertIdleStopped(t)
}

// assertIdleStopped fails if a goroutine of the run outlived it: readers,
// dialers, idle REST connections.
func assertIdleStopped(t *testing.T) {
	t.Helper()
	var stacks string
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		buf := make([]byte, 1<<20)
		stacks = string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "main.(*idleRun)") && !strings.Contains(stacks, "main.each") &&
			!strings.Contains(stacks, "net/http.(*persistConn)") {
			return
		}
	}
	t.Errorf("idle goroutines still running after it returned:\n%s", stacks)
}

func TestIdleText(t *testing.T) {
	url, secretFile := benchServer(t, gateway.Config{})
	code, stdout, stderr := runCLI(t, nil, "idle", "-url", url, "-conns", "3", "-hold", "0s",
		"-secret-file", secretFile, "-pid", strconv.Itoa(os.Getpid()))
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"3 connections", "2 created", "3 joined, 0 failed", "all joined in", "join ", "dropped          none",
		"pid " + strconv.Itoa(os.Getpid()), "KB/connection", "cpu "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
}

// TestIdleRefusesOtherMachines checks that a -url off loopback is refused
// before any connection, even one that would reach this machine: 0.0.0.0
// dials a local listener.
func TestIdleRefusesOtherMachines(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	for _, u := range []string{"http://0.0.0.0:" + port, "http://10.1.2.3:8080", "http://example.com", "http://127.0.0.1.nip.io:" + port, "http://[::ffff:10.1.2.3]:8080"} {
		start := time.Now()
		code, stdout, stderr := runCLI(t, nil, "idle", "-url", u, "-conns", "2", "-timeout", "1m", "-secret-file", "/nonexistent")
		if code != 2 || stdout != "" || !strings.Contains(stderr, "not this machine's loopback") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 2 and a refusal", u, code, stdout, stderr)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("%s: refused after %v", u, took)
		}
	}
	if n := accepted.Load(); n > 0 {
		t.Errorf("%d connections reached the local listener", n)
	}
}

func TestIdleBadFlags(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secretFile, []byte("0123456789abcdef0123456789abcdef"), 0o600)
	for _, args := range [][]string{
		{"-no-such-flag"},
		{"extra"},
		{"-conns", "0"},
		{"-conns", strconv.Itoa(maxIdleConns + 1)},
		{"-conns", "10", "-games", "4"},  // a game has two players
		{"-conns", "10", "-games", "11"}, // a game without a connection
		{"-games", "-1"},
		{"-concurrency", "0"},
		{"-concurrency", strconv.Itoa(maxIdleConcurrency + 1)},
		{"-hold", "-1s"},
		{"-hold", "2h"},
		{"-within", "0s"},
		{"-within", "1h"},
		{"-timeout", "0s"},
		{"-timeout", "2m"},
		{"-pid", "abc"},
		{"-pid", "0"},
		{"-url", "ftp://127.0.0.1:21"},
		{"-url", "http://127.0.0.1:8080/v1"},
		{"-secret-file", filepath.Join(t.TempDir(), "missing")},
	} {
		args := append([]string{"idle", "-url", "http://127.0.0.1:1", "-conns", "10", "-secret-file", secretFile}, args...)
		if code, stdout, stderr := runCLI(t, nil, args...); code != 2 || stderr == "" || stdout != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2", args, code, stdout, stderr)
		}
	}
	if code, stdout, _ := runCLI(t, nil, "help", "idle"); code != 0 || !strings.Contains(stdout, "-conns") {
		t.Errorf("help idle: exit %d, %q", code, stdout)
	}
	// A server that is not there is a failure, not bad usage.
	if code, _, stderr := runCLI(t, nil, "idle", "-url", "http://127.0.0.1:1", "-conns", "2", "-secret-file", secretFile); code != 1 || !strings.Contains(stderr, "no playlogd") {
		t.Errorf("no server: exit %d, %q; want 1", code, stderr)
	}
}

func TestIdleFileLimit(t *testing.T) {
	if err := checkFileLimit(20000+64+idleFileSlack, 20000, 64); err != nil {
		t.Errorf("exactly enough: %v", err)
	}
	err := checkFileLimit(1024, 20000, 64)
	if err == nil || !strings.Contains(err.Error(), "may open 1024 files") || !strings.Contains(err.Error(), "room for 928 connections") {
		t.Errorf("1024 files for 20000 connections: %v", err)
	}
	if err := checkFileLimit(50, 20000, 64); err == nil || !strings.Contains(err.Error(), "room for 0 connections") {
		t.Errorf("50 files: %v", err)
	}
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		t.Fatal(err)
	}
	if n, err := readFileLimit(os.Getpid()); err != nil || n != l.Cur {
		t.Errorf("readFileLimit of this process: %d, %v; want %d", n, err, l.Cur)
	}
}
