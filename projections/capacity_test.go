package projections

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/internal/testkit/measure"
	"github.com/playlog/playlog/internal/testkit/testenv"
)

var capacityGames = flag.Int("capacity.games", 10000, "games in BenchmarkDirectoryMemory and BenchmarkDirectoryCatchUp")

func createdEvent(game uuid.UUID, players []string) eventstore.Event {
	data, _ := json.Marshal(engine.GameCreated{Game: "tictactoe", Players: players, Config: json.RawMessage(`{}`), Commitment: strings.Repeat("ab", 32)})
	return eventstore.Event{GameID: game, Seq: 1, Type: engine.TypeGameCreated, SchemaVersion: 1, Data: data}
}

// BenchmarkDirectoryMemory: what a game costs the games directory, which
// every node holds in memory for every game of the hot log: its summary,
// and while it runs its place in each player's list of active games. Each
// of -capacity.games games has two players of its own (users with many
// games share their list's map, so this is the upper side).
//
//	go test -run '^$' -bench DirectoryMemory -benchtime 1x ./projections -args -capacity.games=100000
func BenchmarkDirectoryMemory(b *testing.B) {
	n := *capacityGames
	created := make([]eventstore.Event, n)
	for i := range created {
		created[i] = createdEvent(uuid.New(), []string{fmt.Sprintf("alice-%010d", i), fmt.Sprintf("bob-%012d", i)})
	}
	for range b.N {
		d := NewDirectory(nil)
		base := measure.LiveHeap()
		for _, e := range created {
			d.applyLocked(e)
			d.applyLocked(eventstore.Event{GameID: e.GameID, Seq: 2, Type: "mark_placed"})
		}
		running := measure.LiveHeap()
		for _, e := range created {
			d.applyLocked(eventstore.Event{GameID: e.GameID, Seq: 3, Type: engine.TypeGameEnded})
		}
		ended := measure.LiveHeap()
		if len(d.games) != n {
			b.Fatalf("%d games", len(d.games))
		}
		b.ReportMetric(float64(running-base)/float64(n), "running-B/game")
		b.ReportMetric(float64(ended-base)/float64(n), "ended-B/game")
		runtime.KeepAlive(d)
	}
}

// BenchmarkDirectoryCatchUp: how fast a starting node's directory folds
// the log's feed from its start, as it does at every start (its
// checkpoint is in memory); the timer service reads the feed from its
// start too, beside it. -capacity.games games of 5 appends each, on each
// store.
//
//	go test -run '^$' -bench DirectoryCatchUp -benchtime 1x ./projections -args -capacity.games=100000
func BenchmarkDirectoryCatchUp(b *testing.B) {
	const appends = 5
	for _, backend := range testenv.Stores(b) {
		b.Run(backend.Name, func(b *testing.B) {
			ctx := context.Background()
			store := backend.Open(b)
			n := *capacityGames
			ids := make([]uuid.UUID, n)
			measure.Parallel(b, n, 64, func(i int) error {
				ids[i] = uuid.New()
				c := createdEvent(ids[i], []string{"alice", "bob"})
				if _, err := store.Append(ctx, ids[i], 0, eventstore.Pending{Type: c.Type, SchemaVersion: 1, Actor: "alice", Data: c.Data}); err != nil {
					return err
				}
				for seq := uint64(1); seq < appends; seq++ {
					if _, err := store.Append(ctx, ids[i], seq, eventstore.Pending{Type: "mark_placed", SchemaVersion: 1, Actor: "alice",
						MessageID: fmt.Sprintf("alice/m%d", seq), Data: []byte(`{"player":"alice","action":{"type":"place","cell":4},"turn":12}`)}); err != nil {
						return err
					}
				}
				return nil
			})
			for range b.N {
				d := NewDirectory(store)
				rctx, cancel := context.WithCancel(ctx)
				done := make(chan struct{})
				start := time.Now()
				go func() { defer close(done); d.Run(rctx) }()
				for _, id := range ids {
					if err := d.WaitFor(ctx, id, appends); err != nil {
						b.Fatal(err)
					}
				}
				took := time.Since(start)
				cancel()
				<-done
				b.ReportMetric(float64(n*appends)/took.Seconds(), "events/s")
				b.ReportMetric(float64(n)/took.Seconds(), "games/s")
			}
		})
	}
}
