package engine

import (
	"encoding/hex"
	"encoding/json"
	"slices"
)

// State is one game after some events: the engine's part (seq, players,
// commitment, outcome, the seed once revealed) and the rules' state. It is
// a value; Apply returns a new State and leaves the old one valid. The zero
// State is a game before event 1.
//
// A State marshals to JSON in full, secrets included. Send a viewer
// Game.View(s, viewer), never a raw State.
type State struct {
	seq        uint64
	game       string
	players    []string
	config     json.RawMessage
	commitment string
	outcome    Outcome
	seed       []byte
	settings   Settings
	timer      timerState
	rules      any
}

// Seq is the number of events folded: the seq of the last one.
func (s State) Seq() uint64 { return s.seq }

// Created reports whether game_created has been folded.
func (s State) Created() bool { return s.seq > 0 }

// Game is the game's name.
func (s State) Game() string { return s.game }

// Players returns the players in seat order.
func (s State) Players() []string { return slices.Clone(s.players) }

// IsPlayer reports whether id is one of the players.
func (s State) IsPlayer(id string) bool { return slices.Contains(s.players, id) }

// Commitment is hex(SHA-256(seed)) from game_created.
func (s State) Commitment() string { return s.commitment }

// Ended reports whether the game has ended: Outcome().Ended, without
// copying the winners.
func (s State) Ended() bool { return s.outcome.Ended }

// Outcome reports whether and how the game ended.
func (s State) Outcome() Outcome {
	o := s.outcome
	o.Winners = slices.Clone(o.Winners)
	return o
}

// Seed returns the seed once seed_revealed has been folded.
func (s State) Seed() ([]byte, bool) { return slices.Clone(s.seed), s.seed != nil }

// Rules returns the rules' state (type S of the game's Rules).
func (s State) Rules() any { return s.rules }

// RulesState returns the rules' state as S.
func RulesState[S any](s State) (S, bool) {
	v, ok := s.rules.(S)
	return v, ok
}

type snapshot struct {
	Seq        uint64          `json:"seq"`
	Game       string          `json:"game"`
	Players    []string        `json:"players"`
	Config     json.RawMessage `json:"config"`
	Commitment string          `json:"commitment"`
	Outcome    Outcome         `json:"outcome"`
	Seed       string          `json:"seed,omitempty"`
	Turn       *Turn           `json:"turn,omitempty"`     // a timed game's running turn
	Timeouts   []uint64        `json:"timeouts,omitempty"` // a timed game's, per seat
	State      any             `json:"state"`
}

// MarshalJSON encodes everything s holds, deterministically.
func (s State) MarshalJSON() ([]byte, error) {
	snap := snapshot{
		Seq: s.seq, Game: s.game, Players: s.players, Config: s.config,
		Commitment: s.commitment, Outcome: s.outcome, State: s.rules,
	}
	if s.seed != nil {
		snap.Seed = hex.EncodeToString(s.seed)
	}
	if t, ok := s.Turn(); ok {
		snap.Turn = &t
	}
	if s.settings.TurnTimer != nil {
		snap.Timeouts = make([]uint64, len(s.players))
		copy(snap.Timeouts, s.timer.timeouts)
	}
	return json.Marshal(snap)
}
