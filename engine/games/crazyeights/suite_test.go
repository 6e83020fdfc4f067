package crazyeights_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/engine/enginetest"
	"github.com/playlog/playlog/engine/games/crazyeights"
)

func TestRandomGames(t *testing.T) {
	enginetest.Suite{
		Game:         crazyeights.Game(),
		PlayerCounts: []int{2, 3, 4},
		Games:        1000,
		Secrets:      leaks,
		Tamper:       tamper,
	}.Run(t)
}

// leaks reports any known card in data that is, in the full state, in the
// deck or in a hand v may not see.
func leaks(v engine.Viewer, full engine.State, data []byte) error {
	s, _ := engine.RulesState[crazyeights.State](full)
	secret := map[crazyeights.Card]bool{}
	for _, c := range s.Deck {
		secret[c] = true
	}
	for i, h := range s.Hands {
		if !v.Sees(s.Players[i]) {
			for _, c := range h {
				secret[c] = true
			}
		}
	}
	var doc any
	if len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return err
	}
	var found error
	walk(doc, func(str string) {
		if c, err := crazyeights.ParseCard(str); err == nil && secret[c] && found == nil {
			found = fmt.Errorf("hidden card %s", c)
		}
	})
	return found
}

func walk(v any, f func(string)) {
	switch v := v.(type) {
	case string:
		f(v)
	case []any:
		for _, x := range v {
			walk(x, f)
		}
	case map[string]any:
		for _, x := range v {
			walk(x, f)
		}
	}
}

// tamper swaps a drawn card, or two cards of a deal or a reshuffle.
func tamper(ev engine.Event, rng *rand.Rand) (engine.Event, bool) {
	p, err := crazyeights.Rules{}.DecodeEvent(ev.Type, ev.Data)
	if err != nil {
		return ev, false
	}
	switch p := p.(type) {
	case crazyeights.Drew:
		p.Card = p.Card%52 + 1
		return enginetest.Ev(ev.Actor, p), true
	case crazyeights.Dealt:
		h := p.Hands[rng.IntN(len(p.Hands))].Cards
		i, j := rng.IntN(len(h)), rng.IntN(len(p.Deck))
		h[i], p.Deck[j] = p.Deck[j], h[i]
		return enginetest.Ev(ev.Actor, p), true
	case crazyeights.Reshuffled:
		if len(p.Deck) < 2 || slices.Equal(p.Deck[:1], p.Deck[1:2]) {
			return ev, false
		}
		p.Deck[0], p.Deck[1] = p.Deck[1], p.Deck[0]
		return enginetest.Ev(ev.Actor, p), true
	}
	return ev, false
}

func FuzzDecode(f *testing.F) {
	enginetest.FuzzDecode(f, crazyeights.Game(),
		`{"type":"play","card":"8H"}`, `{"type":"play","card":"10S"}`, `{"type":"play","card":"1H"}`,
		`{"type":"play","card":"??"}`, `{"type":"name_suit","suit":"S"}`, `{"type":"name_suit","suit":"X"}`,
		`{"type":"draw"}`, `{"type":"pass"}`, `{"type":"draw","card":"AS"}`, `{"type":"resign"}`)
}

func FuzzDecide(f *testing.F) {
	enginetest.FuzzDecide(f, crazyeights.Game(), nil, 3,
		`{"type":"play","card":"8H"}`, `{"type":"play","card":"QD"}`, `{"type":"name_suit","suit":"C"}`,
		`{"type":"draw"}`, `{"type":"pass"}`, `{"type":"resign"}`, `{"type":"timeout","player":"bob"}`)
}

func FuzzEvents(f *testing.F) { enginetest.FuzzEvents(f, crazyeights.Game(), nil, 3) }
