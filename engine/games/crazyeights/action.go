package crazyeights

import (
	"fmt"

	"github.com/playlog/playlog/engine"
)

// Action is play (Card), name_suit (Suit), draw or pass.
type Action struct {
	Type string `json:"type"`
	Card Card   `json:"card,omitempty"`
	Suit Suit   `json:"suit,omitempty"`
}

// DecodeAction decodes an action strictly.
func (Rules) DecodeAction(data []byte) (Action, error) {
	o, typ, err := engine.ParseAction(data)
	if err != nil {
		return Action{}, err
	}
	a := Action{Type: typ}
	switch typ {
	case "play":
		s, err := o.String("card")
		if err != nil {
			return Action{}, err
		}
		if a.Card, err = ParseCard(s); err != nil {
			return Action{}, fmt.Errorf("%w: %v", engine.ErrInvalidAction, err)
		}
	case "name_suit":
		s, err := o.String("suit")
		if err != nil {
			return Action{}, err
		}
		if a.Suit = Suit(s); !validSuit(a.Suit) {
			return Action{}, fmt.Errorf("%w: suit must be C, D, H or S", engine.ErrInvalidAction)
		}
	case "draw", "pass":
	default:
		return Action{}, fmt.Errorf("%w: unknown action type %q", engine.ErrInvalidAction, typ)
	}
	return a, o.Done()
}

// Legal lists what the seat to act may do: the 4 suits when naming;
// otherwise each playable card, then draw if they cannot play and can
// draw, or pass if they have drawn or cannot draw.
func (Rules) Legal(s State, _ string) []Action {
	if s.Naming {
		out := make([]Action, 0, len(suits))
		for _, suit := range suits {
			out = append(out, Action{Type: "name_suit", Suit: suit})
		}
		return out
	}
	var out []Action
	for _, c := range s.Hands[s.Turn] {
		if s.playable(c) {
			out = append(out, Action{Type: "play", Card: c})
		}
	}
	switch {
	case s.Drawn || (len(out) == 0 && !s.canDraw()):
		out = append(out, Action{Type: "pass"})
	case len(out) == 0:
		out = append(out, Action{Type: "draw"})
	}
	return out
}

// playable reports whether c may go on the discard pile.
func (s State) playable(c Card) bool {
	return c != Unknown && (c.Rank() == 8 || c.Suit() == s.Suit || c.Rank() == s.Top().Rank())
}

// canDraw reports whether there is a card to draw, after a reshuffle if
// need be.
func (s State) canDraw() bool { return len(s.Deck) > 0 || len(s.Discard) > 1 }

func (s State) canPlay(hand []Card) bool {
	for _, c := range hand {
		if s.playable(c) {
			return true
		}
	}
	return false
}

// OnTimeout is what a player who runs out of time does
// (engine.TimeoutPolicy): draws if they may, else passes; since the rules
// allow no draw while a card can be played, a player who could play plays
// their first playable card; naming a suit, they name the first. A draw
// starts a new turn: a further timeout in it passes.
func (r Rules) OnTimeout(s State, player string) (Action, bool) {
	legal := r.Legal(s, player)
	for _, a := range legal {
		if a.Type == "draw" || a.Type == "pass" {
			return a, true
		}
	}
	if len(legal) == 0 {
		return Action{}, false
	}
	return legal[0], true
}
