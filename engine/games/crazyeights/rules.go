package crazyeights

import (
	"encoding/json"
	"fmt"

	"github.com/playlog/playlog/engine"
)

// Name is the game's registry name.
const Name = "crazyeights"

// Rules implements engine.Rules[State, Action] and engine.Secrets[State].
type Rules struct{}

var (
	_ engine.Rules[State, Action] = Rules{}
	_ engine.Secrets[State]       = Rules{}
)

// Game returns Crazy Eights as an engine game.
func Game() *engine.Game { return engine.Define(Rules{}) }

// Name returns "crazyeights".
func (Rules) Name() string { return Name }

// New accepts the empty config and 2 to 4 players.
func (Rules) New(config json.RawMessage, players []string) (State, error) {
	if err := engine.NoConfig(config); err != nil {
		return State{}, err
	}
	if len(players) < 2 || len(players) > 4 {
		return State{}, fmt.Errorf("crazyeights needs 2 to 4 players, got %d", len(players))
	}
	hands := make([][]Card, len(players))
	for i := range hands {
		hands[i] = []Card{}
	}
	return State{Players: players, Hands: hands, Deck: []Card{}, Discard: []Card{}}, nil
}

// HandSize is the number of cards dealt to each of n players.
func HandSize(n int) int {
	if n == 2 {
		return 7
	}
	return 5
}

// Start shuffles and deals.
func (Rules) Start(s State, r *engine.Rand) []engine.Payload {
	deck := newDeck()
	r.Shuffle(len(deck), func(i, j int) { deck[i], deck[j] = deck[j], deck[i] })
	n := len(s.Players)
	hands := make([]Hand, n)
	for i, p := range s.Players {
		hands[i].Player = p
	}
	k := HandSize(n) * n
	for i, c := range deck[:k] {
		hands[i%n].Cards = append(hands[i%n].Cards, c)
	}
	rest := deck[k:]
	starter := 0
	for rest[starter].Rank() == 8 {
		starter++
	}
	top := rest[starter]
	rest = append(rest[:starter:starter], rest[starter+1:]...)
	return []engine.Payload{Dealt{Hands: hands, Deck: rest, Top: top}}
}
