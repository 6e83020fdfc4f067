package engine

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/playlog/playlog/internal/jsonscan"
)

// System is the actor of commands no player sends: timeouts and abandonment.
const System = "system"

// Event types the engine itself writes. Rules must not use these names.
const (
	TypeGameCreated  = "game_created"
	TypeAction       = "action"
	TypeGameEnded    = "game_ended"
	TypeSeedRevealed = "seed_revealed"
	// A timed game's (docs/timers.md):
	TypeTurnStarted      = "turn_started"
	TypeDeadlineExtended = "deadline_extended"
)

// GameCreated is always event 1. It commits to the seed without revealing
// it: Commitment is hex(SHA-256(seed)).
type GameCreated struct {
	Game       string          `json:"game"`
	Players    []string        `json:"players"`
	Config     json.RawMessage `json:"config"`
	Commitment string          `json:"commitment"`
	// At is when a timed game was created: its first deadline counts
	// from it. Absent for a game with no turn timer.
	At *time.Time `json:"at,omitempty"`
}

// ActionTaken opens the events of every accepted command: who sent it and
// the action, re-encoded canonically. Verify re-runs Decide with it.
type ActionTaken struct {
	Actor  string          `json:"actor"`
	Action json.RawMessage `json:"action"`
	// At is the command's time in a timed game (Command.At), which its
	// deadlines and timeouts were decided with. Absent otherwise.
	At *time.Time `json:"at,omitempty"`
}

// TurnStarted follows every command (and the setup) of a timed game that
// leaves someone to act: the players to act, the turn's number (1, 2, ...)
// and its deadline.
type TurnStarted struct {
	Players  []string  `json:"players"`
	Turn     uint64    `json:"turn"`
	Deadline time.Time `json:"deadline"`
}

// DeadlineExtended is a grace: the turn's deadline moved for player.
type DeadlineExtended struct {
	Player   string    `json:"player"`
	Turn     uint64    `json:"turn"`
	Deadline time.Time `json:"deadline"`
}

// GameEnded records the outcome. It is followed by SeedRevealed in the same
// command.
type GameEnded struct {
	Winners []string `json:"winners"`
	Draw    bool     `json:"draw"`
	Reason  Reason   `json:"reason"`
}

// SeedRevealed is the last event of every finished game: the seed, in hex.
type SeedRevealed struct {
	Seed string `json:"seed"`
}

func (GameCreated) EventType() string  { return TypeGameCreated }
func (ActionTaken) EventType() string  { return TypeAction }
func (GameEnded) EventType() string    { return TypeGameEnded }
func (SeedRevealed) EventType() string { return TypeSeedRevealed }
func (TurnStarted) EventType() string  { return TypeTurnStarted }
func (DeadlineExtended) EventType() string {
	return TypeDeadlineExtended
}

func isLifecycle(typ string) bool {
	switch typ {
	case TypeGameCreated, TypeAction, TypeGameEnded, TypeSeedRevealed, TypeTurnStarted, TypeDeadlineExtended:
		return true
	}
	return false
}

func decodeLifecycle(typ string, data []byte) (Payload, error) {
	var p Payload
	var err error
	switch typ {
	case TypeGameCreated:
		var v GameCreated
		err = json.Unmarshal(data, &v)
		if err == nil && (v.Game == "" || len(v.Players) == 0 || len(v.Commitment) != 64) {
			err = fmt.Errorf("incomplete %s", typ)
		}
		p = v
	case TypeAction:
		v, ok := scanActionTaken(data)
		if !ok {
			err = json.Unmarshal(data, &v)
		}
		if err == nil && (v.Actor == "" || len(v.Action) == 0) {
			err = fmt.Errorf("incomplete %s", typ)
		}
		p = v
	case TypeTurnStarted:
		var v TurnStarted
		err = json.Unmarshal(data, &v)
		if err == nil && (v.Turn == 0 || len(v.Players) == 0 || v.Deadline.IsZero()) {
			err = fmt.Errorf("incomplete %s", typ)
		}
		p = v
	case TypeDeadlineExtended:
		var v DeadlineExtended
		err = json.Unmarshal(data, &v)
		if err == nil && (v.Turn == 0 || v.Player == "" || v.Deadline.IsZero()) {
			err = fmt.Errorf("incomplete %s", typ)
		}
		p = v
	case TypeGameEnded:
		var v GameEnded
		err = json.Unmarshal(data, &v)
		if err == nil && !v.Reason.valid() {
			err = fmt.Errorf("%s: unknown reason %q", typ, v.Reason)
		}
		if v.Winners == nil {
			v.Winners = []string{}
		}
		p = v
	case TypeSeedRevealed:
		var v SeedRevealed
		err = json.Unmarshal(data, &v)
		p = v
	default:
		return nil, fmt.Errorf("%w: %q is not an engine event", ErrCorruptLog, typ)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorruptLog, typ, err)
	}
	return p, nil
}

// scanActionTaken decodes an action record, the one event of every move,
// in one scan when it is as the engine writes it: "actor" a plain string
// and "action" an object, each once, and nothing else (a timed game's "at"
// and anything unusual go to json.Unmarshal). It then decodes as
// json.Unmarshal does (FuzzScanActionTaken), Action a slice of data.
func scanActionTaken(data []byte) (ActionTaken, bool) {
	var v ActionTaken
	var actor, action bool
	ok := jsonscan.Members(data, func(k []byte, _ bool, val []byte) bool {
		var ok bool
		switch string(k) {
		case "actor":
			if actor {
				return false
			}
			actor = true
			v.Actor, ok = jsonscan.PlainString(val)
		case "action":
			if action {
				return false
			}
			action, ok = true, val[0] == '{'
			v.Action = json.RawMessage(val)
		}
		return ok // false for any other key
	})
	return v, ok
}
