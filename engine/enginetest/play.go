package enginetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/playlog/playlog/engine"
)

// Played is a random game: its log and, after each command, where the
// command's events start and the auditor's snapshot of the state.
type Played struct {
	Players   []string
	Seed      []byte
	Events    []engine.Event
	Starts    []int    // index in Events of each command's first event
	Snapshots [][]byte // json of the state after each command
	State     engine.State
}

// player drives one random game.
type player struct {
	g      *engine.Game
	rng    *rand.Rand
	probe  bool // try rejected commands along the way
	played Played
}

// Play creates a game and plays random legal commands until it ends or
// maxCommands commands have been played. Some games end early: the
// variant drawn from rng may resign, time out or abandon at a random step.
// With probe set it also sends commands that must be rejected and checks
// that they are.
func Play(g *engine.Game, config json.RawMessage, players []string, seed []byte, rng *rand.Rand, maxCommands int, probe bool) (Played, error) {
	p := &player{g: g, rng: rng, probe: probe}
	p.played.Players, p.played.Seed = players, seed
	evs, err := g.Create(config, players, seed)
	if err != nil {
		return p.played, fmt.Errorf("create: %w", err)
	}
	if err := p.commit(evs); err != nil {
		return p.played, err
	}
	early, at := rng.IntN(24), rng.IntN(40)
	for n := 0; !p.played.State.Outcome().Ended; n++ {
		if n == maxCommands {
			return p.played, fmt.Errorf("game did not end after %d commands", maxCommands)
		}
		c, err := p.choose(early, n == at)
		if err != nil {
			return p.played, err
		}
		if probe && n != at && rng.IntN(4) == 0 {
			if err := p.probeRejections(c); err != nil {
				return p.played, err
			}
		}
		evs, err := g.Decide(p.played.State, c, seed)
		if err != nil {
			return p.played, fmt.Errorf("seq %d: %s %s: legal command rejected: %w", p.played.State.Seq(), c.Actor, c.Action, err)
		}
		if err := p.commit(evs); err != nil {
			return p.played, err
		}
	}
	if probe {
		_, err := g.Decide(p.played.State, engine.Command{Actor: engine.System, Action: json.RawMessage(`{"type":"abandon"}`)}, seed)
		if !errors.Is(err, engine.ErrGameOver) {
			return p.played, fmt.Errorf("command after the end: got %v, want ErrGameOver", err)
		}
	}
	return p.played, nil
}

// PlayN is Play that stops quietly after n commands.
func PlayN(g *engine.Game, config json.RawMessage, players []string, seed []byte, rng *rand.Rand, n int) (Played, error) {
	pl, err := Play(g, config, players, seed, rng, n, false)
	if err != nil && !pl.State.Outcome().Ended && len(pl.Starts) == n+1 {
		err = nil
	}
	return pl, err
}

func (p *player) commit(evs []engine.Event) error {
	s, err := p.g.Apply(p.played.State, evs...)
	if err != nil {
		return fmt.Errorf("apply decided events: %w", err)
	}
	snap, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("marshal state: %w", err)
	}
	p.played.Starts = append(p.played.Starts, len(p.played.Events))
	p.played.Events = append(p.played.Events, evs...)
	p.played.Snapshots = append(p.played.Snapshots, snap)
	p.played.State = s
	return nil
}

func (p *player) choose(early int, now bool) (engine.Command, error) {
	s := p.played.State
	turn := p.g.Turn(s)
	if len(turn) == 0 {
		return engine.Command{}, fmt.Errorf("seq %d: nobody may act in an unfinished game", s.Seq())
	}
	if now {
		switch early {
		case 0:
			var in []string
			for _, id := range p.played.Players {
				if p.g.InPlay(s, id) {
					in = append(in, id)
				}
			}
			return engine.Command{Actor: in[p.rng.IntN(len(in))], Action: json.RawMessage(`{"type":"resign"}`)}, nil
		case 1:
			who := turn[p.rng.IntN(len(turn))]
			return engine.Command{Actor: engine.System, Action: fmt.Appendf(nil, `{"type":"timeout","player":%q}`, who)}, nil
		case 2:
			return engine.Command{Actor: engine.System, Action: json.RawMessage(`{"type":"abandon"}`)}, nil
		}
	}
	who := turn[p.rng.IntN(len(turn))]
	legal := p.g.Legal(s, who)
	if len(legal) == 0 {
		return engine.Command{}, fmt.Errorf("seq %d: %s must act but has no legal action", s.Seq(), who)
	}
	return engine.Command{Actor: who, Action: legal[p.rng.IntN(len(legal))]}, nil
}

// probeRejections sends commands near c that must be rejected.
func (p *player) probeRejections(c engine.Command) error {
	s := p.played.State
	before, _ := json.Marshal(s)
	var probes []engine.Command
	for _, bad := range []string{`{}`, `[]`, `null`, `{"type":7}`, `{"type":"no_such_action"}`, `{"type":"resign","extra":1}`, `{"type":"timeout"}`} {
		probes = append(probes, engine.Command{Actor: c.Actor, Action: json.RawMessage(bad)})
	}
	if bytes.HasSuffix(c.Action, []byte("}")) && c.Actor != engine.System {
		extra := append(bytes.TrimSuffix(slices.Clone(c.Action), []byte("}")), `,"zzz":1}`...)
		probes = append(probes,
			engine.Command{Actor: c.Actor, Action: extra},
			engine.Command{Actor: c.Actor, Action: append(slices.Clone(c.Action), ` 1`...)},
			engine.Command{Actor: engine.System, Action: c.Action},
			engine.Command{Actor: "mallory", Action: c.Action},
			engine.Command{Actor: c.Actor, Action: json.RawMessage(`{"type":"abandon"}`)},
		)
		turn := p.g.Turn(s)
		for _, id := range p.played.Players {
			if !slices.Contains(turn, id) {
				probes = append(probes, engine.Command{Actor: id, Action: c.Action})
				break
			}
		}
	}
	for _, bad := range probes {
		evs, err := p.g.Decide(s, bad, p.played.Seed)
		if !engine.IsRejection(err) || evs != nil {
			return fmt.Errorf("seq %d: %s %s: got %d events, error %v; want a rejection", s.Seq(), bad.Actor, bad.Action, len(evs), err)
		}
		if after, _ := json.Marshal(s); !bytes.Equal(before, after) {
			return fmt.Errorf("seq %d: rejected %s changed the state", s.Seq(), bad.Action)
		}
	}
	if _, err := p.g.Decide(s, c, otherSeed(p.played.Seed)); !errors.Is(err, engine.ErrCommitmentMismatch) {
		return fmt.Errorf("deciding with a wrong seed: got %v, want ErrCommitmentMismatch", err)
	}
	return nil
}

func sameEvents(a, b []engine.Event) bool {
	return slices.EqualFunc(a, b, func(x, y engine.Event) bool {
		return x.Type == y.Type && x.Version == y.Version && x.Actor == y.Actor && bytes.Equal(x.Data, y.Data)
	})
}

func otherSeed(seed []byte) []byte {
	s := slices.Clone(seed)
	s[0] ^= 1
	return s
}
