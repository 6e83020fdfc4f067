package postgres

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
)

// pollSub is a subscription to one game (game set) or to the feed (game
// uuid.Nil). It reads a page when its buffer runs dry, and otherwise waits
// for a wake-up or the poll interval.
type pollSub struct {
	store    *Store
	game     uuid.UUID
	afterSeq uint64
	afterPos eventstore.Position
	buf      []eventstore.Event

	wake      chan struct{} // capacity 1: a pending wake-up
	done      chan struct{}
	closeOnce sync.Once
	stopMu    sync.Mutex
	stop      func() bool // unregisters the context hook
}

const pageSize = 256

// Subscribe implements eventstore.Store.
func (s *Store) Subscribe(ctx context.Context, game uuid.UUID, after uint64) (eventstore.Subscription, error) {
	if err := s.check(game); err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", game, err)
	}
	if _, err := s.Head(ctx, game); err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	return s.startSub(ctx, &pollSub{store: s, game: game, afterSeq: after})
}

// Feed implements eventstore.Store. Positions are (transaction id, seq):
// one transaction appends to one game.
func (s *Store) Feed(ctx context.Context, from eventstore.Position) (eventstore.Subscription, error) {
	if s.isClosed() {
		return nil, fmt.Errorf("feed: %w", eventstore.ErrClosed)
	}
	return s.startSub(ctx, &pollSub{store: s, afterPos: from})
}

func (s *Store) startSub(ctx context.Context, sub *pollSub) (eventstore.Subscription, error) {
	sub.wake, sub.done = make(chan struct{}, 1), make(chan struct{})
	if !s.hub.add(sub) {
		return nil, fmt.Errorf("subscribe: %w", eventstore.ErrClosed)
	}
	// The hook may fire (and Close read stop) before AfterFunc returns.
	sub.stopMu.Lock()
	sub.stop = context.AfterFunc(ctx, func() { sub.Close() })
	sub.stopMu.Unlock()
	return sub, nil
}

func (sub *pollSub) signal() {
	select {
	case sub.wake <- struct{}{}:
	default:
	}
}

// Next implements eventstore.Subscription.
func (sub *pollSub) Next(ctx context.Context) (eventstore.Event, error) {
	var timer *time.Timer
	for len(sub.buf) == 0 {
		select {
		case <-sub.done:
			return eventstore.Event{}, eventstore.ErrClosed
		default:
		}
		if err := sub.fill(ctx); err != nil {
			select {
			case <-sub.done:
				return eventstore.Event{}, eventstore.ErrClosed
			default:
			}
			if ctx.Err() != nil {
				return eventstore.Event{}, ctx.Err()
			}
			return eventstore.Event{}, err
		}
		if len(sub.buf) > 0 {
			break
		}
		wait := sub.store.cfg.PollInterval
		if sub.game != uuid.Nil {
			wait = sub.store.cfg.TailCheck
		}
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		} else {
			timer.Reset(wait)
		}
		select {
		case <-sub.done:
			return eventstore.Event{}, eventstore.ErrClosed
		case <-ctx.Done():
			return eventstore.Event{}, ctx.Err()
		case <-sub.wake:
		case <-timer.C:
		}
	}
	e := sub.buf[0]
	sub.buf = sub.buf[1:]
	if sub.game == uuid.Nil {
		sub.afterPos = e.Position
	} else {
		sub.afterSeq = e.Seq
	}
	return e, nil
}

// fill reads the next page into buf.
func (sub *pollSub) fill(ctx context.Context) error {
	s := sub.store
	var (
		events []eventstore.Event
		err    error
	)
	if sub.game != uuid.Nil {
		events, err = s.readRange(ctx, sub.game, sub.afterSeq, pageSize)
		if err == nil && len(events) > 0 && events[0].Seq != sub.afterSeq+1 {
			err = fmt.Errorf("postgres: game %s continues at %d after %d", sub.game, events[0].Seq, sub.afterSeq)
		}
	} else {
		events, err = sub.fillFeed(ctx)
	}
	if err != nil {
		return err
	}
	sub.buf = events
	return nil
}

// feedWindow is how many transaction ids one feed query spans at first: the
// BRIN index narrows a query to the pages of its range, and the window keeps
// the rows it sorts bounded however far behind the reader is. An empty
// window doubles the next one, so a sparse stretch of ids (other work on
// the database, or a reader starting from 0 on an old database) costs a
// few dozen cheap queries, not one per window.
const feedWindow = 1024

// fillFeed reads the next page of the feed: events after the cursor, below
// the horizon where every transaction has finished. Empty windows of
// transaction ids (other work on the database) move the cursor on.
func (sub *pollSub) fillFeed(ctx context.Context) ([]eventstore.Event, error) {
	s := sub.store
	var horizon int64
	if err := s.pool.QueryRow(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint`).Scan(&horizon); err != nil {
		return nil, err
	}
	window := int64(feedWindow)
	for {
		lo := int64(sub.afterPos.Major)
		if lo >= horizon {
			return nil, nil
		}
		hi := min(horizon, lo+window)
		rows, err := s.pool.Query(ctx, `SELECT `+eventColumns+` FROM events
			WHERE txid >= $1 AND txid < $3 AND (txid, seq) > ($1, $2)
			ORDER BY txid, seq LIMIT $4`, lo, int64(sub.afterPos.Minor), hi, pageSize)
		if err != nil {
			return nil, err
		}
		events, err := scanEvents(rows)
		if err != nil || len(events) > 0 || hi >= horizon {
			return events, err
		}
		// Nothing in [lo, hi): every transaction there has finished, so
		// nothing can appear in it later.
		sub.afterPos = eventstore.Position{Major: uint64(hi - 1), Minor: math.MaxInt64}
		window *= 2
	}
}

// Close implements eventstore.Subscription.
func (sub *pollSub) Close() error {
	sub.closeOnce.Do(func() {
		close(sub.done)
		sub.store.hub.remove(sub)
		sub.stopMu.Lock()
		stop := sub.stop
		sub.stopMu.Unlock()
		if stop != nil {
			stop()
		}
	})
	return nil
}
