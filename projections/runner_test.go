package projections_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/projections"
	"github.com/playlog/playlog/projections/projtest"
)

// memModel counts, per event position, how often a commit kept it. Its
// commits refuse more than maxBatch events (ErrBatchTooLarge), and its
// Apply fails once on the event failOn.
type memModel struct {
	mu       sync.Mutex
	pos      eventstore.Position
	folded   map[eventstore.Position]int
	commits  int
	maxBatch int
	failOn   uint64 // an event's seq in game one; 0: never
	failed   bool
}

type memTx struct{ events []eventstore.Position }

func (m *memModel) Apply(_ context.Context, tx *memTx, e eventstore.Event) error {
	if m.failOn != 0 && e.Seq == m.failOn && !m.failed {
		m.failed = true
		return errors.New("injected apply failure")
	}
	tx.events = append(tx.events, e.Position)
	return nil
}

func (m *memModel) Checkpoint(context.Context) (eventstore.Position, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pos, nil
}

func (m *memModel) Commit(ctx context.Context, from, to eventstore.Position, apply func(context.Context, *memTx) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pos != from {
		return &projections.MovedError{At: m.pos}
	}
	tx := &memTx{}
	if err := apply(ctx, tx); err != nil {
		return err
	}
	if len(tx.events) > m.maxBatch {
		return projections.ErrBatchTooLarge
	}
	for _, p := range tx.events {
		m.folded[p]++
	}
	m.pos, m.commits = to, m.commits+1
	return nil
}

func (m *memModel) checkOnce(t *testing.T, s eventstore.Store, end eventstore.Position) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	feed, err := s.Feed(context.Background(), eventstore.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	n := 0
	for {
		e, err := feed.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if m.folded[e.Position] != 1 {
			t.Fatalf("event %s (%s seq %d) folded %d times", e.Position, e.GameID, e.Seq, m.folded[e.Position])
		}
		if n++; e.Position == end {
			break
		}
	}
	if len(m.folded) != n {
		t.Fatalf("%d events folded; the log has %d", len(m.folded), n)
	}
}

func lastPosition(t *testing.T, s eventstore.Store) eventstore.Position {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	feed, err := s.Feed(ctx, eventstore.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	var last eventstore.Position
	for {
		nctx, ncancel := context.WithTimeout(ctx, 500*time.Millisecond)
		e, err := feed.Next(nctx)
		ncancel()
		if err != nil {
			return last
		}
		last = e.Position
	}
}

// TestRunnerFoldsEachEventOnce: batches a commit refuses as too large are
// split, an Apply that fails fails its batch, which is retried: each event
// is kept exactly once, in commits no larger than the model takes.
func TestRunnerFoldsEachEventOnce(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s := b.Open(t)
		projtest.Play(t, ctx, projtest.Service(t, s), 0, 5)
		end := lastPosition(t, s)
		m := &memModel{folded: map[eventstore.Position]int{}, maxBatch: 3, failOn: 4}
		opts := projtest.Fast()
		opts.Name = "test"
		r, err := projections.NewRunner[*memTx](s, m, m, opts)
		if err != nil {
			t.Fatal(err)
		}
		runUntil(t, ctx, r, m, func() eventstore.Position { return end })
		if !m.failed || m.commits < len(m.folded)/3 {
			t.Fatalf("failure injected: %v; %d commits for %d events", m.failed, m.commits, len(m.folded))
		}
		m.checkOnce(t, s, end)
	})
}

// runUntil runs r while end (called once, after Run has started) gives
// the position m must reach, and stops it there.
func runUntil(t *testing.T, ctx context.Context, r *projections.Runner[*memTx], m *memModel, end func() eventstore.Position) {
	t.Helper()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()
	want := end()
	for cp, _ := m.Checkpoint(ctx); cp != want; cp, _ = m.Checkpoint(ctx) {
		if ctx.Err() != nil {
			stop()
			t.Fatal("the runner did not reach the end of the log")
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Run after cancel: %v", err)
	}
}

// TestRunnerEndsWhenTheStoreCloses: a closed store ends Run with
// ErrClosed, instead of retrying for ever.
func TestRunnerEndsWhenTheStoreCloses(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		s := b.Open(t)
		m := &memModel{folded: map[eventstore.Position]int{}, maxBatch: 100}
		opts := projtest.Fast()
		opts.Name = "test"
		r, err := projections.NewRunner[*memTx](s, m, m, opts)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- r.Run(context.Background()) }()
		time.Sleep(100 * time.Millisecond)
		s.Close()
		select {
		case err := <-done:
			if !errors.Is(err, eventstore.ErrClosed) {
				t.Fatalf("Run: %v, want ErrClosed", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Run goes on after its store closed")
		}
	})
}

func TestRunnerOptionsValidate(t *testing.T) {
	s := testenv.Stores(t)[0].Open(t)
	m := &memModel{}
	for name, opts := range map[string]projections.RunnerOptions{
		"no name":         {},
		"negative batch":  {Name: "x", MaxBatch: -1},
		"backoff reverse": {Name: "x", MinBackoff: time.Second, MaxBackoff: time.Millisecond},
		"interval < 0":    {Name: "x", CommitInterval: -time.Millisecond},
		"interval > 1s":   {Name: "x", CommitInterval: 2 * time.Second},
	} {
		if _, err := projections.NewRunner[*memTx](s, m, m, opts); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestRunnerCommitInterval: commits start at least CommitInterval apart,
// each taking what arrived meanwhile, and every event is still kept once.
func TestRunnerCommitInterval(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := testenv.Stores(t)[0].Open(t)
	m := &memModel{folded: map[eventstore.Position]int{}, maxBatch: 1000}
	const interval = 300 * time.Millisecond
	var mu sync.Mutex
	var at []time.Time
	opts := projtest.Fast()
	opts.Name, opts.CommitInterval = "test", interval
	opts.OnCommit = func(eventstore.Position, int) {
		mu.Lock()
		at = append(at, time.Now())
		mu.Unlock()
	}
	r, err := projections.NewRunner[*memTx](s, m, m, opts)
	if err != nil {
		t.Fatal(err)
	}
	var end eventstore.Position
	runUntil(t, ctx, r, m, func() eventstore.Position {
		projtest.Play(t, ctx, projtest.Service(t, s), 0, 3)
		end = lastPosition(t, s)
		return end
	})
	m.checkOnce(t, s, end)
	mu.Lock()
	defer mu.Unlock()
	if len(at) < 2 || len(at) >= len(m.folded)/2 {
		t.Fatalf("%d commits for %d events", len(at), len(m.folded))
	}
	for i := 1; i < len(at); i++ {
		if gap := at[i].Sub(at[i-1]); gap < interval-50*time.Millisecond {
			t.Fatalf("commits %d and %d %v apart, want at least %v", i-1, i, gap, interval)
		}
	}
}
