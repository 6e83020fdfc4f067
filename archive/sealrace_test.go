package archive_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
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

// failFinal is the sealer's store: it refuses final seals (a store hiccup
// at the end of the game), so the Sealer keeps the final seal for retry.
type failFinal struct{ eventstore.Sealed }

func (f failFinal) PutSeal(ctx context.Context, s eventstore.Seal) error {
	if s.Kind == eventstore.SealFinal {
		return errors.New("transient")
	}
	return f.Sealed.PutSeal(ctx, s)
}

// racingSeals is the hot store Move sees: right after Move has read a
// game's seals, the server's sealer stores the game's final seal (its
// retry, or simply the PutSeal that follows the ending append).
type racingSeals struct {
	eventstore.Store
	after func(game uuid.UUID)
}

func (r racingSeals) Unwrap() eventstore.Store { return r.Store }

func (r racingSeals) Seals(ctx context.Context, game uuid.UUID) ([]eventstore.Seal, error) {
	s, err := r.Store.Seals(ctx, game)
	r.after(game)
	return s, err
}

// endedUnsealed plays a tictactoe game to its end on hot with a sealer
// whose final seal fails (a store hiccup at the end of the game: the
// Sealer keeps it for a retry), and returns the game, its events and the
// final seal the retry will store.
func endedUnsealed(t *testing.T, hot eventstore.Store, signer *seal.Signer) (uuid.UUID, []eventstore.Event, eventstore.Seal) {
	t.Helper()
	ctx := context.Background()
	sealer := seal.NewSealer(signer, failFinal{hot}, seal.Policy{Every: 4, Interval: time.Hour}, nil, nil)
	svc, err := play.New(play.Config{Store: hot, Registry: games.Standard(), SeedSecret: make([]byte, 32), Sealer: sealer})
	if err != nil {
		t.Fatal(err)
	}
	g, err := svc.Create(ctx, "tictactoe", []string{"alice", "bob"}, nil, "alice")
	if err != nil {
		t.Fatal(err)
	}
	for j, cell := range []int{0, 3, 1, 4, 2} {
		if _, err := svc.Execute(ctx, g.ID, []string{"alice", "bob"}[j%2], json.RawMessage(`{"type":"place","cell":`+strconv.Itoa(cell)+`}`), ""); err != nil {
			t.Fatal(err)
		}
	}
	events, err := replay.ReadGame(ctx, hot, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	final, err := signer.Sign(events[len(events)-1], eventstore.SealFinal, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return g.ID, events, final
}

// wantFinalSealArchived checks that the archived game audits with a sound
// final seal.
func wantFinalSealArchived(t *testing.T, hot eventstore.Store, blobs archive.Blobs, game uuid.UUID, pub ed25519.PublicKey) {
	t.Helper()
	ctx := context.Background()
	store := archive.Wrap(hot, blobs, 0)
	seals, err := store.Seals(ctx, game)
	if err != nil {
		t.Fatal(err)
	}
	read, err := replay.ReadGame(ctx, store, game)
	if err != nil {
		t.Fatal(err)
	}
	if r := seal.Check(read, seals, seal.NewVerifier(pub), true); !r.Final || len(r.Findings) > 0 {
		t.Errorf("the archived game has %d seals, final %v: %v", len(seals), r.Final, r.Findings)
	}
}

// A final seal stored after Move read the game's seals, before it removed
// the game, is archived with it (Remove takes the hot store's seals).
func TestMoveKeepsASealStoredMeanwhile(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		hot := b.Open(t)
		key := ed25519.NewKeyFromSeed(make([]byte, 32))
		signer := seal.NewSigner(key)
		game, _, final := endedUnsealed(t, hot, signer)
		blobs, err := archive.OpenBlobs(ctx, hot)
		if err != nil {
			t.Fatal(err)
		}
		var once sync.Once
		racer := racingSeals{Store: hot, after: func(g uuid.UUID) {
			if g == game {
				once.Do(func() { // the sealer's retry lands now
					if err := hot.PutSeal(ctx, final); err != nil {
						t.Errorf("final seal: %v", err)
					}
				})
			}
		}}
		m, err := archive.Move(ctx, racer, blobs, archive.Options{Before: time.Now().Add(time.Minute), Progress: progressErr(t)})
		if err != nil || m.Games != 1 {
			t.Fatalf("Move = %+v, %v", m, err)
		}
		wantFinalSealArchived(t, hot, blobs, game, key.Public().(ed25519.PublicKey))
	})
}

// A blob left by an earlier run cut short before the final seal came is
// replaced by one with it, not refused on every run.
func TestMoveReplacesABlobWithFewerSeals(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		hot := b.Open(t)
		key := ed25519.NewKeyFromSeed(make([]byte, 32))
		signer := seal.NewSigner(key)
		game, events, final := endedUnsealed(t, hot, signer)
		blobs, err := archive.OpenBlobs(ctx, hot)
		if err != nil {
			t.Fatal(err)
		}
		seals, err := hot.Seals(ctx, game)
		if err != nil {
			t.Fatal(err)
		}
		early, err := archive.Encode(events, seals)
		if err != nil {
			t.Fatal(err)
		}
		if err := blobs.Put(ctx, game, early); err != nil {
			t.Fatal(err)
		}
		if err := hot.PutSeal(ctx, final); err != nil {
			t.Fatal(err)
		}
		m, err := archive.Move(ctx, hot, blobs, archive.Options{Before: time.Now().Add(time.Minute), Progress: progressErr(t)})
		if err != nil || m.Games != 1 {
			t.Fatalf("Move = %+v, %v", m, err)
		}
		wantFinalSealArchived(t, hot, blobs, game, key.Public().(ed25519.PublicKey))
	})
}

// progressErr reports a game's failure to move as the test's error.
func progressErr(t *testing.T) func(uuid.UUID, int, error) {
	return func(game uuid.UUID, _ int, err error) {
		if err != nil {
			t.Errorf("moving %s: %v", game, err)
		}
	}
}
