package postgres

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// listen holds one connection in LISTEN on the store's channel and wakes
// local subscriptions for other processes' appends, until ctx ends. After a
// lost connection it reconnects and wakes everything, since notifications
// may have been missed in between.
func (s *Store) listen(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		s.cfg.Logger.Warn("postgres: listen connection lost; subscriptions keep polling", "err", err)
		s.hub.wake(uuid.Nil)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (s *Store) listenOnce(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The connection leaves the pool: LISTEN state must not leak to others.
	pc := conn.Hijack()
	defer pc.Close(context.Background())
	if _, err := pc.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return err
	}
	s.hub.wake(uuid.Nil) // anything appended before LISTEN took effect
	for {
		n, err := pc.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Payload == "*" {
			s.hub.wake(uuid.Nil)
			continue
		}
		if g, err := uuid.Parse(n.Payload); err == nil {
			s.hub.wake(g)
		}
	}
}

// notifyOthers announces appended games to other processes.
func (s *Store) notifyOthers(ctx context.Context, payloads []string) error {
	_, err := s.pool.Exec(ctx, `SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p`, s.channel, payloads)
	return err
}
