package projtest

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/projections"
)

// Run runs the suite; newBackend gives each test a fresh data set.
func Run(t *testing.T, newBackend func(t *testing.T) Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b Backend)
	}{
		{"RecordsFinishedGames", testRecordsFinishedGames},
		{"PagesAndCursor", testPagesAndCursor},
		{"ResumesFromCheckpointOnce", testResumesFromCheckpoint},
		{"RetriesAFailingFeed", testRetriesAFailingFeed},
		{"RebuildGivesTheSameModel", testRebuild},
		{"RebuildWhileARunnerFollows", testRebuildWhileRunning},
		{"TwoRunnersOneModel", testTwoRunners},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newBackend(t)) })
	}
}

// Quiet is a logger for runners in tests.
var Quiet = slog.New(slog.DiscardHandler)

// Fast is the options of runners in tests: small batches, short backoff.
func Fast() projections.RunnerOptions {
	return projections.RunnerOptions{MaxBatch: 64, MinBackoff: 10 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Logger: Quiet}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// testRecordsFinishedGames: every finished game is in each player's
// history with its rules, players, outcome, reason, start and end time
// (recorded_at of game_created and game_ended) and event count (its last
// seq); an unfinished game is recorded but in nobody's history.
func testRecordsFinishedGames(t *testing.T, b Backend) {
	ctx := ctxT(t)
	s := b.Store(t)
	ids := Play(t, ctx, Service(t, s), 0, 9)
	m := b.Model(t, b.Store(t))
	end := CatchUp(t, ctx, s, m, Fast())
	want := Expected(t, ctx, s, end)
	Check(t, ctx, m, want)

	// The expectation itself, from the log read game by game.
	for i, id := range ids {
		events, err := s.Read(ctx, id, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		g, ok, err := m.Game(ctx, id)
		if err != nil || !ok {
			t.Fatalf("game %s: %v %v", id, ok, err)
		}
		last := events[len(events)-1]
		var ended eventstore.Event
		for _, e := range events {
			if e.Type == engine.TypeGameEnded {
				ended = e
			}
		}
		if !g.Ended || g.Events != last.Seq || last.Type != engine.TypeSeedRevealed ||
			!g.StartedAt.Equal(events[0].RecordedAt) || !g.EndedAt.Equal(ended.RecordedAt) ||
			g.Duration() != ended.RecordedAt.Sub(events[0].RecordedAt) || g.Rules != "tictactoe" {
			t.Fatalf("game %d: %s; log ends with %s at seq %d", i, g, last.Type, last.Seq)
		}
		wantReason, wantDraw, wantWinners := engine.ReasonResignation, false, []string{g.Players[0]}
		switch i % 3 {
		case 1:
			wantReason = engine.ReasonNormal
		case 2:
			wantReason, wantDraw, wantWinners = engine.ReasonNormal, true, []string{}
		}
		if g.Reason != wantReason || g.Draw != wantDraw || len(g.Winners) != len(wantWinners) ||
			(len(wantWinners) == 1 && g.Winners[0] != wantWinners[0]) {
			t.Fatalf("game %d outcome: %s", i, g)
		}
	}
	page, err := m.History(ctx, "zed", projections.HistoryQuery{})
	if err != nil || len(page.Games) != 0 {
		t.Fatalf("zed's game is not over: %+v %v", page, err)
	}
}

// testPagesAndCursor: pages are newest first, sized by limit, linked by
// Next; a malformed cursor is ErrBadCursor.
func testPagesAndCursor(t *testing.T, b Backend) {
	ctx := ctxT(t)
	s := b.Store(t)
	Play(t, ctx, Service(t, s), 0, 12)
	m := b.Model(t, s)
	CatchUp(t, ctx, s, m, Fast())
	all := ReadAll(t, ctx, m, "alice", 100)
	if len(all) < 4 {
		t.Fatalf("alice has %d games", len(all))
	}
	for _, limit := range []int{1, 2, 3} {
		paged := ReadAll(t, ctx, m, "alice", limit)
		if len(paged) != len(all) {
			t.Fatalf("limit %d: %d games, want %d", limit, len(paged), len(all))
		}
		for i := range all {
			if paged[i].ID != all[i].ID {
				t.Fatalf("limit %d: game %d is %s, want %s", limit, i, paged[i].ID, all[i].ID)
			}
		}
	}
	page, err := m.History(ctx, "alice", projections.HistoryQuery{})
	if err != nil || len(page.Games) != min(len(all), projections.DefaultHistoryLimit) {
		t.Fatalf("default page: %d games, %v", len(page.Games), err)
	}
	for _, bad := range []string{"x", "!!", "MTIzNA", projections.CursorOf(all[0])[2:]} {
		if _, err := m.History(ctx, "alice", projections.HistoryQuery{Before: bad}); !errors.Is(err, projections.ErrBadCursor) {
			t.Fatalf("cursor %q: %v, want ErrBadCursor", bad, err)
		}
	}
}

// counter counts the events a runner folds.
func counter(opts projections.RunnerOptions, n *atomic.Int64) projections.RunnerOptions {
	opts.OnCommit = func(_ eventstore.Position, events int) { n.Add(int64(events)) }
	return opts
}

// waitFolded waits until the runners counting into n have reported want
// events folded. Their checkpoint reaching the end is not enough: the
// server may store a commit before its runner reads the answer, and a
// runner stopped in between never learns that its commit landed.
func waitFolded(t *testing.T, m Model, n *atomic.Int64, want int64) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for n.Load() < want {
		if time.Now().After(deadline) {
			cp, err := m.Checkpoint(context.Background())
			t.Fatalf("runners reported %d of %d events folded after 2 minutes (checkpoint %s, %v); where they are:\n%s", n.Load(), want, cp, err, runnerStacks())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// foldCounted runs a runner of m over feed until it has reported want
// events folded, counting them into n, then stops it.
func foldCounted(t *testing.T, ctx context.Context, m Model, feed projections.Feeder, n *atomic.Int64, want int64) {
	t.Helper()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(runCtx, feed, counter(Fast(), n)) }()
	waitFolded(t, m, n, want)
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// testResumesFromCheckpoint: a runner of another process resumes where
// the last one stopped: between them they fold each event of the log
// exactly once.
func testResumesFromCheckpoint(t *testing.T, b Backend) {
	ctx := ctxT(t)
	s := b.Store(t)
	svc := Service(t, s)
	Play(t, ctx, svc, 0, 6)
	var first, second atomic.Int64
	m := b.Model(t, s)
	mid, err := m.End(ctx)
	if err != nil {
		t.Fatal(err)
	}
	foldCounted(t, ctx, m, s, &first, countEvents(t, ctx, s, mid))
	Play(t, ctx, svc, 6, 6)
	other := b.Store(t)
	m = b.Model(t, other)
	end, err := m.End(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := countEvents(t, ctx, s, end)
	foldCounted(t, ctx, m, other, &second, total-first.Load())
	if first.Load() == 0 || second.Load() == 0 || first.Load()+second.Load() != total {
		t.Fatalf("folded %d then %d events; the log has %d", first.Load(), second.Load(), total)
	}
	Check(t, ctx, m, Expected(t, ctx, s, end))
}

func countEvents(t *testing.T, ctx context.Context, s eventstore.Store, end eventstore.Position) int64 {
	t.Helper()
	feed, err := s.Feed(ctx, eventstore.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	var n int64
	for {
		e, err := feed.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n++
		if !e.Position.Less(end) {
			return n
		}
	}
}

// FlakyFeed is a feed whose every second opening fails, and whose
// subscriptions fail after Every events: a transport failure at the edge.
type FlakyFeed struct {
	Inner projections.Feeder
	Every int

	mu     sync.Mutex
	opens  int
	Failed int // failures injected
}

var errInjected = errors.New("projtest: injected feed failure")

// Feed implements projections.Feeder.
func (f *FlakyFeed) Feed(ctx context.Context, from eventstore.Position) (eventstore.Subscription, error) {
	f.mu.Lock()
	f.opens++
	fail := f.opens%2 == 0
	if fail {
		f.Failed++
	}
	f.mu.Unlock()
	if fail {
		return nil, errInjected
	}
	sub, err := f.Inner.Feed(ctx, from)
	if err != nil {
		return nil, err
	}
	return &flakySub{Subscription: sub, f: f}, nil
}

type flakySub struct {
	eventstore.Subscription
	f *FlakyFeed
	n int
}

func (s *flakySub) Next(ctx context.Context) (eventstore.Event, error) {
	if s.n++; s.n > s.f.Every {
		s.f.mu.Lock()
		s.f.Failed++
		s.f.mu.Unlock()
		return eventstore.Event{}, errInjected
	}
	return s.Subscription.Next(ctx)
}

// testRetriesAFailingFeed: a feed that fails every few events, and fails
// to open every second time, still gives the exact history: each failure
// resumes from the checkpoint.
func testRetriesAFailingFeed(t *testing.T, b Backend) {
	ctx := ctxT(t)
	s := b.Store(t)
	Play(t, ctx, Service(t, s), 0, 10)
	m := b.Model(t, s)
	flaky := &FlakyFeed{Inner: s, Every: 13}
	opts := Fast()
	opts.MaxBatch = 5
	var folded atomic.Int64
	end, err := m.End(ctx)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(runCtx, flaky, counter(opts, &folded)) }()
	total := countEvents(t, ctx, s, end)
	waitFolded(t, m, &folded, total)
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	flaky.mu.Lock()
	failed := flaky.Failed
	flaky.mu.Unlock()
	if failed < 5 || folded.Load() != total {
		t.Fatalf("%d failures; folded %d events of %d", failed, folded.Load(), total)
	}
	Check(t, ctx, m, Expected(t, ctx, s, end))
}

// testRebuild: a reset model, rebuilt from zero, is the model it was.
func testRebuild(t *testing.T, b Backend) {
	ctx := ctxT(t)
	s := b.Store(t)
	Play(t, ctx, Service(t, s), 0, 8)
	m := b.Model(t, s)
	end := CatchUp(t, ctx, s, m, Fast())
	before := ReadAll(t, ctx, m, "bob", 100)
	if err := m.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if cp, err := m.Checkpoint(ctx); err != nil || cp != (eventstore.Position{}) {
		t.Fatalf("checkpoint after reset: %s %v", cp, err)
	}
	if page, err := m.History(ctx, "bob", projections.HistoryQuery{}); err != nil || len(page.Games) != 0 {
		t.Fatalf("after reset bob has %d games (%v)", len(page.Games), err)
	}
	CatchUp(t, ctx, s, m, Fast())
	after := ReadAll(t, ctx, m, "bob", 100)
	if len(after) != len(before) || len(before) == 0 {
		t.Fatalf("bob: %d games before the rebuild, %d after", len(before), len(after))
	}
	for i := range before {
		if !Same(before[i], after[i]) {
			t.Fatalf("bob's game %d: %s before, %s after", i, before[i], after[i])
		}
	}
	Check(t, ctx, m, Expected(t, ctx, s, end))
}

// testRebuildWhileRunning: a reset while a runner follows the live log
// (another process's rebuild) sends that runner back to zero: the model
// ends complete, each game once.
func testRebuildWhileRunning(t *testing.T, b Backend) {
	ctx := ctxT(t)
	s := b.Store(t)
	svc := Service(t, s)
	Play(t, ctx, svc, 0, 8)
	m := b.Model(t, s)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(runCtx, s, Fast()) }()
	end, _ := m.End(ctx)
	WaitCheckpoint(t, ctx, m, end)
	if err := b.Model(t, b.Store(t)).Reset(ctx); err != nil {
		t.Fatal(err)
	}
	Play(t, ctx, svc, 8, 4)
	end, _ = m.End(ctx)
	WaitCheckpoint(t, ctx, m, end)
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	Check(t, ctx, m, Expected(t, ctx, s, end))
}

// testTwoRunners: two processes' runners on one model, while games are
// played, fold each event once between them.
func testTwoRunners(t *testing.T, b Backend) {
	ctx := ctxT(t)
	s := b.Store(t)
	svc := Service(t, s)
	Play(t, ctx, svc, 0, 4)
	var folded atomic.Int64
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	models := []Model{b.Model(t, s), b.Model(t, b.Store(t))}
	for i, m := range models {
		wg.Add(1)
		feed := projections.Feeder(s)
		if i == 1 {
			feed = b.Store(t)
		}
		go func() {
			defer wg.Done()
			if err := m.Run(runCtx, feed, counter(Fast(), &folded)); err != nil {
				t.Errorf("runner %d: %v", i, err)
			}
		}()
	}
	Play(t, ctx, svc, 4, 12)
	end, _ := models[0].End(ctx)
	total := countEvents(t, ctx, s, end)
	waitFolded(t, models[0], &folded, total)
	stop()
	wg.Wait()
	if folded.Load() != total {
		t.Fatalf("two runners folded %d events; the log has %d", folded.Load(), total)
	}
	Check(t, ctx, models[1], Expected(t, ctx, s, end))
}
