// Package testenv gives tests above the event store both real backends: an
// embedded JetStream server in a temporary directory, and a schema of a real
// PostgreSQL (pgtest's throwaway cluster, or PLAYLOG_TEST_DATABASE_URL).
//
// A test package calls Main from its TestMain, then ForEachStore (or Stores)
// in its tests.
package testenv

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/eventstore/postgres"
	"github.com/playlog/playlog/internal/testkit/pgtest"
)

var databaseURL string

// Main starts PostgreSQL for the package's tests, runs them and stops it.
func Main(m *testing.M) { pgtest.Main(m, func(url string) { databaseURL = url }) }

// Backend opens stores on one fresh data set. Open may be called several
// times: the stores share the data, as several processes would.
type Backend struct {
	Name string
	Open func(t testing.TB) eventstore.Store
}

// Stores returns a fresh JetStream and a fresh PostgreSQL backend.
func Stores(t testing.TB) []Backend {
	dir := t.TempDir()
	var first *jetstream.Store
	js := func(t testing.TB) eventstore.Store {
		cfg := jetstream.Config{Dir: dir, Listen: "127.0.0.1:0"}
		if first != nil {
			cfg = jetstream.Config{URL: first.ClientURL()}
		}
		s, err := jetstream.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = s
		}
		t.Cleanup(func() {
			if first == s { // later opens restart the embedded server
				first = nil
			}
			s.Close()
		})
		return s
	}
	schema := pgtest.NewSchema("env")
	pg := func(t testing.TB) eventstore.Store {
		if databaseURL == "" {
			t.Fatal("testenv: call testenv.Main from TestMain")
		}
		s, err := postgres.Open(context.Background(), postgres.Config{
			URL: databaseURL, Schema: schema, PollInterval: 100 * time.Millisecond, NotifyDelay: time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	return []Backend{{Name: "jetstream", Open: js}, {Name: "postgres", Open: pg}}
}

// ForEachStore runs f as a subtest on each backend.
func ForEachStore(t *testing.T, f func(t *testing.T, b Backend)) {
	for _, b := range Stores(t) {
		t.Run(b.Name, func(t *testing.T) { f(t, b) })
	}
}

// Bus is a store's broadcast bus (gateway.Bus has the same methods).
type Bus interface {
	Publish(ctx context.Context, msg []byte) error
	Subscribe(ctx context.Context, fn func([]byte)) error
}

// BusOf returns the store's real bus named "presence": core NATS for
// JetStream, NOTIFY for PostgreSQL.
func BusOf(s eventstore.Store) Bus {
	switch st := s.(type) {
	case *jetstream.Store:
		return st.Bus("presence")
	case *postgres.Store:
		return st.Bus("presence")
	}
	panic(fmt.Sprintf("testenv: no bus for %T", s))
}
