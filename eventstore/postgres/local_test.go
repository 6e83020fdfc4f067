package postgres_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/postgres"
	"github.com/playlog/playlog/internal/testkit/pgtest"
)

func openStore(t *testing.T, cfg postgres.Config) *postgres.Store {
	t.Helper()
	cfg.URL = databaseURL
	s, err := postgres.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func pending(n int) eventstore.Pending {
	return eventstore.Pending{Type: "e", SchemaVersion: 1, Actor: "alice", MessageID: fmt.Sprintf("m%d", n),
		Data: []byte(fmt.Sprintf(`{"n": %d}`, n))}
}

func next(t *testing.T, sub eventstore.Subscription, within time.Duration) eventstore.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	e, err := sub.Next(ctx)
	if err != nil {
		t.Fatalf("next within %v: %v", within, err)
	}
	return e
}

// TestLocalSubscriberReadsNothing: a subscriber of a game this process
// appends to is handed the events as they commit, exactly as the log
// holds them, and reads the log only when it subscribes: not for the
// appends, nor for the process's own notifications of them.
func TestLocalSubscriberReadsNothing(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, postgres.Config{Schema: pgtest.NewSchema("local"), TailCheck: time.Minute})
	// Once LISTEN is in place the listener wakes every subscription to
	// read (what came before it): let that pass first.
	time.Sleep(300 * time.Millisecond)
	game, sub := subscribedGame(t, s, pending(0), pending(0))
	if e := next(t, sub, 5*time.Second); e.Seq != 2 {
		t.Fatalf("first event %d, want 2 (read when subscribing)", e.Seq)
	}
	before, _ := postgres.Reads(s)
	var got []eventstore.Event
	for i := 1; i <= 20; i++ {
		if _, err := s.Append(ctx, game, uint64(i+1), pending(i)); err != nil {
			t.Fatal(err)
		}
		got = append(got, next(t, sub, 5*time.Second))
	}
	time.Sleep(100 * time.Millisecond) // the notifier's own NOTIFY comes back
	if after, _ := postgres.Reads(s); after != before {
		t.Fatalf("%d reads of the game for 20 appends, want none", after-before)
	}
	stored, err := s.Read(ctx, game, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, stored) {
		t.Fatalf("handed\n%+v\nthe log holds\n%+v", got, stored)
	}
	nothingWithin(t, sub, 100*time.Millisecond, "after the last")
}

// TestLocalSubscriberFillsGap: events appended by another process come
// between this process's own: the subscriber, handed only its own, reads
// the missing ones from the log and delivers every event once, in order,
// without waiting for the other process's notification.
func TestLocalSubscriberFillsGap(t *testing.T) {
	ctx := context.Background()
	schema := pgtest.NewSchema("gap")
	s := openStore(t, postgres.Config{Schema: schema, TailCheck: time.Minute})
	other := openStore(t, postgres.Config{Schema: schema, NotifyDelay: time.Second})
	game, sub := subscribedGame(t, s, pending(0))
	if _, err := s.Append(ctx, game, 1, pending(1)); err != nil {
		t.Fatal(err)
	}
	if e := next(t, sub, 5*time.Second); e.Seq != 2 {
		t.Fatalf("got %d, want 2", e.Seq)
	}
	// Seqs 3 and 4 by the other process (its NOTIFY a second away), then
	// 5 here.
	if _, err := other.Append(ctx, game, 2, pending(2), pending(2)); err != nil {
		t.Fatal(err)
	}
	before, _ := postgres.Reads(s)
	if _, err := s.Append(ctx, game, 4, pending(3)); err != nil {
		t.Fatal(err)
	}
	for want := uint64(3); want <= 5; want++ {
		if e := next(t, sub, 500*time.Millisecond); e.Seq != want {
			t.Fatalf("got %d, want %d", e.Seq, want)
		}
	}
	if after, _ := postgres.Reads(s); after == before {
		t.Fatal("the gap was filled without reading the log")
	}
	// The other process's notification, when it comes, delivers nothing
	// more.
	nothingWithin(t, sub, 1500*time.Millisecond, "again")
}

// TestLocalSubscriberOverflow: a subscriber that does not take what it is
// handed drops it past a bound and reads the log instead: nothing lost.
func TestLocalSubscriberOverflow(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, postgres.Config{Schema: pgtest.NewSchema("over"), TailCheck: time.Minute})
	game, sub := subscribedGame(t, s, pending(0))
	const n = 600 // over the bound, and over a page
	for i := 1; i <= n; i += 50 {
		batch := make([]eventstore.Pending, 50)
		for j := range batch {
			batch[j] = pending(i)
		}
		if _, err := s.Append(ctx, game, uint64(i), batch...); err != nil {
			t.Fatal(err)
		}
	}
	for want := uint64(2); want <= n+1; want++ {
		if e := next(t, sub, 5*time.Second); e.Seq != want {
			t.Fatalf("got %d, want %d", e.Seq, want)
		}
	}
}

// TestFeedsShareQueries: the feeds of one process that follow the end of
// the feed read each page once between them, and appends that come
// together are read together: both feeds get every event, in order, in
// fewer queries than appends.
func TestFeedsShareQueries(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, postgres.Config{Schema: pgtest.NewSchema("share"), FeedInterval: 100 * time.Millisecond})
	var feeds []eventstore.Subscription
	for range 2 {
		f, err := s.Feed(ctx, eventstore.Position{})
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		feeds = append(feeds, f)
	}
	const games, appends = 10, 10
	results := make([][]eventstore.Event, len(feeds))
	var wg sync.WaitGroup
	for i, f := range feeds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			for len(results[i]) < games*appends {
				e, err := f.Next(ctx)
				if err != nil {
					t.Errorf("feed %d after %d events: %v", i, len(results[i]), err)
					return
				}
				results[i] = append(results[i], e)
			}
		}()
	}
	time.Sleep(200 * time.Millisecond) // both feeds wait at the end
	_, before := postgres.Reads(s)
	var appenders sync.WaitGroup
	for range games {
		appenders.Add(1)
		go func() {
			defer appenders.Done()
			game := uuid.New()
			for i := range appends {
				if _, err := s.Append(ctx, game, uint64(i), pending(i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	appenders.Wait()
	wg.Wait()
	_, after := postgres.Reads(s)
	if !reflect.DeepEqual(results[0], results[1]) {
		t.Fatal("the two feeds delivered different events")
	}
	for i := 1; i < len(results[0]); i++ {
		if !results[0][i-1].Position.Less(results[0][i].Position) {
			t.Fatalf("feed out of order at %d: %v then %v", i, results[0][i-1].Position, results[0][i].Position)
		}
	}
	if q := after - before; q >= games*appends {
		t.Fatalf("%d feed queries for %d appends read by two feeds", q, games*appends)
	} else {
		t.Logf("%d feed queries for %d appends read by two feeds", q, games*appends)
	}
}

// TestFeedPacedAtItsEnd: a feed at its end under steady appends (fewer
// than a page an interval) queries at most about once per FeedInterval,
// not again as soon as it has read a page (appends wake it meanwhile),
// and still gets every event in order.
func TestFeedPacedAtItsEnd(t *testing.T) {
	ctx := context.Background()
	const interval = 200 * time.Millisecond
	s := openStore(t, postgres.Config{Schema: pgtest.NewSchema("pace"), FeedInterval: interval})
	feed, err := s.Feed(ctx, eventstore.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	got := make(chan eventstore.Event, 100000)
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for {
			e, err := feed.Next(fctx)
			if err != nil {
				return
			}
			got <- e
			time.Sleep(time.Millisecond) // a reader's work: appends wake it meanwhile
		}
	}()
	time.Sleep(2 * interval) // the feed waits at its end

	const games, run = 4, 1200 * time.Millisecond
	_, before := postgres.Reads(s)
	start := time.Now()
	appended := make([]int, games)
	var wg sync.WaitGroup
	for g := range games {
		wg.Add(1)
		go func() {
			defer wg.Done()
			game := uuid.New()
			for i := 0; time.Since(start) < run; i++ {
				if _, err := s.Append(ctx, game, uint64(i), pending(i)); err != nil {
					t.Error(err)
					return
				}
				appended[g]++
				time.Sleep(10 * time.Millisecond) // under a page an interval
			}
		}()
	}
	wg.Wait()
	_, after := postgres.Reads(s)
	elapsed := time.Since(start)
	total := 0
	for _, n := range appended {
		total += n
	}
	// A query may take two scans (an empty window of ids); allow one more
	// query than the intervals elapsed, and the one under way.
	limit := 2 * (int64(elapsed/interval) + 2)
	if q := after - before; q > limit {
		t.Errorf("%d feed queries in %v of appends (%d events), want at most %d at FeedInterval %v", q, elapsed.Round(time.Millisecond), total, limit, interval)
	} else {
		t.Logf("%d feed queries in %v of appends (%d events)", q, elapsed.Round(time.Millisecond), total)
	}
	var last eventstore.Position
	for i := range total {
		select {
		case e := <-got:
			if i > 0 && !last.Less(e.Position) {
				t.Fatalf("feed out of order at %d: %v then %v", i, last, e.Position)
			}
			last = e.Position
		case <-time.After(5 * time.Second):
			t.Fatalf("feed gave %d of %d events", i, total)
		}
	}
}

// TestSummarizeFeedIndex: the feed index's complete block ranges are
// summarized once each; the range being filled is left alone (the first
// range is summarized from the start: the index was built on an empty
// table). A table never analyzed gets statistics on txid, without which
// the planner reads the whole table for each feed query.
func TestSummarizeFeedIndex(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, postgres.Config{Schema: pgtest.NewSchema("brin")})
	big := fmt.Sprintf(`{"pad": "%0900d"}`, 0)
	for g := range 4 {
		game := uuid.New()
		for i := 0; i < 500; i += 100 { // 2000 rows of about 1 KB: over 256 pages
			batch := make([]eventstore.Pending, 100)
			for j := range batch {
				batch[j] = eventstore.Pending{Type: "e", SchemaVersion: 1, Actor: "a", Data: []byte(big)}
			}
			if _, err := s.Append(ctx, game, uint64(i), batch...); err != nil {
				t.Fatal(g, err)
			}
		}
	}
	var next int64
	done, err := postgres.SummarizeFeedIndex(ctx, s, &next)
	if err != nil {
		t.Fatal(err)
	}
	if next < 256 || next%128 != 0 || done < 1 {
		t.Fatalf("%d ranges summarized; complete ranges end at block %d", done, next)
	}
	t.Logf("%d ranges summarized, up to block %d", done, next)
	from := int64(0)
	if again, err := postgres.SummarizeFeedIndex(ctx, s, &from); err != nil || again != 0 {
		t.Fatalf("summarized again: %d, %v", again, err)
	}
	var stats bool
	if err := s.Pool().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stats
		WHERE schemaname = current_schema() AND tablename = 'events' AND attname = 'txid')`).Scan(&stats); err != nil || !stats {
		t.Fatalf("statistics on txid: %v, %v", stats, err)
	}
}

// subscribedGame appends first to a new game on s and subscribes to it
// after seq 1; the subscription closes with the test.
func subscribedGame(t *testing.T, s *postgres.Store, first ...eventstore.Pending) (uuid.UUID, eventstore.Subscription) {
	t.Helper()
	game := uuid.New()
	if _, err := s.Append(context.Background(), game, 0, first...); err != nil {
		t.Fatal(err)
	}
	sub, err := s.Subscribe(context.Background(), game, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	return game, sub
}

// nothingWithin fails t if sub delivers an event within d; what says what
// such an event would be.
func nothingWithin(t *testing.T, sub eventstore.Subscription, d time.Duration, what string) {
	t.Helper()
	wait, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if e, err := sub.Next(wait); err == nil {
		t.Fatalf("delivered %s: seq %d", what, e.Seq)
	}
}
