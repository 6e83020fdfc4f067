package liarsdice

import (
	"fmt"

	"github.com/playlog/playlog/engine"
)

// MaxQuantity bounds a bid's quantity: every die of 6 players.
const MaxQuantity = 6 * StartingDice

// Action is bid (Quantity, Face) or challenge.
type Action struct {
	Type     string `json:"type"`
	Quantity int    `json:"quantity,omitempty"`
	Face     int    `json:"face,omitempty"`
}

// DecodeAction decodes an action strictly.
func (Rules) DecodeAction(data []byte) (Action, error) {
	o, typ, err := engine.ParseAction(data)
	if err != nil {
		return Action{}, err
	}
	a := Action{Type: typ}
	switch typ {
	case "bid":
		if a.Quantity, err = o.Int("quantity", 1, MaxQuantity); err != nil {
			return Action{}, err
		}
		if a.Face, err = o.Int("face", 1, 6); err != nil {
			return Action{}, err
		}
	case "challenge":
	default:
		return Action{}, fmt.Errorf("%w: unknown action type %q", engine.ErrInvalidAction, typ)
	}
	return a, o.Done()
}

// raises reports whether b beats the standing bid.
func (s State) raises(b Bid) bool {
	cur := s.Bid
	return b.Quantity > cur.Quantity || (b.Quantity == cur.Quantity && b.Face > cur.Face)
}

// Legal lists the challenge (if there is a bid), then every raising bid up
// to the number of dice on the table, by quantity then face.
func (Rules) Legal(s State, _ string) []Action {
	var out []Action
	if s.Bid.Quantity > 0 {
		out = append(out, Action{Type: "challenge"})
	}
	for q := max(s.Bid.Quantity, 1); q <= s.total(); q++ {
		for f := 1; f <= 6; f++ {
			if s.raises(Bid{q, f}) {
				out = append(out, Action{Type: "bid", Quantity: q, Face: f})
			}
		}
	}
	return out
}

// Decide applies the rules in the package documentation.
func (Rules) Decide(s State, player string, a Action, r *engine.Rand) ([]engine.Payload, error) {
	if a.Type == "bid" {
		b := Bid{a.Quantity, a.Face}
		if !s.raises(b) {
			return nil, fmt.Errorf("%w: %d×%d does not raise %d×%d", engine.ErrActionNotAllowed, b.Quantity, b.Face, s.Bid.Quantity, s.Bid.Face)
		}
		if b.Quantity > s.total() {
			return nil, fmt.Errorf("%w: only %d dice on the table", engine.ErrActionNotAllowed, s.total())
		}
		return []engine.Payload{BidMade{Player: player, Quantity: b.Quantity, Face: b.Face}}, nil
	}
	if s.Bid.Quantity == 0 {
		return nil, fmt.Errorf("%w: there is no bid to challenge", engine.ErrActionNotAllowed)
	}
	c := Challenged{Player: player, Bidder: s.Players[s.Bidder], Quantity: s.Bid.Quantity, Face: s.Bid.Face}
	for i, h := range s.Hands {
		c.Revealed = append(c.Revealed, Hand{Player: s.Players[i], Dice: h})
		for _, d := range h {
			if d == s.Bid.Face {
				c.Count++
			}
		}
	}
	c.Loser = c.Bidder
	if c.Count >= s.Bid.Quantity {
		c.Loser = player
	}
	out := []engine.Payload{c}
	after := Rules{}.Evolve(s, c)
	if !(Rules{}).Outcome(after).Ended {
		starter := after.seat(c.Loser)
		if len(after.Hands[starter]) == 0 {
			starter = after.next(starter)
		}
		out = append(out, roll(after, after.Players[starter], r))
	}
	return out, nil
}

// OnTimeout is what a player who runs out of time does
// (engine.TimeoutPolicy): challenges the standing bid, or, opening a
// round, makes the lowest bid.
func (r Rules) OnTimeout(s State, player string) (Action, bool) {
	legal := r.Legal(s, player)
	if len(legal) == 0 {
		return Action{}, false
	}
	return legal[0], true
}
