package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/postgres"
	"github.com/playlog/playlog/internal/testkit/pgtest"
)

// TestBusRefusesBadMessage: a message PostgreSQL would refuse as a
// payload (a NUL byte, invalid UTF-8) is refused by Publish, and so never
// makes the notifier's shared statement fail: a good message published
// with it in the same batch arrives.
func TestBusRefusesBadMessage(t *testing.T) {
	ctx := context.Background()
	schema := pgtest.NewSchema("badbus")
	s := openStore(t, postgres.Config{Schema: schema, NotifyDelay: 50 * time.Millisecond})
	other := openStore(t, postgres.Config{Schema: schema})
	got := make(chan string, 10)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go other.Bus("b").Subscribe(sctx, func(m []byte) { got <- string(m) })
	time.Sleep(300 * time.Millisecond) // LISTEN in place
	for _, bad := range [][]byte{[]byte("a\x00b"), {0xff, 0xfe}} {
		if err := s.Bus("b").Publish(ctx, bad); !errors.Is(err, eventstore.ErrInvalidArgument) {
			t.Fatalf("publish %q: %v, want ErrInvalidArgument", bad, err)
		}
	}
	if err := s.Bus("b").Publish(ctx, []byte("good")); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if m != "good" {
			t.Fatalf("got %q", m)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the good message did not arrive")
	}
}

// TestFeedWokenAgainAfterHorizon: a short transaction of no appends,
// begun before an append and ending just after it, holds the feed's
// horizon below the event when the append's own wake-up makes the feed
// query; the store's own notification wakes the feed again, and it gets
// the event long before PollInterval.
func TestFeedWokenAgainAfterHorizon(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, postgres.Config{Schema: pgtest.NewSchema("horizon"),
		PollInterval: 3 * time.Second, NotifyDelay: 200 * time.Millisecond})
	seed := uuid.New()
	if _, err := s.Append(ctx, seed, 0, pending(0)); err != nil {
		t.Fatal(err)
	}
	feed, err := s.Feed(ctx, eventstore.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	next(t, feed, 5*time.Second)
	time.Sleep(500 * time.Millisecond) // the append's own notification has passed

	tx, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil { // holds the horizon
		t.Fatal(err)
	}
	got := make(chan time.Time, 1)
	go func() {
		e, err := feed.Next(ctx)
		if err == nil && e.Seq == 2 {
			got <- time.Now()
		}
	}()
	time.Sleep(100 * time.Millisecond)
	if _, err := s.Append(ctx, seed, 1, pending(1)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the feed queries, below the horizon
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	committed := time.Now()
	select {
	case at := <-got:
		t.Logf("event %v after the horizon moved", at.Sub(committed))
	case <-time.After(1500 * time.Millisecond):
		t.Fatal("the feed waited for PollInterval")
	}
}

// TestFeedPageServesOnlyAfterWakeUp: a second feed, catching up from 0,
// leaves a page that spans the end of the feed, read before an append
// (after a feed waiting there last read); that feed,
// woken by the append, must not be served that
// page (it cannot hold the event) but query anew, and gets the event at
// once, not after PollInterval. (NotifyDelay keeps the store's own
// notification, a second wake-up, out of the way.)
func TestFeedPageServesOnlyAfterWakeUp(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, postgres.Config{Schema: pgtest.NewSchema("catchup"),
		PollInterval: 4 * time.Second, NotifyDelay: time.Second})
	const n = 300 // not a whole number of pages
	game := uuid.New()
	for i := 0; i < n; i += 50 {
		batch := make([]eventstore.Pending, 50)
		for j := range batch {
			batch[j] = pending(i)
		}
		if _, err := s.Append(ctx, game, uint64(i), batch...); err != nil {
			t.Fatal(err)
		}
	}
	c, err := s.Feed(ctx, eventstore.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range n {
		next(t, c, 5*time.Second)
	}
	time.Sleep(2500 * time.Millisecond) // the notifier is idle again (a kick left from the appends lingers once more)
	got := make(chan time.Time, 1)
	go func() { // c waits at the end
		e, err := c.Next(ctx)
		if err == nil && e.Seq == n+1 {
			got <- time.Now()
		}
	}()
	time.Sleep(100 * time.Millisecond)
	// A transaction elsewhere moves the horizon past where c looked.
	if _, err := s.Pool().Exec(ctx, `SELECT pg_current_xact_id()`); err != nil {
		t.Fatal(err)
	}
	b, err := s.Feed(ctx, eventstore.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for range n {
		next(t, b, 5*time.Second)
	}
	if _, err := s.Append(ctx, game, n, pending(n)); err != nil {
		t.Fatal(err)
	}
	appended := time.Now()
	select {
	case at := <-got:
		t.Logf("event after %v", at.Sub(appended))
	case <-time.After(700 * time.Millisecond):
		t.Fatal("the woken feed was served a page read before the append")
	}
}

// TestRemoveDropsPageInFlight: a feed query that began before Remove
// committed, and ends after it, does not keep its page (it holds the
// removed events).
func TestRemoveDropsPageInFlight(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, postgres.Config{Schema: pgtest.NewSchema("forget")})
	game := uuid.New()
	app, err := s.Append(ctx, game, 0, pending(0), pending(0))
	if err != nil {
		t.Fatal(err)
	}
	last := app.Events[len(app.Events)-1]
	var once sync.Once
	postgres.SetFeedQueried(s, func() {
		once.Do(func() {
			if err := s.Remove(ctx, game, last.Seq, last.Hash); err != nil {
				t.Error(err)
			}
		})
	})
	feed, err := s.Feed(ctx, eventstore.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	next(t, feed, 5*time.Second) // read by the query in flight: its own to take
	if k := postgres.KeptPage(s); k != 0 {
		t.Fatalf("a page of %d removed events kept", k)
	}
}

// TestRemoveDropsPushed: events handed to a subscription and not yet
// taken are dropped when Remove deletes them.
func TestRemoveDropsPushed(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, postgres.Config{Schema: pgtest.NewSchema("rmpush"), TailCheck: time.Minute})
	game, sub := subscribedGame(t, s, pending(0))
	app, err := s.Append(ctx, game, 1, pending(1), pending(1))
	if err != nil {
		t.Fatal(err)
	}
	last := app.Events[len(app.Events)-1]
	if err := s.Remove(ctx, game, last.Seq, last.Hash); err != nil {
		t.Fatal(err)
	}
	nothingWithin(t, sub, 300*time.Millisecond, "a removed event")
}
