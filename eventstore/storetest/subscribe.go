package storetest

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
)

// collect reads from sub until it has seen the event with seq last, checking
// order as it goes: each event must be the one after the previous.
func collect(t *testing.T, sub eventstore.Subscription, after, last uint64) []eventstore.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got []eventstore.Event
	next := after + 1
	for next <= last {
		e, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("next after seq %d (want up to %d): %v", next-1, last, err)
		}
		if e.Seq != next {
			t.Fatalf("subscription delivered seq %d, want %d (gap, duplicate or reorder)", e.Seq, next)
		}
		got = append(got, e)
		next++
	}
	return got
}

// testSubscribeWhileWriting subscribes from 0, from the middle and from the
// head while a writer appends batches; each subscriber must see exactly the
// events after its start, in order, with nothing missing or repeated.
func testSubscribeWhileWriting(t *testing.T, b Backend) {
	s := open(t, b)
	game := uuid.New()
	var h uint64
	for i := 0; i < 10; i++ {
		h = mustAppend(t, s, game, h, ev("pre", "", `{"i":`+itoa(i)+`}`)).Last()
	}
	const total = 150
	starts := []uint64{0, 5, h} // from 0, from the middle, from the head

	subs := make([]eventstore.Subscription, len(starts))
	for i, after := range starts {
		sub, err := s.Subscribe(ctxT(t), game, after)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sub.Close() })
		subs[i] = sub
	}

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the writer
		defer wg.Done()
		rng := rand.New(rand.NewPCG(1, 2))
		head := h
		for head < total {
			n := min(1+rng.IntN(4), total-int(head))
			batch := make([]eventstore.Pending, n)
			for j := range batch {
				batch[j] = ev("live", "", `{"n":`+itoa(int(head)+j+1)+`}`)
			}
			res, err := s.Append(ctxT(t), game, head, batch...)
			if err != nil {
				t.Errorf("writer: %v", err)
				return
			}
			head = res.Last()
			if rng.IntN(3) == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()

	results := make([][]eventstore.Event, len(subs))
	var rwg sync.WaitGroup
	for i := range subs {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			results[i] = collectOrErr(t, subs[i], starts[i], total)
		}()
	}
	wg.Wait()
	rwg.Wait()
	all := readAll(t, s, game)
	checkLog(t, all, total)
	for i, after := range starts {
		sameEvents(t, results[i], all[after:])
	}

	// Nothing more arrives: the next read blocks until its context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if e, err := subs[0].Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("after the last event: got %+v, %v; want a timeout", e, err)
	}
}

// collectOrErr is collect for use off the test goroutine.
func collectOrErr(t *testing.T, sub eventstore.Subscription, after, last uint64) []eventstore.Event {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got []eventstore.Event
	for next := after + 1; next <= last; next++ {
		e, err := sub.Next(ctx)
		if err != nil {
			t.Errorf("subscriber from %d: next %d: %v", after, next, err)
			return got
		}
		if e.Seq != next {
			t.Errorf("subscriber from %d: got seq %d, want %d", after, e.Seq, next)
			return got
		}
		got = append(got, e)
	}
	return got
}

func testSubscriptionEnds(t *testing.T, b Backend) {
	s := open(t, b)
	game := uuid.New()
	mustAppend(t, s, game, 0, ev("a", "", `{}`), ev("b", "", `{}`))

	// Cancelling the context given to Subscribe ends the subscription, even
	// while Next is blocked.
	ctx, cancel := context.WithCancel(context.Background())
	sub, err := s.Subscribe(ctx, game, 0)
	if err != nil {
		t.Fatal(err)
	}
	collect(t, sub, 0, 2)
	done := make(chan error, 1)
	go func() {
		_, err := sub.Next(context.Background())
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, eventstore.ErrClosed) {
			t.Fatalf("Next after cancel: %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next still blocked 5s after its subscription's context was cancelled")
	}
	sub.Close()

	// A Next context that ends leaves the subscription usable.
	sub, err = s.Subscribe(ctxT(t), game, 1)
	if err != nil {
		t.Fatal(err)
	}
	collect(t, sub, 1, 2)
	short, cancelShort := context.WithTimeout(context.Background(), 30*time.Millisecond)
	_, err = sub.Next(short)
	cancelShort()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next with an expiring context: %v", err)
	}
	mustAppend(t, s, game, 2, ev("c", "", `{}`))
	collect(t, sub, 2, 3)

	// Close ends it; Close twice is fine.
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	sub.Close()
	if _, err := sub.Next(context.Background()); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("Next after Close: %v, want ErrClosed", err)
	}

	// Closing the store ends its subscriptions.
	sub, err = s.Subscribe(ctxT(t), game, 3)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		_, err := sub.Next(context.Background())
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	s.Close()
	select {
	case err := <-done:
		if !errors.Is(err, eventstore.ErrClosed) {
			t.Fatalf("Next after store Close: %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next still blocked 5s after the store closed")
	}
}

type gameSeq struct {
	game uuid.UUID
	seq  uint64
}

// testFeed runs 20 writers over 100 games and checks that the feed delivers
// every event exactly once, each game in seq order.
func testFeed(t *testing.T, b Backend) {
	s := open(t, b)
	games := make([]uuid.UUID, 100)
	mine := map[uuid.UUID]bool{}
	for i := range games {
		games[i] = uuid.New()
		mine[games[i]] = true
	}
	feed, err := s.Feed(ctxT(t), eventstore.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()

	const writers, appendsEach = 20, 40
	var mu sync.Mutex
	heads := map[uuid.UUID]uint64{} // last known head per game
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			ctx := ctxT(t)
			for done := 0; done < appendsEach; {
				g := games[rng.IntN(len(games))]
				mu.Lock()
				h := heads[g]
				mu.Unlock()
				n := 1 + rng.IntN(3)
				batch := make([]eventstore.Pending, n)
				for j := range batch {
					batch[j] = ev("f", "", `{"w":`+itoa(w)+`}`)
				}
				res, err := s.Append(ctx, g, h, batch...)
				var ce *eventstore.ConflictError
				switch {
				case err == nil:
					done++
					mu.Lock()
					heads[g] = max(heads[g], res.Last())
					mu.Unlock()
				case errors.As(err, &ce):
					mu.Lock()
					heads[g] = max(heads[g], ce.Actual)
					mu.Unlock()
				default:
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	total := 0
	for _, h := range heads {
		total += int(h)
	}

	seen := map[gameSeq]bool{}
	last := map[uuid.UUID]uint64{}
	var prev eventstore.Position
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for len(seen) < total {
		e, err := feed.Next(ctx)
		if err != nil {
			t.Fatalf("feed after %d of %d events: %v", len(seen), total, err)
		}
		if !prev.Less(e.Position) {
			t.Fatalf("feed position %v does not follow %v", e.Position, prev)
		}
		prev = e.Position
		if !mine[e.GameID] {
			continue // another test's game on a shared database
		}
		k := gameSeq{e.GameID, e.Seq}
		if seen[k] {
			t.Fatalf("feed delivered %s/%d twice", e.GameID, e.Seq)
		}
		if e.Seq != last[e.GameID]+1 {
			t.Fatalf("feed delivered %s/%d after %d", e.GameID, e.Seq, last[e.GameID])
		}
		seen[k] = true
		last[e.GameID] = e.Seq
	}
	for g, h := range heads {
		if last[g] != h {
			t.Fatalf("feed reached %d of game %s, head %d", last[g], g, h)
		}
	}
}

// testFeedResume reads part of the feed, then resumes from the position of
// the last event seen and gets exactly the rest.
func testFeedResume(t *testing.T, b Backend) {
	s := open(t, b)
	game := uuid.New()
	var h uint64
	for i := 0; i < 6; i++ {
		h = mustAppend(t, s, game, h, ev("x", "", `{}`), ev("y", "", `{}`)).Last()
	}
	all := readAll(t, s, game)
	cut := all[4].Position // in the middle of the third append
	feed, err := s.Feed(ctxT(t), cut)
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for want := uint64(6); want <= h; {
		e, err := feed.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if e.GameID != game {
			continue
		}
		if e.Seq != want {
			t.Fatalf("resumed feed delivered seq %d, want %d", e.Seq, want)
		}
		if e.Position != all[want-1].Position {
			t.Fatalf("feed position %v, read position %v", e.Position, all[want-1].Position)
		}
		want++
	}
}
