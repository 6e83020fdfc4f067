package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/playlog/playlog/eventstore"
)

const eventColumns = `game_id, seq, type, schema_version, actor, message_id, data::text,
	recorded_at, prev_hash, hash, txid`

// Read implements eventstore.Store: one query, which also proves the game
// exists (readProved).
func (s *Store) Read(ctx context.Context, game uuid.UUID, after uint64, limit int) ([]eventstore.Event, error) {
	if err := s.check(game); err != nil {
		return nil, fmt.Errorf("read %s: %w", game, err)
	}
	events, err := s.readProved(ctx, "read", game, after, eventstore.ReadLimit(limit))
	if err != nil {
		return nil, err
	}
	return events, nil
}

// readProved reads up to limit events after seq after, and fails with
// ErrGameNotFound if the game has no events. It reads the event at after
// too, which proves the game exists when nothing follows (a reader that
// has caught up), and asks Head only when that read finds nothing.
func (s *Store) readProved(ctx context.Context, op string, game uuid.UUID, after uint64, limit int) ([]eventstore.Event, error) {
	events, err := s.readRange(ctx, game, max(after, 1)-1, limit+1)
	if err != nil {
		return nil, s.wrap(op, game, err)
	}
	if len(events) == 0 {
		if _, err := s.Head(ctx, game); errors.Is(err, eventstore.ErrGameNotFound) {
			return nil, fmt.Errorf("%s %s: %w", op, game, eventstore.ErrGameNotFound)
		} else if err != nil {
			return nil, err
		}
	}
	for len(events) > 0 && events[0].Seq <= after {
		events = events[1:]
	}
	return events[:min(len(events), limit)], nil
}

// readRange reads up to limit events after seq after.
//
// Game ids go to and from pgx as [16]byte, which it encodes and decodes
// as binary uuids directly: a uuid.UUID goes through its driver.Valuer
// (a string, parsed back) and sql.Scanner, which cost more than half of
// the append's parameter encoding.
func (s *Store) readRange(ctx context.Context, game uuid.UUID, after uint64, limit int) ([]eventstore.Event, error) {
	s.gameReads.Add(1)
	rows, err := s.pool.Query(ctx,
		`SELECT `+eventColumns+` FROM events WHERE game_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
		[16]byte(game), int64(after), limit)
	if err != nil {
		return nil, err
	}
	return scanEvents(rows)
}

func scanEvents(rows pgx.Rows) ([]eventstore.Event, error) {
	defer rows.Close()
	out := []eventstore.Event{}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// scanEvent scans a row of lead's columns, then eventColumns.
func scanEvent(rows pgx.Rows, lead ...any) (eventstore.Event, error) {
	var (
		e          eventstore.Event
		seq, txid  int64
		version    int32
		data       string
		prev, hash []byte
	)
	dest := append(lead, (*[16]byte)(&e.GameID), &seq, &e.Type, &version, &e.Actor, &e.MessageID, &data,
		&e.RecordedAt, &prev, &hash, &txid)
	if err := rows.Scan(dest...); err != nil {
		return e, err
	}
	e.Seq, e.SchemaVersion, e.Data = uint64(seq), int(version), []byte(data)
	e.RecordedAt = e.RecordedAt.UTC()
	copy(e.PrevHash[:], prev)
	copy(e.Hash[:], hash)
	e.Position = eventstore.Position{Major: uint64(txid), Minor: e.Seq}
	return e, nil
}

// Head implements eventstore.Store.
func (s *Store) Head(ctx context.Context, game uuid.UUID) (uint64, error) {
	if err := s.check(game); err != nil {
		return 0, fmt.Errorf("head %s: %w", game, err)
	}
	var head *int64
	if err := s.pool.QueryRow(ctx, `SELECT max(seq) FROM events WHERE game_id = $1`, [16]byte(game)).Scan(&head); err != nil {
		return 0, s.wrap("head", game, err)
	}
	if head == nil {
		return 0, fmt.Errorf("head %s: %w", game, eventstore.ErrGameNotFound)
	}
	return uint64(*head), nil
}
