package hub_test

import (
	"context"
	"flag"
	"testing"
	"time"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/hub"
	"github.com/playlog/playlog/internal/testkit/measure"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/play"
)

var capacityGames = flag.Int("capacity.games", 5000, "games watched by BenchmarkFeedMemory")

// nopSink takes every message and keeps none: the viewer's own queue is
// the connection's cost (docs/performance.md, per connection), not the
// feed's.
type nopSink struct{}

func (nopSink) Send([]byte) bool  { return true }
func (nopSink) Push([]byte) error { return nil }
func (nopSink) Drop(error)        {}

// BenchmarkFeedMemory: what a watched game costs a node beyond its viewers:
// its feed (fan-out state, rendering cache; a goroutine only while it
// reads) and its store subscription (on JetStream a core NATS
// subscription, in the client and in the embedded server, no consumer; on
// PostgreSQL a reader), for
// -capacity.games games with one viewer each, on each store. Heap and
// goroutine stacks are measured before the first watch and once every
// game is watched; "left" is what stays once every viewer has gone and the
// feeds have stopped.
//
//	go test -run '^$' -bench FeedMemory -benchtime 1x ./hub -args -capacity.games=10000
func BenchmarkFeedMemory(b *testing.B) {
	for _, backend := range testenv.Stores(b) {
		b.Run(backend.Name, func(b *testing.B) {
			for range b.N {
				n := *capacityGames
				ctx := context.Background()
				store := backend.Open(b)
				svc, err := play.New(play.Config{Store: store, Registry: games.Standard(), SeedSecret: seedSecret, CachedGames: n + 16})
				if err != nil {
					b.Fatal(err)
				}
				snaps := make([]play.Snapshot, n)
				measure.Parallel(b, n, 32, func(i int) error {
					var err error
					snaps[i], err = svc.Create(ctx, "tictactoe", []string{"alice", "bob"}, nil, "alice")
					return err
				})
				h, err := hub.New(hub.Config{Store: store, Linger: 100 * time.Millisecond})
				if err != nil {
					b.Fatal(err)
				}
				heap0, stack0, g0 := measure.Memory()
				watches := make([]*hub.Watch, n)
				start := time.Now()
				measure.Parallel(b, n, 32, func(i int) error {
					g := snaps[i]
					var err error
					watches[i], err = h.Watch(ctx, hub.Game{ID: g.ID, Rules: g.Rules, Head: g.Head()}, engine.AsPlayer("alice"), g.Head(), nopSink{}, func() {})
					return err
				})
				took := time.Since(start)
				if st := h.Stats(); st.Feeds != n {
					b.Fatalf("%d feeds, want %d", st.Feeds, n)
				}
				heap1, stack1, g1 := measure.Memory()
				for _, w := range watches {
					w.Close()
				}
				watches = nil // a closed Watch still holds its feed
				for deadline := time.Now().Add(30 * time.Second); h.Stats().Feeds > 0; time.Sleep(50 * time.Millisecond) {
					if time.Now().After(deadline) {
						b.Fatalf("%d feeds left 30 s after the last viewer", h.Stats().Feeds)
					}
				}
				heap2, _, _ := measure.Memory()
				f := float64(n)
				b.ReportMetric(float64(heap1-heap0)/f, "heap-B/feed")
				b.ReportMetric(float64(stack1-stack0)/f, "stack-B/feed")
				b.ReportMetric(float64(g1-g0)/f, "goroutines/feed")
				b.ReportMetric(float64(heap2-heap0)/f, "left-B/feed")
				b.ReportMetric(f/took.Seconds(), "watches/s")
				h.Close()
			}
		})
	}
}
