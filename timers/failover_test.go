package timers_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/replay"
	"github.com/playlog/playlog/timers"
)

// childEnv names the NATS server a child node of the failover tests uses.
const childEnv = "PLAYLOG_TIMERS_CHILD_NATS"

// runChild is a node in a process of its own: a command path and a timer
// service on the real clock. With PLAYLOG_TIMERS_CHILD_CREATE set it
// creates a timed game and prints its id; it prints "ready" once its
// service runs, then serves until it is killed.
func runChild() {
	s, err := jetstream.Open(context.Background(), jetstream.Config{URL: os.Getenv(childEnv)})
	if err != nil {
		panic(err)
	}
	p, err := play.New(play.Config{Store: s, Registry: games.Standard(), SeedSecret: secret})
	if err != nil {
		panic(err)
	}
	svc, err := timers.New(timers.Config{Store: s, Fire: func(ctx context.Context, game uuid.UUID, action json.RawMessage, id string) error {
		_, err := p.System(ctx, game, action, id)
		return err
	}})
	if err != nil {
		panic(err)
	}
	go svc.Run(context.Background())
	if os.Getenv("PLAYLOG_TIMERS_CHILD_CREATE") != "" {
		g, err := p.Create(context.Background(), "tictactoe", []string{"x", "o"}, json.RawMessage(`{"turn_timer":{"seconds":5,"timeouts_to_lose":1}}`), "x")
		if err != nil {
			panic(err)
		}
		os.Stdout.WriteString("game " + g.ID.String() + "\n")
	}
	for svc.Pending() == 0 && os.Getenv("PLAYLOG_TIMERS_CHILD_CREATE") != "" {
		time.Sleep(time.Millisecond)
	}
	os.Stdout.WriteString("ready\n")
	select {}
}

// child starts a node process on the parent's NATS server; it returns the
// process and the id of the game it created, if asked to.
func child(t *testing.T, url string, create bool) (*exec.Cmd, uuid.UUID) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+url)
	if create {
		cmd.Env = append(cmd.Env, "PLAYLOG_TIMERS_CHILD_CREATE=1")
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var game uuid.UUID
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if id, ok := strings.CutPrefix(line, "game "); ok {
			game = uuid.MustParse(id)
		}
		if line == "ready" {
			return cmd, game
		}
	}
	t.Fatalf("the child node stopped before it was ready: %v", sc.Err())
	return nil, uuid.Nil
}

// The node that created a timed game is killed (SIGKILL) while its
// deadline is pending; another node, in this process, fires it within a
// second of the deadline. (Embedded JetStream, the child node connecting
// to this process's server; the in-process restart test covers
// PostgreSQL.)
func TestFailoverAfterKill(t *testing.T) {
	s := serve(t)
	first, game := child(t, s.ClientURL(), true)
	survivor := startNode(t, s, realClock(t))
	waitFor(t, "the survivor to see the turn", func() bool { return survivor.timers.Pending() == 1 })
	first.Process.Kill()
	first.Wait()
	deadline := turnDeadline(t, survivor, game)
	waitFor(t, "the timeout", func() bool { k, _ := timeouts(t, s, game); return k == 1 })
	_, log := timeouts(t, s, game)
	if late := timeoutAt(log).Sub(deadline); late < 0 || late > time.Second {
		t.Fatalf("the survivor fired %v after the deadline", late)
	}
}

// A lone node is killed with a deadline pending; started again after the
// deadline, it fires it at once, and once.
func TestLoneNodeRestartedAfterItsDeadline(t *testing.T) {
	s := serve(t)
	lone, game := child(t, s.ClientURL(), true)
	lone.Process.Kill()
	lone.Wait()
	events, err := replay.ReadGame(context.Background(), s, game)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := games.Standard().GameOf(replay.EngineEvent(events[0]))
	st, err := g.Fold(replay.EngineEvents(events))
	if err != nil {
		t.Fatal(err)
	}
	turn, _ := st.Turn()
	time.Sleep(time.Until(turn.Deadline) + 300*time.Millisecond)
	if k, _ := timeouts(t, s, game); k != 0 {
		t.Fatalf("%d timeouts with no node running", k)
	}
	restarted := time.Now()
	child(t, s.ClientURL(), false)
	waitFor(t, "the restarted node's timeout", func() bool { k, _ := timeouts(t, s, game); return k == 1 })
	time.Sleep(300 * time.Millisecond)
	k, log := timeouts(t, s, game)
	if k != 1 {
		t.Fatalf("%d timeouts after the restart", k)
	}
	if after := timeoutAt(log).Sub(restarted); after > 2*time.Second {
		t.Fatalf("the restarted node fired %v after it was started", after)
	}
}

// serve opens an embedded JetStream store listening on loopback.
func serve(t *testing.T) *jetstream.Store {
	s, err := jetstream.Open(context.Background(), jetstream.Config{Dir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// realClock is a clock that follows the real one, for nodes of this
// process beside child nodes.
func realClock(t *testing.T) *clock {
	c := &clock{now: time.Now()}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				c.Set(time.Now())
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
	return c
}

func turnDeadline(t *testing.T, n *node, game uuid.UUID) time.Time {
	st, err := n.play.Load(context.Background(), game)
	if err != nil {
		t.Fatal(err)
	}
	turn, ok := st.State.Turn()
	if !ok {
		t.Fatal("no running turn")
	}
	return turn.Deadline
}

func timeoutAt(log []eventstore.Event) time.Time {
	for _, e := range log {
		if e.Type == engine.TypeAction && e.Actor == engine.System {
			return e.RecordedAt
		}
	}
	return time.Time{}
}
