package play_test

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/internal/testkit/measure"
	"github.com/playlog/playlog/play"
)

var capacityGames = flag.Int("capacity.games", 10000, "games held by BenchmarkCacheMemory")

// BenchmarkCacheMemory: what one game costs play's cache on a node (its
// entry: rules, folded state, message ids, seed, and its header), for
// -capacity.games games of each rules, each created, its header read (as
// a join does) and two moves played. Measured as the heap released when
// the service is dropped; the store keeps no index of its own
// (CachedGames 1), and the server's share stays in both measurements.
//
//	go test -run '^$' -bench CacheMemory -benchtime 1x ./play -args -capacity.games=10000
func BenchmarkCacheMemory(b *testing.B) {
	for _, r := range []struct {
		rules   string
		players []string
	}{
		{"tictactoe", []string{"alice-0000000001", "bob-0000000002"}},
		{"crazyeights", []string{"alice-0000000001", "bob-0000000002", "carol-000000003", "dave-0000000004"}},
		{"liarsdice", []string{"alice-0000000001", "bob-0000000002", "carol-000000003", "dave-0000000004"}},
	} {
		b.Run("rules="+r.rules, func(b *testing.B) {
			for range b.N {
				n := *capacityGames
				ctx := context.Background()
				store, err := jetstream.Open(ctx, jetstream.Config{Dir: b.TempDir(), CachedGames: 1})
				if err != nil {
					b.Fatal(err)
				}
				svc, err := play.New(play.Config{Store: store, Registry: games.Standard(), SeedSecret: secret, CachedGames: n + 16})
				if err != nil {
					b.Fatal(err)
				}
				ids := make([]uuid.UUID, n)
				measure.Parallel(b, n, 32, func(i int) error {
					g, err := svc.Create(ctx, r.rules, r.players, nil, r.players[0])
					if err != nil {
						return err
					}
					ids[i] = g.ID
					if _, err := svc.Header(ctx, g.ID); err != nil {
						return err
					}
					for m := range 2 {
						turn := g.Rules.Turn(g.State)
						if len(turn) == 0 {
							break
						}
						res, err := svc.Execute(ctx, g.ID, turn[0], g.Rules.Legal(g.State, turn[0])[0], fmt.Sprintf("m%d", m))
						if err != nil {
							return err
						}
						g = res.Game
					}
					return nil
				})
				// The server's block cache expires 10 s after its last use:
				// let it go before either measurement.
				time.Sleep(12 * time.Second)
				held := measure.LiveHeap()
				runtime.KeepAlive(svc)
				svc = nil
				b.ReportMetric(float64(held-measure.LiveHeap())/float64(n), "B/game")
				store.Close()
			}
		})
	}
}
