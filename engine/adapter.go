package engine

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
)

// adapter runs a Rules[S, A] for the engine.
type adapter[S, A any] struct {
	r        Rules[S, A]
	secrets  Secrets[S]
	timeouts TimeoutPolicy[S, A]
	elim     Elimination[S]

	shapeOnce sync.Once // computes shapeOf, shapeErr (snapshot.go)
	shapeOf   string
	shapeErr  error
}

func (a *adapter[S, A]) state(s State) S {
	v, _ := s.rules.(S)
	return v
}

func (a *adapter[S, A]) create(name string, config json.RawMessage, players []string, seed []byte) ([]Event, error) {
	_, rulesConfig, err := splitConfig(config)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidSetup, err)
	}
	s, err := a.r.New(rulesConfig, players)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidSetup, err)
	}
	b := builder{actor: System}
	b.add(GameCreated{Game: name, Players: players, Config: config, Commitment: Commit(seed)})
	s = a.produce(&b, s, a.r.Start(s, NewRand(seed, 1)))
	a.finish(&b, s, seed)
	return b.result()
}

func (a *adapter[S, A]) decide(st State, c Command, typ string, seed []byte) ([]Event, error) {
	act, err := a.r.DecodeAction(c.Action)
	if err != nil {
		return nil, invalid(err)
	}
	s := a.state(st)
	if f, ok := a.r.Forced(s); ok {
		if f.Player != c.Actor {
			return nil, fmt.Errorf("%w: %s must %s first", ErrNotYourTurn, f.Player, f.Action)
		}
		if f.Action != typ {
			return nil, fmt.Errorf("%w: you must %s first", ErrActionNotAllowed, f.Action)
		}
	} else if !slices.Contains(a.r.Turn(s), c.Actor) {
		return nil, fmt.Errorf("%w: %s may not act now", ErrNotYourTurn, c.Actor)
	}
	canon, err := json.Marshal(act)
	if err != nil {
		return nil, fmt.Errorf("encode action: %w", err)
	}
	return a.play(st, c.Actor, c.Actor, canon, act, seed)
}

// play decides act for player and builds the command's events: the action
// record, the rules' events and, if the game ends, the end and the seed.
func (a *adapter[S, A]) play(st State, actor, player string, canon json.RawMessage, act A, seed []byte) ([]Event, error) {
	s := a.state(st)
	ps, err := a.r.Decide(s, player, act, NewRand(seed, st.seq+1))
	if err != nil {
		return nil, rejection(err)
	}
	b := builder{actor: actor}
	b.add(ActionTaken{Actor: actor, Action: canon})
	s = a.produce(&b, s, ps)
	a.finish(&b, s, seed)
	return b.result()
}

// produce encodes the rules' events and evolves a copy of s through them.
func (a *adapter[S, A]) produce(b *builder, s S, ps []Payload) S {
	for _, p := range ps {
		if p == nil || isLifecycle(p.EventType()) {
			b.fail(fmt.Errorf("rules %s produced a nil or reserved event %v", a.r.Name(), p))
			return s
		}
		b.add(p)
		s = a.r.Evolve(s, p)
	}
	return s
}

func (a *adapter[S, A]) finish(b *builder, s S, seed []byte) {
	if out := a.r.Outcome(s); out.Ended {
		out.Reason = ReasonNormal
		b.end(out, seed)
	}
}

func (a *adapter[S, A]) autoTimeout(st State, player string, canon json.RawMessage, seed []byte) ([]Event, bool, error) {
	if a.timeouts == nil {
		return nil, false, nil
	}
	act, ok := a.timeouts.OnTimeout(a.state(st), player)
	if !ok {
		return nil, false, nil
	}
	evs, err := a.play(st, System, player, canon, act, seed)
	return evs, true, err
}

func (a *adapter[S, A]) decodeAction(data []byte) (json.RawMessage, error) {
	act, err := a.r.DecodeAction(data)
	if err != nil {
		return nil, invalid(err)
	}
	return json.Marshal(act)
}

func (a *adapter[S, A]) decodeEvent(typ string, data []byte) (Payload, error) {
	p, err := a.r.DecodeEvent(typ, data)
	if err == nil && p == nil {
		err = fmt.Errorf("no payload")
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorruptLog, typ, err)
	}
	return p, nil
}

func (a *adapter[S, A]) apply(name string, st State, ds []Decoded) (State, error) {
	orig := st
	s := a.state(st)
	for _, d := range ds {
		var err error
		switch p := d.Payload.(type) {
		case GameCreated:
			if st.seq != 0 || p.Game != name {
				return orig, fmt.Errorf("%w: seq %d: unexpected game_created for %q", ErrCorruptLog, st.seq+1, p.Game)
			}
			if err := validPlayers(p.Players); err != nil {
				return orig, fmt.Errorf("%w: %v", ErrCorruptLog, err)
			}
			set, rulesConfig, err := splitConfig(p.Config)
			if err != nil {
				return orig, fmt.Errorf("%w: game_created: %v", ErrCorruptLog, err)
			}
			if s, err = a.r.New(rulesConfig, p.Players); err != nil {
				return orig, fmt.Errorf("%w: game_created: %v", ErrCorruptLog, err)
			}
			st.game, st.players, st.config, st.commitment = p.Game, p.Players, p.Config, p.Commitment
			st.settings = set
		case ActionTaken, GameEnded, SeedRevealed, TurnStarted, DeadlineExtended:
			st, err = applyLifecycle(st, p)
		default:
			if st.seq == 0 || st.outcome.Ended {
				err = fmt.Errorf("%w: seq %d: %s out of place", ErrCorruptLog, st.seq+1, p.EventType())
			} else {
				s = a.r.Evolve(s, p)
			}
		}
		if err != nil {
			return orig, err
		}
		st.seq++
	}
	st.rules = s
	return st, nil
}

func (a *adapter[S, A]) turn(st State) []string { return slices.Clone(a.r.Turn(a.state(st))) }

func (a *adapter[S, A]) forced(st State) (Forced, bool) { return a.r.Forced(a.state(st)) }

func (a *adapter[S, A]) legal(st State, player string) []json.RawMessage {
	s := a.state(st)
	if f, ok := a.r.Forced(s); ok {
		if f.Player != player {
			return nil
		}
	} else if !slices.Contains(a.r.Turn(s), player) {
		return nil
	}
	acts := a.r.Legal(s, player)
	out := make([]json.RawMessage, 0, len(acts))
	for _, act := range acts {
		if data, err := json.Marshal(act); err == nil {
			out = append(out, data)
		}
	}
	return out
}

func (a *adapter[S, A]) inPlay(st State, player string) bool {
	return a.elim == nil || a.elim.InPlay(a.state(st), player)
}

func (a *adapter[S, A]) render(p Payload, v Viewer) (Visibility, Payload) {
	if a.secrets == nil || v.Role == RoleAuditor {
		return Full, p
	}
	return a.secrets.RenderEvent(p, v)
}

func (a *adapter[S, A]) view(st State, v Viewer) State {
	if a.secrets == nil || v.Role == RoleAuditor {
		return st
	}
	st.rules = a.secrets.View(a.state(st), v)
	if a.hidesSeed(v) {
		st.seed = nil
	}
	return st
}

// hidesSeed reports whether v may not have the revealed seed: a spectator
// of a game with secrets, who would deal every hidden card or die again
// from it. Players have it once the game ends, to check the shuffle (and
// replay gives them the whole log then); a public game's ended log is
// anyone's through the auditor's view (package replay).
func (a *adapter[S, A]) hidesSeed(v Viewer) bool {
	return a.secrets != nil && v.Role == RoleSpectator
}
