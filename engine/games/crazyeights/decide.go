package crazyeights

import (
	"fmt"
	"slices"

	"github.com/playlog/playlog/engine"
)

// Decide applies the rules in the package documentation.
func (Rules) Decide(s State, player string, a Action, r *engine.Rand) ([]engine.Payload, error) {
	hand := s.Hands[s.Turn]
	if a.Type == "name_suit" {
		if !s.Naming {
			return nil, fmt.Errorf("%w: no suit to name", engine.ErrActionNotAllowed)
		}
		return []engine.Payload{SuitNamed{Player: player, Suit: a.Suit}}, nil
	}
	switch a.Type {
	case "play":
		if !slices.Contains(hand, a.Card) {
			return nil, fmt.Errorf("%w: %s is not in your hand", engine.ErrActionNotAllowed, a.Card)
		}
		if !s.playable(a.Card) {
			return nil, fmt.Errorf("%w: %s does not follow %s on %s", engine.ErrActionNotAllowed, a.Card, s.Suit, s.Top())
		}
		return []engine.Payload{Played{Player: player, Card: a.Card}}, nil
	case "draw":
		if s.Drawn {
			return nil, fmt.Errorf("%w: you have drawn already", engine.ErrActionNotAllowed)
		}
		if s.canPlay(hand) {
			return nil, fmt.Errorf("%w: you can play, so you may not draw", engine.ErrActionNotAllowed)
		}
		if !s.canDraw() {
			return nil, fmt.Errorf("%w: nothing left to draw; pass", engine.ErrActionNotAllowed)
		}
		var out []engine.Payload
		deck := s.Deck
		if len(deck) == 0 {
			deck = slices.Clone(s.Discard[:len(s.Discard)-1])
			r.Shuffle(len(deck), func(i, j int) { deck[i], deck[j] = deck[j], deck[i] })
			out = append(out, Reshuffled{Deck: deck})
		}
		return append(out, Drew{Player: player, Card: deck[0]}), nil
	case "pass":
		blocked := !s.Drawn && !s.canDraw()
		if !s.Drawn && !blocked {
			return nil, fmt.Errorf("%w: draw before passing", engine.ErrActionNotAllowed)
		}
		if blocked && s.canPlay(hand) {
			return nil, fmt.Errorf("%w: you can play", engine.ErrActionNotAllowed)
		}
		return []engine.Payload{Passed{Player: player, Blocked: blocked}}, nil
	}
	return nil, fmt.Errorf("%w: unknown action %q", engine.ErrInvalidAction, a.Type)
}
