package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/playlog/playlog/eventstore"
)

// Append implements eventstore.Store: one round trip when this process
// knows the hash of the expected event, two when it must read it first.
func (s *Store) Append(ctx context.Context, game uuid.UUID, expected uint64, events ...eventstore.Pending) (eventstore.Appended, error) {
	if err := s.check(game); err != nil {
		return eventstore.Appended{}, fmt.Errorf("append %s: %w", game, err)
	}
	if err := eventstore.ValidateAppend(game, events); err != nil {
		return eventstore.Appended{}, fmt.Errorf("append %s: %w", game, err)
	}
	defer s.hub.wakeFeed() // even a failed append may unblock the feed's horizon
	msgID := events[0].MessageID
	for attempt := 0; ; attempt++ {
		prev, ok := s.heads.hashAt(game, expected)
		if !ok && expected > 0 {
			var err error
			if prev, err = s.hashOf(ctx, game, expected); err != nil {
				return eventstore.Appended{}, s.wrap("append", game, err)
			}
		}
		res, retry, err := s.appendOnce(ctx, game, expected, prev, msgID, events)
		if retry && attempt < 3 {
			continue
		}
		return res, err
	}
}

func (s *Store) appendOnce(ctx context.Context, game uuid.UUID, expected uint64, prev eventstore.Hash, msgID string, pending []eventstore.Pending) (eventstore.Appended, bool, error) {
	stored := eventstore.Seal(game, expected, prev, s.cfg.Now(), pending)
	n := len(stored)
	types, versions, actors := make([]string, n), make([]int32, n), make([]string, n)
	data, hashes := make([]string, n), make([][]byte, n)
	for i, e := range stored {
		types[i], versions[i], actors[i] = e.Type, int32(e.SchemaVersion), e.Actor
		data[i], hashes[i] = string(e.Data), stored[i].Hash[:]
	}
	var (
		status          string
		head, first, lt int64
		txid            int64
	)
	err := s.pool.QueryRow(ctx,
		`SELECT status, head, first_seq, last_seq, txid
		   FROM append_events($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		game, int64(expected), prev[:], msgID, stored[0].RecordedAt,
		types, versions, actors, data, hashes,
	).Scan(&status, &head, &first, &lt, &txid)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			// A racing writer took the seq (or the message id) first.
			res, err := s.afterRace(ctx, game, expected, msgID)
			return res, false, err
		}
		return eventstore.Appended{}, false, s.wrap("append", game, err)
	}
	switch status {
	case "ok":
		for i := range stored {
			stored[i].Position = eventstore.Position{Major: uint64(txid), Minor: stored[i].Seq}
		}
		last := stored[n-1]
		s.heads.put(game, last.Seq, last.Hash)
		s.hub.appended(game)
		return eventstore.Appended{Events: stored}, false, nil
	case "duplicate":
		res, err := s.duplicate(ctx, game, uint64(first), uint64(lt))
		return res, false, err
	case "conflict":
		return eventstore.Appended{}, false, &eventstore.ConflictError{Game: game, Expected: expected, Actual: uint64(head)}
	case "not_found":
		return eventstore.Appended{}, false, fmt.Errorf("append %s after seq %d: %w", game, expected, eventstore.ErrGameNotFound)
	case "stale_prev":
		// The event at expected appeared after we looked for its hash.
		return eventstore.Appended{}, true, s.wrap("append", game, errors.New("hash of the expected event changed under us"))
	}
	return eventstore.Appended{}, false, s.wrap("append", game, fmt.Errorf("append_events returned status %q", status))
}

// afterRace classifies a unique violation: the command was stored by a
// racing twin (duplicate), or another command took the seq (conflict).
func (s *Store) afterRace(ctx context.Context, game uuid.UUID, expected uint64, msgID string) (eventstore.Appended, error) {
	var first, last, head *int64
	err := s.pool.QueryRow(ctx,
		`SELECT (SELECT seq FROM events
		          WHERE game_id = $1 AND message_id = $2 AND $2 <> '' AND command_size > 0),
		        (SELECT seq + command_size - 1 FROM events
		          WHERE game_id = $1 AND message_id = $2 AND $2 <> '' AND command_size > 0),
		        (SELECT max(seq) FROM events WHERE game_id = $1)`, game, msgID,
	).Scan(&first, &last, &head)
	if err != nil {
		return eventstore.Appended{}, s.wrap("append", game, err)
	}
	if first != nil {
		return s.duplicate(ctx, game, uint64(*first), uint64(*last))
	}
	actual := uint64(0)
	if head != nil {
		actual = uint64(*head)
	}
	return eventstore.Appended{}, &eventstore.ConflictError{Game: game, Expected: expected, Actual: actual}
}

func (s *Store) duplicate(ctx context.Context, game uuid.UUID, first, last uint64) (eventstore.Appended, error) {
	events, err := s.readRange(ctx, game, first-1, int(last-first+1))
	if err != nil {
		return eventstore.Appended{}, s.wrap("append", game, err)
	}
	if len(events) != int(last-first+1) {
		return eventstore.Appended{}, s.wrap("append", game, fmt.Errorf("command events %d..%d missing", first, last))
	}
	return eventstore.Appended{Events: events, Duplicate: true}, nil
}

// hashOf reads the hash of the game's event seq; zero if there is none (the
// append function then reports not_found or conflict).
func (s *Store) hashOf(ctx context.Context, game uuid.UUID, seq uint64) (eventstore.Hash, error) {
	var h []byte
	err := s.pool.QueryRow(ctx, `SELECT hash FROM events WHERE game_id = $1 AND seq = $2`, game, int64(seq)).Scan(&h)
	var out eventstore.Hash
	if errors.Is(err, pgx.ErrNoRows) {
		return out, nil
	}
	if err != nil {
		return out, err
	}
	copy(out[:], h)
	return out, nil
}
