package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/playlog/playlog/eventstore"
)

// importSQL writes imported events as Append writes them: command_size on
// the first event of each append with a message id, the data's exact bytes.
const importSQL = `
INSERT INTO events (game_id, seq, type, schema_version, actor, message_id,
                    command_size, data, recorded_at, prev_hash, hash)
SELECT $1, t.seq, t.typ, t.ver, t.act, t.mid, t.size, t.dat::json, t.at, t.prev, t.hsh
  FROM unnest($2::bigint[], $3::text[], $4::int[], $5::text[], $6::text[], $7::smallint[],
              $8::text[], $9::timestamptz[], $10::bytea[], $11::bytea[])
       AS t(seq, typ, ver, act, mid, size, dat, at, prev, hsh)`

// importBatch is how many rows one statement of an import writes.
const importBatch = 1000

// Import implements eventstore.Importer: one transaction for the whole
// game. It reads what the log holds of the game, locking those rows against
// a concurrent Remove (FOR KEY SHARE), and writes the rest; a concurrent
// writer of the same seqs makes it fail on the primary key, and it looks
// again.
func (s *Store) Import(ctx context.Context, events []eventstore.Event) (eventstore.ImportResult, error) {
	var res eventstore.ImportResult
	if s.isClosed() {
		return res, fmt.Errorf("import: %w", eventstore.ErrClosed)
	}
	groups, err := eventstore.ImportGroups(events)
	if err != nil {
		return res, err
	}
	game := events[0].GameID
	g := s.index(game)
	g.mu.Lock()
	defer g.mu.Unlock()
	for attempt := 0; ; attempt++ {
		res, err = s.importTx(ctx, game, events, groups)
		if !errors.Is(err, errRaced) || attempt >= 4 {
			break
		}
	}
	if res.Written > 0 {
		// Rebuilt, not extended: what it held may predate a Remove.
		if err := s.reindex(ctx, game, g); err != nil {
			s.cfg.Logger.Warn("postgres: import: index not rebuilt; it will be on the next append", "game", game, "err", err)
		}
		s.hub.appended(game, nil) // subscribers read what was imported
	} else {
		s.hub.wakeFeed() // a transaction ended: the feed's horizon may move
	}
	if errors.Is(err, errRaced) {
		return res, s.wrap("import", game, err)
	}
	return res, err
}

func (s *Store) importTx(ctx context.Context, game uuid.UUID, events []eventstore.Event, groups [][]eventstore.Event) (eventstore.ImportResult, error) {
	var res eventstore.ImportResult
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return res, s.wrap("import", game, err)
	}
	defer tx.Rollback(context.Background())
	rows, err := tx.Query(ctx, `SELECT `+eventColumns+` FROM events WHERE game_id = $1
		ORDER BY seq LIMIT $2 FOR KEY SHARE`, game, len(events)+1)
	if err != nil {
		return res, s.wrap("import", game, err)
	}
	stored, err := scanEvents(rows)
	if err != nil {
		return res, s.wrap("import", game, err)
	}
	k, err := eventstore.StoredPrefix(stored, events)
	if err != nil {
		return res, err
	}
	rest := eventstore.GroupsFrom(groups, k)
	if len(rest) == 0 {
		return res, nil
	}
	// The rows, with each append's size on its first event.
	n := len(events) - int(k)
	var (
		seqs     = make([]int64, 0, n)
		types    = make([]string, 0, n)
		versions = make([]int32, 0, n)
		actors   = make([]string, 0, n)
		msgIDs   = make([]string, 0, n)
		sizes    = make([]int16, 0, n)
		data     = make([]string, 0, n)
		times    = make([]time.Time, 0, n)
		prevs    = make([][]byte, 0, n)
		hashes   = make([][]byte, 0, n)
	)
	for _, group := range rest {
		for i := range group {
			e := &group[i]
			size := int16(0)
			if i == 0 && e.MessageID != "" {
				size = int16(len(group))
			}
			seqs, types, versions = append(seqs, int64(e.Seq)), append(types, e.Type), append(versions, int32(e.SchemaVersion))
			actors, msgIDs, sizes = append(actors, e.Actor), append(msgIDs, e.MessageID), append(sizes, size)
			data, times = append(data, string(e.Data)), append(times, e.RecordedAt)
			prevs, hashes = append(prevs, e.PrevHash[:]), append(hashes, e.Hash[:])
		}
	}
	for lo := 0; lo < n; lo += importBatch {
		hi := min(lo+importBatch, n)
		_, err := tx.Exec(ctx, importSQL, game, seqs[lo:hi], types[lo:hi], versions[lo:hi], actors[lo:hi],
			msgIDs[lo:hi], sizes[lo:hi], data[lo:hi], times[lo:hi], prevs[lo:hi], hashes[lo:hi])
		if err != nil {
			return res, s.importErr(game, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return res, s.importErr(game, err)
	}
	res.Written = n
	return res, nil
}

// importErr maps a lost race for a seq to errRaced.
func (s *Store) importErr(game uuid.UUID, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return errRaced
	}
	return s.wrap("import", game, err)
}
