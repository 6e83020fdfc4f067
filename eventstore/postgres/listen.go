package postgres

import (
	"context"
	"strings"
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
	for _, ch := range []string{s.channel, s.busChannel()} {
		if _, err := pc.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return err
		}
	}
	s.hub.wake(uuid.Nil) // anything appended before LISTEN took effect
	for {
		n, err := pc.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Channel == s.busChannel() {
			s.buses.deliver(n.Payload)
			continue
		}
		if n.Payload == "*" {
			s.hub.wake(uuid.Nil)
			continue
		}
		for _, id := range strings.Split(n.Payload, ",") {
			if g, err := uuid.Parse(id); err == nil {
				s.hub.wake(g)
			}
		}
	}
}

// notifyOthers announces appended games to other processes. NOTIFY gives
// its transaction an id and a commit record; the commit is made without
// waiting for the WAL flush (synchronous_commit off, for this transaction
// only), since a notification is only a wake-up and losing one in a crash
// loses nothing: subscribers poll. Waiting for a flush here would add a
// second fsync to every append.
func (s *Store) notifyOthers(ctx context.Context, payloads []string) error {
	_, err := s.pool.Exec(ctx,
		`SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, p) FROM unnest($2::text[]) AS p`,
		s.channel, payloads)
	return err
}
