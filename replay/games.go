package replay

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
)

// Games calls fn with the first event of every game in store's feed up to
// end (the feed's end when listing began: projections/open.FeedEnd), in
// feed order: each game once, with the first of its events the feed
// passes (seq 1, unless the log lost it: an audit must still find that
// game). A game created after end may be listed too. fn's error stops the
// walk and is returned. Whole-store tools (audit, export) list games with
// it; it holds the ids seen, about 50 bytes a game.
func Games(ctx context.Context, store eventstore.Store, end eventstore.Position, fn func(first eventstore.Event) error) error {
	if end == (eventstore.Position{}) {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	feed, err := store.Feed(ctx, eventstore.Position{})
	if err != nil {
		return fmt.Errorf("list games: %w", err)
	}
	defer feed.Close()
	seen := map[uuid.UUID]struct{}{}
	for {
		e, err := feed.Next(ctx)
		if err != nil {
			return fmt.Errorf("list games: %w", err)
		}
		if _, ok := seen[e.GameID]; !ok {
			seen[e.GameID] = struct{}{}
			if err := fn(e); err != nil {
				return err
			}
		}
		if !e.Position.Less(end) {
			return nil
		}
	}
}
