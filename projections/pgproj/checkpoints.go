package pgproj

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/projections"
)

// Checkpoints keeps one projection's checkpoint, a row of
// projection_checkpoints, and commits it in the transaction that writes
// the projection's model. Safe for concurrent use, by any number of
// processes: the row is locked by each commit, which compares it first.
type Checkpoints struct {
	pool *pgxpool.Pool
	name string
}

var _ projections.Checkpointer[*Tx] = (*Checkpoints)(nil)

// NewCheckpoints returns the checkpoint of the projection called name, in
// the database of pool (whose search_path is playlog's schema, as
// postgres.Store.Pool's is).
func NewCheckpoints(pool *pgxpool.Pool, name string) *Checkpoints {
	return &Checkpoints{pool: pool, name: name}
}

// Tx is one commit's unit of work: the statements queued on it run in
// order, in one round trip, in the transaction that moves the checkpoint.
// Not safe for concurrent use.
type Tx struct {
	tx    pgx.Tx
	batch pgx.Batch
}

// Queue adds a statement to the commit.
func (t *Tx) Queue(sql string, args ...any) { t.batch.Queue(sql, args...) }

// last is the statement queued last, nil if none.
func (t *Tx) last() *pgx.QueuedQuery {
	if n := len(t.batch.QueuedQueries); n > 0 {
		return t.batch.QueuedQueries[n-1]
	}
	return nil
}

// Tx is the transaction itself, for reads; queued statements have not run
// yet.
func (t *Tx) Tx() pgx.Tx { return t.tx }

// Checkpoint implements projections.Checkpointer.
func (c *Checkpoints) Checkpoint(ctx context.Context) (eventstore.Position, error) {
	var major, minor int64
	err := c.pool.QueryRow(ctx, `SELECT major, minor FROM projection_checkpoints WHERE name = $1`, c.name).Scan(&major, &minor)
	if errors.Is(err, pgx.ErrNoRows) {
		return eventstore.Position{}, nil
	}
	if err != nil {
		return eventstore.Position{}, fmt.Errorf("pgproj: checkpoint of %s: %w", c.name, err)
	}
	return eventstore.Position{Major: uint64(major), Minor: uint64(minor)}, nil
}

// Commit implements projections.Checkpointer: one transaction locks the
// checkpoint's row and compares it with from, runs apply's statements and
// writes to.
func (c *Checkpoints) Commit(ctx context.Context, from, to eventstore.Position, apply func(context.Context, *Tx) error) error {
	tx, err := c.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("pgproj: %s: begin: %w", c.name, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	at, err := lock(ctx, tx, c.name)
	if err != nil {
		return err
	}
	if at != from {
		return &projections.MovedError{At: at}
	}
	t := &Tx{tx: tx}
	if err := apply(ctx, t); err != nil {
		return err
	}
	t.Queue(`UPDATE projection_checkpoints SET major = $2, minor = $3, updated_at = now() WHERE name = $1`,
		c.name, int64(to.Major), int64(to.Minor))
	if err := tx.SendBatch(ctx, &t.batch).Close(); err != nil {
		return fmt.Errorf("pgproj: %s: apply: %w", c.name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgproj: %s: commit: %w", c.name, err)
	}
	return nil
}

// lock returns the checkpoint, its row locked until tx ends (created at
// the zero position if the projection has none yet).
func lock(ctx context.Context, tx pgx.Tx, name string) (eventstore.Position, error) {
	var major, minor int64
	err := tx.QueryRow(ctx, `INSERT INTO projection_checkpoints AS c (name, major, minor) VALUES ($1, 0, 0)
		ON CONFLICT (name) DO UPDATE SET name = c.name RETURNING c.major, c.minor`, name).Scan(&major, &minor)
	if err != nil {
		return eventstore.Position{}, fmt.Errorf("pgproj: lock checkpoint of %s: %w", name, err)
	}
	return eventstore.Position{Major: uint64(major), Minor: uint64(minor)}, nil
}

// Reset empties the model with clear and sets the checkpoint to zero, in
// one transaction: a rebuild starts from it. A runner still following
// from its old checkpoint finds it moved back at its next commit and
// starts over from zero too.
func (c *Checkpoints) Reset(ctx context.Context, clear func(ctx context.Context, tx pgx.Tx) error) error {
	tx, err := c.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("pgproj: reset %s: %w", c.name, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := lock(ctx, tx, c.name); err != nil {
		return err
	}
	if err := clear(ctx, tx); err != nil {
		return fmt.Errorf("pgproj: reset %s: %w", c.name, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE projection_checkpoints SET major = 0, minor = 0, updated_at = now() WHERE name = $1`, c.name); err != nil {
		return fmt.Errorf("pgproj: reset %s: %w", c.name, err)
	}
	return tx.Commit(ctx)
}
