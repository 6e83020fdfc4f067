package jetstream

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/uuid"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/playlog/playlog/eventstore"
)

// subscription reads one game, or every game (the feed), through an ordered
// consumer: the server pushes messages in stream order and the client
// library recreates the consumer if it ever sees a gap.
type subscription struct {
	store *Store
	iter  natsjs.MessagesContext
	stop  func() bool // unregisters the context hook

	// filter: deliver only events after these marks.
	game     uuid.UUID // uuid.Nil for the feed
	afterSeq uint64    // game subscriptions: next event must be afterSeq+1
	afterPos eventstore.Position

	buf []eventstore.Event

	mu     sync.Mutex
	closed bool
}

// Subscribe implements eventstore.Store.
func (s *Store) Subscribe(ctx context.Context, game uuid.UUID, after uint64) (eventstore.Subscription, error) {
	if err := s.check(game); err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", game, err)
	}
	g := s.games.GetOrAdd(game, newGameIndex)
	g.mu.Lock()
	err := s.refresh(ctx, game, g)
	head, start := g.head, g.lastSS+1
	if i := g.locate(after + 1); i < len(g.msgs) {
		start = g.msgs[i].streamSeq
	}
	g.mu.Unlock()
	if err != nil {
		return nil, s.errStore("subscribe", game, err)
	}
	if head == 0 {
		return nil, fmt.Errorf("subscribe %s: %w", game, eventstore.ErrGameNotFound)
	}
	sub := &subscription{store: s, game: game, afterSeq: after}
	return s.startSubscription(ctx, sub, s.subject(game), start)
}

// Feed implements eventstore.Store. Positions are (stream sequence, index of
// the event in its message).
func (s *Store) Feed(ctx context.Context, from eventstore.Position) (eventstore.Subscription, error) {
	if s.isClosed() {
		return nil, fmt.Errorf("feed: %w", eventstore.ErrClosed)
	}
	sub := &subscription{store: s, afterPos: from}
	return s.startSubscription(ctx, sub, s.cfg.SubjectPrefix+".*", max(from.Major, 1))
}

func (s *Store) startSubscription(ctx context.Context, sub *subscription, subject string, start uint64) (eventstore.Subscription, error) {
	cons, err := s.stream.OrderedConsumer(ctx, natsjs.OrderedConsumerConfig{
		FilterSubjects: []string{subject},
		DeliverPolicy:  natsjs.DeliverByStartSequencePolicy,
		OptStartSeq:    start,
	})
	if err != nil {
		return nil, s.errStore("subscribe", sub.game, err)
	}
	// A small client buffer: memory per subscription stays bounded and a slow
	// reader only slows itself.
	sub.iter, err = cons.Messages(natsjs.PullMaxMessages(64))
	if err != nil {
		return nil, s.errStore("subscribe", sub.game, err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		sub.iter.Stop()
		return nil, fmt.Errorf("subscribe: %w", eventstore.ErrClosed)
	}
	s.subs[sub] = struct{}{}
	s.mu.Unlock()
	sub.mu.Lock()
	sub.stop = context.AfterFunc(ctx, func() { sub.Close() })
	sub.mu.Unlock()
	return sub, nil
}

// Next implements eventstore.Subscription.
func (sub *subscription) Next(ctx context.Context) (eventstore.Event, error) {
	for len(sub.buf) == 0 {
		if sub.isClosed() {
			return eventstore.Event{}, eventstore.ErrClosed
		}
		msg, err := sub.iter.Next(natsjs.NextContext(ctx))
		if err != nil {
			if sub.isClosed() || errors.Is(err, natsjs.ErrMsgIteratorClosed) {
				return eventstore.Event{}, eventstore.ErrClosed
			}
			if ctx.Err() != nil {
				return eventstore.Event{}, ctx.Err()
			}
			return eventstore.Event{}, fmt.Errorf("jetstream: subscription: %w", err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			return eventstore.Event{}, fmt.Errorf("jetstream: subscription: %w", err)
		}
		game, err := uuid.Parse(strings.TrimPrefix(msg.Subject(), sub.store.cfg.SubjectPrefix+"."))
		if err != nil {
			return eventstore.Event{}, fmt.Errorf("%w: subject %q", errFormat, msg.Subject())
		}
		events, err := decodeMessage(game, meta.Sequence.Stream, msg.Data())
		if err != nil {
			return eventstore.Event{}, err
		}
		for _, e := range events {
			if sub.game != uuid.Nil {
				if e.Seq <= sub.afterSeq {
					continue
				}
				if e.Seq != sub.afterSeq+1 {
					return eventstore.Event{}, fmt.Errorf("%w: game %s continues at %d after %d", errFormat, game, e.Seq, sub.afterSeq)
				}
				sub.afterSeq = e.Seq
			} else if !sub.afterPos.Less(e.Position) {
				continue
			}
			sub.buf = append(sub.buf, e)
		}
	}
	e := sub.buf[0]
	sub.buf = sub.buf[1:]
	sub.afterPos = e.Position
	return e, nil
}

func (sub *subscription) isClosed() bool {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.closed
}

// Close implements eventstore.Subscription.
func (sub *subscription) Close() error {
	sub.mu.Lock()
	if sub.closed {
		sub.mu.Unlock()
		return nil
	}
	sub.closed = true
	stop := sub.stop
	sub.mu.Unlock()
	if stop != nil {
		stop()
	}
	sub.iter.Stop()
	sub.store.mu.Lock()
	delete(sub.store.subs, sub)
	sub.store.mu.Unlock()
	return nil
}
