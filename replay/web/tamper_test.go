package web_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore/postgres"
)

// editEvent edits stored event seq of game id in place, as someone with
// access to the database could: it adds a space at the end of its data,
// which leaves the JSON (and so the board) as it was but changes the bytes
// the hash covers. The events table refuses UPDATE by a trigger
// (migrations/001_events.sql); its owner can switch that off, as an
// attacker with the database would.
func editEvent(t *testing.T, n *node, id uuid.UUID, seq uint64) {
	t.Helper()
	pg, ok := n.store.(*postgres.Store)
	if !ok {
		t.Fatalf("editEvent needs the PostgreSQL store, not %T", n.store)
	}
	ctx := context.Background()
	tx, err := pg.Pool().Begin(ctx) // its search_path is the store's schema
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	for _, sql := range []string{
		`ALTER TABLE events DISABLE TRIGGER events_append_only`,
		`UPDATE events SET data = (data::text || ' ')::json WHERE game_id = $1 AND seq = $2`,
		`ALTER TABLE events ENABLE TRIGGER events_append_only`,
	} {
		var args []any
		if sql[0] == 'U' {
			args = []any{id, int64(seq)}
		}
		tag, err := tx.Exec(ctx, sql, args...)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		if sql[0] == 'U' && tag.RowsAffected() != 1 {
			t.Fatalf("edited %d rows, want 1", tag.RowsAffected())
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}
