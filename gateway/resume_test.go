package gateway_test

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/protocol"
)

// TestResumeAfterDrops: one of alice's connections drops at random points
// of a crazy eights game and resumes each time with the last event id it
// saw. It must end with exactly the events, in order, and the final state
// of alice's connection that never dropped.
func TestResumeAfterDrops(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		n := startNode(t, b.Open(t), nil, gateway.Config{})
		ctx := ctxT(t)
		game := n.create(t, "crazyeights", "alice", "bob")
		join := func(user string, last uint64) *viewer {
			c := n.dial(t, user)
			if _, err := c.Request(ctx, protocol.Request{Type: protocol.TypeJoinGame, GameID: game.String(), LastEventID: u64(last)}); err != nil {
				t.Fatalf("%s joins after %d: %v", user, last, err)
			}
			return newViewer(t, c, game, "crazyeights")
		}
		steady, flaky, bob := join("alice", 0), join("alice", 0), join("bob", 0)
		rng := rand.New(rand.NewPCG(5, 6))
		drops := 0
		for moves := 0; ; moves++ {
			var info gameInfo
			n.rest(t, "alice", "GET", "/v1/games/"+game.String(), nil, &info)
			if info.Status == "ended" || moves > 3000 {
				break
			}
			mover := info.Turn[0]
			if info.Forced != nil {
				mover = info.Forced.Player
			}
			var mine gameInfo
			n.rest(t, mover, "GET", "/v1/games/"+game.String(), nil, &mine)
			who := map[string]*viewer{"alice": steady, "bob": bob}[mover]
			res, err := who.c.Request(ctx, protocol.Request{Type: protocol.TypeAction, GameID: game.String(),
				MessageID: "m" + strconv.Itoa(moves), Action: mine.Legal[rng.IntN(len(mine.Legal))]})
			if err != nil {
				t.Fatalf("move %d: %v", moves, err)
			}
			last := res.EventIDs[len(res.EventIDs)-1]
			steady.until(ctx, last)
			bob.until(ctx, last)
			switch rng.IntN(4) {
			case 0: // drop before reading this move's events
				flaky.c.Drop()
				drops++
				fresh := join("alice", flaky.state.Seq())
				fresh.events, fresh.state = flaky.events, flaky.state
				flaky = fresh
			case 1: // read part of them, then drop
				if flaky.state.Seq()+1 < last {
					flaky.until(ctx, flaky.state.Seq()+1)
				}
				flaky.c.Drop()
				drops++
				fresh := join("alice", flaky.state.Seq())
				fresh.events, fresh.state = flaky.events, flaky.state
				flaky = fresh
			}
			flaky.until(ctx, last)
		}
		steady.until(ctx, 0)
		flaky.until(ctx, 0)
		if drops < 3 {
			t.Fatalf("only %d drops: the test did not test resuming", drops)
		}
		if len(flaky.events) != len(steady.events) {
			t.Fatalf("flaky got %d events, steady %d", len(flaky.events), len(steady.events))
		}
		for i := range steady.events {
			a, b := steady.events[i], flaky.events[i]
			// Envelope fields (the server's message id and send time) differ;
			// the event must not.
			a.MessageID, b.MessageID, a.Timestamp = "", "", b.Timestamp
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			if string(ja) != string(jb) {
				t.Fatalf("event %d differs:\nsteady %s\nflaky  %s", i+1, ja, jb)
			}
		}
		checkSnapshot(t, n, "alice", game, flaky, protocol.TypeJoinGame)
		t.Logf("%d events, %d drops", len(steady.events), drops)
	})
}

// TestDuplicateMessageIDs sends one action, then its message id again on
// the same connection, on a new one, and with a different action: the
// original result every time, nothing appended.
func TestDuplicateMessageIDs(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		n := startNode(t, b.Open(t), nil, gateway.Config{})
		ctx := ctxT(t)
		game := n.create(t, "tictactoe", "alice", "bob")
		a1 := n.dial(t, "alice")
		place := func(cell int) json.RawMessage {
			return json.RawMessage(`{"type":"place","cell":` + strconv.Itoa(cell) + `}`)
		}
		first, err := a1.Request(ctx, protocol.Request{Type: protocol.TypeAction, MessageID: "dup-1", GameID: game.String(), Action: place(4)})
		if err != nil || first.Duplicate == nil || *first.Duplicate {
			t.Fatalf("first: %+v %v", first, err)
		}
		a2 := n.dial(t, "alice")
		for i, c := range []*struct {
			name string
			cell int
		}{{"same connection", 4}, {"new connection", 4}} {
			conn := a1
			if i > 0 {
				conn = a2
			}
			res, err := conn.Request(ctx, protocol.Request{Type: protocol.TypeAction, MessageID: "dup-1", GameID: game.String(), Action: place(c.cell)})
			if err != nil || res.Duplicate == nil || !*res.Duplicate || len(res.EventIDs) != len(first.EventIDs) || res.EventIDs[0] != first.EventIDs[0] {
				t.Fatalf("%s: %+v %v", c.name, res, err)
			}
		}
		// The same message id for another command is refused, not answered
		// with the first command's events: on the action path and on resign.
		for _, req := range []protocol.Request{
			{Type: protocol.TypeAction, MessageID: "dup-1", GameID: game.String(), Action: place(0)},
			{Type: protocol.TypeResign, MessageID: "dup-1", GameID: game.String()},
		} {
			res, err := a2.Request(ctx, req)
			var pe *protocol.Error
			if !errors.As(err, &pe) || pe.Code != protocol.CodeInvalidMessage || !strings.Contains(pe.Message, "already used") {
				t.Fatalf("%s reusing dup-1: %+v %v", req.Type, res, err)
			}
		}
		var info gameInfo
		n.rest(t, "alice", "GET", "/v1/games/"+game.String(), nil, &info)
		if info.Head != first.EventIDs[len(first.EventIDs)-1] {
			t.Fatalf("head %d after duplicates, want %d", info.Head, first.EventIDs[len(first.EventIDs)-1])
		}
	})
}
