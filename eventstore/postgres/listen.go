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
	const first = 100 * time.Millisecond
	backoff := first
	for ctx.Err() == nil {
		listening, err := s.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if listening {
			backoff = first // it held: this loss is a new one, not a run of failures
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

// listenOnce listens until the connection is lost; listening reports
// whether LISTEN took effect (a loss after it starts the backoff afresh).
func (s *Store) listenOnce(ctx context.Context) (listening bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	// The connection leaves the pool: LISTEN state must not leak to others.
	pc := conn.Hijack()
	defer pc.Close(context.Background())
	for _, ch := range []string{s.channel, s.busChannel()} {
		if _, err := pc.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return false, err
		}
	}
	s.hub.wake(uuid.Nil) // anything appended before LISTEN took effect
	for {
		n, err := pc.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		if n.Channel == s.busChannel() {
			s.buses.deliver(n.Payload)
			continue
		}
		s.notified(n.Payload)
	}
}

// notified wakes the subscriptions a payload of the events channel names:
// "origin,id,id..." or "origin,*" (every game), or "*" from an older
// version. For this store's own payloads the game subscriptions were
// handed the events already and are left alone, but the feeds are woken
// again: the wake-up at commit may have met a short transaction of no
// appends (a projection's checkpoint, PutSeal, this notifier's own)
// holding the horizon below the new events, and without this second one
// they would wait for PollInterval.
func (s *Store) notified(payload string) {
	ids := strings.Split(payload, ",")
	if ids[0] == s.origin {
		s.hub.wakeFeed()
		return
	}
	for _, id := range ids {
		if id == "*" {
			s.hub.wake(uuid.Nil)
			return
		}
	}
	for _, id := range ids { // after an origin, which is no uuid
		if g, err := uuid.Parse(id); err == nil {
			s.hub.wake(g)
		}
	}
}

// notifyOthers sends notifications: appended games to other processes on
// the store's channel, bus messages on the bus's. NOTIFY gives
// its transaction an id and a commit record; the commit is made without
// waiting for the WAL flush (synchronous_commit off, for this transaction
// only), since a notification is only a wake-up and losing one in a crash
// loses nothing: subscribers poll. Waiting for a flush here would add a
// second fsync to every append.
func (s *Store) notifyOthers(ctx context.Context, channels, payloads []string) error {
	_, err := s.pool.Exec(ctx,
		`SELECT set_config('synchronous_commit', 'off', true), pg_notify(c, p)
		   FROM unnest($1::text[], $2::text[]) AS t(c, p)`,
		channels, payloads)
	return err
}
