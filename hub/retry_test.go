package hub_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/hub"
	"github.com/playlog/playlog/internal/testkit/testenv"
)

// faultyStore is a real store whose subscriptions fail while failing is
// set, as when the store does not answer: the fault is at the transport
// edge, the events are the store's own.
type faultyStore struct {
	eventstore.Store
	next    bool // hide the subscription's Poll: the hub reads it with Next
	failing atomic.Bool
	faults  atomic.Int64
}

func (s *faultyStore) Subscribe(ctx context.Context, game uuid.UUID, after uint64) (eventstore.Subscription, error) {
	sub, err := s.Store.Subscribe(ctx, game, after)
	if p, ok := sub.(eventstore.Poller); ok && !s.next {
		return faultyPoller{p, s}, err
	}
	return faultySub{sub, s}, err
}

type faultyPoller struct {
	eventstore.Poller
	s *faultyStore
}

func (f faultyPoller) Poll(ctx context.Context) (eventstore.Event, bool, error) {
	if f.s.failing.Load() {
		f.s.faults.Add(1)
		return eventstore.Event{}, false, errNoAnswer
	}
	return f.Poller.Poll(ctx)
}

type faultySub struct {
	eventstore.Subscription
	s *faultyStore
}

var errNoAnswer = fmt.Errorf("the store did not answer: %w", eventstore.ErrUnavailable)

func (f faultySub) Next(ctx context.Context) (eventstore.Event, error) {
	if f.s.failing.Load() {
		f.s.faults.Add(1)
		return eventstore.Event{}, errNoAnswer
	}
	return f.Subscription.Next(ctx)
}

// A game's subscription that fails for a while keeps its viewers: they
// get every event once the store answers again. One that fails for longer
// than RetryFor cuts them, with the store's error.
func TestFeedRetriesAFailingStore(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		t.Run("poll", func(t *testing.T) { testFeedRetries(t, b, false) })
		t.Run("next", func(t *testing.T) { testFeedRetries(t, b, true) })
	})
}

func testFeedRetries(t *testing.T, b testenv.Backend, next bool) {
	f := newFixture(t, b, time.Hour)
	fs := &faultyStore{Store: f.store, next: next}
	h, err := hub.New(hub.Config{Store: fs, Linger: time.Hour, RetryFor: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	f.hub = h
	created, err := f.svc.Create(context.Background(), "tictactoe", []string{"alice", "bob"}, nil, "alice")
	if err != nil {
		t.Fatal(err)
	}
	game := created.ID
	s := newSink(100)
	w := f.watch(t, game, engine.AsPlayer("alice"), 0, s)
	defer w.Close()
	fs.failing.Store(true)
	for n := 0; n < 3; n++ {
		f.move(t, game, n)
	}
	time.Sleep(300 * time.Millisecond)
	if fs.faults.Load() == 0 {
		t.Fatal("the subscription was never read while failing: the test tests nothing")
	}
	fs.failing.Store(false)
	g, _ := f.svc.Load(context.Background(), game)
	if got := s.events(t, g.Head()); uint64(len(got)) != g.Head() {
		t.Fatalf("%d events after the store came back, head %d", len(got), g.Head())
	}

	fs.failing.Store(true)
	f.move(t, game, 3)
	select {
	case err := <-s.dropped:
		if !errors.Is(err, errNoAnswer) {
			t.Fatalf("dropped with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a subscription failing past RetryFor kept its viewers")
	}
}
