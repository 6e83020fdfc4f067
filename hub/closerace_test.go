package hub_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/hub"
)

// slowSubStore's Subscribe waits to be released, so that a test can close
// the hub while a game's subscription is being opened.
type slowSubStore struct {
	entered, release chan struct{}
	closed           atomic.Bool // set once Hub.Close has returned
	readAfterClose   atomic.Int64
	subClosed        atomic.Bool
}

func (s *slowSubStore) Subscribe(ctx context.Context, game uuid.UUID, after uint64) (eventstore.Subscription, error) {
	close(s.entered)
	<-s.release
	return &slowSub{s: s}, nil
}

func (s *slowSubStore) Read(ctx context.Context, game uuid.UUID, after uint64, limit int) ([]eventstore.Event, error) {
	return nil, nil
}

type slowSub struct{ s *slowSubStore }

func (r *slowSub) Next(ctx context.Context) (eventstore.Event, error) {
	if r.s.closed.Load() {
		r.s.readAfterClose.Add(1)
	}
	<-ctx.Done()
	return eventstore.Event{}, ctx.Err()
}

func (r *slowSub) Close() error { r.s.subClosed.Store(true); return nil }

// TestCloseDuringSubscribe: a Watch whose subscription opens while the hub
// closes fails with ErrClosed, closes that subscription, and starts no
// feed after Close has returned.
func TestCloseDuringSubscribe(t *testing.T) {
	st := &slowSubStore{entered: make(chan struct{}), release: make(chan struct{})}
	h, err := hub.New(hub.Config{Store: st, Linger: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		w, err := h.Watch(context.Background(), hub.Game{ID: uuid.New(), Head: 5}, engine.AsSpectator(), 5, nopSink{}, func() {})
		if err == nil {
			w.Close()
		}
		done <- err
	}()
	<-st.entered
	h.Close()
	st.closed.Store(true)
	close(st.release)
	if err := <-done; !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("Watch on a hub closed while it subscribed: %v, want ErrClosed", err)
	}
	if !st.subClosed.Load() {
		t.Fatal("the subscription opened after Close was left open")
	}
	time.Sleep(100 * time.Millisecond)
	if n := st.readAfterClose.Load(); n > 0 {
		t.Fatalf("a feed read its subscription %d times after Hub.Close returned", n)
	}
}
