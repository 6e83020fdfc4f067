package crazyeights

import (
	"fmt"
	"strings"
)

// Suit is C, D, H or S.
type Suit string

// Suits in order.
var suits = [4]Suit{"C", "D", "H", "S"}

func validSuit(s Suit) bool { return s == "C" || s == "D" || s == "H" || s == "S" }

// Card is one card: 1..52, or Unknown for a card the viewer may not see.
type Card uint8

// Unknown is a card whose face is hidden; it encodes as "??".
const Unknown Card = 0

var ranks = [14]string{"", "A", "2", "3", "4", "5", "6", "7", "8", "9", "10", "J", "Q", "K"}

// NewCard returns the card of rank 1 (ace) to 13 (king) and suit.
func NewCard(rank int, suit Suit) Card {
	for i, s := range suits {
		if s == suit && rank >= 1 && rank <= 13 {
			return Card(1 + i*13 + rank - 1)
		}
	}
	return Unknown
}

// Rank is 1 (ace) to 13 (king), 0 for Unknown.
func (c Card) Rank() int {
	if c == Unknown {
		return 0
	}
	return int(c-1)%13 + 1
}

// Suit is the card's suit, "" for Unknown.
func (c Card) Suit() Suit {
	if c == Unknown {
		return ""
	}
	return suits[(c-1)/13]
}

func (c Card) String() string {
	if c == Unknown || c > 52 {
		return "??"
	}
	return ranks[c.Rank()] + string(c.Suit())
}

// MarshalText encodes the card as e.g. "10H", or "??".
func (c Card) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText decodes a card, "??" included.
func (c *Card) UnmarshalText(b []byte) error {
	card, err := ParseCard(string(b))
	if err != nil && string(b) != "??" {
		return err
	}
	*c = card
	return nil
}

// ParseCard parses a known card such as "QS" or "10D".
func ParseCard(s string) (Card, error) {
	if len(s) >= 2 {
		rank, suit := s[:len(s)-1], Suit(s[len(s)-1:])
		for r := 1; r <= 13; r++ {
			if ranks[r] == rank && validSuit(suit) {
				return NewCard(r, suit), nil
			}
		}
	}
	return Unknown, fmt.Errorf("%q is not a card", strings.ToValidUTF8(s, "?"))
}

// newDeck is the 52 cards in order.
func newDeck() []Card {
	d := make([]Card, 52)
	for i := range d {
		d[i] = Card(i + 1)
	}
	return d
}
