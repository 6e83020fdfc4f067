package engine_test

import (
	"encoding/json"
	"fmt"

	"github.com/playlog/playlog/engine"
)

// coin is a toy game for the engine's own tests: a coin is flipped in
// secret (a Stub for everyone but the auditor), the first player calls it
// and wins if right. Its called event is at version 2; version 1 named
// the field "guess", and an upcast renames it.
type coin struct{}

type coinState struct {
	Players []string `json:"players"`
	Coin    string   `json:"coin"` // "" while hidden from the viewer
	Call    string   `json:"call"`
}

type coinAction struct {
	Type string `json:"type"`
	Side string `json:"side"`
}

type flipped struct {
	Coin string `json:"coin"`
}

type called struct {
	Side string `json:"side"`
	Coin string `json:"coin"`
}

func (flipped) EventType() string { return "flipped" }
func (called) EventType() string  { return "called" }
func (called) EventVersion() int  { return 2 }

func (coin) Name() string { return "coin" }

func (coin) New(config json.RawMessage, players []string) (coinState, error) {
	if len(players) != 2 {
		return coinState{}, fmt.Errorf("coin needs 2 players")
	}
	return coinState{Players: players}, nil
}

func (coin) Start(s coinState, r *engine.Rand) []engine.Payload {
	return []engine.Payload{flipped{Coin: []string{"heads", "tails"}[r.Intn(2)]}}
}

func (coin) DecodeAction(data []byte) (coinAction, error) {
	o, err := engine.ParseObject(data)
	if err != nil {
		return coinAction{}, err
	}
	typ, err := o.Type()
	if err != nil {
		return coinAction{}, err
	}
	if typ != "call" {
		return coinAction{}, fmt.Errorf("%w: unknown type %q", engine.ErrInvalidAction, typ)
	}
	side, err := o.String("side")
	if err != nil {
		return coinAction{}, err
	}
	if side != "heads" && side != "tails" {
		return coinAction{}, fmt.Errorf("%w: side %q", engine.ErrInvalidAction, side)
	}
	return coinAction{Type: typ, Side: side}, o.Done()
}

func (coin) Decide(s coinState, _ string, a coinAction, _ *engine.Rand) ([]engine.Payload, error) {
	return []engine.Payload{called{Side: a.Side, Coin: s.Coin}}, nil
}

func (coin) DecodeEvent(typ string, data []byte) (engine.Payload, error) {
	switch typ {
	case "flipped":
		var e flipped
		return e, json.Unmarshal(data, &e)
	case "called":
		var e called
		return e, json.Unmarshal(data, &e)
	}
	return nil, fmt.Errorf("unknown event %q", typ)
}

func (coin) Evolve(s coinState, e engine.Payload) coinState {
	switch e := e.(type) {
	case flipped:
		s.Coin = e.Coin
	case called:
		s.Call, s.Coin = e.Side, e.Coin
	}
	return s
}

func (coin) Turn(s coinState) []string              { return s.Players[:1] }
func (coin) Forced(coinState) (engine.Forced, bool) { return engine.Forced{}, false }
func (coin) Legal(coinState, string) []coinAction {
	return []coinAction{{"call", "heads"}, {"call", "tails"}}
}
func (coin) Upcasts() []engine.Upcast {
	return []engine.Upcast{{Type: "called", From: 1, Apply: renameGuess}}
}
func (coin) View(s coinState, _ engine.Viewer) coinState { return hideCoin(s) }

func (coin) Outcome(s coinState) engine.Outcome {
	switch {
	case s.Call == "":
		return engine.Outcome{}
	case s.Call == s.Coin:
		return engine.Win(s.Players[0])
	}
	return engine.Win(s.Players[1])
}

func (coin) RenderEvent(e engine.Payload, _ engine.Viewer) (engine.Visibility, engine.Payload) {
	if _, ok := e.(flipped); ok {
		return engine.Stub, nil
	}
	return engine.Full, e
}

func hideCoin(s coinState) coinState {
	if s.Call == "" {
		s.Coin = ""
	}
	return s
}

func renameGuess(data json.RawMessage) (json.RawMessage, error) {
	var v1 struct {
		Guess string `json:"guess"`
		Coin  string `json:"coin"`
	}
	if err := json.Unmarshal(data, &v1); err != nil {
		return nil, err
	}
	return json.Marshal(called{Side: v1.Guess, Coin: v1.Coin})
}
