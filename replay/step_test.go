package replay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/engine/enginetest"
	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/internal/par"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/replay"
)

// stored is a random game appended to a real store, command by command.
type stored struct {
	id     uuid.UUID
	played enginetest.Played
}

// storeGames plays n random games of rules and appends them to s, on a few
// goroutines. Game i is played from seed i, so a failure can be replayed.
func storeGames(t testing.TB, s eventstore.Store, rules *engine.Game, n, players, commands int, config json.RawMessage) []stored {
	t.Helper()
	out := make([]stored, n)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	work := make(chan int)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				p, err := enginetest.PlayN(rules, config, enginetest.Players(players), enginetest.Seed(i), rand.New(rand.NewPCG(uint64(i), 9)), commands)
				if err == nil {
					err = appendPlayed(s, uuid.New(), p, &out[i])
				}
				if err != nil {
					select {
					case errs <- fmt.Errorf("game %d: %w", i, err):
					default:
					}
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	return out
}

func appendPlayed(s eventstore.Store, id uuid.UUID, p enginetest.Played, into *stored) error {
	starts := append(append([]int{0}, p.Starts...), len(p.Events))
	for c := 0; c+1 < len(starts); c++ {
		from, to := starts[c], starts[c+1]
		if from == to {
			continue
		}
		batch := make([]eventstore.Pending, 0, to-from)
		for _, e := range p.Events[from:to] {
			batch = append(batch, eventstore.Pending{Type: e.Type, SchemaVersion: e.Version, Actor: e.Actor, Data: e.Data})
		}
		if _, err := s.Append(context.Background(), id, uint64(from), batch...); err != nil {
			return err
		}
	}
	*into = stored{id: id, played: p}
	return nil
}

// jsonOf marshals v for a comparison, on the test's goroutine or off it:
// what does not marshal is a bug that stops the run.
func jsonOf(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// The replay state at every step of random games of each reference game
// equals the fold of the events up to that step, as each viewer may see
// it, and equals what a live client of that viewer held then: the fold of
// the events rendered for it. Every event of every step is the rendering a
// live client received.
func TestReplayAgreesWithTheFold(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 100
	}
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		s := b.Open(t)
		games := n
		if b.Name == "postgres" {
			games = n / 10 // the same code path; PostgreSQL appends are slower here
		}
		reg := gamesRegistry(t)
		for _, tc := range []struct {
			name    string
			players int
		}{{"tictactoe", 2}, {"crazyeights", 3}, {"liarsdice", 3}} {
			t.Run(tc.name, func(t *testing.T) {
				rules, _ := reg.Lookup(tc.name)
				played := storeGames(t, s, rules, games, tc.players, 300, nil)
				r, err := replay.New(replay.Config{Store: s, Registry: reg, SnapshotEvery: 8})
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				events := 0
				// Four games at a time: a check waits on the store more than it computes.
				if _, err := par.Each(context.Background(), len(played), 4, func(i int) error {
					if err := checkGame(r, rules, played[i], i%20 == 0); err != nil {
						return fmt.Errorf("game %d (%s): %w", i, played[i].id, err)
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				for _, g := range played {
					events += len(g.played.Events)
				}
				t.Logf("%d games, %d events, checked in %v", len(played), events, time.Since(start))
			})
		}
	})
}

func gamesRegistry(t testing.TB) *engine.Registry {
	return games.Standard()
}

// checkGame checks a game's replay: the full state at each step (every
// step when every is set, else every seventh and the last: snapshots make
// each cheap, and the fold itself is the engine's), then for every viewer
// each event against the live rendering and three steps' views against
// the fold and the live client.
func checkGame(r *replay.Replayer, rules *engine.Game, g stored, every bool) error {
	ctx := context.Background()
	evs := g.played.Events
	folds := make([]engine.State, len(evs)+1)
	for n := 1; n <= len(evs); n++ {
		var err error
		if folds[n], err = rules.Apply(folds[n-1], evs[n-1]); err != nil {
			return err
		}
		if !every && n != len(evs) && n%7 != 3 {
			continue
		}
		st, err := r.StateAt(ctx, g.id, uint64(n))
		if err != nil {
			return err
		}
		if got, want := jsonOf(st), jsonOf(folds[n]); !bytes.Equal(got, want) {
			return fmt.Errorf("step %d: replay state\n%s\nfold\n%s", n, got, want)
		}
	}
	ended := g.played.State.Outcome().Ended
	viewers := append([]string{"outsider"}, g.played.Players...)
	for _, user := range viewers {
		v, err := r.Access(ctx, g.id, user)
		if err != nil {
			return err
		}
		want := engine.AsSpectator()
		switch {
		case ended && user != "outsider":
			want = engine.AsAuditor()
		case user != "outsider":
			want = engine.AsPlayer(user)
		}
		if v.Viewer != want || v.Head != uint64(len(evs)) || v.Ended != ended {
			return fmt.Errorf("%s: access %+v, want viewer %v head %d ended %v", user, v, want, len(evs), ended)
		}
		entries, err := r.Events(ctx, v, 1, v.Head)
		if err != nil {
			return err
		}
		held := make([]engine.State, len(evs)+1) // what a live client held
		for n := 1; n <= len(evs); n++ {
			live, err := rules.RenderEvent(uint64(n), evs[n-1], v.Viewer)
			if err != nil {
				return err
			}
			if got := entries[n-1]; !bytes.Equal(jsonOf(got.Rendered), jsonOf(live)) {
				return fmt.Errorf("%s step %d: replay event %s, live %s", user, n, jsonOf(got.Rendered), jsonOf(live))
			}
			if held[n], err = rules.ApplyRendered(held[n-1], live); err != nil {
				return err
			}
		}
		for _, n := range []int{1, (len(evs) + 1) / 2, len(evs)} {
			step, err := r.StepAt(ctx, v, uint64(n))
			if err != nil {
				return err
			}
			got := jsonOf(step.State)
			if folded := jsonOf(rules.View(folds[n], v.Viewer)); !bytes.Equal(got, folded) {
				return fmt.Errorf("%s step %d: replay state\n%s\nfold\n%s", user, n, got, folded)
			}
			if client := jsonOf(held[n]); !bytes.Equal(got, client) {
				return fmt.Errorf("%s step %d: replay state\n%s\nlive client held\n%s", user, n, got, client)
			}
			if fmt.Sprint(step.Turn) != fmt.Sprint(nonNil(rules.Turn(folds[n]))) || step.Outcome.Ended != folds[n].Outcome().Ended {
				return fmt.Errorf("%s step %d: turn %v outcome %+v", user, n, step.Turn, step.Outcome)
			}
			if step.Event.Seq != uint64(n) {
				return fmt.Errorf("%s step %d: event %d", user, n, step.Event.Seq)
			}
		}
	}
	return nil
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// Outside the auditor's view no event from the first hidden one on carries
// the chain's fields: each hash covers the one before, so any later hash
// would let the hidden secret be searched for. The events before it carry
// what their hash covers, and it checks.
func TestHiddenEventsCarryNoHash(t *testing.T) {
	s := testenv.Stores(t)[0].Open(t)
	reg := gamesRegistry(t)
	rules, _ := reg.Lookup("crazyeights")
	g := storeGames(t, s, rules, 1, 3, 6, nil)[0]
	r, err := replay.New(replay.Config{Store: s, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	all, err := replay.ReadGame(ctx, s, g.id)
	if err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"outsider", g.played.Players[0]} {
		v, err := r.Access(ctx, g.id, user)
		if err != nil {
			t.Fatal(err)
		}
		if v.Viewer.Role == engine.RoleAuditor {
			t.Fatalf("%s is an auditor of a game that has not ended", user)
		}
		for _, from := range []uint64{1, 3} { // a range from the start, and one after the first hidden event
			entries, err := r.Events(ctx, v, from, v.Head)
			if err != nil {
				t.Fatal(err)
			}
			hiddenYet := false
			for seq := uint64(1); seq < from; seq++ { // what the range does not show still counts
				ren, _ := rules.RenderEvent(seq, replay.EngineEvent(all[seq-1]), v.Viewer)
				hiddenYet = hiddenYet || ren.Visibility != engine.Full
			}
			for _, e := range entries {
				hiddenYet = hiddenYet || e.Visibility != engine.Full
				chained := e.Hash != nil || e.PrevHash != nil || e.Stored != nil
				if chained == hiddenYet || (chained && (e.Hash == nil || e.PrevHash == nil || e.Stored == nil)) {
					t.Fatalf("%s seq %d (%s, a hidden event before: %v): hash %v prev %v stored %v",
						user, e.Seq, e.Visibility, hiddenYet, e.Hash != nil, e.PrevHash != nil, e.Stored != nil)
				}
				if chained {
					ev := eventstore.Event{GameID: g.id, Seq: e.Seq, Type: e.Type, SchemaVersion: e.Version, Actor: e.Actor,
						MessageID: e.Stored.MessageID, Data: json.RawMessage(e.Stored.Data), RecordedAt: time.UnixMicro(e.Stored.RecordedAtUS)}
					if eventstore.ChainHash(*e.PrevHash, &ev) != *e.Hash || *e.Hash != all[e.Seq-1].Hash {
						t.Fatalf("%s seq %d: the hash does not cover what was sent", user, e.Seq)
					}
				}
			}
			if !hiddenYet {
				t.Fatalf("%s saw every event of crazy eights in full", user)
			}
		}
	}
}

// Steps and ranges outside what the viewer may see are refused; an unknown
// game is not found and is not cached.
func TestBadSteps(t *testing.T) {
	s := testenv.Stores(t)[0].Open(t)
	reg := gamesRegistry(t)
	rules, _ := reg.Lookup("tictactoe")
	g := storeGames(t, s, rules, 1, 2, 300, nil)[0]
	r, err := replay.New(replay.Config{Store: s, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	v, err := r.Access(ctx, g.id, "outsider")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []uint64{0, v.Head + 1} {
		if _, err := r.StepAt(ctx, v, n); !errors.Is(err, replay.ErrBadStep) {
			t.Errorf("step %d: %v", n, err)
		}
	}
	for _, rg := range [][2]uint64{{0, 1}, {2, 1}, {1, v.Head + 1}} {
		if _, err := r.Events(ctx, v, rg[0], rg[1]); !errors.Is(err, replay.ErrBadStep) {
			t.Errorf("events %v: %v", rg, err)
		}
	}
	if _, err := r.Access(ctx, uuid.New(), "outsider"); !errors.Is(err, eventstore.ErrGameNotFound) {
		t.Errorf("unknown game: %v", err)
	}
}

// A player's replay of an active crazy eights game never shows another
// player's hand or the deck's order, at any step; a spectator's never
// shows a step inside its delay.
func TestNoLeaksThroughReplay(t *testing.T) {
	s := testenv.Stores(t)[0].Open(t)
	reg := gamesRegistry(t)
	rules, _ := reg.Lookup("crazyeights")
	for _, g := range storeGames(t, s, rules, 5, 3, 12, json.RawMessage(`{"spectator_delay":{"events":3}}`)) {
		r, err := replay.New(replay.Config{Store: s, Registry: reg, SnapshotEvery: 4})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		head := uint64(len(g.played.Events))
		for seat, user := range g.played.Players {
			v, err := r.Access(ctx, g.id, user)
			if err != nil {
				t.Fatal(err)
			}
			if v.Viewer != engine.AsPlayer(user) || v.Head != head {
				t.Fatalf("%s: %+v", user, v)
			}
			for n := uint64(1); n <= head; n++ {
				step, err := r.StepAt(ctx, v, n)
				if err != nil {
					t.Fatal(err)
				}
				var st struct {
					State struct {
						Hands [][]string `json:"hands"`
						Deck  []string   `json:"deck"`
					} `json:"state"`
				}
				if err := json.Unmarshal(jsonOf(step.State), &st); err != nil {
					t.Fatal(err)
				}
				hidden := st.State.Deck
				for i, h := range st.State.Hands {
					if i != seat {
						hidden = append(hidden, h...)
					}
				}
				for _, c := range hidden {
					if c != "??" {
						t.Fatalf("%s's replay at %d shows a hidden card %s", user, n, c)
					}
				}
			}
		}
		v, err := r.Access(ctx, g.id, "outsider")
		if err != nil {
			t.Fatal(err)
		}
		if v.Head != head-3 {
			t.Fatalf("a spectator's head %d with delay 3, head %d", v.Head, head)
		}
		if _, err := r.StepAt(ctx, v, head-2); !errors.Is(err, replay.ErrBadStep) {
			t.Fatalf("a spectator's step inside the delay: %v", err)
		}
		if _, err := r.Events(ctx, v, 1, head-2); !errors.Is(err, replay.ErrBadStep) {
			t.Fatalf("a spectator's events inside the delay: %v", err)
		}
	}
}

// The end of a game releases every delay: a spectator of an ended game
// sees all of it at once, for a seconds delay as for an events delay.
func TestTheEndReleasesTheDelay(t *testing.T) {
	s := testenv.Stores(t)[0].Open(t)
	reg := gamesRegistry(t)
	rules, _ := reg.Lookup("tictactoe")
	for _, config := range []string{`{"spectator_delay":{"seconds":3600}}`, `{"spectator_delay":{"events":5}}`} {
		g := storeGames(t, s, rules, 1, 2, 300, json.RawMessage(config))[0]
		if !g.played.State.Outcome().Ended {
			t.Fatal("the game did not end")
		}
		r, err := replay.New(replay.Config{Store: s, Registry: reg})
		if err != nil {
			t.Fatal(err)
		}
		v, err := r.Access(context.Background(), g.id, "outsider")
		if err != nil {
			t.Fatal(err)
		}
		if v.Head != uint64(len(g.played.Events)) || !v.Ended {
			t.Fatalf("%s: a spectator of the ended game stands at %d of %d", config, v.Head, len(g.played.Events))
		}
	}
}
