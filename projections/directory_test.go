package projections_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/projections"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestDirectoryFollowsGames(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		store := b.Open(t)
		svc, err := play.New(play.Config{Store: store, Registry: games.Standard(), SeedSecret: []byte("0123456789abcdef0123456789abcdef")})
		if err != nil {
			t.Fatal(err)
		}
		one, _ := svc.Create(ctx, "tictactoe", []string{"alice", "bob"}, nil, "alice")
		two, _ := svc.Create(ctx, "tictactoe", []string{"carol", "alice"}, nil, "carol")

		dir := projections.NewDirectory(b.Open(t)) // another process's view
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- dir.Run(runCtx) }()

		if err := dir.WaitFor(ctx, two.ID, two.Head()); err != nil {
			t.Fatal(err)
		}
		if got := dir.Active("alice"); len(got) != 2 {
			t.Fatalf("alice's active games: %+v", got)
		}
		if got := dir.Active("bob"); len(got) != 1 || got[0].ID != one.ID || got[0].Rules != "tictactoe" {
			t.Fatalf("bob's active games: %+v", got)
		}
		// bob resigns game one: it leaves both players' active lists.
		res, err := svc.Execute(ctx, one.ID, "bob", json.RawMessage(`{"type":"resign"}`), "r")
		if err != nil {
			t.Fatal(err)
		}
		if err := dir.WaitFor(ctx, one.ID, res.Game.Head()); err != nil {
			t.Fatal(err)
		}
		if got := dir.Active("bob"); len(got) != 0 {
			t.Fatalf("bob still has %+v", got)
		}
		if got := dir.Active("alice"); len(got) != 1 || got[0].ID != two.ID {
			t.Fatalf("alice has %+v", got)
		}
		if g, ok := dir.Game(one.ID); !ok || !g.Ended {
			t.Fatalf("game one: %+v %v", g, ok)
		}
		stop()
		if err := <-done; err != nil {
			t.Fatalf("Run after cancel: %v", err)
		}
	})
}
