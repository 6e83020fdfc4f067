package enginetest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/playlog/playlog/engine"
)

// Suite is the conformance suite for one game.
type Suite struct {
	Game *engine.Game
	// PlayerCounts are the numbers of players to try.
	PlayerCounts []int
	// Configs are the configs to try; none means {}.
	Configs []json.RawMessage
	// Games is the number of random games (a tenth under -short).
	Games int
	// DetailedGames are checked per viewer at every seq (default Games/10).
	DetailedGames int
	// MaxCommands bounds a game (default 5000).
	MaxCommands int
	// Secrets reports a secret of someone else's in data, a rendering for
	// viewer v (an event's data, or a view's JSON); full is the whole state
	// after the command the rendering belongs to (commands are atomic, so an
	// action may name the card its next event makes public). Nil for games
	// without secrets.
	Secrets func(v engine.Viewer, full engine.State, data []byte) error
	// Tamper alters a random outcome recorded in ev (a card, a die) and
	// reports whether ev records one. Nil for games without randomness.
	Tamper func(ev engine.Event, rng *rand.Rand) (engine.Event, bool)
}

// Run plays the random games and checks every property.
func (c Suite) Run(t *testing.T) {
	games, detailed := c.Games, c.DetailedGames
	if detailed == 0 {
		detailed = games / 10
	}
	if testing.Short() {
		games, detailed = max(games/10, 1), max(detailed/10, 1)
	}
	if c.MaxCommands == 0 {
		c.MaxCommands = 5000
	}
	reg, err := engine.NewRegistry(c.Game)
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[engine.Reason]int{}
	for i := range games {
		rng := rand.New(rand.NewPCG(uint64(i), 0x706c61796c6f67))
		players := Players(c.PlayerCounts[rng.IntN(len(c.PlayerCounts))])
		var config json.RawMessage
		if len(c.Configs) > 0 {
			config = c.Configs[rng.IntN(len(c.Configs))]
		}
		pl, err := Play(c.Game, config, players, Seed(i), rng, c.MaxCommands, true)
		if err == nil {
			err = c.check(reg, pl, rng, i < detailed)
		}
		if err != nil {
			t.Fatalf("game %d (%d players, config %s, seed %x): %v", i, len(players), config, Seed(i), err)
		}
		reasons[pl.State.Outcome().Reason]++
	}
	t.Logf("%d games ended: %v", games, reasons)
}

func (c Suite) check(reg *engine.Registry, pl Played, rng *rand.Rand, detailed bool) error {
	if err := engine.Verify(reg, pl.Events); err != nil {
		return fmt.Errorf("verify honest game: %w", err)
	}
	if err := c.checkTampering(reg, pl, rng); err != nil {
		return err
	}
	if err := c.checkRedecide(pl, detailed); err != nil {
		return err
	}
	// Detailed games check every viewer; the others a spectator and one
	// player, to keep the suite fast.
	viewers := []engine.Viewer{engine.AsSpectator(), engine.AsPlayer(pl.Players[rng.IntN(len(pl.Players))])}
	if detailed {
		viewers = []engine.Viewer{engine.AsSpectator(), engine.AsAuditor()}
		for _, p := range pl.Players {
			viewers = append(viewers, engine.AsPlayer(p))
		}
	}
	return c.checkViews(pl, viewers, detailed)
}

func (c Suite) checkTampering(reg *engine.Registry, pl Played, rng *rand.Rand) error {
	n := len(pl.Events)
	if err := engine.Verify(reg, pl.Events[:n-1]); !errors.Is(err, engine.ErrSeedNotRevealed) {
		return fmt.Errorf("verify without the seed: got %v, want ErrSeedNotRevealed", err)
	}
	forged := slices.Clone(pl.Events)
	forged[n-1] = Ev(forged[n-1].Actor, engine.SeedRevealed{Seed: hex.EncodeToString(otherSeed(pl.Seed))})
	if err := engine.Verify(reg, forged); !errors.Is(err, engine.ErrCommitmentMismatch) {
		return fmt.Errorf("verify with another seed: got %v, want ErrCommitmentMismatch", err)
	}
	if c.Tamper == nil {
		return nil
	}
	var candidates []int
	for i, ev := range pl.Events {
		if _, ok := c.Tamper(ev, rng); ok {
			candidates = append(candidates, i)
		}
	}
	if len(candidates) == 0 {
		return nil
	}
	i := candidates[rng.IntN(len(candidates))]
	forged = slices.Clone(pl.Events)
	forged[i], _ = c.Tamper(forged[i], rng)
	if err := engine.Verify(reg, forged); !errors.Is(err, engine.ErrEventMismatch) {
		return fmt.Errorf("verify with seq %d altered to %s: got %v, want ErrEventMismatch", i+1, forged[i].Data, err)
	}
	return nil
}

// checkRedecide folds the log from JSON and re-decides every command on the
// refolded state: each must give the recorded events byte for byte, and the
// state after it the recorded snapshot. The refold goes on from states
// restored from their snapshots: after every command in detailed games,
// every 16th in the others.
func (c Suite) checkRedecide(pl Played, detailed bool) error {
	g := c.Game
	var s engine.State
	var err error
	for k, start := range pl.Starts {
		end := len(pl.Events)
		if k+1 < len(pl.Starts) {
			end = pl.Starts[k+1]
		}
		group := pl.Events[start:end]
		if k > 0 {
			var act engine.ActionTaken
			if err := json.Unmarshal(group[0].Data, &act); err != nil {
				return fmt.Errorf("seq %d: %w", start+1, err)
			}
			again, err := g.Decide(s, engine.Command{Actor: act.Actor, Action: act.Action}, pl.Seed)
			if err != nil || !sameEvents(again, group) {
				return fmt.Errorf("seq %d: re-deciding %s gave other events (%v)", start+1, act.Action, err)
			}
		}
		if s, err = g.Apply(s, group...); err != nil {
			return fmt.Errorf("seq %d: refold: %w", start+1, err)
		}
		if snap, _ := json.Marshal(s); !bytes.Equal(snap, pl.Snapshots[k]) {
			return fmt.Errorf("seq %d: refolded state differs:\n got %s\nwant %s", end, snap, pl.Snapshots[k])
		}
		// The rest of the game goes on from the state restored from its
		// snapshot: its folds and decisions are checked as the originals'.
		if !detailed && k%16 != 0 {
			continue
		}
		if s, err = c.restored(s, pl.Players); err != nil {
			return fmt.Errorf("seq %d: %w", end, err)
		}
	}
	return nil
}

// restored is s through EncodeState and RestoreState, checked to be s: the
// same snapshot again, the same state JSON, turn, legal actions and view
// for every player and a spectator.
func (c Suite) restored(s engine.State, players []string) (engine.State, error) {
	g := c.Game
	data, err := g.EncodeState(s)
	if err != nil {
		return s, fmt.Errorf("encode state: %w", err)
	}
	r, err := g.RestoreState(data)
	if err != nil {
		return s, fmt.Errorf("restore state: %w", err)
	}
	if again, err := g.EncodeState(r); err != nil || !bytes.Equal(again, data) {
		return s, fmt.Errorf("restored state encodes otherwise (%v):\n got %s\nwant %s", err, again, data)
	}
	same := func(what string, a, b any) error {
		x, err := json.Marshal(a)
		if err != nil {
			return err
		}
		if y, err := json.Marshal(b); err != nil || !bytes.Equal(x, y) {
			return fmt.Errorf("restored state's %s differs (%v):\n got %s\nwant %s", what, err, y, x)
		}
		return nil
	}
	if err := same("state", s, r); err != nil {
		return s, err
	}
	if err := same("turn", g.Turn(s), g.Turn(r)); err != nil {
		return s, err
	}
	viewers := []engine.Viewer{engine.AsSpectator()}
	for _, p := range players {
		viewers = append(viewers, engine.AsPlayer(p))
		if err := same("legal actions of "+p, g.Legal(s, p), g.Legal(r, p)); err != nil {
			return s, err
		}
	}
	for _, v := range viewers {
		if err := same("view for "+v.String(), g.View(s, v), g.View(r, v)); err != nil {
			return s, err
		}
	}
	return r, nil
}

// checkViews folds each viewer's rendered events and compares with the
// viewer's View of the state, at every seq or only at the end.
func (c Suite) checkViews(pl Played, viewers []engine.Viewer, detailed bool) error {
	g := c.Game
	seedHex := []byte(hex.EncodeToString(pl.Seed))
	views := make([]engine.State, len(viewers))
	// after[i] is the state after the command event i belongs to: commands
	// are atomic, so an event may announce what the next one makes public.
	after := make([]engine.State, len(pl.Events))
	var full engine.State
	for k, start := range pl.Starts {
		end := len(pl.Events)
		if k+1 < len(pl.Starts) {
			end = pl.Starts[k+1]
		}
		s, err := g.Apply(full, pl.Events[start:end]...)
		if err != nil {
			return fmt.Errorf("seq %d: %w", start+1, err)
		}
		for i := start; i < end; i++ {
			after[i] = s
		}
		full = s
	}
	full = engine.State{}
	for i, ev := range pl.Events {
		seq := uint64(i + 1)
		var err error
		if full, err = g.Apply(full, ev); err != nil {
			return fmt.Errorf("seq %d: %w", seq, err)
		}
		last := i == len(pl.Events)-1
		for k, v := range viewers {
			r, err := g.RenderEvent(seq, ev, v)
			if err != nil {
				return fmt.Errorf("seq %d: render for %s: %w", seq, v, err)
			}
			if ev.Type != engine.TypeSeedRevealed && bytes.Contains(r.Data, seedHex) {
				return fmt.Errorf("seq %d: %s rendering for %s contains the seed", seq, ev.Type, v)
			}
			if c.Secrets != nil && v.Role != engine.RoleAuditor {
				if err := c.Secrets(v, after[i], r.Data); err != nil {
					return fmt.Errorf("seq %d: %s rendered for %s leaks: %w: %s", seq, ev.Type, v, err, r.Data)
				}
			}
			if views[k], err = g.ApplyRendered(views[k], r); err != nil {
				return fmt.Errorf("seq %d: fold %s rendered for %s: %w", seq, ev.Type, v, err)
			}
			if !detailed && !last {
				continue
			}
			want, err := json.Marshal(g.View(full, v))
			if err != nil {
				return err
			}
			if !last && bytes.Contains(want, seedHex) {
				return fmt.Errorf("seq %d: view for %s contains the seed", seq, v)
			}
			if c.Secrets != nil && v.Role != engine.RoleAuditor {
				if err := c.Secrets(v, full, want); err != nil {
					return fmt.Errorf("seq %d: view for %s leaks: %w: %s", seq, v, err, want)
				}
			}
			got, err := json.Marshal(views[k])
			if err != nil {
				return err
			}
			if !bytes.Equal(got, want) {
				return fmt.Errorf("seq %d (%s): %s's fold of rendered events differs from the view:\nfold %s\nview %s", seq, ev.Type, v, got, want)
			}
		}
	}
	return nil
}
