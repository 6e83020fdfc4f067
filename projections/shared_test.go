package projections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/projections"
	"github.com/playlog/playlog/projections/projtest"
)

// countingFeed counts the store feeds open through it.
type countingFeed struct {
	inner projections.Feeder
	mu    sync.Mutex
	open  int
}

func (c *countingFeed) Feed(ctx context.Context, from eventstore.Position) (eventstore.Subscription, error) {
	sub, err := c.inner.Feed(ctx, from)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.open++
	c.mu.Unlock()
	return &countedSub{Subscription: sub, c: c}, nil
}

func (c *countingFeed) opened() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.open
}

type countedSub struct {
	eventstore.Subscription
	c    *countingFeed
	once sync.Once
}

func (s *countedSub) Close() error {
	s.once.Do(func() {
		s.c.mu.Lock()
		s.c.open--
		s.c.mu.Unlock()
	})
	return s.Subscription.Close()
}

// writer appends events of one type to a few games.
type writer struct {
	s     eventstore.Store
	games []uuid.UUID
	heads []uint64
	n     int
}

func newWriter(s eventstore.Store, games int) *writer {
	w := &writer{s: s, games: make([]uuid.UUID, games), heads: make([]uint64, games)}
	for i := range w.games {
		w.games[i] = uuid.New()
	}
	return w
}

func (w *writer) write(t *testing.T, events int) {
	t.Helper()
	for range events {
		i := w.n % len(w.games)
		data, _ := json.Marshal(map[string]int{"n": w.n})
		if _, err := w.s.Append(context.Background(), w.games[i], w.heads[i], eventstore.Pending{Type: "t", SchemaVersion: 1, Actor: "a", Data: data}); err != nil {
			t.Fatal(err)
		}
		w.heads[i]++
		w.n++
	}
}

// feedPositions reads s's own feed from its start until it has n events.
func feedPositions(t *testing.T, s eventstore.Store, n int) []eventstore.Position {
	t.Helper()
	feed, err := s.Feed(ctxT(t), eventstore.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	out := make([]eventstore.Position, 0, n)
	for len(out) < n {
		e, err := feed.Next(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e.Position)
	}
	return out
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// reader is one subscription of a Shared and what it delivered.
type reader struct {
	sub eventstore.Subscription
	got []eventstore.Position
}

func (r *reader) read(t *testing.T, n int) {
	t.Helper()
	for range n {
		e, err := r.sub.Next(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		r.got = append(r.got, e.Position)
	}
}

// TestSharedGivesEachReaderItsFeed: readers from the start, the middle and
// the end of the log, and one that stops reading for longer than the ring
// holds, each get exactly the events after their position, in order, while
// the log grows; once they are level the store holds one feed, and none
// once they close.
func TestSharedGivesEachReaderItsFeed(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		s := b.Open(t)
		w := newWriter(s, 5)
		w.write(t, 120)
		all := feedPositions(t, s, 120)
		counted := &countingFeed{inner: s}
		shared := projections.NewSharedRing(counted, 16)
		starts := map[string]int{"start": 0, "middle": 60, "end": 120, "slow": 0}
		readers := map[string]*reader{}
		for name, i := range starts {
			var from eventstore.Position
			if i > 0 {
				from = all[i-1]
			}
			sub, err := shared.Feed(ctxT(t), from)
			if err != nil {
				t.Fatal(err)
			}
			readers[name] = &reader{sub: sub}
		}
		total := 120
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); w.write(t, 80) }() // while they read
		total += 80
		for name, r := range readers {
			if name != "slow" {
				r.read(t, total-starts[name])
			}
		}
		wg.Wait()
		readers["slow"].read(t, total) // fell 200 events behind a ring of 16
		all = feedPositions(t, s, total)
		for name, r := range readers {
			want := all[starts[name]:]
			if fmt.Sprint(r.got) != fmt.Sprint(want) {
				t.Fatalf("%s reader got %d events %v\nwant %d %v", name, len(r.got), r.got, len(want), want)
			}
		}
		// Level now: each further event brings a reader on a feed of its
		// own back to the ring unless its own feed was the quicker.
		for i := 0; counted.opened() > 1; i++ {
			if i == 50 {
				t.Fatalf("%d store feeds open for 4 readers level with each other", counted.opened())
			}
			w.write(t, 1)
			for _, r := range readers {
				r.read(t, 1)
			}
		}
		for _, r := range readers {
			r.sub.Close()
		}
		if n := counted.opened(); n != 0 {
			t.Fatalf("%d store feeds open after every reader closed", n)
		}
		assertNoPump(t)
	})
}

// TestSharedRunnersRideOutFailures: three runners on one Shared over a
// feed that fails every few events and every second time it is opened,
// while the log grows: each folds every event once, in order.
func TestSharedRunnersRideOutFailures(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		s := b.Open(t)
		w := newWriter(s, 3)
		w.write(t, 50)
		flaky := &projtest.FlakyFeed{Inner: s, Every: 17}
		shared := projections.NewSharedRing(flaky, 32)
		ctx, cancel := context.WithCancel(ctxT(t))
		type model struct {
			mu  sync.Mutex
			pos eventstore.Position
			got []eventstore.Position
		}
		models := make([]*model, 3)
		var wg sync.WaitGroup
		for i := range models {
			m := &model{}
			models[i] = m
			opts := projtest.Fast()
			opts.Name = fmt.Sprint("model", i)
			wg.Add(1)
			go func() {
				defer wg.Done()
				projections.RunInMemory(ctx, shared, &m.mu, &m.pos, func(e eventstore.Event) { m.got = append(m.got, e.Position) }, nil, opts)
			}()
		}
		w.write(t, 100)
		all := feedPositions(t, s, 150)
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			level := true
			for _, m := range models {
				m.mu.Lock()
				level = level && m.pos == all[len(all)-1]
				m.mu.Unlock()
			}
			if level {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the runners did not reach the end of the log")
			}
		}
		cancel()
		wg.Wait()
		for i, m := range models {
			if fmt.Sprint(m.got) != fmt.Sprint(all) {
				t.Fatalf("model %d folded %d events, want each of the log's %d once in order", i, len(m.got), len(all))
			}
		}
		if flaky.Failed == 0 {
			t.Fatal("no failure was injected")
		}
		assertNoPump(t)
	})
}

// assertNoPump fails if a Shared's pump goroutine is still running.
func assertNoPump(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		if !strings.Contains(string(buf), "projections.(*Shared).run(") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a Shared's pump still runs after its readers closed:\n%s", buf)
		}
	}
}
