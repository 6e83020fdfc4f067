package liarsdice

import (
	"encoding/json"
	"fmt"

	"github.com/playlog/playlog/engine"
)

// Name is the game's registry name.
const Name = "liarsdice"

// StartingDice is the number of dice each player starts with.
const StartingDice = 5

// Rules implements engine.Rules[State, Action], engine.Secrets[State] and
// engine.Elimination[State].
type Rules struct{}

var (
	_ engine.Rules[State, Action] = Rules{}
	_ engine.Secrets[State]       = Rules{}
	_ engine.Elimination[State]   = Rules{}
)

// Game returns Liar's Dice as an engine game.
func Game() *engine.Game { return engine.Define(Rules{}) }

// Name returns "liarsdice".
func (Rules) Name() string { return Name }

// New accepts the empty config and 2 to 6 players.
func (Rules) New(config json.RawMessage, players []string) (State, error) {
	if err := engine.NoConfig(config); err != nil {
		return State{}, err
	}
	if len(players) < 2 || len(players) > 6 {
		return State{}, fmt.Errorf("liarsdice needs 2 to 6 players, got %d", len(players))
	}
	hands := make([][]int, len(players))
	for i := range hands {
		hands[i] = make([]int, StartingDice)
	}
	return State{Players: players, Hands: hands}, nil
}

// Start rolls the first round; the first seat starts.
func (Rules) Start(s State, r *engine.Rand) []engine.Payload {
	return []engine.Payload{roll(s, s.Players[0], r)}
}

// roll rolls every player's dice, in seat order, die by die.
func roll(s State, starter string, r *engine.Rand) Rolled {
	hands := make([]Hand, len(s.Players))
	for i, p := range s.Players {
		dice := make([]int, len(s.Hands[i]))
		for j := range dice {
			dice[j] = r.Intn(6) + 1
		}
		hands[i] = Hand{Player: p, Dice: dice}
	}
	return Rolled{Starter: starter, Hands: hands}
}
