package projtest

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/projections"
)

// Outage runs the directory and the history model m over s while games
// are played, and calls outage (the store's server killed, or its
// connection dropped, and brought back) twice under that load. Then both
// projections must resume from their checkpoints by themselves: the
// directory lists a game created after the outage, and the history holds
// every finished game of the log exactly once.
func Outage(t *testing.T, s eventstore.Store, m Model, outage func(t *testing.T)) {
	ctx := ctxT(t)
	dir := projections.NewDirectory(s)
	logged := Fast()
	logged.Logger = slog.Default()
	runCtx, stop := context.WithCancel(ctx)
	var runners sync.WaitGroup
	for name, run := range map[string]func(context.Context) error{
		"directory": dir.Run,
		"history":   func(ctx context.Context) error { return m.Run(ctx, s, logged) },
	} {
		runners.Add(1)
		go func() {
			defer runners.Done()
			if err := run(runCtx); err != nil {
				t.Errorf("%s: Run: %v", name, err)
			}
		}()
	}
	defer func() { stop(); runners.Wait() }()

	svc := Service(t, s)
	var played, failures atomic.Int64
	loadCtx, stopLoad := context.WithCancel(ctx)
	var load sync.WaitGroup
	for w := range 3 {
		load.Add(1)
		go func() {
			defer load.Done()
			for i := w * 100000; loadCtx.Err() == nil; i++ {
				// A client's deadline: an append whose ack a restarted
				// server lost would wait for ever without one.
				gctx, cancel := context.WithTimeout(loadCtx, 5*time.Second)
				_, err := PlayOne(gctx, svc, i)
				cancel()
				if err == nil {
					played.Add(1)
					time.Sleep(10 * time.Millisecond) // paced: the check below reads every history
				} else {
					if n := failures.Add(1); n%200 == 1 {
						t.Logf("play during the outage (failure %d): %v", n, err)
					}
					time.Sleep(10 * time.Millisecond) // the store is down
				}
			}
		}()
	}
	defer func() { stopLoad(); load.Wait() }()

	start := time.Now()
	for i := range 2 {
		waitPlayed(t, &played, played.Load()+10)
		waitCheckpointMoves(t, ctx, m)
		t.Logf("%v: outage %d after %d games", time.Since(start).Round(time.Millisecond), i+1, played.Load())
		outage(t)
	}
	waitPlayed(t, &played, played.Load()+10)
	t.Logf("%v: %d games played, %d failed", time.Since(start).Round(time.Millisecond), played.Load(), failures.Load())
	stopLoad()
	load.Wait()

	// The bug from outside: after the store came back, the directory
	// never listed a new game again.
	g := createRetrying(t, ctx, svc)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := dir.WaitFor(wctx, g.ID, g.Head()); err != nil {
		t.Fatalf("the directory does not list a game created after the outage: %v", err)
	}
	if active := dir.Active("zed"); len(active) == 0 {
		t.Fatalf("zed's new game is not active in the directory")
	}
	end, err := m.End(ctx)
	if err != nil {
		t.Fatal(err)
	}
	WaitCheckpoint(t, ctx, m, end)
	t.Logf("%v: the history caught up", time.Since(start).Round(time.Millisecond))
	Check(t, ctx, m, Expected(t, ctx, s, end))
}

func waitPlayed(t *testing.T, played *atomic.Int64, n int64) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for played.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d games played in 2 minutes, want %d", played.Load(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitCheckpointMoves waits until the model's checkpoint moves on.
func waitCheckpointMoves(t *testing.T, ctx context.Context, m Model) {
	t.Helper()
	var first eventstore.Position
	deadline := time.Now().Add(2 * time.Minute)
	for i := 0; ; i++ {
		cp, err := m.Checkpoint(ctx)
		if err == nil && i == 0 {
			first = cp
		} else if err == nil && first.Less(cp) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the history's checkpoint stays at %s (%v)", cp, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func createRetrying(t *testing.T, ctx context.Context, svc *play.Service) play.Snapshot {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		g, err := svc.Create(ctx, "tictactoe", []string{"zed", "alice"}, nil, "zed")
		if err == nil {
			return g
		}
		if time.Now().After(deadline) {
			t.Fatalf("create after the outage: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
