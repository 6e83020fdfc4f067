package timers_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/replay"
	"github.com/playlog/playlog/timers"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		runChild()
		return
	}
	testenv.Main(m)
}

// clock is the injected time every part of a test reads.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

var (
	t0     = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	secret = []byte("0123456789abcdef0123456789abcdef")
)

// node is a command path and a timer service on a store, on one clock.
type node struct {
	play     *play.Service
	timers   *timers.Service
	warnings chan timers.Warning
}

func startNode(t *testing.T, s eventstore.Store, c *clock) *node {
	t.Helper()
	p, err := play.New(play.Config{Store: s, Registry: games.Standard(), SeedSecret: secret, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	n := &node{play: p, warnings: make(chan timers.Warning, 100)}
	n.timers, err = timers.New(timers.Config{Store: s, Now: c.Now, RetryAfter: 50 * time.Millisecond,
		Fire: system(p),
		Warn: func(w timers.Warning) {
			select {
			case n.warnings <- w:
			default:
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	run(t, n.timers)
	return n
}

// system fires a service's timeouts through p, as playlogd does.
func system(p *play.Service) func(context.Context, uuid.UUID, json.RawMessage, string) error {
	return func(ctx context.Context, game uuid.UUID, action json.RawMessage, id string) error {
		_, err := p.System(ctx, game, action, id)
		return err
	}
}

// run runs svc until the test ends; stop ends it sooner, and waits.
func run(t *testing.T, svc *timers.Service) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// settle waits until the node's service has seen the game's turn n, or
// the game has ended.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func timeouts(t *testing.T, s eventstore.Store, game uuid.UUID) (n int, log []eventstore.Event) {
	t.Helper()
	log, err := replay.ReadGame(context.Background(), s, game)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range log {
		if e.Type == engine.TypeAction && e.Actor == engine.System && strings.Contains(string(e.Data), `"timeout"`) {
			n++
		}
	}
	return n, log
}

// Warnings come at their exact thresholds; at the deadline two nodes both
// fire and the log takes one timeout; tic-tac-toe, with no automatic move,
// loses; the log verifies.
func TestWarningsThenOneTimeout(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		s := b.Open(t)
		c := &clock{now: t0}
		a, other := startNode(t, s, c), startNode(t, s, c)
		ctx := context.Background()
		g, err := a.play.Create(ctx, "tictactoe", []string{"x", "o"}, json.RawMessage(`{"turn_timer":{"seconds":60,"warnings":[30,10],"timeouts_to_lose":1}}`), "x")
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the turn", func() bool { return a.timers.Pending() == 1 && other.timers.Pending() == 1 })
		for _, step := range []struct {
			at   time.Duration
			left time.Duration
		}{{29 * time.Second, 0}, {30 * time.Second, 30 * time.Second}, {49 * time.Second, 0}, {50 * time.Second, 10 * time.Second}} {
			c.Set(t0.Add(step.at))
			a.timers.Kick()
			select {
			case w := <-a.warnings:
				if step.left == 0 || w.Remaining != step.left || w.Expired || w.Turn != 1 || w.Players[0] != "x" {
					t.Fatalf("at %v: warning %+v", step.at, w)
				}
			case <-time.After(100 * time.Millisecond):
				if step.left != 0 {
					t.Fatalf("at %v: no warning", step.at)
				}
			}
		}
		c.Set(t0.Add(time.Minute))
		a.timers.Kick()
		other.timers.Kick()
		waitFor(t, "the end", func() bool {
			st, err := a.play.Load(ctx, g.ID)
			return err == nil && st.State.Outcome().Ended
		})
		waitFor(t, "both nodes", func() bool { return a.timers.Pending() == 0 && other.timers.Pending() == 0 })
		st, _ := other.play.Load(ctx, g.ID)
		if out := st.State.Outcome(); out.Reason != engine.ReasonTimeout || out.Winners[0] != "o" {
			t.Fatalf("outcome %+v", out)
		}
		n, log := timeouts(t, s, g.ID)
		if n != 1 {
			t.Fatalf("%d timeouts in the log", n)
		}
		if err := engine.Verify(games.Standard(), replay.EngineEvents(log)); err != nil {
			t.Fatalf("verify: %v", err)
		}
	})
}

// A move that lands before the deadline wins: the old turn's timeout is
// never recorded, and the new turn has its own deadline. A crazy eights
// timeout short of the limit is the automatic move, and play goes on. A
// service started after a deadline passed fires it at once, once.
func TestMovesFirstAutoMoveAndRestart(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		s := b.Open(t)
		c := &clock{now: t0}
		n := startNode(t, s, c)
		ctx := context.Background()
		g, err := n.play.Create(ctx, "crazyeights", []string{"ann", "ben"}, json.RawMessage(`{"turn_timer":{"seconds":20,"timeouts_to_lose":2}}`), "ann")
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the turn", func() bool { return n.timers.Pending() == 1 })
		turn, _ := g.State.Turn()
		mover := turn.Players[0]
		c.Set(t0.Add(19 * time.Second))
		res, err := n.play.Execute(ctx, g.ID, mover, g.Rules.Legal(g.State, mover)[0], "m1")
		if err != nil {
			t.Fatal(err)
		}
		c.Set(t0.Add(20 * time.Second)) // the first turn's deadline: played already
		n.timers.Kick()
		time.Sleep(100 * time.Millisecond)
		if k, _ := timeouts(t, s, g.ID); k != 0 {
			t.Fatalf("%d timeouts of a turn played in time", k)
		}
		next, _ := res.Game.State.Turn()
		if !next.Deadline.Equal(t0.Add(39 * time.Second)) {
			t.Fatalf("the next turn's deadline %v", next.Deadline)
		}
		// Past the next deadline, with no service running: a new one fires it.
		c.Set(t0.Add(45 * time.Second))
		late := startNode(t, s, c)
		waitFor(t, "the automatic move", func() bool { k, _ := timeouts(t, s, g.ID); return k == 1 })
		st, err := late.play.Load(ctx, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.State.Outcome().Ended || st.State.Timeouts(next.Players[0]) != 1 {
			t.Fatalf("after one timeout: %+v, %d timeouts", st.State.Outcome(), st.State.Timeouts(next.Players[0]))
		}
		time.Sleep(100 * time.Millisecond)
		if k, _ := timeouts(t, s, g.ID); k != 1 {
			t.Fatalf("%d timeouts after the restart", k)
		}
	})
}

// A node restarted on a long log fires nothing until it has caught up:
// reading from the start, a batch may end between a turn_started long past
// and the event that ended that turn, and firing it would be a stale
// timeout for every such game.
func TestRestartFiresNothingStale(t *testing.T) {
	s := testenv.Stores(t)[0].Open(t)
	endedGames(t, s, 300)
	restartFiresNothing(t, s)
}
