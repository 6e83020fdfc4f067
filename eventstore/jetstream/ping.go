package jetstream

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/playlog/playlog/eventstore"
)

// Ping implements eventstore.Store with one stream info request, bounded by
// RequestTimeout: it proves that JetStream answers for the stream, not
// merely that the connection is up. Errors: ErrClosed, or the server's.
func (s *Store) Ping(ctx context.Context) error {
	if s.isClosed() {
		return fmt.Errorf("ping: %w", eventstore.ErrClosed)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	if _, err := s.stream.Info(ctx); err != nil {
		if s.isClosed() || errors.Is(err, nats.ErrConnectionClosed) {
			return fmt.Errorf("ping: %w", eventstore.ErrClosed)
		}
		return fmt.Errorf("jetstream: ping stream %s: %w", s.cfg.Stream, err)
	}
	return nil
}
