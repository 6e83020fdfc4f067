package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/playlog/playlog/eventstore"
)

// Append implements eventstore.Store: one round trip when this process's
// index of the game stands at expected, a refresh first when it does not.
//
// Idempotency without an index on message ids: the index holds every
// message id of the game up to its head. The append function writes seq
// expected+1 only if seq expected is committed (primary key plus prev-hash
// check), so when it succeeds the game's head was exactly expected, and the
// index, complete up to expected, proved the message id new.
func (s *Store) Append(ctx context.Context, game uuid.UUID, expected uint64, events ...eventstore.Pending) (_ eventstore.Appended, err error) {
	if err := s.check(game); err != nil {
		return eventstore.Appended{}, fmt.Errorf("append %s: %w", game, err)
	}
	if err := eventstore.ValidateAppend(game, events); err != nil {
		return eventstore.Appended{}, fmt.Errorf("append %s: %w", game, err)
	}
	defer func() {
		if err != nil { // a stored append wakes everyone itself (hub.appended)
			s.hub.wakeFeed() // a failed one ended a transaction: the feed's horizon may move
		}
	}()
	msgID := events[0].MessageID
	g := s.index(game)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.head != expected {
		if err := s.refresh(ctx, game, g); err != nil {
			return eventstore.Appended{}, s.wrap("append", game, err)
		}
	}
	for attempt := 0; ; attempt++ {
		if r, ok := g.ids[msgID]; ok && msgID != "" {
			res, err := s.duplicate(ctx, game, msgID, r[0], r[1])
			if errors.Is(err, errGone) && attempt < 2 {
				// The game lost those events (Remove): look again.
				if err := s.reindex(ctx, game, g); err != nil {
					return eventstore.Appended{}, s.wrap("append", game, err)
				}
				continue
			}
			if err == nil {
				// Perhaps stored by a try that failed (its deadline passed
				// while the commit went through), which woke nobody: wake
				// the game's subscribers here and elsewhere now.
				s.hub.appended(game, nil)
			}
			return res, err
		}
		if g.head != expected {
			if g.head == 0 {
				return eventstore.Appended{}, fmt.Errorf("append %s after seq %d: %w", game, expected, eventstore.ErrGameNotFound)
			}
			return eventstore.Appended{}, &eventstore.ConflictError{Game: game, Expected: expected, Actual: g.head}
		}
		res, err := s.insert(ctx, game, g, msgID, events)
		if err == nil || !errors.Is(err, errRaced) || attempt >= 2 {
			return res, err
		}
		// Another writer got there first: catch up, then it is a duplicate,
		// a conflict, or (if only the index had lagged) a retry.
		before := g.head
		if err := s.refresh(ctx, game, g); err != nil {
			return eventstore.Appended{}, s.wrap("append", game, err)
		}
		if g.head == before {
			// Nothing after the head the index knows, yet that head is not
			// in the log as indexed: the game was removed (and maybe
			// imported again). Index it afresh.
			if err := s.reindex(ctx, game, g); err != nil {
				return eventstore.Appended{}, s.wrap("append", game, err)
			}
		}
	}
}

// errRaced: the log moved past this process's index of the game.
var errRaced = errors.New("postgres: the game moved on")

// errGone: events this process's index of the game holds are no longer in
// the log (Remove).
var errGone = errors.New("postgres: indexed events are gone")

// appendSQL stores one append in one statement, one round trip, one
// transaction: it writes only if the event at the expected seq ($2) is
// committed with the hash the new events chain from ($3), or $2 is 0. A
// racing writer of the same seq makes it fail on the primary key. It reports
// how many rows it wrote and the writing transaction's id (the feed
// position's major part). One append per transaction, which the feed's
// (txid, seq) order relies on: the statement runs alone in its implicit
// transaction.
const appendSQL = `
WITH ins AS (
    INSERT INTO events (game_id, seq, type, schema_version, actor, message_id,
                        command_size, data, recorded_at, prev_hash, hash)
    SELECT $1, $2 + t.i, t.typ, t.ver, t.act, $4,
           CASE WHEN t.i = 1 AND $4 <> '' THEN cardinality($6::text[]) ELSE 0 END,
           t.dat::json, $5,
           CASE WHEN t.i = 1 THEN $3 ELSE ($10::bytea[])[t.i - 1] END, t.hsh
      FROM unnest($6::text[], $7::int[], $8::text[], $9::text[], $10::bytea[])
           WITH ORDINALITY AS t(typ, ver, act, dat, hsh, i)
     WHERE $2 = 0 OR EXISTS (
           SELECT 1 FROM events e WHERE e.game_id = $1 AND e.seq = $2 AND e.hash = $3)
    RETURNING 1)
SELECT count(*), coalesce(pg_current_xact_id_if_assigned()::text::bigint, 0) FROM ins`

// appendOneSQL is appendSQL for a single event, with scalar parameters.
// It returns the writing transaction's id, or no row if it wrote nothing.
const appendOneSQL = `
INSERT INTO events (game_id, seq, type, schema_version, actor, message_id,
                    command_size, data, recorded_at, prev_hash, hash)
SELECT $1, $2 + 1, $6, $7, $8, $4, CASE WHEN $4 <> '' THEN 1 ELSE 0 END,
       $9::json, $5, $3, $10
 WHERE $2 = 0 OR EXISTS (
       SELECT 1 FROM events e WHERE e.game_id = $1 AND e.seq = $2 AND e.hash = $3)
RETURNING pg_current_xact_id()::text::bigint`

// appendRowsSQL[n], for 2 <= n <= maxRowsSQL, is appendSQL for n events
// with scalar parameters, a row of VALUES each: PostgreSQL spends about a
// sixth less on it than on unnesting arrays, and pgx less on encoding it.
// It returns the writing transaction's id once per event written.
var appendRowsSQL = func() (out [maxRowsSQL + 1]string) {
	for n := 2; n <= maxRowsSQL; n++ {
		var b strings.Builder
		b.WriteString(`
INSERT INTO events (game_id, seq, type, schema_version, actor, message_id,
                    command_size, data, recorded_at, prev_hash, hash)
SELECT $1, $2 + v.i, v.typ, v.ver, v.act, $4, v.size, v.dat::json, $5, v.prev, v.hsh
  FROM (VALUES `)
		for i := 1; i <= n; i++ {
			p := 7 + 5*(i-1) // type, version, actor, data, hash of event i
			prev, size := "$3::bytea", "$6::smallint"
			if i > 1 {
				prev, size = fmt.Sprintf("$%d", p-1), "0"
				b.WriteString(",\n               ")
			}
			fmt.Fprintf(&b, "(%d, $%d::text, $%d::int, $%d::text, $%d::text, %s, $%d::bytea, %s)",
				i, p, p+1, p+2, p+3, prev, p+4, size)
		}
		b.WriteString(`) AS v(i, typ, ver, act, dat, prev, hsh, size)
 WHERE $2 = 0 OR EXISTS (
       SELECT 1 FROM events e WHERE e.game_id = $1 AND e.seq = $2 AND e.hash = $3)
RETURNING pg_current_xact_id()::text::bigint`)
		out[n] = b.String()
	}
	return out
}()

// maxRowsSQL is the most events appendRowsSQL writes; appendSQL writes more.
const maxRowsSQL = 8

// insert writes the events after g's head. The caller holds g.mu.
func (s *Store) insert(ctx context.Context, game uuid.UUID, g *gameIndex, msgID string, pending []eventstore.Pending) (eventstore.Appended, error) {
	stored := eventstore.Stamp(game, g.head, g.headHash, s.cfg.Now(), pending)
	n := len(stored)
	var count, txid int64
	var err error
	switch {
	case n == 1: // the common case, without arrays
		e := &stored[0]
		err = s.pool.QueryRow(ctx, appendOneSQL,
			[16]byte(game), int64(g.head), g.headHash[:], msgID, e.RecordedAt,
			e.Type, int32(e.SchemaVersion), e.Actor, string(e.Data), e.Hash[:],
		).Scan(&txid)
		count = 1
		if errors.Is(err, pgx.ErrNoRows) {
			count, err = 0, nil
		}
	case n <= maxRowsSQL:
		size := int16(0)
		if msgID != "" {
			size = int16(n)
		}
		args := make([]any, 0, 6+5*n)
		args = append(args, [16]byte(game), int64(g.head), g.headHash[:], msgID, stored[0].RecordedAt, size)
		for i := range stored {
			e := &stored[i]
			args = append(args, e.Type, int32(e.SchemaVersion), e.Actor, string(e.Data), e.Hash[:])
		}
		var rows pgx.Rows
		if rows, err = s.pool.Query(ctx, appendRowsSQL[n], args...); err == nil {
			for rows.Next() {
				if err = rows.Scan(&txid); err != nil {
					break
				}
				count++
			}
			rows.Close()
			if err == nil {
				err = rows.Err()
			}
		}
	default:
		types, versions, actors := make([]string, n), make([]int32, n), make([]string, n)
		data, hashes := make([]string, n), make([][]byte, n)
		for i := range stored {
			e := &stored[i]
			types[i], versions[i], actors[i] = e.Type, int32(e.SchemaVersion), e.Actor
			data[i], hashes[i] = string(e.Data), e.Hash[:]
		}
		err = s.pool.QueryRow(ctx, appendSQL,
			[16]byte(game), int64(g.head), g.headHash[:], msgID, stored[0].RecordedAt,
			types, versions, actors, data, hashes,
		).Scan(&count, &txid)
	}
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "23505": // the seq was taken
		return eventstore.Appended{}, errRaced
	case err != nil:
		return eventstore.Appended{}, s.wrap("append", game, err)
	case count == 0:
		// The event at the head is not (or no longer) what the index says:
		// the game moved on, or the log was altered under us.
		return eventstore.Appended{}, errRaced
	case count != int64(n):
		return eventstore.Appended{}, s.wrap("append", game, fmt.Errorf("stored %d of %d events", count, n))
	}
	for i := range stored {
		stored[i].Position = eventstore.Position{Major: uint64(txid), Minor: stored[i].Seq}
	}
	last := stored[n-1]
	if msgID != "" {
		g.ids[msgID] = [2]uint64{stored[0].Seq, last.Seq}
	}
	g.head, g.headHash = last.Seq, last.Hash
	s.remember(game, g)
	s.hub.appended(game, stored)
	return eventstore.Appended{Events: stored}, nil
}

func (s *Store) duplicate(ctx context.Context, game uuid.UUID, msgID string, first, last uint64) (eventstore.Appended, error) {
	events, err := s.readRange(ctx, game, first-1, int(last-first+1))
	if err != nil {
		return eventstore.Appended{}, s.wrap("append", game, err)
	}
	if len(events) != int(last-first+1) {
		return eventstore.Appended{}, s.wrap("append", game, fmt.Errorf("%w: command events %d..%d missing", errGone, first, last))
	}
	if events[0].MessageID != msgID {
		// The rows were replaced behind this process's index (the game
		// removed and imported again by another): the log is the judge.
		return eventstore.Appended{}, s.wrap("append", game, fmt.Errorf("%w: seq %d holds message id %q, not %q", errGone, first, events[0].MessageID, msgID))
	}
	return eventstore.Appended{Events: events, Duplicate: true}, nil
}
