package replay_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/replay"
)

// tally is a game that never ends by itself: each move adds a number to a
// 52-slot table, so that its state is about a card game's size and a
// 10 000-event game is easy to make.
type tally struct{}

type tallyState struct {
	Players []string `json:"players"`
	Turn    int      `json:"turn"`
	Table   []int    `json:"table"`
}

type added struct {
	N int `json:"n"`
}

func (added) EventType() string { return "added" }

func (tally) Name() string { return "tally" }
func (tally) New(config json.RawMessage, players []string) (tallyState, error) {
	return tallyState{Players: players, Table: make([]int, 52)}, engine.NoConfig(config)
}
func (tally) Start(tallyState, *engine.Rand) []engine.Payload { return nil }
func (tally) DecodeAction(data []byte) (added, error) {
	var a added
	return a, json.Unmarshal(data, &a)
}
func (tally) Decide(s tallyState, _ string, a added, _ *engine.Rand) ([]engine.Payload, error) {
	return []engine.Payload{a}, nil
}
func (tally) DecodeEvent(typ string, data []byte) (engine.Payload, error) {
	var a added
	return a, json.Unmarshal(data, &a)
}
func (tally) Evolve(s tallyState, e engine.Payload) tallyState {
	a := e.(added)
	s.Table = append([]int(nil), s.Table...)
	s.Table[a.N%52] += a.N
	s.Turn = (s.Turn + 1) % len(s.Players)
	return s
}
func (tally) Turn(s tallyState) []string              { return s.Players[s.Turn : s.Turn+1] }
func (tally) Forced(tallyState) (engine.Forced, bool) { return engine.Forced{}, false }
func (tally) Legal(tallyState, string) []added        { return nil }
func (tally) Outcome(tallyState) engine.Outcome       { return engine.Outcome{} }

// longGame appends a tally game of n events (game_created, then one
// action and one added event per command).
func longGame(b testing.TB, s eventstore.Store, n int) uuid.UUID {
	g := engine.Define[tallyState, added](tally{})
	evs, err := g.Create(nil, []string{"a", "b"}, make([]byte, engine.SeedSize))
	if err != nil {
		b.Fatal(err)
	}
	id := uuid.New()
	pending := func(evs []engine.Event) []eventstore.Pending {
		out := make([]eventstore.Pending, len(evs))
		for i, e := range evs {
			out[i] = eventstore.Pending{Type: e.Type, SchemaVersion: e.Version, Actor: e.Actor, Data: e.Data}
		}
		return out
	}
	ctx := context.Background()
	if _, err := s.Append(ctx, id, 0, pending(evs)...); err != nil {
		b.Fatal(err)
	}
	for seq := uint64(len(evs)); seq < uint64(n); {
		batch := make([]eventstore.Pending, 0, 100)
		for len(batch) < 100 && seq+uint64(len(batch)) < uint64(n) {
			batch = append(batch,
				eventstore.Pending{Type: engine.TypeAction, SchemaVersion: 1, Actor: "a", Data: json.RawMessage(`{"actor":"a","action":{"n":7}}`)},
				eventstore.Pending{Type: "added", SchemaVersion: 1, Actor: "a", Data: json.RawMessage(`{"n":7}`)})
		}
		if _, err := s.Append(ctx, id, seq, batch...); err != nil {
			b.Fatal(err)
		}
		seq += uint64(len(batch))
	}
	return id
}

// BenchmarkStateAt: the state at a random step of a 10 000-event game.
// Warm: the replayer has the game's snapshots. Cold: a new replayer (the
// store's own caches stay as they are), asking for the last step, the
// worst case: the whole game read and folded.
func BenchmarkStateAt(b *testing.B) {
	const n = 10000
	reg, err := engine.NewRegistry(engine.Define[tallyState, added](tally{}))
	if err != nil {
		b.Fatal(err)
	}
	for _, be := range testenv.Stores(b) {
		s := be.Open(b)
		id := longGame(b, s, n)
		ctx := context.Background()
		b.Run(fmt.Sprintf("%s/warm", be.Name), func(b *testing.B) {
			r, _ := replay.New(replay.Config{Store: s, Registry: reg})
			if _, err := r.StateAt(ctx, id, n); err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			b.ResetTimer()
			for range b.N {
				if _, err := r.StateAt(ctx, id, 1+rng.Uint64N(n)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("%s/cold", be.Name), func(b *testing.B) {
			for range b.N {
				r, _ := replay.New(replay.Config{Store: s, Registry: reg})
				st, err := r.StateAt(ctx, id, n)
				if err != nil || st.Seq() != n {
					b.Fatal(st.Seq(), err)
				}
			}
		})
	}
}
