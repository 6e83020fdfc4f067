package seal_test

import (
	"context"
	"crypto/ed25519"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/internal/testkit/measure"
	"github.com/playlog/playlog/seal"
)

// BenchmarkSealerMemory: what a game waiting for its Interval checkpoint
// costs the node that appended to it (at most Policy.MaxPending games wait;
// past that they are sealed at once). 100 000 games with one unsealed
// append each; nothing reaches the store.
//
//	go test -run '^$' -bench SealerMemory -benchtime 1x ./seal
func BenchmarkSealerMemory(b *testing.B) {
	const n = 100_000
	events := make([]eventstore.Event, n)
	for i := range events {
		events[i] = eventstore.Event{GameID: uuid.New(), Seq: 2, Hash: eventstore.Hash{1}}
	}
	signer := seal.NewSigner(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)))
	ctx := context.Background()
	for range b.N {
		s := seal.NewSealer(signer, nil, seal.Policy{Interval: time.Hour}, nil, nil)
		base := measure.LiveHeap()
		for _, e := range events {
			s.Appended(ctx, []eventstore.Event{e}, false)
		}
		if s.Pending() != n {
			b.Fatalf("%d pending, want %d", s.Pending(), n)
		}
		b.ReportMetric(float64(measure.LiveHeap()-base)/n, "B/game")
		runtime.KeepAlive(s)
	}
}
