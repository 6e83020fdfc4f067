package archive

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/export"
	"github.com/playlog/playlog/projections/open"
	"github.com/playlog/playlog/replay"
)

// Moved is what one Move did.
type Moved struct {
	Games  int   // games archived and removed from the hot store
	Events int64 // their events
	Bytes  int64 // their blobs' bytes
	Failed int   // games that could not be moved (logged by the caller through Progress); tried again next time
}

// Options configure a Move.
type Options struct {
	// Before: games that ended before it are moved.
	Before time.Time
	// Candidates is told how many games will be moved, once they are
	// listed; Progress after each game (err non-nil if it failed).
	Candidates func(n int)
	Progress   func(game uuid.UUID, events int, err error)
}

// Move archives every game of hot that ended before opts.Before: each is
// encoded (Encode), stored in blobs, read back and verified there (chain,
// seals, head), and only then removed from hot, guarded by its head, so a
// game is always whole in one place or the other, and a game that moved
// on meanwhile (it cannot: it has ended) is left. Running Move again after
// a crash finishes what was cut short (Put and a removed game are
// idempotent). hot must be the hot store itself, not a *Store.
func Move(ctx context.Context, hot eventstore.Store, blobs Blobs, opts Options) (Moved, error) {
	var res Moved
	if c, ok := hot.(interface{ CanRemove() error }); ok {
		if err := c.CanRemove(); err != nil {
			return res, err // nothing could leave: copy nothing
		}
	}
	due, err := endedBefore(ctx, hot, opts.Before)
	if err != nil {
		return res, err
	}
	if opts.Candidates != nil {
		opts.Candidates(len(due))
	}
	for _, id := range due {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		n, size, err := moveOne(ctx, hot, blobs, id)
		if err != nil {
			res.Failed++
		} else {
			res.Games++
			res.Events += int64(n)
			res.Bytes += int64(size)
		}
		if opts.Progress != nil {
			opts.Progress(id, n, err)
		}
	}
	return res, nil
}

// endedBefore lists the games of hot whose last event is seed_revealed
// (they have ended) recorded before cutoff, reading the feed to its end.
func endedBefore(ctx context.Context, hot eventstore.Store, cutoff time.Time) ([]uuid.UUID, error) {
	end, _, err := open.FeedEnd(ctx, hot)
	if err != nil || end == (eventstore.Position{}) {
		return nil, err
	}
	ended := map[uuid.UUID]time.Time{}
	var order []uuid.UUID
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	feed, err := hot.Feed(ctx, eventstore.Position{})
	if err != nil {
		return nil, err
	}
	defer feed.Close()
	for {
		e, err := feed.Next(ctx)
		if err != nil {
			return nil, fmt.Errorf("archive: list ended games: %w", err)
		}
		if e.Type == engine.TypeSeedRevealed {
			if _, ok := ended[e.GameID]; !ok {
				order = append(order, e.GameID)
			}
			ended[e.GameID] = e.RecordedAt
		}
		if !e.Position.Less(end) {
			break
		}
	}
	var due []uuid.UUID
	for _, id := range order {
		if ended[id].Before(cutoff) {
			due = append(due, id)
		}
	}
	return due, nil
}

// moveOne archives one ended game and removes it from hot.
func moveOne(ctx context.Context, hot eventstore.Store, blobs Blobs, id uuid.UUID) (int, int, error) {
	events, err := replay.ReadGame(ctx, hot, id)
	if err != nil {
		return 0, 0, err
	}
	last := events[len(events)-1]
	if last.Type != engine.TypeSeedRevealed {
		return len(events), 0, fmt.Errorf("archive: game %s has not ended (its log ends with %s)", id, last.Type)
	}
	seals, err := hot.Seals(ctx, id)
	if err != nil {
		return len(events), 0, err
	}
	blob, err := Encode(events, seals)
	if err != nil {
		return len(events), 0, err
	}
	err = blobs.Put(ctx, id, blob)
	if errors.Is(err, eventstore.ErrConflict) {
		// Another blob of the game: from an earlier run cut short, or made
		// by another Go (gzip bytes may differ). It will do if it holds
		// the same log and every seal the hot store holds.
		err = sameGame(ctx, blobs, id, last, seals)
	}
	if err != nil {
		return len(events), 0, err
	}
	back, err := blobs.Get(ctx, id)
	if err != nil {
		return len(events), 0, err
	}
	g, err := Decode(back)
	if err != nil {
		return len(events), 0, fmt.Errorf("archive: game %s read back: %w", id, err)
	}
	if err := export.VerifyGame(*g, nil); err != nil || g.ID != id || len(g.Events) != len(events) || g.HeadHash != last.Hash || !hasSeals(g.Seals, seals) {
		return len(events), 0, fmt.Errorf("archive: game %s read back is not what was archived (%v)", id, err)
	}
	if err := hot.Remove(ctx, id, last.Seq, last.Hash); err != nil {
		return len(events), 0, fmt.Errorf("archive: remove %s from the hot store: %w", id, err)
	}
	return len(events), len(blob), nil
}

// sameGame accepts the blob already stored for game if it holds the log
// that ends with last and every one of seals.
func sameGame(ctx context.Context, blobs Blobs, game uuid.UUID, last eventstore.Event, seals []eventstore.Seal) error {
	blob, err := blobs.Get(ctx, game)
	if err != nil {
		return err
	}
	g, err := Decode(blob)
	if err != nil {
		return fmt.Errorf("archive: the blob stored for game %s: %w", game, err)
	}
	if g.HeadHash != last.Hash || uint64(len(g.Events)) != last.Seq || !hasSeals(g.Seals, seals) {
		return fmt.Errorf("archive: another log is archived under game %s (head %d, %s): %w", game, len(g.Events), g.HeadHash,
			&eventstore.ConflictError{Game: game, Expected: last.Seq, Actual: uint64(len(g.Events))})
	}
	return nil
}

// hasSeals reports whether every seal of want is in have.
func hasSeals(have, want []eventstore.Seal) bool {
	for _, w := range want {
		if !slices.ContainsFunc(have, func(h eventstore.Seal) bool { return eventstore.SameSeal(h, w) }) {
			return false
		}
	}
	return true
}
