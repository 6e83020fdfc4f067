package pgproj_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/postgres"
	"github.com/playlog/playlog/internal/testkit/pgtest"
	"github.com/playlog/playlog/projections"
	"github.com/playlog/playlog/projections/pgproj"
	"github.com/playlog/playlog/projections/projtest"
)

var databaseURL string

func TestMain(m *testing.M) {
	if projtest.IsChild() { // the parent's database is in the environment
		os.Exit(m.Run())
	}
	pgtest.Main(m, func(url string) { databaseURL = url })
}

// model adapts pgproj.History to projtest.Model.
type model struct {
	h     *pgproj.History
	store *postgres.Store
}

func (m model) History(ctx context.Context, user string, q projections.HistoryQuery) (projections.HistoryPage, error) {
	return m.h.History(ctx, user, q)
}

func (m model) Game(ctx context.Context, id uuid.UUID) (projections.HistoryGame, bool, error) {
	return m.h.Game(ctx, id)
}

func (m model) Reset(ctx context.Context) error { return m.h.Reset(ctx) }

func (m model) Checkpoint(ctx context.Context) (eventstore.Position, error) {
	return m.h.Checkpoints().Checkpoint(ctx)
}

func (m model) Run(ctx context.Context, feed projections.Feeder, opts projections.RunnerOptions) error {
	r, err := m.h.Runner(feed, opts)
	if err != nil {
		return err
	}
	return r.Run(ctx)
}

func (m model) End(ctx context.Context) (eventstore.Position, error) {
	end, _, err := pgproj.FeedEnd(ctx, m.store.Pool())
	return end, err
}

func newModel(_ testing.TB, s eventstore.Store) projtest.Model {
	ps := s.(*postgres.Store)
	return model{h: pgproj.NewHistory(ps.Pool()), store: ps}
}

func open(t testing.TB, url, schema string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), postgres.Config{
		URL: url, Schema: schema, PollInterval: 20 * time.Millisecond, NotifyDelay: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func backend(t *testing.T) projtest.Backend {
	schema := pgtest.NewSchema("proj")
	return projtest.Backend{
		Name: "postgres",
		Store: func(t testing.TB) eventstore.Store {
			s := open(t, databaseURL, schema)
			t.Cleanup(func() { s.Close() })
			return s
		},
		Model: newModel,
	}
}

func TestHistory(t *testing.T) { projtest.Run(t, backend) }

// killBackend's data is "<url> <schema>".
func killBackend() projtest.KillBackend {
	return projtest.KillBackend{
		Data:      databaseURL + " " + pgtest.NewSchema("kill"),
		ChildTest: "TestKillChild",
		Open:      openKill,
	}
}

func openKill(t testing.TB, data string) (eventstore.Store, projtest.Model) {
	url, schema, _ := strings.Cut(data, " ")
	s := open(t, url, schema)
	return s, newModel(t, s)
}

func TestKillChild(t *testing.T) { projtest.Child(t, openKill) }

func TestKillDuringPlay(t *testing.T) { projtest.KillDuringPlay(t, killBackend()) }

func TestKillDuringRebuild(t *testing.T) { projtest.KillDuringRebuild(t, killBackend()) }

// TestRunnerEndsWhenTheStoreCloses: with its checkpoint in the closed
// store's database, the runner ends with ErrClosed instead of retrying.
func TestRunnerEndsWhenTheStoreCloses(t *testing.T) {
	s := open(t, databaseURL, pgtest.NewSchema("closed"))
	m := newModel(t, s)
	done := make(chan error, 1)
	go func() { done <- m.Run(context.Background(), s, projtest.Fast()) }()
	time.Sleep(100 * time.Millisecond)
	s.Close()
	select {
	case err := <-done:
		if !errors.Is(err, eventstore.ErrClosed) {
			t.Fatalf("Run: %v, want ErrClosed", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run goes on after its store closed")
	}
}
