package crazyeights

import (
	"slices"

	"github.com/playlog/playlog/engine"
)

// State is a game of Crazy Eights. Slices are never modified in place:
// Evolve copies what it changes.
type State struct {
	Players []string `json:"players"`
	Hands   [][]Card `json:"hands"`   // in seat order
	Deck    []Card   `json:"deck"`    // drawn from the front
	Discard []Card   `json:"discard"` // the top card is last
	Suit    Suit     `json:"suit"`    // the suit to follow
	Turn    int      `json:"turn"`    // seat to act
	Drawn   bool     `json:"drawn"`   // the seat to act has drawn this turn
	Naming  bool     `json:"naming"`  // the seat to act must name a suit
	Blocked int      `json:"blocked"` // consecutive passes by players unable to draw
}

// Top is the top card of the discard pile.
func (s State) Top() Card {
	if len(s.Discard) == 0 {
		return Unknown
	}
	return s.Discard[len(s.Discard)-1]
}

func (s State) seat(player string) int { return slices.Index(s.Players, player) }

// Evolve applies an event; it works on redacted states too, where hidden
// cards are Unknown.
func (Rules) Evolve(s State, e engine.Payload) State {
	switch e := e.(type) {
	case Dealt:
		if len(e.Hands) != len(s.Players) {
			return s
		}
		s.Hands = make([][]Card, len(s.Players))
		for i, h := range e.Hands {
			if h.Player != s.Players[i] {
				return State{Players: s.Players, Hands: make([][]Card, len(s.Players))}
			}
			s.Hands[i] = h.Cards
		}
		s.Deck, s.Discard = e.Deck, []Card{e.Top}
		s.Suit, s.Turn = e.Top.Suit(), 0
	case Played:
		i := s.seat(e.Player)
		if i < 0 {
			return s
		}
		s.Hands = slices.Clone(s.Hands)
		s.Hands[i] = removeCard(s.Hands[i], e.Card)
		s.Discard = append(slices.Clip(s.Discard), e.Card)
		s.Suit, s.Drawn, s.Blocked = e.Card.Suit(), false, 0
		if e.Card.Rank() == 8 && len(s.Hands[i]) > 0 {
			s.Naming = true
		} else {
			s.Turn = (i + 1) % len(s.Players)
		}
	case SuitNamed:
		if i := s.seat(e.Player); i >= 0 {
			s.Suit, s.Naming, s.Turn = e.Suit, false, (i+1)%len(s.Players)
		}
	case Drew:
		i := s.seat(e.Player)
		if i < 0 {
			return s
		}
		if len(s.Deck) > 0 {
			s.Deck = s.Deck[1:]
		}
		s.Hands = slices.Clone(s.Hands)
		s.Hands[i] = append(slices.Clip(s.Hands[i]), e.Card)
		s.Drawn, s.Blocked = true, 0
	case Reshuffled:
		s.Deck = e.Deck
		if len(s.Discard) > 0 {
			s.Discard = []Card{s.Top()}
		}
	case Passed:
		i := s.seat(e.Player)
		if i < 0 {
			return s
		}
		if e.Blocked {
			s.Blocked++
		} else {
			s.Blocked = 0
		}
		s.Drawn, s.Turn = false, (i+1)%len(s.Players)
	}
	return s
}

// removeCard returns hand without c, or without one Unknown card when c is
// not there (a hand the viewer cannot see).
func removeCard(hand []Card, c Card) []Card {
	i := slices.Index(hand, c)
	if i < 0 {
		i = slices.Index(hand, Unknown)
	}
	if i < 0 {
		return hand
	}
	return slices.Delete(slices.Clone(hand), i, i+1)
}

// Turn is the seat to act.
func (Rules) Turn(s State) []string {
	if len(s.Players) == 0 {
		return nil
	}
	return []string{s.Players[s.Turn]}
}

// Forced: after an 8 (not the last card) its player must name a suit.
func (Rules) Forced(s State) (engine.Forced, bool) {
	if !s.Naming {
		return engine.Forced{}, false
	}
	return engine.Forced{Player: s.Players[s.Turn], Action: "name_suit"}, true
}

// Outcome: an empty hand wins; a blocked game is won by the fewest cards.
func (Rules) Outcome(s State) engine.Outcome {
	if len(s.Discard) == 0 {
		return engine.Outcome{}
	}
	for i, h := range s.Hands {
		if len(h) == 0 {
			return engine.Win(s.Players[i])
		}
	}
	if s.Blocked < len(s.Players) {
		return engine.Outcome{}
	}
	fewest := len(s.Hands[0])
	for _, h := range s.Hands {
		fewest = min(fewest, len(h))
	}
	var winners []string
	for i, h := range s.Hands {
		if len(h) == fewest {
			winners = append(winners, s.Players[i])
		}
	}
	return engine.Win(winners...)
}
