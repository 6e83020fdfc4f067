package jsproj_test

import (
	"context"
	"flag"
	"testing"

	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/projections/projtest"
)

var benchGames = flag.Int("history.games", 100000, "finished games in BenchmarkRebuildHistory's log")

// BenchmarkRebuildHistory: a rebuild of the history from zero over a log
// of -history.games finished games (6 events each), on the embedded
// server. Run with -benchtime 3x.
func BenchmarkRebuildHistory(b *testing.B) {
	s, err := jetstream.Open(context.Background(), jetstream.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	projtest.Generate(b, context.Background(), projtest.Service(b, s), *benchGames)
	projtest.BenchRebuild(b, s, newModel(b, s))
}
