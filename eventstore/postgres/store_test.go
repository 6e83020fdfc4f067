package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/postgres"
	"github.com/playlog/playlog/eventstore/storetest"
	"github.com/playlog/playlog/internal/testkit/pgtest"
)

var databaseURL string

func TestMain(m *testing.M) { pgtest.Main(m, func(url string) { databaseURL = url }) }

// backend runs stores in one schema of the test database; reopening
// connects anew to the same tables.
type backend struct{ schema string }

func (b backend) Open(t *testing.T, opts storetest.Options) eventstore.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), postgres.Config{
		URL: databaseURL, Schema: b.schema, Now: opts.Now, PollInterval: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (b backend) OpenPeer(t *testing.T, _ eventstore.Store, opts storetest.Options) eventstore.Store {
	return b.Open(t, opts)
}

func (b backend) DedupeWindow() time.Duration { return 0 }

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Backend { return backend{schema: pgtest.NewSchema("conf")} })
}

// TestUnknownGamesAreNotCached: appends to games that do not exist (expected
// seq > 0) leave the index cache as it was; a created game is cached.
func TestUnknownGamesAreNotCached(t *testing.T) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, postgres.Config{URL: databaseURL, Schema: pgtest.NewSchema("cache"), CachedGames: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e := eventstore.Pending{Type: "e", SchemaVersion: 1, Actor: "alice", Data: []byte(`{}`)}
	if _, err := s.Append(ctx, uuid.New(), 0, e); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if _, err := s.Append(ctx, uuid.New(), 3, e); !errors.Is(err, eventstore.ErrGameNotFound) {
			t.Fatalf("append to an unknown game: %v", err)
		}
	}
	if n := postgres.CachedGames(s); n != 1 {
		t.Fatalf("%d games cached, want the one created", n)
	}
}
