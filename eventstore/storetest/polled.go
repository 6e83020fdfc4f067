package storetest

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
)

// Polled returns sub read the way a hub reads an eventstore.Poller: Next
// calls Poll, and waits only for the subscription's OnReady call between
// polls, so a subscription that fails to say when it has something leaves
// Next waiting. A subscription that is no Poller is returned as it is.
func Polled(sub eventstore.Subscription) eventstore.Subscription {
	p, ok := sub.(eventstore.Poller)
	if !ok {
		return sub
	}
	ps := &polledSub{Poller: p, ready: make(chan struct{}, 1)}
	p.OnReady(func() {
		select {
		case ps.ready <- struct{}{}:
		default:
		}
	})
	return ps
}

type polledSub struct {
	eventstore.Poller
	ready chan struct{}
}

func (s *polledSub) Next(ctx context.Context) (eventstore.Event, error) {
	for {
		e, ok, err := s.Poll(ctx)
		if err != nil || ok {
			return e, err
		}
		select {
		case <-s.ready:
		case <-ctx.Done():
			return eventstore.Event{}, ctx.Err()
		}
	}
}

// polledBackend opens stores whose game subscriptions are read through
// Polled.
type polledBackend struct{ Backend }

func (b polledBackend) Open(t *testing.T, opts Options) eventstore.Store {
	return polledStore{b.Backend.Open(t, opts)}
}

type polledStore struct{ eventstore.Store }

func (s polledStore) Subscribe(ctx context.Context, game uuid.UUID, after uint64) (eventstore.Subscription, error) {
	sub, err := s.Store.Subscribe(ctx, game, after)
	if err != nil {
		return nil, err
	}
	return Polled(sub), nil
}
