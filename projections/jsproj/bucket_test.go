package jsproj_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/projections"
	"github.com/playlog/playlog/projections/jsproj"
)

// TestCommitsWithAndWithoutWrites: a commit that writes no key (the
// checkpoint alone, not an atomic batch) and one that does both move the
// checkpoint only from where it stands: a stale commit of either kind is
// refused with the checkpoint it found, and writes nothing.
func TestCommitsWithAndWithoutWrites(t *testing.T) {
	ctx := context.Background()
	s, err := jetstream.Open(ctx, jetstream.Config{Dir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b, err := jsproj.OpenBucket(ctx, s.Conn(), jsproj.Config{Bucket: "commits"})
	if err != nil {
		t.Fatal(err)
	}
	pos := func(n uint64) eventstore.Position { return eventstore.Position{Major: n, Minor: 1} }
	none := func(context.Context, *jsproj.Tx) error { return nil }
	put := func(key string) func(context.Context, *jsproj.Tx) error {
		return func(_ context.Context, tx *jsproj.Tx) error { tx.Put(key, []byte(`"`+key+`"`), false); return nil }
	}
	steps := []struct {
		name     string
		from, to eventstore.Position
		apply    func(context.Context, *jsproj.Tx) error
		moved    bool // refused: the checkpoint had moved
	}{
		{"first, nothing written", eventstore.Position{}, pos(1), none, false},
		{"stale, nothing written", eventstore.Position{}, pos(2), none, true},
		{"stale, a key written", eventstore.Position{}, pos(2), put("stale"), true},
		{"a key written", pos(1), pos(2), put("a"), false},
		{"nothing written after a write", pos(2), pos(3), none, false},
		{"stale after a write", pos(2), pos(4), put("late"), true},
	}
	at := eventstore.Position{}
	for _, st := range steps {
		err := b.Commit(ctx, st.from, st.to, st.apply)
		var moved *projections.MovedError
		switch {
		case st.moved && (!errors.As(err, &moved) || moved.At != at):
			t.Fatalf("%s: %v, want the checkpoint moved to %v", st.name, err, at)
		case !st.moved && err != nil:
			t.Fatalf("%s: %v", st.name, err)
		case !st.moved:
			at = st.to
		}
		if cp, err := b.Checkpoint(ctx); err != nil || cp != at {
			t.Fatalf("%s: checkpoint %v, %v; want %v", st.name, cp, err, at)
		}
	}
	// Only the committed key was written.
	err = b.Commit(ctx, at, pos(9), func(ctx context.Context, tx *jsproj.Tx) error {
		for key, want := range map[string]bool{"a": true, "stale": false, "late": false} {
			if _, ok, err := tx.Get(ctx, key); err != nil || ok != want {
				t.Errorf("key %s: present %v, %v; want %v", key, ok, err, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestGameReadsAfterAnotherWriter: a History's reads do not answer from
// the records its own commits cached once another writer (a runner on
// another node) has committed over them.
func TestGameReadsAfterAnotherWriter(t *testing.T) {
	ctx := context.Background()
	s, err := jetstream.Open(ctx, jetstream.Config{Dir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var hs [2]*jsproj.History
	for i := range hs {
		if hs[i], err = jsproj.OpenHistory(ctx, s.Conn(), jsproj.Config{Bucket: "two_writers"}); err != nil {
			t.Fatal(err)
		}
	}
	game := uuid.New()
	put := func(events uint64) func(context.Context, *jsproj.Tx) error {
		return func(_ context.Context, tx *jsproj.Tx) error {
			v, _ := json.Marshal(projections.HistoryGame{ID: game, Rules: "tictactoe", Players: []string{"a", "b"}, Events: events})
			tx.Put("game."+game.String(), v, false)
			return nil
		}
	}
	pos := func(n uint64) eventstore.Position { return eventstore.Position{Major: n, Minor: 1} }
	if err := hs[0].Checkpoints().Commit(ctx, eventstore.Position{}, pos(1), put(1)); err != nil {
		t.Fatal(err)
	}
	if err := hs[1].Checkpoints().Commit(ctx, pos(1), pos(2), put(7)); err != nil {
		t.Fatal(err)
	}
	for i, h := range hs {
		if g, ok, err := h.Game(ctx, game); err != nil || !ok || g.Events != 7 {
			t.Errorf("history %d: %+v %v %v; want the second commit's record (7 events)", i, g, ok, err)
		}
	}
}
