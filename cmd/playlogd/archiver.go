package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/archive"
	"github.com/playlog/playlog/eventstore"
)

// runArchiver moves the games that ended more than -archive-after ago into
// the archive, every -archive-every, until ctx ends. Every node runs it:
// archiving a game twice is harmless (Put is idempotent, Remove guarded).
func runArchiver(ctx context.Context, hot eventstore.Store, blobs archive.Blobs, c config, logger *slog.Logger) error {
	tick := time.NewTicker(c.archiveEvery)
	defer tick.Stop()
	for {
		moved, err := archive.Move(ctx, hot, blobs, archive.Options{
			Before: time.Now().Add(-c.archiveAfter),
			Progress: func(game uuid.UUID, _ int, err error) {
				if err != nil {
					logger.Warn("game not archived; will try again", "game", game, "err", err)
				}
			},
		})
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			logger.Warn("archiving stopped; will try again", "err", err)
		case moved.Games > 0 || moved.Failed > 0:
			logger.Info("archived games", "games", moved.Games, "events", moved.Events, "bytes", moved.Bytes, "failed", moved.Failed)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
