package liarsdice

import (
	"encoding/json"
	"fmt"

	"github.com/playlog/playlog/engine"
)

// Hand is one player's dice; 0 is a die the viewer cannot see.
type Hand struct {
	Player string `json:"player"`
	Dice   []int  `json:"dice"`
}

// Rolled: a new round. Every player's dice in seat order (eliminated
// players have none); Starter bids first.
type Rolled struct {
	Starter string `json:"starter"`
	Hands   []Hand `json:"hands"`
}

// BidMade: Player bid that at least Quantity dice show Face.
type BidMade struct {
	Player   string `json:"player"`
	Quantity int    `json:"quantity"`
	Face     int    `json:"face"`
}

// Challenged: Player challenged Bidder's bid. Revealed is every die on the
// table, Count how many show the face, Loser who loses a die.
type Challenged struct {
	Player   string `json:"player"`
	Bidder   string `json:"bidder"`
	Quantity int    `json:"quantity"`
	Face     int    `json:"face"`
	Revealed []Hand `json:"revealed"`
	Count    int    `json:"count"`
	Loser    string `json:"loser"`
}

func (Rolled) EventType() string     { return "rolled" }
func (BidMade) EventType() string    { return "bid" }
func (Challenged) EventType() string { return "challenged" }

// DecodeEvent decodes an event, redacted ones (dice 0) included.
func (Rules) DecodeEvent(typ string, data []byte) (engine.Payload, error) {
	switch typ {
	case "rolled":
		var v Rolled
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, err
		}
		for _, h := range v.Hands {
			if err := checkDice(h.Dice); err != nil {
				return nil, err
			}
		}
		return v, nil
	case "bid":
		var v BidMade
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, err
		}
		if v.Quantity < 1 || v.Face < 1 || v.Face > 6 {
			return nil, fmt.Errorf("bid out of range")
		}
		return v, nil
	case "challenged":
		var v Challenged
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, err
		}
		return v, nil
	}
	return nil, fmt.Errorf("unknown event type %q", typ)
}

func checkDice(dice []int) error {
	for _, d := range dice {
		if d < 0 || d > 6 {
			return fmt.Errorf("die %d out of range", d)
		}
	}
	return nil
}
