package tictactoe_test

import (
	"testing"

	"github.com/playlog/playlog/engine/enginetest"
	"github.com/playlog/playlog/engine/games/tictactoe"
)

func TestRandomGames(t *testing.T) {
	enginetest.Suite{
		Game:         tictactoe.Game(),
		PlayerCounts: []int{2},
		Games:        5000,
		MaxCommands:  20,
	}.Run(t)
}

func FuzzDecode(f *testing.F) {
	enginetest.FuzzDecode(f, tictactoe.Game(),
		`{"type":"place","cell":4}`, `{"type":"place","cell":9}`, `{"type":"place"}`,
		`{"type":"resign"}`, `{"type":"timeout","player":"bob"}`, `{"type":"place","cell":1e0}`, `[]`)
}

func FuzzDecide(f *testing.F) {
	enginetest.FuzzDecide(f, tictactoe.Game(), nil, 2,
		`{"type":"place","cell":4}`, `{"type":"place","cell":0}`, `{"type":"resign"}`,
		`{"type":"timeout","player":"alice"}`, `{"type":"abandon"}`, `{"type":"place","cell":8,"x":0}`)
}

func FuzzEvents(f *testing.F) { enginetest.FuzzEvents(f, tictactoe.Game(), nil, 2) }
