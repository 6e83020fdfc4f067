package gateway_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"

	"github.com/playlog/playlog/client"
	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/protocol"
)

// viewer is one client's record of a game: every event it was sent, in
// order, and its fold of them.
type viewer struct {
	t      testing.TB
	c      *client.Client
	game   uuid.UUID
	rules  *engine.Game
	events []protocol.Message
	state  engine.State
	over   *protocol.Outcome
}

func newViewer(t testing.TB, c *client.Client, game uuid.UUID, rules string) *viewer {
	g, err := games.Standard().Lookup(rules)
	if err != nil {
		t.Fatal(err)
	}
	return &viewer{t: t, c: c, game: game, rules: g}
}

// take records one server message; events must follow each other.
func (v *viewer) take(m protocol.Message) {
	v.t.Helper()
	if m.GameID != v.game.String() {
		return
	}
	switch m.Type {
	case protocol.TypeEvent:
		r, err := client.Rendered(m)
		if err != nil {
			v.t.Fatal(err)
		}
		if v.state, err = v.rules.ApplyRendered(v.state, r); err != nil {
			v.t.Fatalf("fold seq %d: %v (gap, duplicate or reorder)", r.Seq, err)
		}
		v.events = append(v.events, m)
	case protocol.TypeGameOver:
		v.over = m.Outcome
	}
}

// drain records messages until the viewer has seen seq, or game_over
// when seq is 0.
func (v *viewer) until(ctx context.Context, seq uint64) {
	v.t.Helper()
	for (seq > 0 && v.state.Seq() < seq) || (seq == 0 && v.over == nil) {
		m, err := v.c.Next(ctx)
		if err != nil {
			v.t.Fatalf("waiting for seq %d (at %d): %v", seq, v.state.Seq(), err)
		}
		v.take(m)
	}
}

// TestFullGamesOverWebSocket plays every reference game to the end over
// real WebSocket on both stores: players pick random legal moves (from the
// REST game endpoint), a spectator watches, and every client's fold of its
// events equals the snapshot it gets by joining afresh.
func TestFullGamesOverWebSocket(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		n := startNode(t, b.Open(t), nil, gateway.Config{})
		for _, tc := range []struct {
			rules   string
			players []string
		}{
			{"tictactoe", []string{"alice", "bob"}},
			{"crazyeights", []string{"alice", "bob", "carol"}},
			{"liarsdice", []string{"alice", "bob", "carol"}},
		} {
			t.Run(tc.rules, func(t *testing.T) {
				ctx := ctxT(t)
				game := n.create(t, tc.rules, tc.players...)
				clients := map[string]*viewer{}
				for _, p := range tc.players {
					c := n.dial(t, p)
					if _, err := c.Request(ctx, protocol.Request{Type: protocol.TypeJoinGame, GameID: game.String(), LastEventID: u64(0)}); err != nil {
						t.Fatalf("%s joins: %v", p, err)
					}
					clients[p] = newViewer(t, c, game, tc.rules)
				}
				spec := newViewer(t, n.dial(t, "sam"), game, tc.rules)
				if _, err := spec.c.Request(ctx, protocol.Request{Type: protocol.TypeSpectate, GameID: game.String(), LastEventID: u64(0)}); err != nil {
					t.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(uint64(len(tc.rules)), 9))
				for moves := 0; ; moves++ {
					if moves > 2000 {
						t.Fatal("game did not end in 2000 moves")
					}
					var info gameInfo
					n.rest(t, tc.players[0], "GET", "/v1/games/"+game.String(), nil, &info)
					if info.Status == "ended" {
						break
					}
					mover := info.Turn[0]
					if info.Forced != nil {
						mover = info.Forced.Player
					}
					var mine gameInfo
					n.rest(t, mover, "GET", "/v1/games/"+game.String(), nil, &mine)
					action := mine.Legal[rng.IntN(len(mine.Legal))]
					res, err := clients[mover].c.Request(ctx, protocol.Request{Type: protocol.TypeAction, GameID: game.String(), Action: action})
					if err != nil {
						t.Fatalf("move %d by %s (%s): %v", moves, mover, action, err)
					}
					for _, v := range clients {
						v.until(ctx, res.EventIDs[len(res.EventIDs)-1])
					}
					if moves == 5 { // mid-game, the replay is what each live client holds
						spec.until(ctx, res.EventIDs[len(res.EventIDs)-1])
						if info.Status == "active" && clients[mover].over == nil {
							for name, v := range clients {
								checkReplay(t, n, name, v, "player")
							}
							checkReplay(t, n, "sam", spec, "spectator")
						}
					}
				}
				head := clients[tc.players[0]].state.Seq()
				spec.until(ctx, head)
				for name, v := range clients {
					v.until(ctx, 0)
					if !v.over.Ended {
						t.Fatalf("%s: game_over %+v", name, v.over)
					}
					checkSnapshot(t, n, name, game, v, protocol.TypeJoinGame)
				}
				spec.until(ctx, 0)
				checkSnapshot(t, n, "sam", game, spec, protocol.TypeSpectate)
				checkReplay(t, n, "sam", spec, "spectator")
				if tc.rules == "crazyeights" {
					noCardsFor(t, spec)
				}
				// The seed would deal every hidden card again: a spectator
				// of a game with secrets never has it; the players do, to
				// check the shuffle.
				last := spec.events[len(spec.events)-1]
				_, seeded := spec.state.Seed()
				if secrets := tc.rules != "tictactoe"; secrets && (last.Visibility != "stub" || last.Data != nil || seeded) {
					t.Errorf("the spectator's last event %+v (its state has the seed: %v)", last, seeded)
				} else if !secrets && (last.EventType != engine.TypeSeedRevealed || !seeded) {
					t.Errorf("tictactoe hides nothing: the spectator's last event %+v (seed %v)", last, seeded)
				}
				for name, v := range clients {
					if _, ok := v.state.Seed(); !ok {
						t.Errorf("%s has no seed once the game ended", name)
					}
				}
			})
		}
	})
}

// checkSnapshot joins afresh without last_event_id and compares the
// snapshot with the viewer's fold of the events it was sent.
func checkSnapshot(t *testing.T, n *node, user string, game uuid.UUID, v *viewer, how string) {
	t.Helper()
	ctx := ctxT(t)
	c := n.dial(t, user)
	if _, err := c.Request(ctx, protocol.Request{Type: how, GameID: game.String()}); err != nil {
		t.Fatal(err)
	}
	m, err := c.Next(ctx)
	if err != nil || m.Type != protocol.TypeGameState {
		t.Fatalf("after joining: %+v %v", m, err)
	}
	role := engine.AsSpectator()
	if how == protocol.TypeJoinGame {
		role = engine.AsPlayer(user)
	}
	folded, _ := json.Marshal(v.rules.View(v.state, role))
	if *m.EventID != v.state.Seq() || string(m.State) != string(folded) {
		t.Fatalf("%s: snapshot at %d\n%s\nfold of events at %d\n%s", user, *m.EventID, m.State, v.state.Seq(), folded)
	}
}

// noCardsFor checks that a crazy eights spectator never saw a card in a
// hand or in the deck: not in any event it was sent (a hidden card is "??")
// and not in its state at any point of the game.
func noCardsFor(t *testing.T, spec *viewer) {
	t.Helper()
	var s engine.State
	for _, m := range spec.events {
		r, _ := client.Rendered(m)
		if m.EventType == "drew" || m.EventType == "dealt" {
			if r.Visibility == engine.Full {
				t.Fatalf("spectator got %s in full: %s", m.EventType, m.Data)
			}
		}
		var err error
		if s, err = spec.rules.ApplyRendered(s, r); err != nil {
			t.Fatal(err)
		}
		view, _ := json.Marshal(s)
		var st struct {
			State struct {
				Hands [][]string `json:"hands"`
				Deck  []string   `json:"deck"`
			} `json:"state"`
		}
		if err := json.Unmarshal(view, &st); err != nil {
			t.Fatal(err)
		}
		for _, hand := range append(st.State.Hands, st.State.Deck) {
			for _, c := range hand {
				if c != "??" {
					t.Fatalf("spectator's state at %d shows card %s", s.Seq(), c)
				}
			}
		}
	}
}
