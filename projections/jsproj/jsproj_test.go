package jsproj_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/projections"
	"github.com/playlog/playlog/projections/jsproj"
	"github.com/playlog/playlog/projections/projtest"
)

// model adapts jsproj.History to projtest.Model.
type model struct {
	h     *jsproj.History
	store *jetstream.Store
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
	end, _, err := jsproj.FeedEnd(ctx, m.store.Conn(), m.store.StreamName(), m.store.SubjectPrefix(), m.store)
	return end, err
}

func newModel(t testing.TB, s eventstore.Store) projtest.Model {
	t.Helper()
	js := s.(*jetstream.Store)
	h, err := jsproj.OpenHistory(context.Background(), js.Conn(), jsproj.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return model{h: h, store: js}
}

// backend: the first store runs the embedded server in a temporary
// directory; later ones connect to it by URL, as other processes would.
func backend(t *testing.T) projtest.Backend {
	dir := t.TempDir()
	var first *jetstream.Store
	return projtest.Backend{
		Name: "jetstream",
		Store: func(t testing.TB) eventstore.Store {
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
			t.Cleanup(func() { s.Close() })
			return s
		},
		Model: newModel,
	}
}

func TestHistory(t *testing.T) { projtest.Run(t, backend) }

// killBackend's data is the embedded server's directory: a child owns it
// while it runs.
func killBackend(t *testing.T) projtest.KillBackend {
	return projtest.KillBackend{
		Data:      t.TempDir(),
		ChildTest: "TestKillChild",
		Open:      openKill,
	}
}

func openKill(t testing.TB, dir string) (eventstore.Store, projtest.Model) {
	s, err := jetstream.Open(context.Background(), jetstream.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return s, newModel(t, s)
}

func TestKillChild(t *testing.T) { projtest.Child(t, openKill) }

func TestKillDuringPlay(t *testing.T) { projtest.KillDuringPlay(t, killBackend(t)) }

func TestKillDuringRebuild(t *testing.T) { projtest.KillDuringRebuild(t, killBackend(t)) }
