package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/playlog/playlog/eventstore"
)

// removeEventsSQL deletes the game's events and reports how many, the last
// seq and its hash, which Remove checks before it commits.
const removeEventsSQL = `
WITH d AS (DELETE FROM events WHERE game_id = $1 RETURNING seq, hash)
SELECT count(*), coalesce(max(seq), 0), (SELECT hash FROM d ORDER BY seq DESC LIMIT 1) FROM d`

// Remove implements eventstore.Importer: one transaction, in which the
// append-only triggers let the game's rows go (playlog.removing, migration
// 003). It deletes the events, checks that they were the game's whole log
// up to head with headHash, deletes the seals and the snapshot, and checks
// that no event was committed meanwhile; any doubt rolls it all back.
//
// This process's appends to the game wait for Remove. Another process's
// append whose statement began before Remove committed, and commits after
// it, is the one case that can leave a tail of the game behind: Remove is
// for games that have ended, which nobody appends to.
func (s *Store) Remove(ctx context.Context, game uuid.UUID, head uint64, headHash eventstore.Hash) error {
	if err := s.check(game); err != nil {
		return fmt.Errorf("remove %s: %w", game, err)
	}
	if head == 0 {
		return fmt.Errorf("remove %s: %w: head 0", game, eventstore.ErrInvalidArgument)
	}
	removed := false
	defer func() {
		if removed {
			s.hub.removed(game) // after forget: the feeds' next query reads anew
		} else {
			s.hub.wakeFeed() // a transaction ended: the feed's horizon may move
		}
	}()
	g, cached := s.games.Get(game)
	if cached {
		g.mu.Lock()
		defer g.mu.Unlock()
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return s.wrap("remove", game, err)
	}
	defer tx.Rollback(context.Background())
	var b pgx.Batch
	b.Queue(`SELECT set_config('playlog.removing', 'on', true)`)
	b.Queue(removeEventsSQL, game)
	b.Queue(`DELETE FROM seals WHERE game_id = $1`, game)
	b.Queue(`DELETE FROM snapshots WHERE game_id = $1`, game)
	b.Queue(`SELECT EXISTS (SELECT 1 FROM events WHERE game_id = $1)`, game)
	br := tx.SendBatch(ctx, &b)
	var (
		count, last int64
		hash        []byte
		left        bool
	)
	_, err = br.Exec()
	if err == nil {
		err = br.QueryRow().Scan(&count, &last, &hash)
	}
	for range 2 { // the seals, the snapshot
		if err == nil {
			_, err = br.Exec()
		}
	}
	if err == nil {
		err = br.QueryRow().Scan(&left)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return s.wrap("remove", game, err)
	}
	var lastHash eventstore.Hash
	copy(lastHash[:], hash)
	switch {
	case count == 0:
		if cached {
			g.reset()
		}
		return fmt.Errorf("remove %s: %w", game, eventstore.ErrGameNotFound)
	case uint64(last) != head || lastHash != headHash:
		return fmt.Errorf("remove %s: head is seq %d with hash %s, not seq %d with hash %s: %w",
			game, last, lastHash, head, headHash, &eventstore.ConflictError{Game: game, Expected: head, Actual: uint64(last)})
	case count != last || left:
		// Rows missing below the head, or committed while removing.
		return fmt.Errorf("remove %s: the log changed while it was removed: %w",
			game, &eventstore.ConflictError{Game: game, Expected: head, Actual: uint64(last)})
	}
	if err := tx.Commit(ctx); err != nil {
		return s.wrap("remove", game, err)
	}
	if cached {
		g.reset()
	}
	s.feed.forget()
	removed = true
	return nil
}
