package hub_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/play"
)

// Watched games where nothing happens hold no goroutine in the hub (their
// store subscriptions are eventstore.Pollers on both stores), and still
// deliver every move at once when one is made.
func TestQuietGamesHoldNoGoroutine(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		const n = 200
		f := newFixture(t, b, time.Hour)
		ctx := context.Background()
		games := make([]play.Snapshot, n)
		for i := range games {
			g, err := f.svc.Create(ctx, "tictactoe", []string{"ann", "bob"}, nil, "ann")
			if err != nil {
				t.Fatal(err)
			}
			games[i] = g
		}
		base := settledGoroutines(t, -1)
		sinks := make([]*sink, n)
		for i, g := range games {
			sinks[i] = newSink(16)
			w := f.watch(t, g.ID, engine.AsPlayer("bob"), g.Head(), sinks[i])
			t.Cleanup(w.Close)
		}
		if st := f.hub.Stats(); st.Feeds != n {
			t.Fatalf("%d feeds, want %d", st.Feeds, n)
		}
		if got := settledGoroutines(t, base+n/10); got > base+n/10 {
			t.Fatalf("%d quiet watched games: %d goroutines, %d before: a goroutine per game", n, got, base)
		}
		for i, g := range games {
			f.move(t, g.ID, i)
		}
		for i, g := range games {
			if got := sinks[i].events(t, g.Head()+1); len(got) != 1 {
				t.Fatalf("game %d: %d events after one move", i, len(got))
			}
		}
		if got := settledGoroutines(t, base+n/10); got > base+n/10 {
			t.Fatalf("after a move in each: %d goroutines, %d before", got, base)
		}
	})
}

// settledGoroutines waits up to 5s for the number of goroutines to come
// down to at most want (or, want < 0, to stop changing), and returns it.
func settledGoroutines(t *testing.T, want int) int {
	t.Helper()
	last := runtime.NumGoroutine()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		n := runtime.NumGoroutine()
		if (want >= 0 && n <= want) || (want < 0 && n == last) {
			return n
		}
		last = n
	}
	return last
}
