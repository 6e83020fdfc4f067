package gateway_test

import (
	"context"
	"flag"
	"fmt"
	"testing"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/playlog/playlog/archive"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/internal/testkit/measure"
	"github.com/playlog/playlog/internal/testkit/testnode"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/seal"
)

var capacityGames = flag.Int("capacity.games", 10000, "games in BenchmarkNodeMemory")

// BenchmarkNodeMemory: one node wired as playlogd wires it (command path,
// directory, history, timers, sealer, hub, gateway) on its embedded
// JetStream server, with -capacity.games tictactoe games and nobody
// connected, at three stages: every game running (created, one move,
// sealed), every game ended, every game archived. At each: the process's
// live heap per game (the node and the server together; play's cache and
// the store's index hold at most 10 000 games each) and the subjects per
// game in each stream, which the server holds in memory
// (BenchmarkSubjectMemory in eventstore/jetstream).
//
//	go test -run '^$' -bench NodeMemory -benchtime 1x -timeout 1h ./gateway -args -capacity.games=10000
func BenchmarkNodeMemory(b *testing.B) {
	for range b.N {
		ctx := context.Background()
		store, err := jetstream.Open(ctx, jetstream.Config{Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { store.Close() })
		n := testnode.StartWith(b, store, nil, gateway.Config{}, testnode.Options{Seal: seal.Policy{Interval: time.Second}})
		js, err := natsjs.New(store.Conn())
		if err != nil {
			b.Fatal(err)
		}
		games := *capacityGames
		base := settledHeap()
		snaps := make([]play.Snapshot, games)
		start := time.Now()
		measure.Parallel(b, games, 32, func(i int) error {
			players := []string{fmt.Sprintf("alice-%010d", i), fmt.Sprintf("bob-%012d", i)}
			g, err := n.Play.Create(ctx, "tictactoe", players, nil, players[0])
			if err == nil {
				snaps[i], err = move(ctx, n.Play, g, 0)
			}
			return err
		})
		b.ReportMetric(float64(games)/time.Since(start).Seconds(), "created-games/s")
		waitSealed(b, n)
		waitDirectory(b, n, snaps)
		stage := func(name string) {
			perGame := float64(settledHeap()-base) / float64(games)
			b.ReportMetric(perGame, name+"-heap-B/game")
			for _, st := range []struct{ stream, unit string }{
				{store.StreamName(), "log"}, {"KV_playlog_history", "history"}, {"OBJ_" + archive.Bucket, "archive"},
			} {
				s, err := js.Stream(ctx, st.stream)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(s.CachedInfo().State.NumSubjects)/float64(games), name+"-"+st.unit+"-subjects/game")
			}
		}
		stage("running")

		measure.Parallel(b, games, 32, func(i int) error {
			g := snaps[i]
			for m := 1; !g.State.Ended(); m++ {
				var err error
				if g, err = move(ctx, n.Play, g, m); err != nil {
					return err
				}
			}
			snaps[i] = g
			return nil
		})
		waitSealed(b, n)
		waitDirectory(b, n, snaps)
		waitHistory(b, js, games)
		stage("ended")

		moved, err := archive.Move(ctx, n.Hot, n.Blobs, archive.Options{Before: time.Now().Add(time.Second)})
		if err != nil || moved.Games != games {
			b.Fatalf("archived %+v: %v", moved, err)
		}
		stage("archived")
	}
}

// move plays the first legal action of whoever is to act.
func move(ctx context.Context, svc *play.Service, g play.Snapshot, m int) (play.Snapshot, error) {
	turn := g.Rules.Turn(g.State)
	res, err := svc.Execute(ctx, g.ID, turn[0], g.Rules.Legal(g.State, turn[0])[0], fmt.Sprintf("m%d", m))
	return res.Game, err
}

// settledHeap is the live heap once the server's block caches have expired
// (10 s after their last use).
func settledHeap() int64 {
	time.Sleep(12 * time.Second)
	return measure.LiveHeap()
}

func waitSealed(tb testing.TB, n *testnode.Node) {
	for deadline := time.Now().Add(2 * time.Minute); n.Sealer.Pending() > 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("%d games still unsealed", n.Sealer.Pending())
		}
	}
}

func waitDirectory(tb testing.TB, n *testnode.Node, snaps []play.Snapshot) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, g := range snaps {
		if err := n.Directory.WaitFor(ctx, g.ID, g.Head()); err != nil {
			tb.Fatal(err)
		}
	}
}

// waitHistory waits until the history bucket holds a record for each
// game and one for each of its two players.
func waitHistory(tb testing.TB, js natsjs.JetStream, games int) {
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		s, err := js.Stream(context.Background(), "KV_playlog_history")
		if err != nil {
			tb.Fatal(err)
		}
		if s.CachedInfo().State.NumSubjects >= uint64(3*games) {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("history holds %d subjects, want %d", s.CachedInfo().State.NumSubjects, 3*games)
		}
	}
}
