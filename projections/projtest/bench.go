package projtest

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/projections"
)

// Generate plays n finished games on svc, 16 at a time: each created, one
// move, then resigned (6 events: game_created, two of the move, and the
// resignation's action, game_ended and seed_revealed).
func Generate(tb testing.TB, ctx context.Context, svc *play.Service, n int) {
	tb.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				players := []string{Users[i%len(Users)], Users[(i+1)%len(Users)]}
				g, err := svc.Create(ctx, "tictactoe", players, nil, players[0])
				if err == nil {
					_, err = svc.Execute(ctx, g.ID, players[0], json.RawMessage(`{"type":"place","cell":4}`), "m")
				}
				if err == nil {
					_, err = svc.Execute(ctx, g.ID, players[1], json.RawMessage(`{"type":"resign"}`), "r")
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
}

// BenchRebuild measures a rebuild of m from zero over s's whole log:
// reset, then a runner with batches of 1000 events until it has folded
// the log. It reports events/s.
func BenchRebuild(b *testing.B, s eventstore.Store, m Model) {
	ctx := context.Background()
	end, err := m.End(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var events int64
	for b.Loop() {
		if err := m.Reset(ctx); err != nil {
			b.Fatal(err)
		}
		runCtx, stop := context.WithCancel(ctx)
		opts := projections.RunnerOptions{MaxBatch: 1000, Logger: Quiet, OnCommit: func(to eventstore.Position, n int) {
			events += int64(n)
			if !to.Less(end) {
				stop()
			}
		}}
		if err := m.Run(runCtx, s, opts); err != nil {
			b.Fatal(err)
		}
		stop()
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
