package hub_test

import (
	"context"
	"testing"
	"time"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore/postgres"
	"github.com/playlog/playlog/hub"
	"github.com/playlog/playlog/internal/testkit/pgtest"
)

// TestPostgresRestartKeepsViewers: a PostgreSQL restart shorter than
// RetryFor costs no viewer. The game's reader sees the outage as
// ErrUnavailable (a refused connection, then 57P01 from the pooled
// connections the restart ended), which the hub retries; it once came
// unwrapped and every viewer of every game was dropped at once.
func TestPostgresRestartKeepsViewers(t *testing.T) {
	cluster, err := pgtest.StartOwn()
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Stop()
	ctx := context.Background()
	store, err := postgres.Open(ctx, postgres.Config{URL: cluster.URL, Schema: pgtest.NewSchema("hubout")})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	f := fixtureOn(t, store, hub.Config{Linger: time.Hour, RetryFor: 30 * time.Second})
	created, err := f.svc.Create(ctx, "tictactoe", []string{"alice", "bob"}, nil, "alice")
	if err != nil {
		t.Fatal(err)
	}
	s := newSink(100)
	w := f.watch(t, created.ID, engine.AsPlayer("alice"), 0, s)
	defer w.Close()
	g, _ := f.svc.Load(ctx, created.ID)
	s.events(t, g.Head())

	if err := cluster.Kill(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := cluster.Restart(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.dropped:
		t.Fatalf("viewer cut by a 1 s outage with RetryFor 30 s: %v", err)
	case <-time.After(3 * time.Second):
	}
}
