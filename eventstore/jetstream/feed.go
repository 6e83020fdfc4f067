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

// feedSub reads every game's events (the global feed) through an ordered
// consumer: the server pushes messages in stream order and the client
// library recreates the consumer if it ever sees a gap. A process holds one
// per projection, never one per viewer: game subscriptions (subscribe.go)
// use no consumer at all.
type feedSub struct {
	store *Store
	iter  natsjs.MessagesContext
	stop  func() bool // unregisters the context hook

	afterPos eventstore.Position // deliver only events after it

	buf []eventstore.Event

	mu     sync.Mutex
	closed bool
}

// Feed implements eventstore.Store. Positions are (stream sequence, index of
// the event in its message).
func (s *Store) Feed(ctx context.Context, from eventstore.Position) (eventstore.Subscription, error) {
	if s.isClosed() {
		return nil, fmt.Errorf("feed: %w", eventstore.ErrClosed)
	}
	sub := &feedSub{store: s, afterPos: from}
	// The consumer's creation waits at most RequestTimeout: a request lost
	// to a server restart is never answered, and nats.go bounds only a
	// context without a deadline (a caller's long one held a projection
	// runner for minutes). The runner retries a failed Feed.
	cctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	cons, err := s.stream.OrderedConsumer(cctx, natsjs.OrderedConsumerConfig{
		FilterSubjects: []string{s.cfg.SubjectPrefix + ".*"},
		DeliverPolicy:  natsjs.DeliverByStartSequencePolicy,
		OptStartSeq:    max(from.Major, 1),
	})
	cancel()
	if err != nil {
		return nil, s.errStore("feed", uuid.Nil, err)
	}
	// A small client buffer: memory per subscription stays bounded and a slow
	// reader only slows itself.
	sub.iter, err = cons.Messages(natsjs.PullMaxMessages(64))
	if err != nil {
		return nil, s.errStore("feed", uuid.Nil, err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		sub.iter.Stop()
		return nil, fmt.Errorf("feed: %w", eventstore.ErrClosed)
	}
	s.subs[sub] = struct{}{}
	s.mu.Unlock()
	sub.mu.Lock()
	sub.stop = context.AfterFunc(ctx, func() { sub.Close() })
	sub.mu.Unlock()
	return sub, nil
}

// Next implements eventstore.Subscription.
func (sub *feedSub) Next(ctx context.Context) (eventstore.Event, error) {
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
			return eventstore.Event{}, fmt.Errorf("jetstream: feed: %w", err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			return eventstore.Event{}, fmt.Errorf("jetstream: feed: %w", err)
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
			if sub.afterPos.Less(e.Position) {
				sub.buf = append(sub.buf, e)
			}
		}
	}
	e := sub.buf[0]
	sub.buf = sub.buf[1:]
	sub.afterPos = e.Position
	return e, nil
}

func (sub *feedSub) isClosed() bool {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.closed
}

// Close implements eventstore.Subscription.
func (sub *feedSub) Close() error {
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
