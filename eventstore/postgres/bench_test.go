package postgres_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/postgres"
	"github.com/playlog/playlog/eventstore/storetest"
	"github.com/playlog/playlog/internal/testkit/pgtest"
)

const benchConns = 64

// BenchmarkAppend compares, in one run on one database with pools of the
// same size, a raw single-row INSERT in its own transaction into a table
// with the events table's columns and key, with playlog's Append, for 1
// game appended sequentially and for 200 games concurrently.
//
//	go test -run '^$' -bench Append -benchtime 5s ./eventstore/postgres
func BenchmarkAppend(b *testing.B) {
	for _, games := range []int{1, 200} {
		b.Run("games="+strconv.Itoa(games), func(b *testing.B) {
			b.Run("raw", func(b *testing.B) { benchRaw(b, games) })
			b.Run("playlog", func(b *testing.B) { benchPlaylog(b, games) })
		})
	}
}

func benchRaw(b *testing.B, games int) {
	ctx := context.Background()
	cfg, _ := pgxpool.ParseConfig(databaseURL)
	cfg.MaxConns = benchConns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	table := pgtest.NewSchema("raw")
	if _, err := pool.Exec(ctx, `CREATE TABLE `+table+` (
		game_id uuid, seq bigint, type text, schema_version int, actor text, message_id text,
		data json, recorded_at timestamptz, prev_hash bytea, hash bytea, PRIMARY KEY (game_id, seq))`); err != nil {
		b.Fatal(err)
	}
	ids := make([]uuid.UUID, games)
	for g := range ids {
		ids[g] = uuid.New()
	}
	hash := make([]byte, 32)
	storetest.Concurrently(b, games, func(g, i int) error {
		_, err := pool.Exec(ctx, `INSERT INTO `+table+` VALUES ($1, $2, 'moved', 1, 'alice', $3, $4, $5, $6, $6)`,
			ids[g], int64(i+1), "m"+strconv.Itoa(i), string(storetest.BenchData), time.Now(), hash)
		return err
	})
}

func benchPlaylog(b *testing.B, games int) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, postgres.Config{URL: databaseURL, Schema: pgtest.NewSchema("bench"), MaxConns: benchConns})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ids := make([]uuid.UUID, games)
	for g := range ids {
		ids[g] = uuid.New()
	}
	storetest.Concurrently(b, games, func(g, i int) error {
		_, err := s.Append(ctx, ids[g], uint64(i), eventstore.Pending{
			Type: "moved", SchemaVersion: 1, Actor: "alice", MessageID: "m" + strconv.Itoa(i), Data: storetest.BenchData,
		})
		return err
	})
}
