package jetstream

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
)

// A process that has a game indexed (it served it) learns of its removal
// by another process: the game is not found there either, takes no seal
// and no subscription; stored anew, it has its new head. (A refresh finds
// nothing after the indexed messages either way, and the stale index kept
// answering the old head.)
func TestPeerSeesARemoveElsewhere(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := openTest(t, Config{Dir: t.TempDir(), Listen: "127.0.0.1:0"})
	t.Cleanup(func() { s.Close() })
	p := openTest(t, Config{URL: s.ClientURL()})
	t.Cleanup(func() { p.Close() })
	game := uuid.New()
	var res eventstore.Appended
	var err error
	for i := 0; i < 3; i++ {
		if res, err = s.Append(ctx, game, uint64(i), pending("")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Read(ctx, game, 0, 0); err != nil { // the peer indexes it
		t.Fatal(err)
	}
	if err := s.Remove(ctx, game, 3, res.Events[0].Hash); err != nil {
		t.Fatal(err)
	}
	if h, err := s.Head(ctx, game); !errors.Is(err, eventstore.ErrGameNotFound) {
		t.Fatalf("remover's Head: %d, %v", h, err)
	}
	if h, err := p.Head(ctx, game); !errors.Is(err, eventstore.ErrGameNotFound) {
		t.Errorf("peer's Head after the game was removed: %d, %v; want ErrGameNotFound", h, err)
	}
	if _, err := p.Seals(ctx, game); !errors.Is(err, eventstore.ErrGameNotFound) {
		t.Errorf("peer's Seals after the game was removed: %v; want ErrGameNotFound", err)
	}
	// The peer stores a seal for the removed game: a seal without events.
	seal := eventstore.Seal{GameID: game, Seq: 3, Hash: res.Events[0].Hash, Kind: eventstore.SealFinal, KeyID: "k1", SealedAt: time.Now().UTC(), Signature: make([]byte, 64)}
	if err := p.PutSeal(ctx, seal); !errors.Is(err, eventstore.ErrGameNotFound) {
		t.Errorf("peer's PutSeal after the game was removed: %v; want ErrGameNotFound", err)
	}
	if sub, err := p.Subscribe(ctx, game, 0); !errors.Is(err, eventstore.ErrGameNotFound) {
		t.Errorf("peer's Subscribe after the game was removed: %v; want ErrGameNotFound", err)
		if sub != nil {
			sub.Close()
		}
	}
	if _, err := s.Append(ctx, game, 0, pending("")); err != nil {
		t.Fatal(err)
	}
	if h, err := p.Head(ctx, game); h != 1 || err != nil {
		t.Errorf("peer's Head after the game was stored anew: %d, %v; want 1", h, err)
	}
}
