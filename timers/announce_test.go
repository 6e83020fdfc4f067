package timers_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/timers"
)

// lagging is the store's feed delivering each event 300 ms late (a node
// whose feed is behind its command path).
type lagging struct{ eventstore.Store }

type lagSub struct{ eventstore.Subscription }

func (s lagging) Feed(ctx context.Context, from eventstore.Position) (eventstore.Subscription, error) {
	sub, err := s.Store.Feed(ctx, from)
	return lagSub{sub}, err
}

func (s lagSub) Next(ctx context.Context) (eventstore.Event, error) {
	e, err := s.Subscription.Next(ctx)
	if err == nil {
		time.Sleep(300 * time.Millisecond)
	}
	return e, err
}

// The expiry (Warning.Expired, turn_timeout is_warning:false) is announced
// once the log holds the timeout: a move that landed in time, which this
// node's lagging feed has not folded at the deadline, gets none.
func TestNoExpiryForATurnPlayedInTime(t *testing.T) {
	s := testenv.Stores(t)[0].Open(t)
	c := &clock{now: t0}
	p, err := play.New(play.Config{Store: s, Registry: games.Standard(), SeedSecret: secret, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	expired := make(chan timers.Warning, 10)
	svc, err := timers.New(timers.Config{Store: lagging{s}, Now: c.Now,
		Fire: system(p),
		Warn: func(w timers.Warning) {
			if w.Expired {
				expired <- w
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	run(t, svc)
	g, err := p.Create(context.Background(), "tictactoe", []string{"x", "o"}, json.RawMessage(`{"turn_timer":{"seconds":60,"timeouts_to_lose":1}}`), "x")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the turn", func() bool { return svc.Pending() == 1 })
	time.Sleep(500 * time.Millisecond) // caught up (quiet)
	c.Set(t0.Add(59 * time.Second))
	if _, err := p.Execute(context.Background(), g.ID, "x", json.RawMessage(`{"type":"place","cell":4}`), "m1"); err != nil {
		t.Fatal(err) // x plays turn 1 a second before its deadline
	}
	c.Set(t0.Add(60 * time.Second))
	svc.Kick()
	select {
	case w := <-expired:
		if k, _ := timeouts(t, s, g.ID); k == 0 {
			t.Fatalf("turn %d was played in time (no timeout in the log, stale %d), yet its expiry was announced: %+v", w.Turn, svc.Stats().Stale, w)
		}
	case <-time.After(time.Second):
	}
}

// A timeout whose append fails is retried; its expiry is announced once,
// when it is in the log, not on every try.
func TestExpiryAnnouncedOnceThroughRetries(t *testing.T) {
	s := testenv.Stores(t)[0].Open(t)
	c := &clock{now: t0}
	p, err := play.New(play.Config{Store: s, Registry: games.Standard(), SeedSecret: secret, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	var fails atomic.Int32
	var expired atomic.Int32
	svc, err := timers.New(timers.Config{Store: s, Now: c.Now, RetryAfter: 20 * time.Millisecond,
		Fire: func(ctx context.Context, game uuid.UUID, action json.RawMessage, id string) error {
			if fails.Add(1) <= 3 {
				return errors.New("store unavailable") // a transient failure
			}
			return system(p)(ctx, game, action, id)
		},
		Warn: func(w timers.Warning) {
			if w.Expired {
				expired.Add(1)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	run(t, svc)
	g, err := p.Create(context.Background(), "tictactoe", []string{"x", "o"}, json.RawMessage(`{"turn_timer":{"seconds":60,"timeouts_to_lose":1}}`), "x")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the turn", func() bool { return svc.Pending() == 1 })
	c.Set(t0.Add(time.Minute))
	svc.Kick()
	at := t0.Add(time.Minute)
	waitFor(t, "the timeout", func() bool {
		at = at.Add(50 * time.Millisecond) // the clock goes on: retries come due
		c.Set(at)
		svc.Kick()
		k, _ := timeouts(t, s, g.ID)
		return k == 1
	})
	waitFor(t, "the expiry", func() bool { return expired.Load() > 0 })
	time.Sleep(100 * time.Millisecond) // five retry intervals: a repeat would show
	if n := expired.Load(); n != 1 {
		t.Fatalf("turn 1 expired once; its expiry was announced %d times", n)
	}
}
