package enginetest

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/playlog/playlog/engine"
)

// benchGames plays n random games to completion, without probes.
func benchGames(b *testing.B, g *engine.Game, config json.RawMessage, players, n int) []Played {
	b.Helper()
	out := make([]Played, n)
	for i := range out {
		pl, err := Play(g, config, Players(players), Seed(i), rand.New(rand.NewPCG(uint64(i), 2)), 100000, false)
		if err != nil {
			b.Fatal(err)
		}
		out[i] = pl
	}
	return out
}

// BenchFold measures folding already decoded events, whole games from the
// zero State, and reports events/s.
func BenchFold(b *testing.B, g *engine.Game, config json.RawMessage, players int) {
	games := benchGames(b, g, config, players, 64)
	decoded := make([][]engine.Decoded, len(games))
	total := 0
	for i, pl := range games {
		for _, ev := range pl.Events {
			d, err := g.Decode(ev)
			if err != nil {
				b.Fatal(err)
			}
			decoded[i] = append(decoded[i], d)
		}
		total += len(pl.Events)
	}
	b.ReportAllocs()
	b.ResetTimer()
	events := 0
	for i := 0; b.Loop(); i++ {
		ds := decoded[i%len(decoded)]
		if _, err := g.ApplyDecoded(engine.State{}, ds...); err != nil {
			b.Fatal(err)
		}
		events += len(ds)
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// BenchFoldJSON measures folding stored (JSON) events, decoding included,
// and reports events/s.
func BenchFoldJSON(b *testing.B, g *engine.Game, config json.RawMessage, players int) {
	games := benchGames(b, g, config, players, 64)
	b.ReportAllocs()
	b.ResetTimer()
	events := 0
	for i := 0; b.Loop(); i++ {
		evs := games[i%len(games)].Events
		if _, err := g.Fold(evs); err != nil {
			b.Fatal(err)
		}
		events += len(evs)
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// BenchDecide measures Decide of a legal command on states from random
// games (each command as recorded in the log), per command.
func BenchDecide(b *testing.B, g *engine.Game, config json.RawMessage, players int) {
	type job struct {
		s    engine.State
		c    engine.Command
		seed []byte
	}
	var jobs []job
	for _, pl := range benchGames(b, g, config, players, 16) {
		var s engine.State
		for k, start := range pl.Starts {
			end := len(pl.Events)
			if k+1 < len(pl.Starts) {
				end = pl.Starts[k+1]
			}
			if k > 0 {
				var act engine.ActionTaken
				if err := json.Unmarshal(pl.Events[start].Data, &act); err != nil {
					b.Fatal(err)
				}
				jobs = append(jobs, job{s, engine.Command{Actor: act.Actor, Action: act.Action}, pl.Seed})
			}
			var err error
			if s, err = g.Apply(s, pl.Events[start:end]...); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		j := jobs[i%len(jobs)]
		if _, err := g.Decide(j.s, j.c, j.seed); err != nil {
			b.Fatal(err)
		}
	}
}
