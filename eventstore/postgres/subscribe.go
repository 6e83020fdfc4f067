package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
)

// pollSub is a subscription to one game (game set) or to the feed (game
// uuid.Nil). It reads a page when its buffer runs dry, and otherwise waits
// for a wake-up or the poll interval.
//
// A game subscription is handed the events this process appends to its
// game as they commit (push), and reads the log only when it may have
// missed some: at the start, after a wake-up from elsewhere (another
// process, an import, a lost LISTEN connection: signal), when what it was
// handed does not continue its last seq, and every TailCheck.
//
// The reader waits in Next, or (eventstore.Poller) calls Poll when told to
// by its OnReady function and holds no goroutine meanwhile: pushes,
// signals, the timer Poll sets and Close all call it.
type pollSub struct {
	store    *Store
	game     uuid.UUID
	afterSeq uint64
	afterPos eventstore.Position
	buf      []eventstore.Event

	// Owned by Next: the log must be read before waiting (a game
	// subscription; a feed always reads).
	needRead bool
	// Owned by the reader: a feed's last page was not full, so it is at
	// the feed's end and Next's next query waits out FeedInterval
	// (feedReader.pace) for the appends meanwhile to gather.
	atEnd bool

	mu sync.Mutex
	// Committed here after afterSeq, as pushed: in seq order but for
	// concurrent appends (takePushed reads the log on a gap). Their Data
	// is shared with the game's other subscriptions: never written.
	pushed      []eventstore.Event
	pushedBytes int  // of their Data
	stale       bool // the log may hold events nobody pushed
	// A feed's latest wake-up, or its opening, on feedReader.tick: it
	// uses only pages of queries begun after it.
	woke uint64

	poll      eventstore.PollWake // a Poll reader's
	wake      chan struct{}       // capacity 1: a Next reader's pending wake-up
	done      chan struct{}
	closeOnce sync.Once
	stopMu    sync.Mutex
	stop      func() bool // unregisters the context hook
}

const pageSize = 256

// maxPushed and maxPushedBytes bound what a game subscription holds of
// events pushed to it and not yet taken (events, and bytes of their Data);
// past either they are dropped and it reads the log.
const (
	maxPushed      = pageSize
	maxPushedBytes = 1 << 20
)

// Subscribe implements eventstore.Store. The subscription is registered
// for pushes before its first read, which also proves the game exists: an
// event committed meanwhile is in the read, pushed, or both (and then
// delivered once).
func (s *Store) Subscribe(ctx context.Context, game uuid.UUID, after uint64) (eventstore.Subscription, error) {
	if err := s.check(game); err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", game, err)
	}
	sub := &pollSub{store: s, game: game, afterSeq: after}
	es, err := s.startSub(ctx, sub)
	if err != nil {
		return nil, err
	}
	first, err := s.readFirst(ctx, game, after)
	if err != nil {
		sub.Close()
		return nil, err // readProved's errors name the operation and game
	}
	if first != nil {
		sub.buf, sub.needRead = first, len(first) == pageSize
	}
	return es, nil
}

// readFirst reads the first page after seq after (readProved), or returns
// nil when what it read does not continue after (the first Next reports it).
func (s *Store) readFirst(ctx context.Context, game uuid.UUID, after uint64) ([]eventstore.Event, error) {
	events, err := s.readProved(ctx, "subscribe", game, after, pageSize)
	if err != nil {
		return nil, err
	}
	if len(events) > 0 && events[0].Seq != after+1 {
		return nil, nil
	}
	return events, nil
}

// Feed implements eventstore.Store. Positions are (transaction id, seq):
// one transaction appends to one game.
func (s *Store) Feed(ctx context.Context, from eventstore.Position) (eventstore.Subscription, error) {
	if s.isClosed() {
		return nil, fmt.Errorf("feed: %w", eventstore.ErrClosed)
	}
	return s.startSub(ctx, &pollSub{store: s, afterPos: from, woke: s.feed.tick.Add(1)})
}

func (s *Store) startSub(ctx context.Context, sub *pollSub) (eventstore.Subscription, error) {
	sub.wake, sub.done = make(chan struct{}, 1), make(chan struct{})
	sub.needRead = true
	if !s.hub.add(sub) {
		return nil, fmt.Errorf("postgres: subscribe: %w", eventstore.ErrClosed)
	}
	// The hook may fire (and Close read stop) before AfterFunc returns.
	sub.stopMu.Lock()
	sub.stop = context.AfterFunc(ctx, func() { sub.Close() })
	sub.stopMu.Unlock()
	return sub, nil
}

// signal wakes the subscription to read the log: something it was not
// handed may have been committed.
func (sub *pollSub) signal() {
	sub.mu.Lock()
	sub.stale = true
	if sub.game == uuid.Nil {
		sub.woke = sub.store.feed.tick.Add(1)
	}
	sub.mu.Unlock()
	sub.poke()
}

// wokeAt is the feed's latest wake-up (or its opening) on feedReader.tick.
func (sub *pollSub) wokeAt() uint64 {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.woke
}

// push hands a game subscription events just committed by this process
// (nil: some it does not know, see hub.appended; or some it holds may be
// gone, see hub.removed). events is shared: push keeps the slice's
// elements, never writes them.
func (sub *pollSub) push(events []eventstore.Event) {
	size := 0
	for i := range events {
		size += len(events[i].Data)
	}
	sub.mu.Lock()
	if events == nil || len(sub.pushed)+len(events) > maxPushed || sub.pushedBytes+size > maxPushedBytes {
		sub.pushed, sub.pushedBytes, sub.stale = nil, 0, true
	} else {
		sub.pushed = append(sub.pushed, events...)
		sub.pushedBytes += size
	}
	sub.mu.Unlock()
	sub.poke()
}

func (sub *pollSub) poke() {
	if sub.poll.Ready() {
		return
	}
	select {
	case sub.wake <- struct{}{}:
	default:
	}
}

// takePushed moves what was pushed into buf if it continues afterSeq,
// and otherwise (or on a signal) marks that the log must be read.
func (sub *pollSub) takePushed() {
	sub.mu.Lock()
	pushed, stale := sub.pushed, sub.stale
	sub.pushed, sub.pushedBytes, sub.stale = nil, 0, false
	sub.mu.Unlock()
	if stale {
		sub.needRead = true
	}
	if sub.needRead {
		return // the read finds them all
	}
	for len(pushed) > 0 && pushed[0].Seq <= sub.afterSeq {
		pushed = pushed[1:]
	}
	if len(pushed) == 0 {
		return
	}
	n := 0
	for n < len(pushed) && pushed[n].Seq == sub.afterSeq+uint64(n)+1 {
		n++
	}
	if n < len(pushed) {
		// A gap: events appended elsewhere, or pushes dropped. Deliver
		// what continues, then read the log from there.
		sub.needRead = true
	}
	sub.buf = pushed[:n:n]
}

// Next implements eventstore.Subscription.
func (sub *pollSub) Next(ctx context.Context) (eventstore.Event, error) {
	var timer *time.Timer
	for {
		if sub.game == uuid.Nil && sub.atEnd && len(sub.buf) == 0 {
			// Appends wake every feed, and keep doing so while it reads
			// its last page: let them gather.
			if err := sub.store.feed.pace(ctx, sub.done); err != nil {
				return eventstore.Event{}, err
			}
		}
		ok, err := sub.step(ctx)
		if err != nil {
			return eventstore.Event{}, err
		}
		if ok {
			return sub.pop(), nil
		}
		if wait := sub.idleWait(); timer == nil {
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
			sub.needRead = true
		}
	}
}

// Poll implements eventstore.Poller: Next without the wait. When there is
// nothing to return it sets a timer, in place of Next's wait, for the
// periodic read of the log.
func (sub *pollSub) Poll(ctx context.Context) (eventstore.Event, bool, error) {
	if err := ctx.Err(); err != nil {
		return eventstore.Event{}, false, err
	}
	ok, err := sub.step(ctx)
	switch {
	case err != nil:
		return eventstore.Event{}, false, err
	case ok:
		return sub.pop(), true, nil
	case !sub.poll.After(sub.idleWait(), sub.signal):
		return eventstore.Event{}, false, eventstore.ErrClosed
	}
	return eventstore.Event{}, false, nil
}

// OnReady implements eventstore.Poller.
func (sub *pollSub) OnReady(f func()) { sub.poll.OnReady(f) }

// step looks once, without waiting: true when buf has an event.
func (sub *pollSub) step(ctx context.Context) (bool, error) {
	if len(sub.buf) > 0 {
		return true, nil
	}
	select {
	case <-sub.done:
		return false, eventstore.ErrClosed
	default:
	}
	if sub.game != uuid.Nil {
		sub.takePushed()
	}
	if len(sub.buf) > 0 {
		return true, nil
	}
	if sub.needRead || sub.game == uuid.Nil {
		if err := sub.fill(ctx); err != nil {
			select {
			case <-sub.done:
				return false, eventstore.ErrClosed
			default:
			}
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			return false, err
		}
	}
	return len(sub.buf) > 0, nil
}

// idleWait is how long the subscription waits before it reads the log
// regardless.
func (sub *pollSub) idleWait() time.Duration {
	if sub.game != uuid.Nil {
		return sub.store.cfg.TailCheck
	}
	return sub.store.cfg.PollInterval
}

// pop takes the next event from buf.
func (sub *pollSub) pop() eventstore.Event {
	e := sub.buf[0]
	sub.buf = sub.buf[1:]
	if sub.game == uuid.Nil {
		sub.afterPos = e.Position
	} else {
		sub.afterSeq = e.Seq
	}
	return e
}

// fill reads the next page into buf.
func (sub *pollSub) fill(ctx context.Context) error {
	s := sub.store
	if sub.game == uuid.Nil {
		events, err := s.feed.read(ctx, sub)
		if err != nil {
			return err
		}
		sub.buf, sub.atEnd = events, len(events) < pageSize
		return nil
	}
	events, err := s.readRange(ctx, sub.game, sub.afterSeq, pageSize)
	if err == nil && len(events) > 0 && events[0].Seq != sub.afterSeq+1 {
		err = fmt.Errorf("postgres: game %s continues at %d after %d", sub.game, events[0].Seq, sub.afterSeq)
	}
	if err != nil {
		// An outage is ErrUnavailable here as on any read: the hub retries
		// those rather than dropping the game's viewers.
		return s.wrap("subscribe", sub.game, err)
	}
	sub.buf, sub.needRead = events, len(events) == pageSize
	return nil
}

// Close implements eventstore.Subscription.
func (sub *pollSub) Close() error {
	sub.closeOnce.Do(func() {
		close(sub.done)
		sub.poll.Stop() // a Poll reader learns of the end
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
