package engine

import "encoding/json"

// Rules is what a game implements: a pure state machine over its own state
// type S and action type A. The engine adds creation, the seed, the action
// record, resignation, timeouts, abandonment, the end of the game and
// visibility of its own events; Rules only knows its game.
//
// Every method must be pure and deterministic: no clock, no I/O, no global
// random source, no map iteration that reaches the output. Randomness comes
// only from the *Rand passed to Start and Decide.
//
// S is a value. Evolve and View must not modify anything reachable from
// the S they are given (copy a slice before changing it): the engine keeps
// old states and evolves copies to look ahead.
type Rules[S, A any] interface {
	// Name is the game's stable name (registry key, game_created.game).
	Name() string

	// New validates config (a JSON object, "{}" when none was given) and the
	// players, and returns the state before any event of the rules. It must
	// not use randomness. Errors become ErrInvalidSetup.
	New(config json.RawMessage, players []string) (S, error)
	// Start returns the events that set the game up (deal, first roll).
	Start(s S, r *Rand) []Payload

	// DecodeAction decodes one action strictly (see Object). Errors must
	// wrap ErrInvalidAction. The engine re-encodes the result with
	// encoding/json to record it, so json.Marshal(a) must decode back to a.
	// The types "resign", "timeout" and "abandon" are the engine's.
	DecodeAction(data []byte) (A, error)
	// Decide returns the events player's action produces, or a rejection
	// wrapping ErrActionNotAllowed (or ErrNotYourTurn). The engine has
	// already checked that the game is on, that player is a player whose
	// turn it is, and any forced action.
	Decide(s S, player string, a A, r *Rand) ([]Payload, error)

	// DecodeEvent decodes the data of the rules' event type typ (already
	// upcast to the current version). It also decodes redacted payloads.
	// It must validate enough that Evolve cannot panic.
	DecodeEvent(typ string, data []byte) (Payload, error)
	// Evolve applies one event. It is total: every payload DecodeEvent
	// accepts gives a state, even for events Decide would never produce.
	Evolve(s S, e Payload) S

	// Turn lists the players who may act now (ignoring any forced action).
	Turn(s S) []string
	// Forced reports a decision the game demands before anything else.
	Forced(s S) (Forced, bool)
	// Legal lists every action player may send now, in a stable order.
	Legal(s S, player string) []A
	// Outcome reports whether the rules have ended the game (Reason is
	// filled in by the engine).
	Outcome(s S) Outcome
}

// Secrets is implemented by rules with hidden information. Without it every
// event is Full for everyone and every viewer sees the whole state.
//
// The contract, which enginetest checks over thousands of games: for every
// viewer, folding the events as RenderEvent renders them gives exactly
// View of the state those events fold to. The usual way to keep it is to
// redact by replacing secret values with an "unknown" value of the same
// type, and to write Evolve so it works on unknowns too.
type Secrets[S any] interface {
	// RenderEvent returns how v sees e: Full (p is e), Redacted (p is a copy
	// with secrets replaced by unknowns), or Stub (p is nil). It is never
	// called for auditors.
	RenderEvent(e Payload, v Viewer) (Visibility, Payload)
	// View returns s as v may see it. It is never called for auditors.
	View(s S, v Viewer) S
}

// Upcaster is implemented by rules that have changed an event's schema.
type Upcaster interface {
	Upcasts() []Upcast
}

// TimeoutPolicy is implemented by rules that prefer an automatic action to
// a loss when a player times out (for example "pass"). When OnTimeout
// returns ok, the engine decides that action for the player; otherwise the
// player who timed out loses.
type TimeoutPolicy[S, A any] interface {
	OnTimeout(s S, player string) (a A, ok bool)
}

// Elimination is implemented by rules in which players can be knocked out
// before the end. Eliminated players cannot resign and do not share the win
// when someone else resigns or times out.
type Elimination[S any] interface {
	InPlay(s S, player string) bool
}
