package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/playlog/playlog/eventstore"
)

// putSnapshotSQL stores a snapshot if the game's event at its seq has its
// hash and no later snapshot is stored: one statement. It reports whether
// the game has events and the hash of its event at seq (NULL: past the
// head).
const putSnapshotSQL = `
WITH ev AS (SELECT (SELECT hash FROM events WHERE game_id = $1 AND seq = $2) AS hash,
                   EXISTS (SELECT 1 FROM events WHERE game_id = $1) AS found),
ins AS (
    INSERT INTO snapshots (game_id, seq, hash, data)
    SELECT $1, $2, $3, $4 FROM ev WHERE ev.hash = $3
    ON CONFLICT (game_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, data = excluded.data, stored_at = now()
        WHERE snapshots.seq < excluded.seq)
SELECT found, hash FROM ev`

// PutSnapshot implements eventstore.Snapshots.
func (s *Store) PutSnapshot(ctx context.Context, snap eventstore.Snapshot) error {
	if s.isClosed() {
		return fmt.Errorf("put snapshot %s: %w", snap.GameID, eventstore.ErrClosed)
	}
	if err := eventstore.ValidateSnapshot(snap); err != nil {
		return fmt.Errorf("put snapshot %s: %w", snap.GameID, err)
	}
	var (
		found bool
		hash  []byte
	)
	err := s.pool.QueryRow(ctx, putSnapshotSQL, [16]byte(snap.GameID), int64(snap.Seq), snap.Hash[:], snap.Data).Scan(&found, &hash)
	if err != nil {
		return s.wrap("put snapshot", snap.GameID, err)
	}
	if !found {
		return fmt.Errorf("put snapshot %s: %w", snap.GameID, eventstore.ErrGameNotFound)
	}
	var events []eventstore.Event
	if hash != nil {
		ev := eventstore.Event{Seq: snap.Seq}
		copy(ev.Hash[:], hash)
		events = append(events, ev)
	}
	if err := eventstore.SnapshotOf(snap, events); err != nil {
		return fmt.Errorf("put snapshot %s: %w", snap.GameID, err)
	}
	return nil
}

// Snapshot implements eventstore.Snapshots.
func (s *Store) Snapshot(ctx context.Context, game uuid.UUID) (eventstore.Snapshot, bool, error) {
	if err := s.check(game); err != nil {
		return eventstore.Snapshot{}, false, fmt.Errorf("snapshot %s: %w", game, err)
	}
	var (
		seq  int64
		hash []byte
		snap = eventstore.Snapshot{GameID: game}
	)
	err := s.pool.QueryRow(ctx, `SELECT seq, hash, data FROM snapshots WHERE game_id = $1`, game).Scan(&seq, &hash, &snap.Data)
	if errors.Is(err, pgx.ErrNoRows) {
		return eventstore.Snapshot{}, false, nil
	}
	if err != nil {
		return eventstore.Snapshot{}, false, s.wrap("snapshot", game, err)
	}
	snap.Seq = uint64(seq)
	copy(snap.Hash[:], hash)
	return snap, true, nil
}
