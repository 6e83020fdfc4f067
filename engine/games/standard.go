package games

import (
	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/engine/games/crazyeights"
	"github.com/playlog/playlog/engine/games/liarsdice"
	"github.com/playlog/playlog/engine/games/tictactoe"
)

// Standard returns a new registry of the reference games.
func Standard() *engine.Registry {
	r, err := engine.NewRegistry(tictactoe.Game(), crazyeights.Game(), liarsdice.Game())
	if err != nil {
		panic(err) // the names above are distinct: a programming error
	}
	return r
}
