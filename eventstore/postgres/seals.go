package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/playlog/playlog/eventstore"
)

// putSealSQL stores a seal if the game has events, once: it reports
// whether the game has events and how many rows it wrote (0 for a seal
// already stored).
const putSealSQL = `
WITH g AS (SELECT EXISTS (SELECT 1 FROM events WHERE game_id = $1) AS found),
ins AS (
    INSERT INTO seals (game_id, seq, kind, hash, key_id, signature, sealed_at)
    SELECT $1, $2, $3, $4, $5, $6, $7 FROM g WHERE g.found
    ON CONFLICT (game_id, seq, kind, key_id, signature) DO NOTHING
    RETURNING 1)
SELECT (SELECT found FROM g), (SELECT count(*) FROM ins)`

// PutSeal implements eventstore.Sealed: one statement.
func (s *Store) PutSeal(ctx context.Context, seal eventstore.Seal) error {
	if s.isClosed() {
		return fmt.Errorf("put seal %s: %w", seal.GameID, eventstore.ErrClosed)
	}
	if err := eventstore.ValidateSeal(&seal, s.cfg.Now); err != nil {
		return fmt.Errorf("put seal %s: %w", seal.GameID, err)
	}
	var (
		found bool
		n     int64
	)
	err := s.pool.QueryRow(ctx, putSealSQL, [16]byte(seal.GameID), int64(seal.Seq), string(seal.Kind), seal.Hash[:],
		seal.KeyID, seal.Signature, seal.SealedAt).Scan(&found, &n)
	if err != nil {
		return s.wrap("put seal", seal.GameID, err)
	}
	if !found {
		return fmt.Errorf("put seal %s: %w", seal.GameID, eventstore.ErrGameNotFound)
	}
	return nil
}

// Seals implements eventstore.Sealed.
func (s *Store) Seals(ctx context.Context, game uuid.UUID) ([]eventstore.Seal, error) {
	if err := s.check(game); err != nil {
		return nil, fmt.Errorf("seals %s: %w", game, err)
	}
	if _, err := s.Head(ctx, game); err != nil {
		return nil, fmt.Errorf("seals: %w", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT seq, kind, hash, key_id, signature, sealed_at
		FROM seals WHERE game_id = $1 ORDER BY id`, game)
	if err != nil {
		return nil, s.wrap("seals", game, err)
	}
	defer rows.Close()
	out := []eventstore.Seal{}
	for rows.Next() {
		var (
			seal       eventstore.Seal
			seq        int64
			kind       string
			hash, sign []byte
		)
		if err := rows.Scan(&seq, &kind, &hash, &seal.KeyID, &sign, &seal.SealedAt); err != nil {
			return nil, s.wrap("seals", game, err)
		}
		seal.GameID, seal.Seq, seal.Kind, seal.Signature = game, uint64(seq), eventstore.SealKind(kind), sign
		copy(seal.Hash[:], hash)
		seal.SealedAt = seal.SealedAt.UTC()
		out = append(out, seal)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("seals", game, err)
	}
	return out, nil
}

// SealedWithoutEvents implements eventstore.Sealed.
func (s *Store) SealedWithoutEvents(ctx context.Context) ([]uuid.UUID, error) {
	if s.isClosed() {
		return nil, fmt.Errorf("seals without events: %w", eventstore.ErrClosed)
	}
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT game_id FROM seals s
		WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.game_id = s.game_id) ORDER BY game_id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: seals without events: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("postgres: seals without events: %w", err)
	}
	return ids, nil
}
