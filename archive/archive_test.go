package archive_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/archive"
	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/replay"
	"github.com/playlog/playlog/seal"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// playGames plays n finished tictactoe games and one running one.
func playGames(t *testing.T, store eventstore.Store, n int) (ended []uuid.UUID, running uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	key := ed25519.NewKeyFromSeed(make([]byte, 32))
	svc, err := play.New(play.Config{Store: store, Registry: games.Standard(), SeedSecret: make([]byte, 32),
		Sealer: seal.NewSealer(seal.NewSigner(key), store, seal.Policy{Every: 4}, nil, nil)})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i <= n; i++ {
		g, err := svc.Create(ctx, "tictactoe", []string{"alice", "bob"}, nil, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if i == n {
			return ended, g.ID
		}
		for j, cell := range []int{0, 3, 1, 4, 2} {
			if _, err := svc.Execute(ctx, g.ID, []string{"alice", "bob"}[j%2], json.RawMessage(`{"type":"place","cell":`+strconv.Itoa(cell)+`}`), ""); err != nil {
				t.Fatal(err)
			}
		}
		ended = append(ended, g.ID)
	}
	return ended, running
}

// Archiving moves ended games out of the hot store, and the wrapped store
// still serves them exactly as they were: events, seals, a subscription.
// The hot store shrinks; running games stay; a second run moves nothing; no
// game can be started again under an archived id.
func TestMoveAndReadBack(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		hot := b.Open(t)
		ended, running := playGames(t, hot, 20)
		type game struct {
			events []eventstore.Event
			seals  []eventstore.Seal
		}
		before := map[uuid.UUID]game{}
		for _, id := range append(ended, running) {
			events, err := replay.ReadGame(ctx, hot, id)
			if err != nil {
				t.Fatal(err)
			}
			seals, err := hot.Seals(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			before[id] = game{events, seals}
		}
		blobs, err := archive.OpenBlobs(ctx, hot)
		if err != nil {
			t.Fatal(err)
		}
		sizeBefore, recordsBefore, err := archive.HotSize(ctx, hot)
		if err != nil {
			t.Fatal(err)
		}
		// Nothing has ended an hour ago.
		if m, err := archive.Move(ctx, hot, blobs, archive.Options{Before: time.Now().Add(-time.Hour)}); err != nil || m.Games != 0 {
			t.Fatalf("Move of games not old enough: %+v %v", m, err)
		}
		m, err := archive.Move(ctx, hot, blobs, archive.Options{Before: time.Now().Add(time.Minute)})
		if err != nil || m.Games != len(ended) || m.Failed != 0 {
			t.Fatalf("Move = %+v, %v; want %d games", m, err, len(ended))
		}
		_, recordsAfter, err := archive.HotSize(ctx, hot)
		if err != nil {
			t.Fatal(err)
		}
		if recordsAfter >= recordsBefore {
			t.Errorf("hot store records %d -> %d (bytes before %d)", recordsBefore, recordsAfter, sizeBefore)
		}
		if n, _, err := blobs.Size(ctx); err != nil || n != len(ended) {
			t.Errorf("archive holds %d games (%v), want %d", n, err, len(ended))
		}
		store := archive.Wrap(hot, blobs, 4)
		for _, id := range ended {
			if _, err := hot.Head(ctx, id); !errors.Is(err, eventstore.ErrGameNotFound) {
				t.Fatalf("the hot store still has archived game %s: %v", id, err)
			}
			events, err := replay.ReadGame(ctx, store, id)
			if err != nil {
				t.Fatal(err)
			}
			want := before[id]
			for i := range want.events {
				want.events[i].Position = eventstore.Position{}
			}
			if !reflect.DeepEqual(events, want.events) {
				t.Fatalf("game %s read from the archive differs", id)
			}
			seals, err := store.Seals(ctx, id)
			if err != nil || !reflect.DeepEqual(seals, want.seals) {
				t.Fatalf("seals of %s from the archive: %v\n%+v\nwant %+v", id, err, seals, want.seals)
			}
			head, err := store.Head(ctx, id)
			if err != nil || head != uint64(len(events)) {
				t.Fatalf("Head = %d, %v", head, err)
			}
			if _, err := store.Append(ctx, id, head, eventstore.Pending{Type: "x", SchemaVersion: 1, Actor: "a", Data: []byte(`{}`)}); !errors.Is(err, eventstore.ErrConflict) {
				t.Fatalf("appending to archived game %s: %v", id, err)
			}
			if res, err := store.Import(ctx, events); err != nil || res.Written != 0 {
				t.Fatalf("importing archived game %s again: %+v %v", id, res, err)
			}
			other := slices.Clone(events[:2])
			other[1].Data = []byte(`{"x":1}`)
			other = eventstore.Stamp(id, 0, eventstore.Hash{}, other[0].RecordedAt, pendingOf(other))
			if _, err := store.Import(ctx, other); !errors.Is(err, eventstore.ErrConflict) {
				t.Fatalf("importing another game under archived id %s: %v", id, err)
			}
		}
		// A subscription to an archived game delivers what follows, then waits.
		sub, err := store.Subscribe(ctx, ended[0], 3)
		if err != nil {
			t.Fatal(err)
		}
		for i := 4; i <= len(before[ended[0]].events); i++ {
			e, err := sub.Next(ctx)
			if err != nil || e.Seq != uint64(i) {
				t.Fatalf("subscription: seq %d, %v; want %d", e.Seq, err, i)
			}
		}
		wait, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		if _, err := sub.Next(wait); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("after the last event: %v, want the deadline", err)
		}
		cancel()
		sub.Close()
		if _, err := sub.Next(ctx); !errors.Is(err, eventstore.ErrClosed) {
			t.Errorf("after Close: %v", err)
		}
		// The running game stays hot.
		if head, err := hot.Head(ctx, running); err != nil || head != uint64(len(before[running].events)) {
			t.Errorf("running game: head %d, %v", head, err)
		}
		if m, err := archive.Move(ctx, hot, blobs, archive.Options{Before: time.Now().Add(time.Minute)}); err != nil || m.Games != 0 {
			t.Errorf("a second Move: %+v %v", m, err)
		}
		// Unknown games are still unknown.
		if _, err := store.Read(ctx, uuid.New(), 0, 0); !errors.Is(err, eventstore.ErrGameNotFound) {
			t.Errorf("unknown game: %v", err)
		}
	})
}

func pendingOf(events []eventstore.Event) []eventstore.Pending {
	p := make([]eventstore.Pending, len(events))
	for i, e := range events {
		p[i] = eventstore.Pending{Type: e.Type, SchemaVersion: e.SchemaVersion, Actor: e.Actor, MessageID: e.MessageID, Data: e.Data}
	}
	return p
}
