package liarsdice

import "github.com/playlog/playlog/engine"

// RenderEvent hides other players' rolled dice. Bids and challenges are
// public (a challenge reveals every die by the rules).
func (Rules) RenderEvent(e engine.Payload, v engine.Viewer) (engine.Visibility, engine.Payload) {
	r, ok := e.(Rolled)
	if !ok {
		return engine.Full, e
	}
	hands := make([]Hand, len(r.Hands))
	for i, h := range r.Hands {
		hands[i] = Hand{Player: h.Player, Dice: mask(h.Dice, h.Player, v)}
	}
	return engine.Redacted, Rolled{Starter: r.Starter, Hands: hands}
}

// View hides other players' dice.
func (Rules) View(s State, v engine.Viewer) State {
	hands := make([][]int, len(s.Hands))
	for i, h := range s.Hands {
		hands[i] = mask(h, s.Players[i], v)
	}
	s.Hands = hands
	return s
}

func mask(dice []int, player string, v engine.Viewer) []int {
	if v.Sees(player) {
		return dice
	}
	return make([]int, len(dice))
}
