package replay_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/replay"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// ReadGame reads a game longer than one page, in order, on both stores.
func TestReadGameReadsEveryPage(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		s := b.Open(t)
		ctx := context.Background()
		game := uuid.New()
		const n = eventstore.MaxReadLimit*2 + 500
		for seq := uint64(0); seq < n; seq += 50 {
			batch := make([]eventstore.Pending, 50)
			for i := range batch {
				batch[i] = eventstore.Pending{Type: "t", SchemaVersion: 2, Actor: "a", Data: json.RawMessage(`{"x":1}`)}
			}
			if _, err := s.Append(ctx, game, seq, batch...); err != nil {
				t.Fatal(err)
			}
		}
		all, err := replay.ReadGame(ctx, s, game)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != n {
			t.Fatalf("%d events, want %d", len(all), n)
		}
		for i, e := range all {
			if e.Seq != uint64(i+1) {
				t.Fatalf("event %d has seq %d", i, e.Seq)
			}
		}
		ee := replay.EngineEvents(all[:1])
		if ee[0].Type != "t" || ee[0].Version != 2 || ee[0].Actor != "a" || string(ee[0].Data) != `{"x":1}` {
			t.Fatalf("engine event %+v", ee[0])
		}
		if _, err := replay.ReadGame(ctx, s, uuid.New()); !errors.Is(err, eventstore.ErrGameNotFound) {
			t.Fatalf("unknown game: %v", err)
		}
	})
}
