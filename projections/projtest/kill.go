package projtest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/playlog/playlog/eventstore"
)

// The child process's instructions, in its environment.
const (
	childEnv = "PROJTEST_CHILD" // mode: play or rebuild
	dataEnv  = "PROJTEST_DATA"  // KillBackend.Data
	argEnv   = "PROJTEST_ARG"   // play: the first game's number; rebuild: "reset" or ""
)

// IsChild reports whether this test binary runs as a kill test's child
// (TestMain may then skip starting servers the child does not need).
func IsChild() bool { return os.Getenv(childEnv) != "" }

// KillBackend opens a store and a history model on a data set named by a
// string (a directory, a database URL and schema), in the test's process
// or in a child that re-executes the test binary.
type KillBackend struct {
	// Data names the data set.
	Data string
	// Open opens a store and model on data; the store is closed by the
	// caller (a child never closes it: it is killed).
	Open Opener
	// ChildTest is the test function that calls Child.
	ChildTest string
}

// Opener opens a store and a history model on a data set.
type Opener func(t testing.TB, data string) (eventstore.Store, Model)

// Child is the body of the test named KillBackend.ChildTest. Run as a
// child, it plays games or rebuilds the history on the data set its parent
// names, printing a line "commit <position>" after each commit, until it
// is killed; otherwise it skips. It takes only the opener: a child must
// not make a data set of its own (a temporary directory, a schema) that
// nobody removes once it is killed.
func Child(t *testing.T, open Opener) {
	mode := os.Getenv(childEnv)
	if mode == "" {
		t.Skip("the body of a child process of the kill tests")
	}
	ctx := context.Background()
	s, m := open(t, os.Getenv(dataEnv))
	opts := Fast()
	opts.OnCommit = func(to eventstore.Position, _ int) { fmt.Fprintf(os.Stdout, "commit %s\n", to) }
	switch mode {
	case "play":
		go m.Run(ctx, s, opts)
		first, _ := strconv.Atoi(os.Getenv(argEnv))
		svc := Service(t, s)
		for i := first; ; i++ {
			PlayOne(ctx, svc, i)
		}
	case "rebuild":
		if os.Getenv(argEnv) == "reset" {
			if err := m.Reset(ctx); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(os.Stdout, "reset")
		}
		opts.MaxBatch = 16
		m.Run(ctx, s, opts)
	}
	t.Fatalf("child mode %q ended", mode)
}

// child is a running child process.
type child struct {
	cmd   *exec.Cmd
	lines chan string
}

func startChild(t *testing.T, kb KillBackend, mode, arg string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+kb.ChildTest+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, dataEnv+"="+kb.Data, argEnv+"="+arg)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, lines: make(chan string, 1024)}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case c.lines <- sc.Text():
			default: // nobody reads any more
			}
		}
	}()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return c
}

// waitCommits waits until the child has printed n commit lines.
func (c *child) waitCommits(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(2 * time.Minute)
	for seen := 0; seen < n; {
		select {
		case line, ok := <-c.lines:
			if !ok {
				t.Fatalf("the child exited after %d commits", seen)
			}
			if strings.HasPrefix(line, "commit ") {
				seen++
			}
		case <-timeout:
			t.Fatalf("the child made %d commits in 2 minutes, want %d", seen, n)
		}
	}
}

// kill sends SIGKILL and reaps the child.
func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	c.cmd.Wait()
}

// KillDuringPlay runs a child that plays games while its runner follows
// them, kills it with SIGKILL mid-stream, three times, each child resuming
// from the last one's checkpoint; then catches up in this process. The
// history holds every finished game of the log exactly once.
func KillDuringPlay(t *testing.T, kb KillBackend) {
	for round := range 3 {
		c := startChild(t, kb, "play", strconv.Itoa(round*100000))
		c.waitCommits(t, 15+5*round)
		c.kill(t)
	}
	ctx := ctxT(t)
	s, m := kb.Open(t, kb.Data)
	defer s.Close()
	end := CatchUp(t, ctx, s, m, Fast())
	want := Expected(t, ctx, s, end)
	finished := 0
	for _, g := range want {
		if g.Ended {
			finished++
		}
	}
	if finished < 10 {
		t.Fatalf("the children finished %d games; want at least 10", finished)
	}
	Check(t, ctx, m, want)
}

// KillDuringRebuild fills the log and the model, then rebuilds the model
// in a child killed with SIGKILL mid-rebuild, resumes the rebuild in
// another child killed the same way, and finishes it in this process: the
// history is as the log says, each game once.
func KillDuringRebuild(t *testing.T, kb KillBackend) {
	ctx := ctxT(t)
	s, m := kb.Open(t, kb.Data)
	Play(t, ctx, Service(t, s), 0, 120)
	end := CatchUp(t, ctx, s, m, Fast())
	s.Close()

	c := startChild(t, kb, "rebuild", "reset")
	c.waitCommits(t, 6)
	c.kill(t)
	s, m = kb.Open(t, kb.Data)
	cp, err := m.Checkpoint(ctx)
	if err != nil || cp == (eventstore.Position{}) || !cp.Less(end) {
		t.Fatalf("after the kill the checkpoint is %s (%v): want one inside the rebuild, before %s", cp, err, end)
	}
	s.Close()

	c = startChild(t, kb, "rebuild", "")
	c.waitCommits(t, 3)
	c.kill(t)
	s, m = kb.Open(t, kb.Data)
	defer s.Close()
	CatchUp(t, ctx, s, m, Fast())
	Check(t, ctx, m, Expected(t, ctx, s, end))
}
