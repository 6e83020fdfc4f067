package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/postgres"
	"github.com/playlog/playlog/eventstore/storetest"
	"github.com/playlog/playlog/internal/pgtest"
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
