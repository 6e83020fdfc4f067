package play_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/play"
)

// eventCounter counts the events a real store's Reads return.
type eventCounter struct {
	eventstore.Store
	events atomic.Int64
}

func (c *eventCounter) Read(ctx context.Context, game uuid.UUID, after uint64, limit int) ([]eventstore.Event, error) {
	evs, err := c.Store.Read(ctx, game, after, limit)
	c.events.Add(int64(len(evs)))
	return evs, err
}

func serviceEvery(t testing.TB, s eventstore.Store, every int) *play.Service {
	t.Helper()
	svc, err := play.New(play.Config{Store: s, Registry: games.Standard(), SeedSecret: secret, SnapshotEvery: every})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// played is a command a test made: its message id, actor, action and what
// it stored.
type played struct {
	id, actor string
	action    json.RawMessage
	events    []eventstore.Event
}

// slowLiarsDice plays liar's dice, six players raising by the least each
// time, until the game has at least n events.
func slowLiarsDice(t *testing.T, svc *play.Service, n uint64) (play.Snapshot, []played) {
	t.Helper()
	ctx := context.Background()
	g, err := svc.Create(ctx, "liarsdice", []string{"p0", "p1", "p2", "p3", "p4", "p5"}, nil, "p0")
	if err != nil {
		t.Fatal(err)
	}
	var log []played
	for i := 0; g.Head() < n; i++ {
		turn := g.Rules.Turn(g.State)
		legal := g.Rules.Legal(g.State, turn[0])
		action := legal[0]
		for _, a := range legal {
			if !strings.Contains(string(a), "challenge") {
				action = a
				break
			}
		}
		id := fmt.Sprintf("m%d", i)
		res, err := svc.Execute(ctx, g.ID, turn[0], action, id)
		if err != nil {
			t.Fatal(err)
		}
		log = append(log, played{id: id, actor: turn[0], action: action, events: res.Events})
		g = res.Game
	}
	return g, log
}

func stateJSON(t *testing.T, g play.Snapshot) []byte {
	t.Helper()
	b, err := json.Marshal(g.State)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestColdLoadFromSnapshot: a process new to a long game loads it from
// its latest snapshot, reading only the events after it, to the state a
// full fold gives; it answers a retry of a command from before the
// snapshot as the duplicate it is, refuses that id for another command,
// and plays on as a process that folded the whole log would.
func TestColdLoadFromSnapshot(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		store := b.Open(t)
		g, log := slowLiarsDice(t, serviceEvery(t, store, 25), 180)
		snap, ok, err := store.Snapshot(ctx, g.ID)
		if err != nil || !ok {
			t.Fatalf("no snapshot of a %d-event game: %v", g.Head(), err)
		}
		if snap.Seq > g.Head() || g.Head()-snap.Seq >= 25+20 {
			t.Fatalf("snapshot at seq %d of a %d-event game, stored every 25", snap.Seq, g.Head())
		}

		full := &eventCounter{Store: store}
		whole, err := serviceEvery(t, full, -1).Load(ctx, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		cold := &eventCounter{Store: store}
		svc := serviceEvery(t, cold, 25)
		got, err := svc.Load(ctx, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(stateJSON(t, got), stateJSON(t, g)) || !bytes.Equal(stateJSON(t, whole), stateJSON(t, g)) {
			t.Fatalf("loaded states differ:\nsnapshot %s\nfull     %s\nwriter   %s", stateJSON(t, got), stateJSON(t, whole), stateJSON(t, g))
		}
		if n, want := cold.events.Load(), int64(g.Head()-snap.Seq+1); n != want {
			t.Fatalf("the cold load read %d events, want the %d from the snapshot's on", n, want)
		}
		if n := full.events.Load(); n != int64(g.Head()) {
			t.Fatalf("the full fold read %d events of %d", n, g.Head())
		}

		// A retry of the first command: the rules refuse it now (its bid is
		// long beaten), so the entry learns the older message ids.
		first := log[0]
		res, err := svc.Execute(ctx, g.ID, first.actor, first.action, first.id)
		if err != nil || !res.Duplicate || len(res.Events) != len(first.events) || res.Events[0].Hash != first.events[0].Hash {
			t.Fatalf("retry of %s after a snapshot load: %+v, %v", first.id, res, err)
		}
		if _, err := svc.Execute(ctx, g.ID, log[1].actor, json.RawMessage(`{"type":"challenge"}`), log[1].id); !errors.Is(err, play.ErrMessageIDReused) {
			t.Fatalf("message id %s reused for another command: %v", log[1].id, err)
		}

		turn := got.Rules.Turn(got.State)
		next, err := svc.Execute(ctx, g.ID, turn[0], json.RawMessage(`{"type":"challenge"}`), "after")
		if err != nil {
			t.Fatal(err)
		}
		again, err := serviceEvery(t, store, -1).Load(ctx, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(stateJSON(t, next.Game), stateJSON(t, again)) {
			t.Fatalf("after a move on the restored state:\n%s\nthe log folds to\n%s", stateJSON(t, next.Game), stateJSON(t, again))
		}
	})
}

// TestSnapshotsThatDoNotFitAreIgnored: a snapshot that does not decode,
// is stale, or whose state is not at its seq is ignored, and the game is
// folded from its start; a game without snapshots gets one on a cold
// load.
func TestSnapshotsThatDoNotFitAreIgnored(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		store := b.Open(t)
		g, _ := slowLiarsDice(t, serviceEvery(t, store, -1), 60)
		if _, ok, _ := store.Snapshot(ctx, g.ID); ok {
			t.Fatal("a snapshot stored with snapshots off")
		}
		events, err := store.Read(ctx, g.ID, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		early, err := g.Rules.EncodeState(g.State)
		if err != nil {
			t.Fatal(err)
		}
		var shape struct {
			Shape string `json:"shape"`
		}
		json.Unmarshal(early, &shape)
		at := uint64(10)
		for i, data := range [][]byte{
			[]byte(`{"format":1,"game":"liarsdice"`),                                 // does not decode
			bytes.Replace(early, []byte(shape.Shape), []byte("0123456789abcdef"), 1), // another shape
			early, // the head's state, stored as seq 10's
		} {
			at++
			e := events[at-1]
			if err := store.PutSnapshot(ctx, eventstore.Snapshot{GameID: g.ID, Seq: at, Hash: e.Hash, Data: data}); err != nil {
				t.Fatal(err)
			}
			cold := &eventCounter{Store: store}
			got, err := serviceEvery(t, cold, 1000).Load(ctx, g.ID)
			if err != nil {
				t.Fatalf("snapshot %d: %v", i, err)
			}
			if !bytes.Equal(stateJSON(t, got), stateJSON(t, g)) {
				t.Fatalf("snapshot %d: loaded %s, want %s", i, stateJSON(t, got), stateJSON(t, g))
			}
			if n := cold.events.Load(); n < int64(g.Head()) {
				t.Fatalf("snapshot %d: the load read %d events, not the whole log", i, n)
			}
		}

		// Snapshots on: a cold load of the long game stores one at its head.
		if _, err := serviceEvery(t, store, 50).Load(ctx, g.ID); err != nil {
			t.Fatal(err)
		}
		snap, ok, err := store.Snapshot(ctx, g.ID)
		if err != nil || !ok || snap.Seq != g.Head() {
			t.Fatalf("snapshot after a cold load: %+v, %v, %v; want one at %d", snap, ok, err, g.Head())
		}
		cold := &eventCounter{Store: store}
		if _, err := serviceEvery(t, cold, 50).Load(ctx, g.ID); err != nil {
			t.Fatal(err)
		}
		if n := cold.events.Load(); n != 1 {
			t.Fatalf("a load from a snapshot at the head read %d events, want 1", n)
		}
	})
}

// TestSnapshotOfAnotherStateIsDropped: a snapshot at the right seq and
// hash whose state is another game's (one that had ended there) cannot
// fold the events after it; the load drops it and folds the log.
func TestSnapshotOfAnotherStateIsDropped(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		store := b.Open(t)
		svc := serviceEvery(t, store, -1)
		playCells := func(cells ...int) play.Snapshot {
			g, err := svc.Create(ctx, "tictactoe", []string{"alice", "bob"}, nil, "alice")
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range cells {
				res, err := svc.Execute(ctx, g.ID, g.Rules.Turn(g.State)[0], place(c), fmt.Sprintf("m%d", i))
				if err != nil {
					t.Fatal(err)
				}
				g = res.Game
			}
			return g
		}
		won := playCells(0, 3, 1, 4, 2)
		drawn := playCells(0, 1, 2, 4, 3, 5, 7, 6, 8)
		if !won.State.Ended() || !drawn.State.Ended() || drawn.Head() <= won.Head() {
			t.Fatalf("games of %d and %d events", won.Head(), drawn.Head())
		}
		data, err := won.Rules.EncodeState(won.State)
		if err != nil {
			t.Fatal(err)
		}
		events, err := store.Read(ctx, drawn.ID, won.Head()-1, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.PutSnapshot(ctx, eventstore.Snapshot{GameID: drawn.ID, Seq: won.Head(), Hash: events[0].Hash, Data: data}); err != nil {
			t.Fatal(err)
		}
		fresh := serviceEvery(t, store, 100)
		got, err := fresh.Load(ctx, drawn.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(stateJSON(t, got), stateJSON(t, drawn)) {
			t.Fatalf("loaded %s, want %s", stateJSON(t, got), stateJSON(t, drawn))
		}
		// The entry stays usable: its lock was not disturbed.
		if _, err := fresh.Execute(ctx, drawn.ID, "alice", place(0), "m0"); err != nil {
			t.Fatalf("retry on the loaded entry: %v", err)
		}
	})
}
