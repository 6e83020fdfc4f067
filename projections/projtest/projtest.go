// Package projtest is the history projection's conformance suite, run on
// every backend on real servers (as storetest is the event store's), and
// the helpers its tests share: playing finished games, folding the log
// into the expected history, checking a model against it, and running a
// runner in a child process that a test kills with SIGKILL.
package projtest

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/projections"
)

// Model is a history model on one backend.
type Model interface {
	projections.HistoryReader
	Game(ctx context.Context, id uuid.UUID) (projections.HistoryGame, bool, error)
	Reset(ctx context.Context) error
	Checkpoint(ctx context.Context) (eventstore.Position, error)
	// Run runs a runner of the model over feed until ctx ends.
	Run(ctx context.Context, feed projections.Feeder, opts projections.RunnerOptions) error
	// End is the position of the log's last event (FeedEnd).
	End(ctx context.Context) (eventstore.Position, error)
}

// Backend opens stores and models on one fresh data set; each call is
// another process's view of it.
type Backend struct {
	Name  string
	Store func(t testing.TB) eventstore.Store
	Model func(t testing.TB, s eventstore.Store) Model
}

// SeedSecret is the secret every test's play.Service uses.
var SeedSecret = []byte("projtest-seed-secret-projtest-seed!")

// Service returns a play service over s.
func Service(t testing.TB, s eventstore.Store) *play.Service {
	t.Helper()
	svc, err := play.New(play.Config{Store: s, Registry: games.Standard(), SeedSecret: SeedSecret})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// Users are the players of the games Play starts.
var Users = []string{"alice", "bob", "carol", "dave", "erin"}

// tictactoe moves from the first player: a win for players[0], and a draw.
var (
	winMoves  = []int{0, 3, 1, 4, 2}
	drawMoves = []int{0, 1, 2, 4, 3, 5, 7, 6, 8}
)

// PlayOne plays game number i to its end: by resignation, a win or a
// draw, by i mod 3, between two of Users; it returns the game's id.
func PlayOne(ctx context.Context, svc *play.Service, i int) (uuid.UUID, error) {
	players := []string{Users[i%len(Users)], Users[(i+1+i/len(Users))%len(Users)]}
	if players[0] == players[1] {
		players[1] = Users[(i+2)%len(Users)]
	}
	g, err := svc.Create(ctx, "tictactoe", players, nil, players[0])
	if err != nil {
		return uuid.Nil, err
	}
	var moves []int
	switch i % 3 {
	case 1:
		moves = winMoves
	case 2:
		moves = drawMoves
	}
	for n, cell := range moves {
		action, _ := json.Marshal(map[string]any{"type": "place", "cell": cell})
		if _, err := svc.Execute(ctx, g.ID, players[n%2], action, fmt.Sprintf("m%d", n)); err != nil {
			return g.ID, fmt.Errorf("game %d move %d: %w", i, n, err)
		}
	}
	if len(moves) == 0 {
		if _, err := svc.Execute(ctx, g.ID, players[1], json.RawMessage(`{"type":"resign"}`), "r"); err != nil {
			return g.ID, fmt.Errorf("game %d resign: %w", i, err)
		}
	}
	return g.ID, nil
}

// Play plays n finished games (numbered from first) with up to 4 at once,
// and one game left unfinished; it returns the finished games' ids.
func Play(t testing.TB, ctx context.Context, svc *play.Service, first, n int) []uuid.UUID {
	t.Helper()
	ids := make([]uuid.UUID, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			id, err := PlayOne(ctx, svc, first+i)
			ids[i] = id
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if _, err := svc.Create(ctx, "tictactoe", []string{"alice", "zed"}, nil, "alice"); err != nil {
		t.Fatal(err)
	}
	return ids
}

// Expected folds the log up to end into the history it must give: every
// game's record, by id.
func Expected(t testing.TB, ctx context.Context, s eventstore.Store, end eventstore.Position) map[uuid.UUID]projections.HistoryGame {
	t.Helper()
	out := map[uuid.UUID]projections.HistoryGame{}
	if end == (eventstore.Position{}) {
		return out
	}
	feed, err := s.Feed(ctx, eventstore.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	recs := map[uuid.UUID]*projections.HistoryGame{}
	for {
		e, err := feed.Next(ctx)
		if err != nil {
			t.Fatalf("expected history: feed: %v", err)
		}
		if next, changed := projections.EvolveHistory(recs[e.GameID], e); changed {
			recs[e.GameID] = next
		}
		if !e.Position.Less(end) {
			break
		}
	}
	for id, r := range recs {
		out[id] = *r
	}
	return out
}

// CatchUp runs a runner of m over s until m's checkpoint reaches the
// log's end as it is now, and returns that end. It fails t if that takes
// over two minutes.
func CatchUp(t testing.TB, ctx context.Context, s eventstore.Store, m Model, opts projections.RunnerOptions) eventstore.Position {
	t.Helper()
	end, err := m.End(ctx)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(runCtx, s, opts) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	WaitCheckpoint(t, ctx, m, end)
	return end
}

// WaitCheckpoint waits until m's checkpoint is at or after end.
func WaitCheckpoint(t testing.TB, ctx context.Context, m Model, end eventstore.Position) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		cp, err := m.Checkpoint(ctx)
		if err == nil && !cp.Less(end) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("checkpoint %s (%v) has not reached %s after 2 minutes; where the runners are:\n%s", cp, err, end, runnerStacks())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Check reads every user's whole history from m, a page of 7 at a time,
// and fails t unless it holds each finished game of want exactly once per
// player, as want has it, newest first; and every game want has is
// recorded as want has it.
func Check(t testing.TB, ctx context.Context, m Model, want map[uuid.UUID]projections.HistoryGame) {
	t.Helper()
	perUser := map[string][]projections.HistoryGame{}
	for _, g := range want {
		if g.Ended {
			for _, p := range g.Players {
				perUser[p] = append(perUser[p], g)
			}
		}
	}
	for _, user := range append(slices.Clone(Users), "zed") {
		got := ReadAll(t, ctx, m, user, 7)
		exp := perUser[user]
		slices.SortFunc(exp, projections.NewestFirst)
		if len(got) != len(exp) {
			t.Fatalf("%s: %d games in the history, want %d", user, len(got), len(exp))
		}
		for i := range got {
			if !Same(got[i], exp[i]) {
				t.Fatalf("%s: game %d of the history:\n got %s\nwant %s", user, i, got[i], exp[i])
			}
		}
	}
	n := 0
	for id, g := range want {
		if n++; n > 50 { // a sample: every finished game was compared above
			break
		}
		rec, ok, err := m.Game(ctx, id)
		if err != nil || !ok || !Same(rec, g) {
			t.Fatalf("record of %s: %v %v %s; want %s", id, ok, err, rec, g)
		}
	}
}

// ReadAll reads user's whole history, limit games a page, and fails t if
// a game comes twice or out of order.
func ReadAll(t testing.TB, ctx context.Context, m Model, user string, limit int) []projections.HistoryGame {
	t.Helper()
	var all []projections.HistoryGame
	seen := map[uuid.UUID]bool{}
	q := projections.HistoryQuery{Limit: limit}
	for pages := 0; ; pages++ {
		page, err := m.History(ctx, user, q)
		if err != nil {
			t.Fatalf("history of %s: %v", user, err)
		}
		if len(page.Games) > limit || (page.Next != "" && len(page.Games) != limit) {
			t.Fatalf("history of %s: a page of %d games (limit %d, next %q)", user, len(page.Games), limit, page.Next)
		}
		for _, g := range page.Games {
			if seen[g.ID] {
				t.Fatalf("history of %s: game %s twice", user, g.ID)
			}
			seen[g.ID] = true
			if n := len(all); n > 0 && projections.NewestFirst(all[n-1], g) >= 0 {
				t.Fatalf("history of %s: %s after %s", user, g, all[n-1])
			}
			all = append(all, g)
		}
		if page.Next == "" {
			return all
		}
		q.Before = page.Next
	}
}

// Same reports whether two records are equal (times compared as instants).
func Same(a, b projections.HistoryGame) bool {
	return a.ID == b.ID && a.Rules == b.Rules && slices.Equal(a.Players, b.Players) &&
		a.StartedAt.Equal(b.StartedAt) && a.Ended == b.Ended && a.EndedAt.Equal(b.EndedAt) &&
		slices.Equal(a.Winners, b.Winners) && a.Draw == b.Draw && a.Reason == b.Reason && a.Events == b.Events
}

// runnerStacks is the stacks of the goroutines running runners and feeds,
// to tell where a runner that stopped making progress waits.
func runnerStacks() string {
	buf := make([]byte, 16<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "playlog/projections.") || strings.Contains(g, "jetstream.(*orderedConsumer)") || strings.Contains(g, "(*feedSub)") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}
