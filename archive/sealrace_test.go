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

// unsealed is a tictactoe game played to its end on a fresh hot store by
// a sealer whose final seal failed (a store hiccup at the end of the game:
// the Sealer keeps it for a retry), with the archive beside the store and
// the final seal the retry will store.
type unsealed struct {
	hot    eventstore.Store
	blobs  archive.Blobs
	pub    ed25519.PublicKey
	game   uuid.UUID
	events []eventstore.Event
	final  eventstore.Seal
}

func endedUnsealed(t *testing.T, b testenv.Backend) unsealed {
	t.Helper()
	ctx := context.Background()
	key := ed25519.NewKeyFromSeed(make([]byte, 32))
	signer := seal.NewSigner(key)
	u := unsealed{hot: b.Open(t), pub: key.Public().(ed25519.PublicKey)}
	sealer := seal.NewSealer(signer, failFinal{u.hot}, seal.Policy{Every: 4, Interval: time.Hour}, nil, nil)
	svc, err := play.New(play.Config{Store: u.hot, Registry: games.Standard(), SeedSecret: make([]byte, 32), Sealer: sealer})
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
	u.game = g.ID
	if u.events, err = replay.ReadGame(ctx, u.hot, g.ID); err != nil {
		t.Fatal(err)
	}
	if u.final, err = signer.Sign(u.events[len(u.events)-1], eventstore.SealFinal, time.Now()); err != nil {
		t.Fatal(err)
	}
	if u.blobs, err = archive.OpenBlobs(ctx, u.hot); err != nil {
		t.Fatal(err)
	}
	return u
}

// moveWantsFinalSeal moves the game out of hot (u.hot, or a wrapper of it)
// and checks that the archived game audits with a sound final seal.
func (u unsealed) moveWantsFinalSeal(t *testing.T, hot eventstore.Store) {
	t.Helper()
	ctx := context.Background()
	m, err := archive.Move(ctx, hot, u.blobs, archive.Options{Before: time.Now().Add(time.Minute), Progress: progressErr(t)})
	if err != nil || m.Games != 1 {
		t.Fatalf("Move = %+v, %v", m, err)
	}
	store := archive.Wrap(u.hot, u.blobs, 0)
	seals, err := store.Seals(ctx, u.game)
	if err != nil {
		t.Fatal(err)
	}
	read, err := replay.ReadGame(ctx, store, u.game)
	if err != nil {
		t.Fatal(err)
	}
	if r := seal.Check(read, seals, seal.NewVerifier(u.pub), true); !r.Final || len(r.Findings) > 0 {
		t.Errorf("the archived game has %d seals, final %v: %v", len(seals), r.Final, r.Findings)
	}
}

// A final seal stored after Move read the game's seals, before it removed
// the game, is archived with it (Remove takes the hot store's seals).
func TestMoveKeepsASealStoredMeanwhile(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		u := endedUnsealed(t, b)
		var once sync.Once
		racer := racingSeals{Store: u.hot, after: func(g uuid.UUID) {
			if g == u.game {
				once.Do(func() { // the sealer's retry lands now
					if err := u.hot.PutSeal(context.Background(), u.final); err != nil {
						t.Errorf("final seal: %v", err)
					}
				})
			}
		}}
		u.moveWantsFinalSeal(t, racer)
	})
}

// A blob left by an earlier run cut short before the final seal came is
// replaced by one with it, not refused on every run.
func TestMoveReplacesABlobWithFewerSeals(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		u := endedUnsealed(t, b)
		seals, err := u.hot.Seals(ctx, u.game)
		if err != nil {
			t.Fatal(err)
		}
		early, err := archive.Encode(u.events, seals)
		if err != nil {
			t.Fatal(err)
		}
		if err := u.blobs.Put(ctx, u.game, early); err != nil {
			t.Fatal(err)
		}
		if err := u.hot.PutSeal(ctx, u.final); err != nil {
			t.Fatal(err)
		}
		u.moveWantsFinalSeal(t, u.hot)
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
