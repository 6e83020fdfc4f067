package play_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/internal/testenv"
	"github.com/playlog/playlog/play"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var secret = []byte("0123456789abcdef0123456789abcdef")

func newService(t testing.TB, s eventstore.Store) *play.Service {
	t.Helper()
	svc, err := play.New(play.Config{Store: s, Registry: games.Standard(), SeedSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func place(cell int) json.RawMessage {
	return json.RawMessage(`{"type":"place","cell":` + strconv.Itoa(cell) + `}`)
}

func TestFullGameAndRejections(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		store := b.Open(t)
		svc := newService(t, store)
		g, err := svc.Create(ctx, "tictactoe", []string{"alice", "bob"}, nil, "alice")
		if err != nil {
			t.Fatal(err)
		}
		head := g.Head()
		// Rejections change nothing.
		for _, tc := range []struct {
			actor  string
			action string
			want   error
		}{
			{"bob", `{"type":"place","cell":0}`, engine.ErrNotYourTurn},
			{"alice", `{"type":"place","cell":9}`, engine.ErrInvalidAction},
			{"alice", `{"type":"fly"}`, engine.ErrInvalidAction},
			{"alice", `not json`, engine.ErrInvalidAction},
			{"mallory", `{"type":"place","cell":0}`, engine.ErrActionNotAllowed},
		} {
			_, err := svc.Execute(ctx, g.ID, tc.actor, json.RawMessage(tc.action), "")
			if !errors.Is(err, tc.want) {
				t.Fatalf("%s %s: %v, want %v", tc.actor, tc.action, err, tc.want)
			}
		}
		if h, _ := store.Head(ctx, g.ID); h != head {
			t.Fatalf("rejected commands moved the head from %d to %d", head, h)
		}
		// alice wins on the top row.
		moves := []struct {
			who  string
			cell int
		}{{"alice", 0}, {"bob", 3}, {"alice", 1}, {"bob", 4}, {"alice", 2}}
		var last play.Result
		for i, m := range moves {
			last, err = svc.Execute(ctx, g.ID, m.who, place(m.cell), "m"+strconv.Itoa(i))
			if err != nil {
				t.Fatalf("move %d: %v", i, err)
			}
		}
		out := last.Game.State.Outcome()
		if !out.Ended || len(out.Winners) != 1 || out.Winners[0] != "alice" {
			t.Fatalf("outcome %+v", out)
		}
		if _, err := svc.Execute(ctx, g.ID, "bob", place(8), "late"); !errors.Is(err, engine.ErrGameOver) {
			t.Fatalf("move after the end: %v", err)
		}
		// The log is an honest, verifiable game.
		events, _ := store.Read(ctx, g.ID, 0, 0)
		ee := play.EngineEvents(events)
		if err := engine.Verify(games.Standard(), ee); err != nil {
			t.Fatalf("verify: %v", err)
		}
		if _, err := svc.Load(ctx, uuid.New()); !errors.Is(err, play.ErrGameNotFound) {
			t.Fatalf("load unknown: %v", err)
		}
	})
}

// TestDuplicateMessageIDAnywhere sends one command, then the same message id
// again through the same service, another service (another process) and a
// restarted one: every time the original events come back and nothing is
// appended.
func TestDuplicateMessageIDAnywhere(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		store := b.Open(t)
		a := newService(t, store)
		g, err := a.Create(ctx, "tictactoe", []string{"alice", "bob"}, nil, "alice")
		if err != nil {
			t.Fatal(err)
		}
		first, err := a.Execute(ctx, g.ID, "alice", place(4), "msg-1")
		if err != nil || first.Duplicate {
			t.Fatalf("first: %+v %v", first, err)
		}
		other := newService(t, b.Open(t))
		for name, svc := range map[string]*play.Service{"same": a, "other process": other, "restarted": newService(t, store)} {
			// Even a different action under the same message id is the
			// original command.
			res, err := svc.Execute(ctx, g.ID, "alice", place(0), "msg-1")
			if err != nil || !res.Duplicate || res.Events[0].Seq != first.Events[0].Seq || len(res.Events) != len(first.Events) {
				t.Fatalf("%s: %+v %v", name, res, err)
			}
		}
		// Another user's identical message id is another command.
		res, err := other.Execute(ctx, g.ID, "bob", place(0), "msg-1")
		if err != nil || res.Duplicate {
			t.Fatalf("bob's msg-1: %+v %v", res, err)
		}
		if h, _ := store.Head(ctx, g.ID); h != res.Events[len(res.Events)-1].Seq {
			t.Fatalf("head %d after bob's move ending at %d", h, res.Events[len(res.Events)-1].Seq)
		}
	})
}

// TestRacingNodesNeverFork: two services on one store (two nodes) race 900
// actions over 10 games, both players' commands arriving from both nodes at
// once. Each log must stay one valid, verifiable game.
func TestRacingNodesNeverFork(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		nodes := []*play.Service{newService(t, b.Open(t)), newService(t, b.Open(t))}
		store := b.Open(t)
		var accepted, rejected atomic.Int64
		for round := 0; round < 10; round++ {
			g, err := nodes[0].Create(ctx, "tictactoe", []string{"alice", "bob"}, nil, "alice")
			if err != nil {
				t.Fatal(err)
			}
			// 10 racers per game: both players, every cell, both nodes.
			var wg sync.WaitGroup
			for r := 0; r < 10; r++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					who := []string{"alice", "bob"}[r%2]
					for cell := 0; cell < 9; cell++ {
						_, err := nodes[r%2].Execute(ctx, g.ID, who, place((cell+r)%9), "r"+strconv.Itoa(r)+"c"+strconv.Itoa(cell))
						switch {
						case err == nil:
							accepted.Add(1)
						case engine.IsRejection(err):
							rejected.Add(1)
						default:
							t.Errorf("racer %d: %v", r, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			events, err := store.Read(ctx, g.ID, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := eventstore.VerifyChain(eventstore.Hash{}, events); err != nil {
				t.Fatal(err)
			}
			ee := play.EngineEvents(events)
			// A forked or illegal game would not re-decide byte for byte.
			if err := engine.Verify(games.Standard(), ee); err != nil && !errors.Is(err, engine.ErrSeedNotRevealed) {
				t.Fatalf("game %d: %v", round, err)
			}
		}
		if accepted.Load() == 0 || rejected.Load() == 0 {
			t.Fatalf("accepted %d, rejected %d: the race did not happen", accepted.Load(), rejected.Load())
		}
	})
}
