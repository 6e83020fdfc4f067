package play_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/replay"
)

// clock is a test's injected time.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// A timed game's deadlines come from play's clock, at creation and at each
// command, are stored in the log on both stores, and the stored log
// verifies.
func TestDeadlinesFromTheClock(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		s := b.Open(t)
		c := &clock{now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
		svc, err := play.New(play.Config{Store: s, Registry: games.Standard(), SeedSecret: secret, Now: c.Now})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		g, err := svc.Create(ctx, "tictactoe", []string{"x", "o"}, json.RawMessage(`{"turn_timer":{"seconds":30}}`), "x")
		if err != nil {
			t.Fatal(err)
		}
		turn, ok := g.State.Turn()
		if !ok || !turn.Deadline.Equal(c.Now().Add(30*time.Second)) {
			t.Fatalf("first turn %+v %v", turn, ok)
		}
		for i, cell := range []int{0, 3, 1, 4, 2} {
			c.Add(7 * time.Second)
			res, err := svc.Execute(ctx, g.ID, []string{"x", "o"}[i%2], place(cell), "m"+string(rune('0'+i)))
			if err != nil {
				t.Fatal(err)
			}
			g = res.Game
			if turn, ok := g.State.Turn(); ok && !turn.Deadline.Equal(c.Now().Add(30*time.Second)) {
				t.Fatalf("move %d: deadline %v at %v", i, turn.Deadline, c.Now())
			}
		}
		if !g.State.Outcome().Ended {
			t.Fatal("x did not win")
		}
		events, err := replay.ReadGame(ctx, s, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		starts := 0
		for _, e := range events {
			if e.Type == engine.TypeTurnStarted {
				starts++
			}
		}
		if starts != 5 { // the first turn, then one after each move but the last
			t.Fatalf("%d turn_started events", starts)
		}
		if err := engine.Verify(games.Standard(), replay.EngineEvents(events)); err != nil {
			t.Fatalf("verify: %v", err)
		}
	})
}

// A system timeout sent twice under its message id (two nodes firing) is
// stored once; the second is a duplicate, not a reused id.
func TestSystemTimeoutTwice(t *testing.T) {
	s := testenv.Stores(t)[0].Open(t)
	c := &clock{now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	svc, err := play.New(play.Config{Store: s, Registry: games.Standard(), SeedSecret: secret, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	g, err := svc.Create(ctx, "crazyeights", []string{"ann", "ben"}, json.RawMessage(`{"turn_timer":{"seconds":30,"timeouts_to_lose":3}}`), "ann")
	if err != nil {
		t.Fatal(err)
	}
	turn, _ := g.State.Turn()
	c.Add(30 * time.Second)
	action := json.RawMessage(`{"type":"timeout","player":"` + turn.Players[0] + `","turn":1}`)
	first, err := svc.System(ctx, g.ID, action, "timeout/1")
	if err != nil || first.Duplicate {
		t.Fatalf("first: %+v %v", first.Duplicate, err)
	}
	again, err := svc.System(ctx, g.ID, action, "timeout/1")
	if err != nil || !again.Duplicate || again.Events[0].Seq != first.Events[0].Seq {
		t.Fatalf("again: duplicate %v, %v", again.Duplicate, err)
	}
	if _, err := svc.Execute(ctx, g.ID, "system", action, "timeout/2"); err == nil {
		t.Fatal("a user named system sent the system's command")
	}
}
