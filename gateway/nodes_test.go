package gateway_test

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/protocol"
	"github.com/playlog/playlog/replay"
)

func twoNodes(t *testing.T, b testenv.Backend, cfg gateway.Config) (*node, *node) {
	sa, sb := b.Open(t), b.Open(t)
	return startNode(t, sa, testenv.BusOf(sa), cfg), startNode(t, sb, testenv.BusOf(sb), cfg)
}

// TestTwoNodes: alice on one node, bob on another, over one store: both see
// every event, presence crosses nodes, and 100 racing actions sent through
// both nodes at once leave one unforked, verifiable log per game.
func TestTwoNodes(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		na, nb := twoNodes(t, b, gateway.Config{PresenceDebounce: 200 * time.Millisecond})
		ctx := ctxT(t)
		game := na.create(t, "tictactoe", "alice", "bob")
		alice := newViewer(t, na.dial(t, "alice"), game, "tictactoe")
		if _, err := alice.c.Request(ctx, protocol.Request{Type: protocol.TypeJoinGame, GameID: game.String(), LastEventID: u64(0)}); err != nil {
			t.Fatal(err)
		}
		bob := newViewer(t, nb.dial(t, "bob"), game, "tictactoe")
		if _, err := bob.c.Request(ctx, protocol.Request{Type: protocol.TypeJoinGame, GameID: game.String(), LastEventID: u64(0)}); err != nil {
			t.Fatal(err)
		}
		// alice (node A) hears that bob (node B) connected.
		waitFor(t, alice, func(m protocol.Message) bool {
			return m.Type == protocol.TypeOpponentStatus && m.PlayerID == "bob" && m.Status == "connected"
		})
		for i, mv := range []struct {
			v    *viewer
			cell int
		}{{alice, 0}, {bob, 3}, {alice, 1}, {bob, 4}, {alice, 2}} {
			res, err := mv.v.c.Request(ctx, protocol.Request{Type: protocol.TypeAction, GameID: game.String(),
				MessageID: "m" + strconv.Itoa(i), Action: json.RawMessage(`{"type":"place","cell":` + strconv.Itoa(mv.cell) + `}`)})
			if err != nil {
				t.Fatalf("move %d: %v", i, err)
			}
			last := res.EventIDs[len(res.EventIDs)-1]
			alice.until(ctx, last)
			bob.until(ctx, last)
		}
		alice.until(ctx, 0)
		bob.until(ctx, 0)
		if len(alice.over.Winners) != 1 || alice.over.Winners[0] != "alice" || bob.over.Winners[0] != "alice" {
			t.Fatalf("outcomes %+v %+v", alice.over, bob.over)
		}
		// bob drops: after the debounce, alice hears it across nodes.
		bob.c.Drop()
		waitFor(t, alice, func(m protocol.Message) bool {
			return m.Type == protocol.TypeOpponentStatus && m.PlayerID == "bob" && m.Status == "disconnected"
		})

		// 100 racing actions: alice and bob, each on both nodes, 25 each,
		// over 4 games.
		var wg sync.WaitGroup
		ids := make([]uuid.UUID, 4)
		for i := range ids {
			ids[i] = na.create(t, "tictactoe", "alice", "bob")
		}
		for w, who := range []struct {
			n    *node
			user string
		}{{na, "alice"}, {nb, "alice"}, {na, "bob"}, {nb, "bob"}} {
			c := who.n.dial(t, who.user)
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(w), 1))
				for i := 0; i < 25; i++ {
					_, err := c.Request(ctx, protocol.Request{Type: protocol.TypeAction, GameID: ids[i%4].String(),
						Action: json.RawMessage(`{"type":"place","cell":` + strconv.Itoa(rng.IntN(9)) + `}`)})
					var pe *protocol.Error
					if err != nil && (!errors.As(err, &pe) || pe.Code == protocol.CodeInternalError) {
						t.Errorf("racer %d: %v", w, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		for _, id := range ids {
			verifyLog(t, na.store, id)
		}
	})
}

// verifyLog checks a game's log is one chain and re-decides byte for byte.
func verifyLog(t *testing.T, s eventstore.Store, id uuid.UUID) {
	t.Helper()
	events, err := s.Read(ctxT(t), id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := eventstore.VerifyChain(eventstore.Hash{}, events); err != nil {
		t.Fatal(err)
	}
	ee := replay.EngineEvents(events)
	if err := engine.Verify(games.Standard(), ee); err != nil && !errors.Is(err, engine.ErrSeedNotRevealed) {
		t.Fatalf("game %s: %v", id, err)
	}
}

// waitFor reads v's messages (recording events) until one matches.
func waitFor(t *testing.T, v *viewer, match func(protocol.Message) bool) protocol.Message {
	t.Helper()
	ctx := ctxT(t)
	for {
		m, err := v.c.Next(ctx)
		if err != nil {
			t.Fatalf("waiting: %v", err)
		}
		v.take(m)
		if match(m) {
			return m
		}
	}
}

// A fresh join on a node whose copy of the game is behind (another node
// moved the game since) is answered from that copy, and the hub's catch-up
// sends every later event: the snapshot is the log's state at its seq, and
// the events after it follow with no gap and no duplicate.
func TestFreshJoinOnANodeBehind(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		na, nb := twoNodes(t, b, gateway.Config{})
		ctx := ctxT(t)
		game := na.create(t, "tictactoe", "alice", "bob")
		move := func(n *node, user string, i, cell int) uint64 {
			var res struct {
				Head uint64 `json:"head"`
			}
			if st := n.rest(t, user, "POST", "/v1/games/"+game.String()+"/actions", map[string]any{
				"message_id": "m" + strconv.Itoa(i), "action": map[string]any{"type": "place", "cell": cell}}, &res); st != http.StatusOK {
				t.Fatalf("move %d: %d", i, st)
			}
			return res.Head
		}
		move(na, "alice", 0, 0)
		behind := move(nb, "bob", 1, 4) // node B holds the game at this head...
		head := move(na, "alice", 2, 8) // ...and is behind now
		v := newViewer(t, nb.dial(t, "bob"), game, "tictactoe")
		joined, err := v.c.Request(ctx, protocol.Request{Type: protocol.TypeJoinGame, GameID: game.String()})
		if err != nil {
			t.Fatal(err)
		}
		snap, err := v.c.Next(ctx)
		if err != nil || snap.Type != protocol.TypeGameState {
			t.Fatalf("after joining: %+v %v", snap, err)
		}
		at := *snap.EventID
		if at < behind || at > head || *joined.Head != at {
			t.Fatalf("joined at head %d, snapshot at %d; the log went from %d to %d", *joined.Head, at, behind, head)
		}
		events, err := na.store.Read(ctx, game, 0, int(at))
		if err != nil {
			t.Fatal(err)
		}
		if v.state, err = v.rules.Fold(replay.EngineEvents(events)); err != nil {
			t.Fatal(err)
		}
		if folded, _ := json.Marshal(v.rules.View(v.state, engine.AsPlayer("bob"))); string(folded) != string(snap.State) {
			t.Fatalf("snapshot at %d\n%s\nthe log's state there\n%s", at, snap.State, folded)
		}
		t.Logf("snapshot at %d, the log at %d", at, head)
		v.until(ctx, head) // each event must follow the last (take)
		quiet(t, v, 100*time.Millisecond)
	})
}
