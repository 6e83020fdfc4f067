package engine

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Decide returns the events command c produces in state s, or a rejection
// (errors.Is ErrNotYourTurn, ErrInvalidAction, ErrActionNotAllowed or
// ErrGameOver) and no events. It is a pure function of (s, c, seed): the
// same inputs give byte-identical events. seed must be the one the game
// committed to (else ErrCommitmentMismatch).
//
// The events, meant for seqs s.Seq()+1, +2, ..., are: action (the actor and
// the canonical action), the rules' events, and, when the command ends the
// game, game_ended and seed_revealed. All carry c.Actor. Randomness is the
// Rand for seq s.Seq()+1.
func (g *Game) Decide(s State, c Command, seed []byte) ([]Event, error) {
	evs, err := g.decide(s, c, seed)
	if err != nil || s.settings.TurnTimer == nil {
		return evs, err
	}
	return g.timed(s, c, evs)
}

func (g *Game) decide(s State, c Command, seed []byte) ([]Event, error) {
	if !s.Created() || s.game != g.name {
		return nil, notAllowed("no %s game here", g.name)
	}
	if err := checkSeed(s.commitment, seed); err != nil {
		return nil, err
	}
	if s.outcome.Ended {
		return nil, fmt.Errorf("%w: the game ended (%s)", ErrGameOver, s.outcome.Reason)
	}
	o, typ, err := ParseAction(c.Action)
	if err != nil {
		return nil, err
	}
	switch typ {
	case ActionResign:
		return g.resign(s, c, o, seed)
	case ActionTimeout:
		return g.timeout(s, c, o, seed)
	case ActionAbandon:
		return g.abandon(s, c, o, seed)
	case ActionGrace:
		return g.grace(s, c, o)
	}
	if c.Actor == System {
		return nil, notAllowed("the system may only send timeout, grace or abandon")
	}
	if !s.IsPlayer(c.Actor) {
		return nil, notAllowed("%q is not a player", c.Actor)
	}
	return g.k.decide(s, c, typ, seed)
}

func (g *Game) resign(s State, c Command, o *Object, seed []byte) ([]Event, error) {
	if err := o.Done(); err != nil {
		return nil, err
	}
	if !s.IsPlayer(c.Actor) {
		return nil, notAllowed("%q is not a player", c.Actor)
	}
	if !g.k.inPlay(s, c.Actor) {
		return nil, notAllowed("%s is already out", c.Actor)
	}
	canon, _ := json.Marshal(typeOnly{Type: ActionResign})
	return g.end(c.Actor, canon, g.lose(s, c.Actor, ReasonResignation), seed)
}

func (g *Game) timeout(s State, c Command, o *Object, seed []byte) ([]Event, error) {
	player, err := o.String("player")
	if err != nil {
		return nil, err
	}
	var turn uint64
	timed := s.settings.TurnTimer != nil
	if timed || o.Has("turn") {
		n, err := o.Int("turn", 1, 1<<62)
		if err != nil {
			return nil, err
		}
		turn = uint64(n)
	}
	if err := o.Done(); err != nil {
		return nil, err
	}
	if c.Actor != System {
		return nil, notAllowed("only the system reports timeouts")
	}
	lose := false
	if timed {
		if lose, err = timedTimeout(s, c, player, turn); err != nil {
			return nil, err
		}
	} else if turn != 0 {
		return nil, notAllowed("this game has no turn timer")
	} else if !slices.Contains(g.Turn(s), player) {
		return nil, notAllowed("%q is not expected to act", player)
	}
	canon, _ := json.Marshal(timeoutAction{Type: ActionTimeout, Player: player, Turn: turn})
	if !lose {
		if evs, ok, err := g.k.autoTimeout(s, player, canon, seed); ok {
			return evs, err
		}
	}
	return g.end(System, canon, g.lose(s, player, ReasonTimeout), seed)
}

func (g *Game) abandon(s State, c Command, o *Object, seed []byte) ([]Event, error) {
	if err := o.Done(); err != nil {
		return nil, err
	}
	if c.Actor != System {
		return nil, notAllowed("only the system abandons games")
	}
	canon, _ := json.Marshal(typeOnly{Type: ActionAbandon})
	return g.end(System, canon, Outcome{Ended: true, Winners: []string{}, Reason: ReasonAbandonment}, seed)
}

// lose is the outcome when loser leaves early: everyone else still in play
// wins.
func (g *Game) lose(s State, loser string, why Reason) Outcome {
	winners := []string{}
	for _, p := range s.players {
		if p != loser && g.k.inPlay(s, p) {
			winners = append(winners, p)
		}
	}
	return Outcome{Ended: true, Winners: winners, Reason: why}
}

func (g *Game) end(actor string, canon json.RawMessage, out Outcome, seed []byte) ([]Event, error) {
	b := builder{actor: actor}
	b.add(ActionTaken{Actor: actor, Action: canon})
	b.end(out, seed)
	return b.result()
}
