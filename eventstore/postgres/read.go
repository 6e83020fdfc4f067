package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/playlog/playlog/eventstore"
)

const eventColumns = `game_id, seq, type, schema_version, actor, message_id, data::text,
	recorded_at, prev_hash, hash, txid`

// Read implements eventstore.Store.
func (s *Store) Read(ctx context.Context, game uuid.UUID, after uint64, limit int) ([]eventstore.Event, error) {
	if err := s.check(game); err != nil {
		return nil, fmt.Errorf("read %s: %w", game, err)
	}
	limit = eventstore.ReadLimit(limit)
	events, err := s.readRange(ctx, game, after, limit)
	if err != nil {
		return nil, s.wrap("read", game, err)
	}
	if len(events) == 0 {
		if _, err := s.Head(ctx, game); err != nil {
			return nil, err
		}
	}
	return events, nil
}

func (s *Store) readRange(ctx context.Context, game uuid.UUID, after uint64, limit int) ([]eventstore.Event, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT `+eventColumns+` FROM events WHERE game_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
		game, int64(after), limit)
	if err != nil {
		return nil, err
	}
	return scanEvents(rows)
}

func scanEvents(rows pgx.Rows) ([]eventstore.Event, error) {
	defer rows.Close()
	out := []eventstore.Event{}
	for rows.Next() {
		var (
			e          eventstore.Event
			seq, txid  int64
			version    int32
			data       string
			prev, hash []byte
		)
		if err := rows.Scan(&e.GameID, &seq, &e.Type, &version, &e.Actor, &e.MessageID, &data,
			&e.RecordedAt, &prev, &hash, &txid); err != nil {
			return nil, err
		}
		e.Seq, e.SchemaVersion, e.Data = uint64(seq), int(version), []byte(data)
		e.RecordedAt = e.RecordedAt.UTC()
		copy(e.PrevHash[:], prev)
		copy(e.Hash[:], hash)
		e.Position = eventstore.Position{Major: uint64(txid), Minor: e.Seq}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Head implements eventstore.Store.
func (s *Store) Head(ctx context.Context, game uuid.UUID) (uint64, error) {
	if err := s.check(game); err != nil {
		return 0, fmt.Errorf("head %s: %w", game, err)
	}
	var head *int64
	if err := s.pool.QueryRow(ctx, `SELECT max(seq) FROM events WHERE game_id = $1`, game).Scan(&head); err != nil {
		return 0, s.wrap("head", game, err)
	}
	if head == nil {
		return 0, fmt.Errorf("head %s: %w", game, eventstore.ErrGameNotFound)
	}
	return uint64(*head), nil
}
