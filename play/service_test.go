package play_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/replay"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var secret = []byte("0123456789abcdef0123456789abcdef")

func newService(t testing.TB, s eventstore.Store) *play.Service {
	t.Helper()
	svc, err := play.New(play.Config{Store: s, Registry: games.Standard(), SeedSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func place(cell int) json.RawMessage {
	return json.RawMessage(`{"type":"place","cell":` + strconv.Itoa(cell) + `}`)
}

func TestFullGameAndRejections(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		store := b.Open(t)
		svc := newService(t, store)
		g, err := svc.Create(ctx, "tictactoe", []string{"alice", "bob"}, nil, "alice")
		if err != nil {
			t.Fatal(err)
		}
		head := g.Head()
		// Rejections change nothing.
		for _, tc := range []struct {
			actor  string
			action string
			want   error
		}{
			{"bob", `{"type":"place","cell":0}`, engine.ErrNotYourTurn},
			{"alice", `{"type":"place","cell":9}`, engine.ErrInvalidAction},
			{"alice", `{"type":"fly"}`, engine.ErrInvalidAction},
			{"alice", `not json`, engine.ErrInvalidAction},
			{"mallory", `{"type":"place","cell":0}`, play.ErrNotInGame},
			{"mallory", `{"type":"resign"}`, play.ErrNotInGame},
			{engine.System, `{"type":"abandon"}`, play.ErrNotInGame},
		} {
			_, err := svc.Execute(ctx, g.ID, tc.actor, json.RawMessage(tc.action), "")
			if !errors.Is(err, tc.want) {
				t.Fatalf("%s %s: %v, want %v", tc.actor, tc.action, err, tc.want)
			}
		}
		if h, _ := store.Head(ctx, g.ID); h != head {
			t.Fatalf("rejected commands moved the head from %d to %d", head, h)
		}
		// alice wins on the top row.
		moves := []struct {
			who  string
			cell int
		}{{"alice", 0}, {"bob", 3}, {"alice", 1}, {"bob", 4}, {"alice", 2}}
		var last play.Result
		for i, m := range moves {
			last, err = svc.Execute(ctx, g.ID, m.who, place(m.cell), "m"+strconv.Itoa(i))
			if err != nil {
				t.Fatalf("move %d: %v", i, err)
			}
		}
		out := last.Game.State.Outcome()
		if !out.Ended || len(out.Winners) != 1 || out.Winners[0] != "alice" {
			t.Fatalf("outcome %+v", out)
		}
		if _, err := svc.Execute(ctx, g.ID, "bob", place(8), "late"); !errors.Is(err, engine.ErrGameOver) {
			t.Fatalf("move after the end: %v", err)
		}
		// The log is an honest, verifiable game.
		events, _ := store.Read(ctx, g.ID, 0, 0)
		ee := replay.EngineEvents(events)
		if err := engine.Verify(games.Standard(), ee); err != nil {
			t.Fatalf("verify: %v", err)
		}
		if _, err := svc.Load(ctx, uuid.New()); !errors.Is(err, play.ErrGameNotFound) {
			t.Fatalf("load unknown: %v", err)
		}
	})
}

// TestDuplicateMessageIDAnywhere sends one command, then the same message id
// again through the same service, another service (another process) and a
// restarted one: every time the original events come back and nothing is
// appended.
func TestDuplicateMessageIDAnywhere(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		store := b.Open(t)
		a := newService(t, store)
		g, err := a.Create(ctx, "tictactoe", []string{"alice", "bob"}, nil, "alice")
		if err != nil {
			t.Fatal(err)
		}
		first, err := a.Execute(ctx, g.ID, "alice", place(4), "msg-1")
		if err != nil || first.Duplicate {
			t.Fatalf("first: %+v %v", first, err)
		}
		other := newService(t, b.Open(t))
		for name, svc := range map[string]*play.Service{"same": a, "other process": other, "restarted": newService(t, store)} {
			// The same command, however it is spelled, is the original one.
			res, err := svc.Execute(ctx, g.ID, "alice", json.RawMessage(`{ "cell": 4, "type": "place" }`), "msg-1")
			if err != nil || !res.Duplicate || res.Events[0].Seq != first.Events[0].Seq || len(res.Events) != len(first.Events) {
				t.Fatalf("%s: %+v %v", name, res, err)
			}
		}
		// Another user's identical message id is another command.
		res, err := other.Execute(ctx, g.ID, "bob", place(0), "msg-1")
		if err != nil || res.Duplicate {
			t.Fatalf("bob's msg-1: %+v %v", res, err)
		}
		if h, _ := store.Head(ctx, g.ID); h != res.Events[len(res.Events)-1].Seq {
			t.Fatalf("head %d after bob's move ending at %d", h, res.Events[len(res.Events)-1].Seq)
		}
	})
}

// TestRacingNodesNeverFork: two services on one store (two nodes) race 900
// actions over 10 games, both players' commands arriving from both nodes at
// once. Each log must stay one valid, verifiable game.
func TestRacingNodesNeverFork(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		nodes := []*play.Service{newService(t, b.Open(t)), newService(t, b.Open(t))}
		store := b.Open(t)
		var accepted, rejected atomic.Int64
		for round := 0; round < 10; round++ {
			g, err := nodes[0].Create(ctx, "tictactoe", []string{"alice", "bob"}, nil, "alice")
			if err != nil {
				t.Fatal(err)
			}
			// 10 racers per game: both players, every cell, both nodes.
			var wg sync.WaitGroup
			for r := 0; r < 10; r++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					who := []string{"alice", "bob"}[r%2]
					for cell := 0; cell < 9; cell++ {
						_, err := nodes[r%2].Execute(ctx, g.ID, who, place((cell+r)%9), "r"+strconv.Itoa(r)+"c"+strconv.Itoa(cell))
						switch {
						case err == nil:
							accepted.Add(1)
						case engine.IsRejection(err):
							rejected.Add(1)
						default:
							t.Errorf("racer %d: %v", r, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			events, err := store.Read(ctx, g.ID, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := eventstore.VerifyChain(eventstore.Hash{}, events); err != nil {
				t.Fatal(err)
			}
			ee := replay.EngineEvents(events)
			// A forked or illegal game would not re-decide byte for byte.
			if err := engine.Verify(games.Standard(), ee); err != nil && !errors.Is(err, engine.ErrSeedNotRevealed) {
				t.Fatalf("game %d: %v", round, err)
			}
		}
		if accepted.Load() == 0 || rejected.Load() == 0 {
			t.Fatalf("accepted %d, rejected %d: the race did not happen", accepted.Load(), rejected.Load())
		}
	})
}

// TestReusedMessageIDForAnotherCommand: a message id already used by the
// user in the game, sent with a different command, is refused with
// ErrMessageIDReused and appends nothing, whichever path finds it: this
// process's folded ids, the catch-up after a rejection by a stale state, or
// the store's duplicate answer to a stale append. The same command resent
// on those paths is still a duplicate.
func TestReusedMessageIDForAnotherCommand(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		store := b.Open(t)
		a := newService(t, store)
		g, err := a.Create(ctx, "tictactoe", []string{"alice", "bob"}, nil, "alice")
		if err != nil {
			t.Fatal(err)
		}
		// Services (other processes) that saw the game before the moves:
		// their state is behind the log.
		stale := func(t *testing.T) *play.Service {
			t.Helper()
			svc := newService(t, b.Open(t))
			if _, err := svc.Load(ctx, g.ID); err != nil {
				t.Fatal(err)
			}
			return svc
		}
		staleRejects, staleRejectsDup := stale(t), stale(t)
		staleAppends, staleAppendsDup := stale(t), stale(t)
		alice, err := a.Execute(ctx, g.ID, "alice", place(4), "m1")
		if err != nil {
			t.Fatal(err)
		}
		bob, err := a.Execute(ctx, g.ID, "bob", place(0), "b1")
		if err != nil {
			t.Fatal(err)
		}
		head := bob.Game.Head()
		resign := json.RawMessage(`{"type":"resign"}`)
		for _, tc := range []struct {
			name   string
			svc    *play.Service
			actor  string
			action json.RawMessage
			msgID  string
			want   play.Result // Duplicate and first seq; zero: ErrMessageIDReused
		}{
			// Found in the ids the service has folded.
			{"folded, resign reusing a move's id", a, "alice", resign, "m1", play.Result{}},
			{"folded, another cell", a, "alice", place(5), "m1", play.Result{}},
			{"folded, malformed action", a, "alice", json.RawMessage(`{"type":"place"}`), "m1", play.Result{}},
			{"folded, same command", a, "alice", place(4), "m1", alice},
			// A stale state rejects bob's move (it thinks alice is to
			// move); the catch-up finds b1.
			{"after rejection, another cell", staleRejects, "bob", place(8), "b1", play.Result{}},
			{"after rejection, same command", staleRejectsDup, "bob", place(0), "b1", bob},
			// A stale state accepts alice's command; the store answers
			// that m1 is already stored.
			{"store duplicate, resign", staleAppends, "alice", resign, "m1", play.Result{}},
			{"store duplicate, same command", staleAppendsDup, "alice", place(4), "m1", alice},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res, err := tc.svc.Execute(ctx, g.ID, tc.actor, tc.action, tc.msgID)
				if tc.want.Events == nil {
					if !errors.Is(err, play.ErrMessageIDReused) {
						t.Fatalf("got %+v, %v; want ErrMessageIDReused", res, err)
					}
				} else if err != nil || !res.Duplicate || res.Events[0].Seq != tc.want.Events[0].Seq || len(res.Events) != len(tc.want.Events) {
					t.Fatalf("got %+v, %v; want the original events from seq %d", res, err, tc.want.Events[0].Seq)
				}
				if h, _ := store.Head(ctx, g.ID); h != head {
					t.Fatalf("head moved from %d to %d", head, h)
				}
			})
		}
		// The message id is still the user's own in other games.
		other, err := a.Create(ctx, "tictactoe", []string{"alice", "bob"}, nil, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if res, err := a.Execute(ctx, other.ID, "alice", resign, "m1"); err != nil || res.Duplicate {
			t.Fatalf("m1 in another game: %+v %v", res, err)
		}
	})
}

// TestMembership: only players act, and Viewer decides how a joiner sees
// the game, the same way for a loaded snapshot.
func TestMembership(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		store := b.Open(t)
		svc := newService(t, store)
		g, err := svc.Create(ctx, "tictactoe", []string{"alice", "bob"}, nil, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Execute(ctx, g.ID, "mallory", place(0), "x"); !errors.Is(err, play.ErrNotInGame) {
			t.Fatalf("mallory acts: %v", err)
		}
		// A fresh service (another process) refuses too, after loading.
		if _, err := newService(t, store).Execute(ctx, g.ID, "mallory", place(0), "x"); !errors.Is(err, play.ErrNotInGame) {
			t.Fatalf("mallory acts elsewhere: %v", err)
		}
		if h, _ := store.Head(ctx, g.ID); h != g.Head() {
			t.Fatalf("head moved from %d to %d", g.Head(), h)
		}
		for _, tc := range []struct {
			name     string
			user     string
			spectate bool
			want     engine.Viewer
			err      error
		}{
			{"player joins", "alice", false, engine.AsPlayer("alice"), nil},
			{"player spectates own game", "bob", true, engine.Viewer{}, engine.ErrActionNotAllowed},
			{"non-player joins as player", "mallory", false, engine.Viewer{}, play.ErrNotInGame},
			{"non-player spectates", "mallory", true, engine.AsSpectator(), nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				for name, viewer := range map[string]func() (engine.Viewer, error){
					"header": func() (engine.Viewer, error) {
						h, err := svc.Header(ctx, g.ID)
						if err != nil {
							return engine.Viewer{}, err
						}
						return h.Viewer(tc.user, tc.spectate)
					},
					"snapshot": func() (engine.Viewer, error) { return g.Viewer(tc.user, tc.spectate) },
				} {
					v, err := viewer()
					if v != tc.want || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
						t.Fatalf("%s: %v, %v; want %v, %v", name, v, err, tc.want, tc.err)
					}
				}
			})
		}
		if _, err := svc.Header(ctx, uuid.New()); !errors.Is(err, play.ErrGameNotFound) {
			t.Fatalf("viewer of an unknown game: %v", err)
		}
	})
}

// TestUnknownGamesAreNotCached: lookups of ids no game has, through every
// method, leave the cache as it was: a real game stays cached, as the same
// entry. Racing first loads of one game cache one entry.
func TestUnknownGamesAreNotCached(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		store := b.Open(t)
		svc, err := play.New(play.Config{Store: store, Registry: games.Standard(), SeedSecret: secret, CachedGames: 2})
		if err != nil {
			t.Fatal(err)
		}
		g, err := svc.Create(ctx, "tictactoe", []string{"alice", "bob"}, nil, "alice")
		if err != nil {
			t.Fatal(err)
		}
		cached := play.CachedEntry(svc, g.ID)
		if cached == nil || play.CachedGames(svc) != 1 {
			t.Fatalf("a created game is not cached (%d cached)", play.CachedGames(svc))
		}
		for i := 0; i < 20; i++ {
			id := uuid.New()
			for name, err := range map[string]error{
				"load":    func() error { _, err := svc.Load(ctx, id); return err }(),
				"header":  func() error { _, err := svc.Header(ctx, id); return err }(),
				"execute": func() error { _, err := svc.Execute(ctx, id, "alice", place(0), "m"); return err }(),
			} {
				if !errors.Is(err, play.ErrGameNotFound) {
					t.Fatalf("%s of an unknown game: %v", name, err)
				}
			}
		}
		if n := play.CachedGames(svc); n != 1 || play.CachedEntry(svc, g.ID) != cached {
			t.Fatalf("after unknown ids: %d cached, the game's entry kept: %v", n, play.CachedEntry(svc, g.ID) == cached)
		}

		// A process that has not seen the game, loading it from many
		// goroutines at once, ends with one entry, and commands work.
		fresh := newService(t, b.Open(t))
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := fresh.Load(ctx, g.ID); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if n := play.CachedGames(fresh); n != 1 {
			t.Fatalf("%d cached after racing loads of one game", n)
		}
		if _, err := fresh.Execute(ctx, g.ID, "alice", place(0), "m"); err != nil {
			t.Fatal(err)
		}
	})
}

// readCounter counts the Reads of a real store.
type readCounter struct {
	eventstore.Store
	reads atomic.Int64
}

func (r *readCounter) Read(ctx context.Context, game uuid.UUID, after uint64, limit int) ([]eventstore.Event, error) {
	r.reads.Add(1)
	return r.Store.Read(ctx, game, after, limit)
}

// TestCreateKeepsTheHeader: the node that creates a game answers its
// header (which every join asks for) without reading the log, and with
// what another node reads from the log.
func TestCreateKeepsTheHeader(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		store := &readCounter{Store: b.Open(t)}
		svc := newService(t, store)
		for _, rules := range []string{"tictactoe", "crazyeights", "liarsdice"} {
			g, err := svc.Create(ctx, rules, []string{"alice", "bob"}, nil, "alice")
			if err != nil {
				t.Fatal(err)
			}
			before := store.reads.Load()
			h, err := svc.Header(ctx, g.ID)
			if err != nil {
				t.Fatal(err)
			}
			if n := store.reads.Load() - before; n != 0 {
				t.Fatalf("%s: the creating node read the log %d times for the header", rules, n)
			}
			other, err := newService(t, store).Header(ctx, g.ID)
			if err != nil {
				t.Fatal(err)
			}
			mine, _ := json.Marshal(h.Created)
			theirs, _ := json.Marshal(other.Created)
			if h.Rules.Name() != other.Rules.Name() || string(mine) != string(theirs) {
				t.Fatalf("%s: header %s %s, from the log %s %s", rules, h.Rules.Name(), mine, other.Rules.Name(), theirs)
			}
		}
	})
}

// A node whose copy of a game is one move behind takes the next move at
// once, even with MaxAttempts 1: catching up with the log is no attempt.
// A retry of the move it missed is a duplicate there.
func TestCatchingUpIsNoAttempt(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		a := newService(t, b.Open(t))
		stale, err := play.New(play.Config{Store: b.Open(t), Registry: games.Standard(), SeedSecret: secret, MaxAttempts: 1})
		if err != nil {
			t.Fatal(err)
		}
		g, err := a.Create(ctx, "tictactoe", []string{"alice", "bob"}, nil, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := stale.Load(ctx, g.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Execute(ctx, g.ID, "alice", place(4), "a1"); err != nil {
			t.Fatal(err)
		}
		if _, err := stale.Execute(ctx, g.ID, "bob", place(0), "b1"); err != nil {
			t.Fatalf("bob's move on a node one move behind: %v", err)
		}
		if res, err := stale.Execute(ctx, g.ID, "alice", place(4), "a1"); err != nil || !res.Duplicate {
			t.Fatalf("alice's retry there: %+v, %v", res, err)
		}
	})
}
