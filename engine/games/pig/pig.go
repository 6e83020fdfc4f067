package pig

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/playlog/playlog/engine"
)

// Rules implements engine.Rules[State, Action].
type Rules struct{}

// Game returns Pig as an engine game.
func Game() *engine.Game { return engine.Define(Rules{}) }

// State is the whole game: scores, whose turn, this turn's total.
type State struct {
	Players []string `json:"players"`
	Target  int      `json:"target"`
	Scores  []int    `json:"scores"`
	Turn    int      `json:"turn"`
	Pot     int      `json:"pot"`
}

// Action is {"type":"roll"} or {"type":"hold"}.
type Action struct {
	Type string `json:"type"`
}

// Rolled: Player rolled Die.
type Rolled struct {
	Player string `json:"player"`
	Die    int    `json:"die"`
}

// Held: Player banked the pot.
type Held struct {
	Player string `json:"player"`
}

func (Rolled) EventType() string { return "rolled" }
func (Held) EventType() string   { return "held" }

func (Rules) Name() string { return "pig" }

func (Rules) New(config json.RawMessage, players []string) (State, error) {
	o, err := engine.ParseObject(config)
	if err != nil {
		return State{}, err
	}
	target := 20
	if o.Has("target") {
		if target, err = o.Int("target", 1, 100); err != nil {
			return State{}, err
		}
	}
	if err := o.Done(); err != nil {
		return State{}, err
	}
	if len(players) < 2 || len(players) > 4 {
		return State{}, fmt.Errorf("pig needs 2 to 4 players")
	}
	return State{Players: players, Target: target, Scores: make([]int, len(players))}, nil
}

func (Rules) Start(State, *engine.Rand) []engine.Payload { return nil }

func (Rules) DecodeAction(data []byte) (Action, error) {
	o, typ, err := engine.ParseAction(data)
	if err != nil {
		return Action{}, err
	}
	if typ != "roll" && typ != "hold" {
		return Action{}, fmt.Errorf("%w: unknown action type %q", engine.ErrInvalidAction, typ)
	}
	return Action{Type: typ}, o.Done()
}

func (Rules) Decide(s State, player string, a Action, r *engine.Rand) ([]engine.Payload, error) {
	if a.Type == "hold" {
		return []engine.Payload{Held{Player: player}}, nil
	}
	return []engine.Payload{Rolled{Player: player, Die: r.Intn(6) + 1}}, nil
}

func (Rules) DecodeEvent(typ string, data []byte) (engine.Payload, error) {
	switch typ {
	case "rolled":
		var e Rolled
		if err := json.Unmarshal(data, &e); err != nil || e.Die < 1 || e.Die > 6 {
			return nil, fmt.Errorf("bad rolled event %s", data)
		}
		return e, nil
	case "held":
		var e Held
		return e, json.Unmarshal(data, &e)
	}
	return nil, fmt.Errorf("unknown event type %q", typ)
}

func (Rules) Evolve(s State, e engine.Payload) State {
	switch e := e.(type) {
	case Rolled:
		if e.Die == 1 {
			s.Pot, s.Turn = 0, (s.Turn+1)%len(s.Players)
		} else {
			s.Pot += e.Die
		}
	case Held:
		s.Scores = slices.Clone(s.Scores)
		s.Scores[s.Turn] += s.Pot
		s.Pot, s.Turn = 0, (s.Turn+1)%len(s.Players)
	}
	return s
}

func (Rules) Turn(s State) []string { return []string{s.Players[s.Turn]} }

func (Rules) Forced(State) (engine.Forced, bool) { return engine.Forced{}, false }

func (Rules) Legal(State, string) []Action {
	return []Action{{Type: "roll"}, {Type: "hold"}}
}

func (Rules) Outcome(s State) engine.Outcome {
	for i, score := range s.Scores {
		if score >= s.Target {
			return engine.Win(s.Players[i])
		}
	}
	return engine.Outcome{}
}

// OnTimeout holds for a player who runs out of time (engine.TimeoutPolicy).
func (Rules) OnTimeout(State, string) (Action, bool) { return Action{Type: "hold"}, true }
