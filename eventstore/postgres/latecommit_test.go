package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/postgres"
	"github.com/playlog/playlog/internal/testkit/pgtest"
)

// TestFeedWaitsForLateCommit holds a transaction open after it wrote an
// event while a later transaction commits another. A cursor on a plain
// sequence would pass the open transaction's row and lose it when it
// commits; the feed must instead hold back until it ends, then deliver both.
func TestFeedWaitsForLateCommit(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	schema := pgtest.NewSchema("late")
	s, err := postgres.Open(ctx, postgres.Config{URL: databaseURL, Schema: schema, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	feed, err := s.Feed(ctx, eventstore.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()

	// The slow writer: an append inside a transaction left open.
	cfg, _ := pgx.ParseConfig(databaseURL)
	cfg.RuntimeParams["search_path"] = schema
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slow := uuid.New()
	sealed := eventstore.Stamp(slow, 0, eventstore.Hash{}, time.Now(), []eventstore.Pending{{Type: "slow", SchemaVersion: 1, Data: []byte(`{}`)}})
	_, err = tx.Exec(ctx, `INSERT INTO events (game_id, seq, type, schema_version, actor, message_id, data, recorded_at, prev_hash, hash)
		VALUES ($1, 1, 'slow', 1, '', '', '{}', $2, $3, $4)`,
		slow, sealed[0].RecordedAt, make([]byte, 32), sealed[0].Hash[:])
	if err != nil {
		t.Fatalf("slow append: %v", err)
	}

	// The fast writer commits after the slow one wrote, before it commits.
	fast := uuid.New()
	if _, err := s.Append(ctx, fast, 0, eventstore.Pending{Type: "fast", SchemaVersion: 1, Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	wait, cancelWait := context.WithTimeout(ctx, 300*time.Millisecond)
	e, err := feed.Next(wait)
	cancelWait()
	if err == nil {
		t.Fatalf("feed delivered %s/%d while an older transaction was still open", e.GameID, e.Seq)
	}

	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got := map[uuid.UUID]int{}
	for len(got) < 2 {
		e, err := feed.Next(ctx)
		if err != nil {
			t.Fatalf("feed after the late commit: %v (got %v)", err, got)
		}
		got[e.GameID]++
	}
	if got[slow] != 1 || got[fast] != 1 {
		t.Fatalf("feed delivered %v, want each game once", got)
	}
}
