package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
)

// testPing: a fresh store and a store holding a game answer a ping; a ping
// whose context is done fails (it is a round trip, not a flag); after Close
// a ping returns ErrClosed.
func testPing(t *testing.T, b Backend) {
	s := b.Open(t, Options{Now: Clock()})
	if err := s.Ping(ctxT(t)); err != nil {
		t.Fatalf("ping a fresh store: %v", err)
	}
	mustAppend(t, s, uuid.New(), 0, ev("e", "", `{}`))
	if err := s.Ping(ctxT(t)); err != nil {
		t.Fatalf("ping: %v", err)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Ping(done); err == nil || errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("ping with a done context: %v, want the context's error", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctxT(t)); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("ping after Close: %v, want ErrClosed", err)
	}
}
