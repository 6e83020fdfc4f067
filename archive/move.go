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
//
// The game's seals may still grow while it is archived: its final seal is
// stored just after its last event, and retried if that failed. So once
// the blob is stored the seals are read again, and a blob that lacks one
// is replaced (as is one left by an earlier run cut short before a seal
// came) before the game leaves the hot store, whose Remove takes its
// seals with it. What this cannot see is a seal stored between that last
// read and the removal, milliseconds apart.
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
	var size int
	for try := 1; ; try++ {
		if size, seals, err = store(ctx, blobs, id, events, seals); err != nil {
			return len(events), 0, err
		}
		now, err := hot.Seals(ctx, id)
		if err != nil {
			return len(events), 0, err
		}
		if hasSeals(seals, now) {
			break
		}
		if try == 3 {
			return len(events), 0, fmt.Errorf("archive: game %s: its seals changed three times while it was archived; left in the hot store", id)
		}
		seals = union(seals, now)
	}
	if err := hot.Remove(ctx, id, last.Seq, last.Hash); err != nil {
		return len(events), 0, fmt.Errorf("archive: remove %s from the hot store: %w", id, err)
	}
	return len(events), size, nil
}

// store puts the game's blob, with seals and any others a blob already
// stored for it holds, and reads it back. It returns the blob's size and
// the seals it holds.
func store(ctx context.Context, blobs Blobs, id uuid.UUID, events []eventstore.Event, seals []eventstore.Seal) (int, []eventstore.Seal, error) {
	last := events[len(events)-1]
	blob, err := Encode(events, seals)
	if err != nil {
		return 0, nil, err
	}
	err = blobs.Put(ctx, id, blob)
	if errors.Is(err, eventstore.ErrConflict) {
		// Another blob of the game: from an earlier run cut short, or made
		// by another Go (gzip bytes may differ). It will do if it holds
		// the same log and every seal; with fewer seals it is replaced.
		var stored *export.Game
		if stored, err = storedGame(ctx, blobs, id, last); err == nil && !hasSeals(stored.Seals, seals) {
			seals = union(seals, stored.Seals)
			if blob, err = Encode(events, seals); err == nil {
				err = blobs.Replace(ctx, id, blob)
			}
		}
	}
	if err != nil {
		return 0, nil, err
	}
	back, err := blobs.Get(ctx, id)
	if err != nil {
		return 0, nil, err
	}
	g, err := Decode(back)
	if err != nil {
		return 0, nil, fmt.Errorf("archive: game %s read back: %w", id, err)
	}
	if err := export.VerifyGame(*g, nil); err != nil || g.ID != id || len(g.Events) != len(events) || g.HeadHash != last.Hash || !hasSeals(g.Seals, seals) {
		return 0, nil, fmt.Errorf("archive: game %s read back is not what was archived (%v)", id, err)
	}
	return len(back), g.Seals, nil
}

// storedGame returns the blob stored for game if it holds the log that
// ends with last.
func storedGame(ctx context.Context, blobs Blobs, game uuid.UUID, last eventstore.Event) (*export.Game, error) {
	blob, err := blobs.Get(ctx, game)
	if err != nil {
		return nil, err
	}
	g, err := Decode(blob)
	if err != nil {
		return nil, fmt.Errorf("archive: the blob stored for game %s: %w", game, err)
	}
	if g.HeadHash != last.Hash || uint64(len(g.Events)) != last.Seq {
		return nil, fmt.Errorf("archive: another log is archived under game %s (head %d, %s): %w", game, len(g.Events), g.HeadHash,
			&eventstore.ConflictError{Game: game, Expected: last.Seq, Actual: uint64(len(g.Events))})
	}
	return g, nil
}

// union is have with the seals of more it lacks.
func union(have, more []eventstore.Seal) []eventstore.Seal {
	out := slices.Clone(have)
	for _, m := range more {
		if !slices.ContainsFunc(out, func(h eventstore.Seal) bool { return eventstore.SameSeal(h, m) }) {
			out = append(out, m)
		}
	}
	return out
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
