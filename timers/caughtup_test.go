package timers_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/projections/open"
	"github.com/playlog/playlog/timers"
)

// slowOpen is the store's feed, opening 300 ms late (a loaded database, a
// consumer being created on a large stream).
type slowOpen struct{ eventstore.Store }

func (s slowOpen) Feed(ctx context.Context, from eventstore.Position) (eventstore.Subscription, error) {
	time.Sleep(300 * time.Millisecond)
	return s.Store.Feed(ctx, from)
}

// A node restarted on a log of ended games whose feed takes 300 ms to open
// fires nothing: the quiet that says it has caught up counts from the
// feed's opening, not from Run (which once took the slow opening for a
// quiet log and fired every turn of every game as stale).
func TestSlowFeedOpeningFiresNothingStale(t *testing.T) {
	s := testenv.Stores(t)[0].Open(t)
	endedGames(t, s, 100)
	restartFiresNothing(t, slowOpen{s})
}

// failingOnce is the store's feed, failing after its first event once and
// reopening 300 ms late: the runner's resumption after an outage.
type failingOnce struct {
	eventstore.Store
	failed *atomic.Bool
}

type failSub struct {
	eventstore.Subscription
	n      int
	failed *atomic.Bool
}

func (s failingOnce) Feed(ctx context.Context, from eventstore.Position) (eventstore.Subscription, error) {
	if s.failed.Load() {
		time.Sleep(300 * time.Millisecond)
	}
	sub, err := s.Store.Feed(ctx, from)
	if err != nil {
		return nil, err
	}
	return &failSub{Subscription: sub, failed: s.failed}, nil
}

func (s *failSub) Next(ctx context.Context) (eventstore.Event, error) {
	if s.n++; s.n == 2 && !s.failed.Swap(true) {
		return eventstore.Event{}, errors.New("the feed's connection dropped")
	}
	return s.Subscription.Next(ctx)
}

// A feed that fails and reopens late, with the rest of a log of ended
// games still unread, fires nothing either: the reopening stops firing
// until the model has caught up again.
func TestFeedReopenedAfterAFailureFiresNothingStale(t *testing.T) {
	s := testenv.Stores(t)[0].Open(t)
	endedGames(t, s, 100)
	restartFiresNothing(t, failingOnce{Store: s, failed: new(atomic.Bool)})
}

// stalling is the store's feed pausing 600 ms after its 50th event once: a
// backlog read held up between two batches (a loaded store or node).
type stalling struct{ eventstore.Store }

type stallSub struct {
	eventstore.Subscription
	n int
}

func (s stalling) Feed(ctx context.Context, from eventstore.Position) (eventstore.Subscription, error) {
	sub, err := s.Store.Feed(ctx, from)
	if err != nil {
		return nil, err
	}
	return &stallSub{Subscription: sub}, nil
}

func (s *stallSub) Next(ctx context.Context) (eventstore.Event, error) {
	if s.n++; s.n == 50 {
		time.Sleep(600 * time.Millisecond)
	}
	return s.Subscription.Next(ctx)
}

// With the log's end known (Config.FeedEnd), a backlog read that stalls
// longer than the quiet a guess would take for the end fires nothing
// stale: the service waits until its model reaches that end.
func TestStalledBacklogWithTheEndKnownFiresNothingStale(t *testing.T) {
	s := testenv.Stores(t)[0].Open(t)
	endedGames(t, s, 100)
	restartFiresNothing(t, stalling{s}, open.EndOf(s))
}

// endedGames plays n timed tictactoe games to their ends, an hour ago,
// round-robin: each game's events spread over the log.
func endedGames(t *testing.T, s eventstore.Store, n int) {
	t.Helper()
	c := &clock{now: t0}
	p, err := play.New(play.Config{Store: s, Registry: games.Standard(), SeedSecret: secret, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ids := make([]uuid.UUID, n)
	for i := range ids {
		g, err := p.Create(ctx, "tictactoe", []string{"x", "o"}, json.RawMessage(`{"turn_timer":{"seconds":60}}`), "x")
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = g.ID
	}
	for j, cell := range []int{0, 3, 1, 4, 2} {
		for _, id := range ids {
			if _, err := p.Execute(ctx, id, []string{"x", "o"}[j%2], json.RawMessage(`{"type":"place","cell":`+strconv.Itoa(cell)+`}`), "m"+strconv.Itoa(j)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// restartFiresNothing runs a timer service on feed (and end, if given, as
// its FeedEnd) for 2 s, an hour after the games of endedGames, and wants
// nothing fired and no expiry told.
func restartFiresNothing(t *testing.T, feed eventstore.Store, end ...func(context.Context) (eventstore.Position, error)) {
	t.Helper()
	c := &clock{now: t0.Add(time.Hour)} // every game has ended
	p, err := play.New(play.Config{Store: feed, Registry: games.Standard(), SeedSecret: secret, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	var warned atomic.Int32
	cfg := timers.Config{Store: feed, Now: c.Now,
		Fire: system(p),
		Warn: func(w timers.Warning) {
			if w.Expired {
				warned.Add(1)
			}
		}}
	if len(end) > 0 {
		cfg.FeedEnd = end[0]
	}
	svc, err := timers.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, svc)
	time.Sleep(2 * time.Second)
	stop()
	if st := svc.Stats(); st.Fired+st.Stale+st.Failed != 0 || warned.Load() != 0 {
		t.Fatalf("a restart on ended games fired %d stale timeouts (fired %d, failed %d) and sent %d expiry warnings",
			st.Stale, st.Fired, st.Failed, warned.Load())
	}
}
