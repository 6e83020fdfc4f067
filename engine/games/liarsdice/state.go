package liarsdice

import (
	"slices"

	"github.com/playlog/playlog/engine"
)

// Bid is a claim that at least Quantity dice show Face. Quantity 0 means
// no bid yet this round.
type Bid struct {
	Quantity int `json:"quantity"`
	Face     int `json:"face"`
}

// State is a game of Liar's Dice. Slices are never modified in place.
type State struct {
	Players []string `json:"players"`
	Hands   [][]int  `json:"hands"`  // each player's dice this round; 0 = not known
	Turn    int      `json:"turn"`   // seat to act
	Bid     Bid      `json:"bid"`    // the standing bid
	Bidder  int      `json:"bidder"` // seat that made it
}

func (s State) seat(player string) int { return slices.Index(s.Players, player) }

// next is the first seat after i still in the game.
func (s State) next(i int) int {
	for k := 1; k <= len(s.Players); k++ {
		if j := (i + k) % len(s.Players); len(s.Hands[j]) > 0 {
			return j
		}
	}
	return i
}

// total is the number of dice on the table.
func (s State) total() int {
	n := 0
	for _, h := range s.Hands {
		n += len(h)
	}
	return n
}

// Evolve applies an event; it works on redacted states too.
func (Rules) Evolve(s State, e engine.Payload) State {
	switch e := e.(type) {
	case Rolled:
		if len(e.Hands) != len(s.Players) {
			return s
		}
		hands := make([][]int, len(s.Players))
		for i, h := range e.Hands {
			if h.Player != s.Players[i] {
				return s
			}
			hands[i] = h.Dice
		}
		if t := s.seat(e.Starter); t >= 0 {
			s.Turn = t
		}
		s.Hands, s.Bid, s.Bidder = hands, Bid{}, 0
	case BidMade:
		if i := s.seat(e.Player); i >= 0 {
			s.Bid, s.Bidder, s.Turn = Bid{e.Quantity, e.Face}, i, s.next(i)
		}
	case Challenged:
		// The round is over: the dice are spent (unknown until the next roll)
		// and the loser has one fewer.
		hands := make([][]int, len(s.Hands))
		loser := s.seat(e.Loser)
		for i, h := range s.Hands {
			n := len(h)
			if i == loser && n > 0 {
				n--
			}
			hands[i] = make([]int, n)
		}
		s.Hands, s.Bid = hands, Bid{}
	}
	return s
}

// Turn is the seat to act.
func (Rules) Turn(s State) []string { return []string{s.Players[s.Turn]} }

// Forced: Liar's Dice forces nothing.
func (Rules) Forced(State) (engine.Forced, bool) { return engine.Forced{}, false }

// InPlay: a player with no dice is out.
func (Rules) InPlay(s State, player string) bool {
	i := s.seat(player)
	return i >= 0 && len(s.Hands[i]) > 0
}

// Outcome: the last player with dice wins.
func (Rules) Outcome(s State) engine.Outcome {
	winner := -1
	for i, h := range s.Hands {
		if len(h) > 0 {
			if winner >= 0 {
				return engine.Outcome{}
			}
			winner = i
		}
	}
	if winner < 0 {
		return engine.Outcome{}
	}
	return engine.Win(s.Players[winner])
}
