package tictactoe

import (
	"encoding/json"
	"fmt"

	"github.com/playlog/playlog/engine"
)

// Name is the game's registry name.
const Name = "tictactoe"

// Rules implements engine.Rules[State, Action].
type Rules struct{}

var _ engine.Rules[State, Action] = Rules{}

// Game returns tictactoe as an engine game.
func Game() *engine.Game { return engine.Define(Rules{}) }

// Name returns "tictactoe".
func (Rules) Name() string { return Name }

// New accepts only the empty config and exactly two players.
func (Rules) New(config json.RawMessage, players []string) (State, error) {
	if string(config) != "{}" { // the common case, without parsing
		if err := engine.NoConfig(config); err != nil {
			return State{}, err
		}
	}
	if len(players) != 2 {
		return State{}, fmt.Errorf("tictactoe needs 2 players, got %d", len(players))
	}
	return State{Players: [2]string{players[0], players[1]}}, nil
}

// Start has nothing to set up.
func (Rules) Start(State, *engine.Rand) []engine.Payload { return nil }
