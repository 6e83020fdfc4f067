package postgres

import (
	"context"
	"fmt"

	"github.com/playlog/playlog/eventstore"
)

// Ping implements eventstore.Store: it runs an empty statement on a pooled
// connection, which proves the database answers. Errors: ErrClosed, or the
// database's.
func (s *Store) Ping(ctx context.Context) error {
	if s.isClosed() {
		return fmt.Errorf("ping: %w", eventstore.ErrClosed)
	}
	if err := s.pool.Ping(ctx); err != nil {
		if s.isClosed() {
			return fmt.Errorf("ping: %w", eventstore.ErrClosed)
		}
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}
