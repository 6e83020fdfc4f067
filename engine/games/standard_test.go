package games_test

import (
	"slices"
	"testing"

	"github.com/playlog/playlog/engine/games"
)

func TestStandardOffersTheReferenceGames(t *testing.T) {
	if got := games.Standard().Names(); !slices.Equal(got, []string{"crazyeights", "liarsdice", "tictactoe"}) {
		t.Errorf("names %v", got)
	}
}
