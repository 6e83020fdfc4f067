package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/internal/testkit/testnode"
)

// benchServer starts a playlogd in the test's process, wired as
// cmd/playlogd wires it (testnode: embedded JetStream in a temporary
// directory, the standard games, the hub, the gateway), on a loopback
// port. It returns the server's URL and a file holding its JWT secret.
func benchServer(t *testing.T, cfg gateway.Config) (url, secretFile string) {
	t.Helper()
	dir := t.TempDir()
	secretFile = filepath.Join(dir, "jwt-secret")
	if err := os.WriteFile(secretFile, append(append([]byte(nil), testnode.JWTSecret...), '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := jetstream.Open(context.Background(), jetstream.Config{Dir: filepath.Join(dir, "log")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() }) // after the node's own cleanup
	return testnode.Start(t, store, store.Bus("presence"), cfg).URL, secretFile
}

func TestBenchAgainstARealServer(t *testing.T) {
	for _, tt := range []struct {
		name  string
		flags []string
	}{
		{"a new connection per player per game", nil},
		{"one connection per player", []string{"-reuse"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// The default rate limit (20 messages/s) would refuse a reused
			// connection's moves: this measures the server, not its limit.
			url, secretFile := benchServer(t, gateway.Config{MessagesPerSecond: 10000, Burst: 10000})
			args := append([]string{"bench", "-url", url, "-games", "4", "-duration", "2s", "-warmup", "500ms",
				"-secret-file", secretFile, "-pid", strconv.Itoa(os.Getpid()), "-json"}, tt.flags...)
			start := time.Now()
			code, stdout, stderr := runCLI(t, nil, args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
			}
			if took := time.Since(start); took > 2500*time.Millisecond+benchDrain+5*time.Second {
				t.Errorf("the run took %v", took)
			}
			var rep benchReport
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatalf("report %q: %v", stdout, err)
			}
			if rep.Moves == 0 || rep.GamesCompleted == 0 || rep.MovesPerSecond <= 0 {
				t.Errorf("moves %d, games completed %d, moves/s %v", rep.Moves, rep.GamesCompleted, rep.MovesPerSecond)
			}
			if len(rep.Errors) > 0 || rep.WarmupErrors > 0 {
				t.Errorf("errors %v (%v), %d in the warmup", rep.Errors, rep.Examples, rep.WarmupErrors)
			}
			for name, l := range map[string]latency{"action_result": rep.ActionResult, "opponent_event": rep.OpponentEvent, "join": rep.Join} {
				if l.N == 0 || l.P50 <= 0 || l.P50 > l.P99 || l.P99 > l.Max {
					t.Errorf("%s: %+v, want samples and 0 < p50 <= p99 <= max", name, l)
				}
			}
			if rep.ActionResult.N != rep.Moves {
				t.Errorf("%d action_result samples for %d moves", rep.ActionResult.N, rep.Moves)
			}
			if len(rep.Processes) != 1 || rep.Processes[0].PID != os.Getpid() ||
				rep.Processes[0].CPUSeconds <= 0 || rep.Processes[0].RSSBytes <= 0 || rep.CPUPerMove <= 0 {
				t.Errorf("processes %+v, cpu µs/move %v", rep.Processes, rep.CPUPerMove)
			}
			assertBenchStopped(t)
		})
	}
}

// assertBenchStopped fails if a goroutine of the bench outlived its run:
// players, WebSocket readers, idle REST connections.
func assertBenchStopped(t *testing.T) {
	t.Helper()
	var stacks string
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		buf := make([]byte, 1<<20)
		stacks = string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "main.(*slot)") && !strings.Contains(stacks, "client.(*Client).read") &&
			!strings.Contains(stacks, "net/http.(*persistConn)") {
			return
		}
	}
	t.Errorf("bench goroutines still running after it returned:\n%s", stacks)
}

func TestBenchText(t *testing.T) {
	url, secretFile := benchServer(t, gateway.Config{})
	code, stdout, stderr := runCLI(t, nil, "bench", "-url", url, "-games", "2", "-duration", "1s", "-warmup", "0s",
		"-secret-file", secretFile, "-pid", strconv.Itoa(os.Getpid())+","+strconv.Itoa(os.Getpid()))
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"moves", "action_result", "opponent event", "join", "errors           none", "pid " + strconv.Itoa(os.Getpid()), "all pids"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
}

func TestBenchRefusesOtherMachines(t *testing.T) {
	for _, u := range []string{
		"http://10.1.2.3:8080", "http://example.com", "http://127.0.0.1.nip.io:8080", "http://[fe80::1]:8080",
		"http://0.0.0.0:8080", "http://localhost.example.com", "http://[::ffff:10.1.2.3]:8080",
	} {
		start := time.Now()
		// A connection attempt to an unroutable address would take the
		// whole timeout; the refusal comes before any.
		code, stdout, stderr := runCLI(t, nil, "bench", "-url", u, "-timeout", "1m", "-secret-file", "/nonexistent")
		if code != 2 || stdout != "" || !strings.Contains(stderr, "not this machine's loopback") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 2 and a refusal", u, code, stdout, stderr)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("%s: refused after %v", u, took)
		}
	}
	for _, u := range []string{"http://localhost:1", "http://127.9.9.9:1", "http://[::1]:1", "https://[::ffff:127.0.0.1]:1"} {
		if _, err := loopbackURL(u); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	// Whatever a name resolves to, the dialers connect only to loopback.
	for addr, ok := range map[string]bool{"127.0.0.1:80": true, "[::1]:80": true, "10.1.2.3:80": false, "[2001:db8::1]:80": false, "localhost:80": false} {
		if err := loopbackOnly("tcp", addr, nil); (err == nil) != ok {
			t.Errorf("dial %s: %v", addr, err)
		}
	}
}

func TestBenchBadFlags(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secretFile, []byte("0123456789abcdef0123456789abcdef"), 0o600)
	for _, args := range [][]string{
		{"-no-such-flag"},
		{"extra"},
		{"-games", "0"},
		{"-games", strconv.Itoa(maxBenchGames + 1)},
		{"-duration", "0s"},
		{"-warmup", "-1s"},
		{"-duration", "2h"},
		{"-timeout", "0s"},
		{"-pid", "abc"},
		{"-pid", "0"},
		{"-url", "ftp://127.0.0.1:21"},
		{"-url", "http://127.0.0.1:8080/v1"},
		{"-secret-file", filepath.Join(t.TempDir(), "missing")},
	} {
		args := append([]string{"bench", "-url", "http://127.0.0.1:1", "-secret-file", secretFile}, args...)
		if code, stdout, stderr := runCLI(t, nil, args...); code != 2 || stderr == "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2", args, code, stdout, stderr)
		}
	}
	if code, stdout, _ := runCLI(t, nil, "help", "bench"); code != 0 || !strings.Contains(stdout, "-reuse") {
		t.Errorf("help bench: exit %d, %q", code, stdout)
	}
	// A server that is not there is a failure, not bad usage.
	if code, _, stderr := runCLI(t, nil, "bench", "-url", "http://127.0.0.1:1", "-secret-file", secretFile); code != 1 || !strings.Contains(stderr, "no playlogd") {
		t.Errorf("no server: exit %d, %q; want 1", code, stderr)
	}
}

func TestBenchQuantile(t *testing.T) {
	var s samples
	for i := 100; i >= 1; i-- {
		s.add(time.Duration(i)*time.Millisecond, nil)
	}
	if l := s.latency(); l != (latency{N: 100, P50: 50, P99: 99, Max: 100}) {
		t.Errorf("1..100 ms: %+v", l)
	}
	if l := (&samples{}).latency(); l != (latency{}) {
		t.Errorf("no samples: %+v", l)
	}
}
