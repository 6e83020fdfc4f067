package crazyeights

import "github.com/playlog/playlog/engine"

// RenderEvent hides other players' cards and the deck order.
func (Rules) RenderEvent(e engine.Payload, v engine.Viewer) (engine.Visibility, engine.Payload) {
	switch e := e.(type) {
	case Dealt:
		hands := make([]Hand, len(e.Hands))
		for i, h := range e.Hands {
			hands[i] = Hand{Player: h.Player, Cards: mask(h.Cards, h.Player, v)}
		}
		return engine.Redacted, Dealt{Hands: hands, Deck: unknowns(len(e.Deck)), Top: e.Top}
	case Drew:
		if v.Sees(e.Player) {
			return engine.Full, e
		}
		return engine.Redacted, Drew{Player: e.Player, Card: Unknown}
	case Reshuffled:
		return engine.Redacted, Reshuffled{Deck: unknowns(len(e.Deck))}
	}
	return engine.Full, e
}

// View hides other players' hands and the deck order.
func (Rules) View(s State, v engine.Viewer) State {
	hands := make([][]Card, len(s.Hands))
	for i, h := range s.Hands {
		hands[i] = mask(h, s.Players[i], v)
	}
	s.Hands, s.Deck = hands, unknowns(len(s.Deck))
	return s
}

// mask returns player's cards as v sees them.
func mask(cards []Card, player string, v engine.Viewer) []Card {
	if v.Sees(player) {
		return cards
	}
	return unknowns(len(cards))
}

// unknowns is n Unknown cards (the zero Card).
func unknowns(n int) []Card { return make([]Card, n) }
