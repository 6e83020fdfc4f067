package tamper

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/playlog/playlog/eventstore"
)

// Postgres returns a Tool that writes the rows of the store whose pool
// this is (postgres.Store.Pool: its search_path is the store's schema).
// Each change is one transaction with session_replication_role = replica,
// which turns the append-only triggers off (it needs a superuser, or a
// role allowed to set it: what an attacker with write access holds).
func Postgres(pool *pgxpool.Pool) Tool { return &pgTool{pool: pool} }

type pgTool struct{ pool *pgxpool.Pool }

// Replace deletes the game's rows and inserts events as the store's append
// writes them (eventstore/postgres/append.go): every column but txid,
// which takes its default (this transaction's id: the rows join the feed
// at its end), and command_size set on the first event of each append run
// (appends). The seqs must increase: rows are read in seq order, so a
// reordered log is stored renumbered (Renumber) or not at all.
func (t *pgTool) Replace(ctx context.Context, game uuid.UUID, events []eventstore.Event) error {
	for i := 1; i < len(events); i++ {
		if events[i].Seq <= events[i-1].Seq {
			return fmt.Errorf("tamper: postgres keeps a game's events in seq order: seq %d cannot follow %d (Renumber the log)",
				events[i].Seq, events[i-1].Seq)
		}
	}
	return t.inTx(ctx, func(b *pgx.Batch) {
		b.Queue(`DELETE FROM events WHERE game_id = $1`, game)
		for _, run := range appends(events) {
			for j, e := range run {
				size := 0
				if j == 0 && e.MessageID != "" {
					size = len(run)
				}
				b.Queue(`INSERT INTO events (game_id, seq, type, schema_version, actor, message_id,
				                             command_size, data, recorded_at, prev_hash, hash)
				         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::json, $9, $10, $11)`,
					game, int64(e.Seq), e.Type, int32(e.SchemaVersion), e.Actor, e.MessageID,
					int16(size), string(e.Data), e.RecordedAt, e.PrevHash[:], e.Hash[:])
			}
		}
	})
}

// ReplaceSeals deletes the game's seal rows and inserts seals, in order
// (their id column, the order stored, is generated).
func (t *pgTool) ReplaceSeals(ctx context.Context, game uuid.UUID, seals []eventstore.Seal) error {
	return t.inTx(ctx, func(b *pgx.Batch) {
		b.Queue(`DELETE FROM seals WHERE game_id = $1`, game)
		for _, s := range seals {
			b.Queue(`INSERT INTO seals (game_id, seq, kind, hash, key_id, signature, sealed_at)
			         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
				game, int64(s.Seq), string(s.Kind), s.Hash[:], s.KeyID, s.Signature, s.SealedAt)
		}
	})
}

// inTx runs the batch fill makes in one transaction, triggers off.
func (t *pgTool) inTx(ctx context.Context, fill func(*pgx.Batch)) error {
	tx, err := t.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("tamper: %w", err)
	}
	defer tx.Rollback(context.Background())
	b := &pgx.Batch{}
	b.Queue(`SET LOCAL session_replication_role = replica`)
	fill(b)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("tamper: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("tamper: %w", err)
	}
	return nil
}

// Close has nothing to give back: the setting was the transactions' own.
func (t *pgTool) Close(context.Context) error { return nil }
