package pgproj_test

import (
	"context"
	"flag"
	"testing"

	"github.com/playlog/playlog/internal/testkit/pgtest"
	"github.com/playlog/playlog/projections/projtest"
)

var benchGames = flag.Int("history.games", 100000, "finished games in BenchmarkRebuildHistory's log")

// BenchmarkRebuildHistory: a rebuild of the history from zero over a log
// of -history.games finished games (6 events each). Run with -benchtime 3x.
func BenchmarkRebuildHistory(b *testing.B) {
	s := open(b, databaseURL, pgtest.NewSchema("bench"))
	defer s.Close()
	projtest.Generate(b, context.Background(), projtest.Service(b, s), *benchGames)
	projtest.BenchRebuild(b, s, newModel(b, s))
}
