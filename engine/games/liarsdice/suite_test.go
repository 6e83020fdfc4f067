package liarsdice_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/engine/enginetest"
	"github.com/playlog/playlog/engine/games/liarsdice"
)

func TestRandomGames(t *testing.T) {
	enginetest.Suite{
		Game:         liarsdice.Game(),
		PlayerCounts: []int{2, 3, 4, 5, 6},
		Games:        1000,
		Secrets:      leaks,
		Tamper:       tamper,
	}.Run(t)
}

// leaks reports a die of a player v may not see: in a view's hands, or in
// a rolled event. (A challenge's revealed dice are public by the rules.)
func leaks(v engine.Viewer, full engine.State, data []byte) error {
	var doc struct {
		State *struct {
			Players []string `json:"players"`
			Hands   [][]int  `json:"hands"`
		} `json:"state"`
		Hands []liarsdice.Hand `json:"hands"`
	}
	if len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return err
	}
	hands := doc.Hands
	if doc.State != nil {
		for i, h := range doc.State.Hands {
			hands = append(hands, liarsdice.Hand{Player: doc.State.Players[i], Dice: h})
		}
	}
	for _, h := range hands {
		if !v.Sees(h.Player) && slices.ContainsFunc(h.Dice, func(d int) bool { return d != 0 }) {
			return fmt.Errorf("%s's dice %v", h.Player, h.Dice)
		}
	}
	return nil
}

// tamper changes one die of a roll.
func tamper(ev engine.Event, rng *rand.Rand) (engine.Event, bool) {
	if ev.Type != "rolled" {
		return ev, false
	}
	var r liarsdice.Rolled
	if json.Unmarshal(ev.Data, &r) != nil {
		return ev, false
	}
	var dice [][]int
	for _, h := range r.Hands {
		if len(h.Dice) > 0 {
			dice = append(dice, h.Dice)
		}
	}
	d := dice[rng.IntN(len(dice))]
	j := rng.IntN(len(d))
	d[j] = d[j]%6 + 1
	return enginetest.Ev(ev.Actor, r), true
}

func FuzzDecode(f *testing.F) {
	enginetest.FuzzDecode(f, liarsdice.Game(),
		`{"type":"bid","quantity":3,"face":5}`, `{"type":"bid","quantity":0,"face":5}`, `{"type":"bid","quantity":3,"face":7}`,
		`{"type":"bid","quantity":3}`, `{"type":"challenge"}`, `{"type":"challenge","face":1}`, `{"type":"resign"}`)
}

func FuzzDecide(f *testing.F) {
	enginetest.FuzzDecide(f, liarsdice.Game(), nil, 4,
		`{"type":"bid","quantity":1,"face":1}`, `{"type":"bid","quantity":4,"face":6}`, `{"type":"challenge"}`,
		`{"type":"bid","quantity":30,"face":6}`, `{"type":"resign"}`, `{"type":"timeout","player":"alice"}`)
}

func FuzzEvents(f *testing.F) { enginetest.FuzzEvents(f, liarsdice.Game(), nil, 4) }
