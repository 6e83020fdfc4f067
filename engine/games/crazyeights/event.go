package crazyeights

import (
	"encoding/json"
	"fmt"

	"github.com/playlog/playlog/engine"
)

// Dealt: the deal. Hands in seat order, the deck (drawn from the front) and
// the card turned up to start the discard pile.
type Dealt struct {
	Hands []Hand `json:"hands"`
	Deck  []Card `json:"deck"`
	Top   Card   `json:"top"`
}

// Hand is one player's cards.
type Hand struct {
	Player string `json:"player"`
	Cards  []Card `json:"cards"`
}

// Played: Player played Card onto the discard pile.
type Played struct {
	Player string `json:"player"`
	Card   Card   `json:"card"`
}

// SuitNamed: after an 8, Player named the suit to follow.
type SuitNamed struct {
	Player string `json:"player"`
	Suit   Suit   `json:"suit"`
}

// Drew: Player drew Card from the front of the deck.
type Drew struct {
	Player string `json:"player"`
	Card   Card   `json:"card"`
}

// Reshuffled: the discard pile but its top card became Deck.
type Reshuffled struct {
	Deck []Card `json:"deck"`
}

// Passed: Player passed. Blocked is set when they could not draw.
type Passed struct {
	Player  string `json:"player"`
	Blocked bool   `json:"blocked"`
}

func (Dealt) EventType() string      { return "dealt" }
func (Played) EventType() string     { return "played" }
func (SuitNamed) EventType() string  { return "suit_named" }
func (Drew) EventType() string       { return "drew" }
func (Reshuffled) EventType() string { return "reshuffled" }
func (Passed) EventType() string     { return "passed" }

// DecodeEvent decodes an event, redacted ones ("??" cards) included.
func (Rules) DecodeEvent(typ string, data []byte) (engine.Payload, error) {
	var p engine.Payload
	var err error
	switch typ {
	case "dealt":
		var v Dealt
		err = json.Unmarshal(data, &v)
		p = v
	case "played":
		var v Played
		err = json.Unmarshal(data, &v)
		p = v
	case "suit_named":
		var v SuitNamed
		if err = json.Unmarshal(data, &v); err == nil && !validSuit(v.Suit) {
			err = fmt.Errorf("bad suit %q", v.Suit)
		}
		p = v
	case "drew":
		var v Drew
		err = json.Unmarshal(data, &v)
		p = v
	case "reshuffled":
		var v Reshuffled
		err = json.Unmarshal(data, &v)
		p = v
	case "passed":
		var v Passed
		err = json.Unmarshal(data, &v)
		p = v
	default:
		return nil, fmt.Errorf("unknown event type %q", typ)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}
