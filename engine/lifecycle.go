package engine

import (
	"encoding/json"
	"fmt"
)

// System is the actor of commands no player sends: timeouts and abandonment.
const System = "system"

// Event types the engine itself writes. Rules must not use these names.
const (
	TypeGameCreated  = "game_created"
	TypeAction       = "action"
	TypeGameEnded    = "game_ended"
	TypeSeedRevealed = "seed_revealed"
)

// GameCreated is always event 1. It commits to the seed without revealing
// it: Commitment is hex(SHA-256(seed)).
type GameCreated struct {
	Game       string          `json:"game"`
	Players    []string        `json:"players"`
	Config     json.RawMessage `json:"config"`
	Commitment string          `json:"commitment"`
}

// ActionTaken opens the events of every accepted command: who sent it and
// the action, re-encoded canonically. Verify re-runs Decide with it.
type ActionTaken struct {
	Actor  string          `json:"actor"`
	Action json.RawMessage `json:"action"`
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

func isLifecycle(typ string) bool {
	switch typ {
	case TypeGameCreated, TypeAction, TypeGameEnded, TypeSeedRevealed:
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
		var v ActionTaken
		err = json.Unmarshal(data, &v)
		if err == nil && (v.Actor == "" || len(v.Action) == 0) {
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
