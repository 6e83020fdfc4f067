package engine

import "encoding/json"

// Game is one kind of game (tictactoe, crazyeights, ...) as the engine runs
// it: its Rules behind the engine's lifecycle, fairness and visibility. Build
// one with Define. A *Game holds no mutable state and is safe for concurrent
// use.
type Game struct {
	name    string
	k       kind
	upcasts []Upcast
}

// kind is the engine's view of a Rules[S, A] with S and A erased; adapter
// implements it.
type kind interface {
	create(name string, config json.RawMessage, players []string, seed []byte) ([]Event, error)
	decide(s State, c Command, typ string, seed []byte) ([]Event, error)
	autoTimeout(s State, player string, canon json.RawMessage, seed []byte) ([]Event, bool, error)
	decodeAction(data []byte) (json.RawMessage, error)
	decodeEvent(typ string, data []byte) (Payload, error)
	apply(name string, s State, ds []Decoded) (State, error)
	turn(s State) []string
	forced(s State) (Forced, bool)
	legal(s State, player string) []json.RawMessage
	inPlay(s State, player string) bool
	render(p Payload, v Viewer) (Visibility, Payload)
	view(s State, v Viewer) State
	hidesSeed(v Viewer) bool
	shape() (string, error)
	decodeState(data []byte) (any, error)
}

// Define wraps rules as a Game. It detects the optional Secrets, Upcaster,
// TimeoutPolicy and Elimination interfaces.
func Define[S, A any](rules Rules[S, A]) *Game {
	a := &adapter[S, A]{r: rules}
	a.secrets, _ = any(rules).(Secrets[S])
	a.timeouts, _ = any(rules).(TimeoutPolicy[S, A])
	a.elim, _ = any(rules).(Elimination[S])
	g := &Game{name: rules.Name(), k: a}
	if u, ok := any(rules).(Upcaster); ok {
		g.upcasts = u.Upcasts()
	}
	return g
}

// Name is the game's registry name.
func (g *Game) Name() string { return g.name }

// Turn lists the players who may act now: nobody once the game has ended,
// only the forced player while a forced action is pending.
func (g *Game) Turn(s State) []string {
	if !s.Created() || s.outcome.Ended {
		return nil
	}
	if f, ok := g.k.forced(s); ok {
		return []string{f.Player}
	}
	return g.k.turn(s)
}

// Forced reports the pending forced action, if any.
func (g *Game) Forced(s State) (Forced, bool) {
	if !s.Created() || s.outcome.Ended {
		return Forced{}, false
	}
	return g.k.forced(s)
}

// Legal lists, as canonical JSON, the rules' actions player may send now:
// none when it is not their turn or the game has ended. Resignation is
// always possible for a player in play and is not listed.
func (g *Game) Legal(s State, player string) []json.RawMessage {
	if !s.Created() || s.outcome.Ended || !s.IsPlayer(player) {
		return nil
	}
	return g.k.legal(s, player)
}

// InPlay reports whether player is in the game and not eliminated.
func (g *Game) InPlay(s State, player string) bool {
	return s.IsPlayer(player) && g.k.inPlay(s, player)
}

// View returns s as v may see it: other players' secrets replaced by
// unknowns, the seed absent until revealed. Marshal it to send a snapshot.
func (g *Game) View(s State, v Viewer) State {
	if !s.Created() || v.Role == RoleAuditor {
		return s
	}
	return g.k.view(s, v)
}
