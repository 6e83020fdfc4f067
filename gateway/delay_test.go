package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/protocol"
)

// createWith creates a tic-tac-toe game of alice and bob with config.
func createWith(t *testing.T, n *node, config string) uuid.UUID {
	t.Helper()
	var g gameInfo
	body := map[string]any{"rules": "tictactoe", "players": []string{"alice", "bob"}, "config": json.RawMessage(config)}
	if st := n.rest(t, "alice", "POST", "/v1/games", body, &g); st != http.StatusCreated {
		t.Fatalf("create %s: %d %+v", config, st, g.Error)
	}
	return uuid.MustParse(g.GameID)
}

// quiet checks that v is sent no event of its game for a while.
func quiet(t *testing.T, v *viewer, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		m, err := v.c.Next(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if m.Type == protocol.TypeEvent && m.GameID == v.game.String() {
			t.Fatalf("spectator got event %d early (it holds %d)", *m.EventID, v.state.Seq())
		}
		v.take(m)
	}
}

// A game with an events delay of 3 shows its spectators the log three
// events behind, live, on a fresh join, on resume, over REST and in
// replay, on another node than the players'; the end releases the rest.
// Players are not held back.
func TestSpectatorEventsDelay(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		na, nb := twoNodes(t, b, gateway.Config{})
		ctx := ctxT(t)
		const delay = 3
		game := createWith(t, na, `{"spectator_delay":{"events":`+strconv.Itoa(delay)+`}}`)
		alice := newViewer(t, na.dial(t, "alice"), game, "tictactoe")
		if _, err := alice.c.Request(ctx, protocol.Request{Type: protocol.TypeJoinGame, GameID: game.String(), LastEventID: u64(0)}); err != nil {
			t.Fatal(err)
		}
		sam := newViewer(t, nb.dial(t, "sam"), game, "tictactoe")
		if _, err := sam.c.Request(ctx, protocol.Request{Type: protocol.TypeSpectate, GameID: game.String(), LastEventID: u64(0)}); err != nil {
			t.Fatal(err)
		}
		sam.until(ctx, 1) // game_created is always shown
		quiet(t, sam, 200*time.Millisecond)
		cells := []int{0, 3, 1, 4, 2} // x wins the top row
		for i, cell := range cells {
			mover := []string{"alice", "bob"}[i%2]
			var res struct {
				Head uint64 `json:"head"`
			}
			if st := na.rest(t, mover, "POST", "/v1/games/"+game.String()+"/actions", map[string]any{
				"message_id": "m" + strconv.Itoa(i), "action": map[string]any{"type": "place", "cell": cell}}, &res); st != http.StatusOK {
				t.Fatalf("move %d: %d", i, st)
			}
			alice.until(ctx, res.Head) // players see every event at once
			if i == len(cells)-1 {
				break // the end releases everything: checked below
			}
			want := max(1, res.Head-delay)
			sam.until(ctx, want)
			quiet(t, sam, 150*time.Millisecond)

			// Everything else a spectator may ask shows the same head.
			fresh := newViewer(t, nb.dial(t, "sue"), game, "tictactoe")
			joined, err := fresh.c.Request(ctx, protocol.Request{Type: protocol.TypeSpectate, GameID: game.String()})
			if err != nil {
				t.Fatal(err)
			}
			snap, err := fresh.c.Next(ctx)
			if err != nil || *joined.Head != want || snap.Type != protocol.TypeGameState || *snap.EventID != want {
				t.Fatalf("fresh spectator after move %d: joined %+v, snapshot %+v %v; want head %d", i, joined, snap, err, want)
			}
			fresh.c.Close()
			resumed := newViewer(t, na.dial(t, "sid"), game, "tictactoe")
			if _, err := resumed.c.Request(ctx, protocol.Request{Type: protocol.TypeSpectate, GameID: game.String(), LastEventID: u64(0)}); err != nil {
				t.Fatal(err)
			}
			resumed.until(ctx, want)
			quiet(t, resumed, 100*time.Millisecond)
			resumed.c.Close()
			var events struct {
				Head   uint64             `json:"head"`
				Events []protocol.Message `json:"events"`
			}
			nb.rest(t, "sam", "GET", "/v1/games/"+game.String()+"/events", nil, &events)
			var info gameInfo
			nb.rest(t, "sam", "GET", "/v1/games/"+game.String(), nil, &info)
			var step replayStep
			na.rest(t, "sam", "GET", "/v1/games/"+game.String()+"/replay", nil, &step)
			if events.Head != want || uint64(len(events.Events)) != want || info.Head != want || step.Head != want || step.At != want {
				t.Fatalf("after move %d a spectator's REST head is %d (%d events), game %d, replay %d; want %d",
					i, events.Head, len(events.Events), info.Head, step.Head, want)
			}
			code := na.rest(t, "sam", "GET", fmt.Sprintf("/v1/games/%s/replay?at=%d", game, want+1), nil, &step)
			if code != http.StatusBadRequest {
				t.Fatalf("a spectator's replay past its delay: %d", code)
			}
		}
		sam.until(ctx, 0) // game_over, then seed_revealed: the end released the rest
		sam.until(ctx, alice.state.Seq())
		if sam.state.Seq() != alice.state.Seq() {
			t.Fatalf("spectator ends at %d, players at %d", sam.state.Seq(), alice.state.Seq())
		}
	})
}

// A seconds delay shows spectators each event (but game_created) no
// sooner than that long after it was recorded, live and on a fresh join.
func TestSpectatorSecondsDelay(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		n := startNode(t, b.Open(t), nil, gateway.Config{})
		ctx := ctxT(t)
		game := createWith(t, n, `{"spectator_delay":{"seconds":1}}`)
		sam := newViewer(t, n.dial(t, "sam"), game, "tictactoe")
		if _, err := sam.c.Request(ctx, protocol.Request{Type: protocol.TypeSpectate, GameID: game.String(), LastEventID: u64(0)}); err != nil {
			t.Fatal(err)
		}
		var head uint64
		for i, cell := range []int{0, 3, 1} {
			var res struct {
				Head uint64 `json:"head"`
			}
			n.rest(t, []string{"alice", "bob"}[i%2], "POST", "/v1/games/"+game.String()+"/actions", map[string]any{
				"message_id": "m" + strconv.Itoa(i), "action": map[string]any{"type": "place", "cell": cell}}, &res)
			head = res.Head
			time.Sleep(300 * time.Millisecond)
		}
		var joined protocol.Message
		fresh := newViewer(t, n.dial(t, "sue"), game, "tictactoe")
		joined, err := fresh.c.Request(ctx, protocol.Request{Type: protocol.TypeSpectate, GameID: game.String()})
		if err != nil || *joined.Head >= head || *joined.Head < 1 {
			t.Fatalf("a fresh spectator 300 ms after the last move: %+v %v, head %d", joined, err, head)
		}
		for sam.state.Seq() < head {
			m, err := sam.c.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if m.Type == protocol.TypeEvent && *m.EventID > 1 { // game_created is always shown
				if early := m.RecordedAt.Add(time.Second).Sub(time.Now()); early > 0 {
					t.Fatalf("event %d reached a spectator %v before its delay", *m.EventID, early)
				}
			}
			sam.take(m)
		}
	})
}
