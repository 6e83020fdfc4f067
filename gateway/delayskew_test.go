package gateway_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/protocol"
)

// Two nodes over one store, node B's clock 30 s behind node A's. With a
// 20 s delay, alice moves through A, then bob through B: bob's events are
// stamped 30 s earlier than alice's. A spectator asking node A (whose
// clock is right) at once is shown alice's move, recorded under a second
// ago, when the spectator head was a binary search of recorded times,
// which go back within a game when nodes' clocks differ. It is now the
// hub's rule: the events before the first one recorded under the delay
// ago; REST, a fresh join and the live feed agree.
func TestSkewedClocksLeakNothingToSpectators(t *testing.T) {
	dir := t.TempDir()
	first, err := jetstream.Open(context.Background(), jetstream.Config{Dir: dir, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { first.Close() })
	second, err := jetstream.Open(context.Background(), jetstream.Config{URL: first.ClientURL(),
		Now: func() time.Time { return time.Now().Add(-30 * time.Second) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { second.Close() })
	na := startNode(t, first, first.Bus("presence"), gateway.Config{})
	nb := startNode(t, second, second.Bus("presence"), gateway.Config{})
	ctx := ctxT(t)
	game := createWith(t, na, `{"spectator_delay":{"seconds":20}}`)
	sam := newViewer(t, na.dial(t, "sam"), game, "tictactoe")
	if _, err := sam.c.Request(ctx, protocol.Request{Type: protocol.TypeSpectate, GameID: game.String(), LastEventID: u64(0)}); err != nil {
		t.Fatal(err)
	}
	sam.until(ctx, 1)
	var aliceLast uint64
	for i, mv := range []struct {
		n    *node
		who  string
		cell int
	}{{na, "alice", 0}, {nb, "bob", 3}} {
		var res struct {
			Head uint64 `json:"head"`
		}
		if st := mv.n.rest(t, mv.who, "POST", "/v1/games/"+game.String()+"/actions", map[string]any{
			"message_id": "m" + strconv.Itoa(i), "action": map[string]any{"type": "place", "cell": mv.cell}}, &res); st != http.StatusOK {
			t.Fatalf("move %d: %d", i, st)
		}
		if i == 0 {
			aliceLast = res.Head
		}
	}
	var events struct {
		Head   uint64             `json:"head"`
		Events []protocol.Message `json:"events"`
	}
	na.rest(t, "sue", "GET", "/v1/games/"+game.String()+"/events", nil, &events)
	joined, err := newViewer(t, na.dial(t, "sue"), game, "tictactoe").c.Request(ctx, protocol.Request{Type: protocol.TypeSpectate, GameID: game.String()})
	if err != nil {
		t.Fatal(err)
	}
	quiet(t, sam, 200*time.Millisecond) // the hub holds alice's move: the live spectator stays at 1
	for _, m := range events.Events {
		if *m.EventID > 1 && m.RecordedAt.After(time.Now().Add(-20*time.Second)) {
			t.Fatalf("node A (right clock) shows a spectator event %d recorded %v ago, under its 20 s delay (REST head %d, fresh joined.head %d; alice's move ends at %d; its live spectator is at %d)",
				*m.EventID, time.Since(*m.RecordedAt).Round(time.Millisecond), events.Head, *joined.Head, aliceLast, sam.state.Seq())
		}
	}
	if events.Head != 1 || *joined.Head != 1 {
		t.Fatalf("spectator heads on node A: REST %d, a fresh join %d; want 1 (everything after game_created is under 20 s old)", events.Head, *joined.Head)
	}
}

// A spectator held seconds behind learns nothing of the present head from
// a resume's last_event_id: every id is taken and waited for (the next
// past the head was refused, so probing gave the head away). An events
// delay, whose head is the spectator head plus N, still refuses an id
// past the head.
func TestDelayedSpectatorCannotProbeTheHead(t *testing.T) {
	n := startNode(t, testenv.Stores(t)[0].Open(t), nil, gateway.Config{})
	ctx := ctxT(t)
	for _, c := range []struct {
		config          string
		refusedPastHead bool
	}{{`{"spectator_delay":{"seconds":3600}}`, false}, {`{"spectator_delay":{"events":2}}`, true}} {
		game := createWith(t, n, c.config)
		var head uint64
		for i, cell := range []int{0, 3, 1} {
			var res struct {
				Head uint64 `json:"head"`
			}
			if st := n.rest(t, []string{"alice", "bob"}[i%2], "POST", "/v1/games/"+game.String()+"/actions", map[string]any{
				"message_id": "m" + strconv.Itoa(i), "action": map[string]any{"type": "place", "cell": cell}}, &res); st != http.StatusOK {
				t.Fatalf("move %d: %d", i, st)
			}
			head = res.Head
		}
		for _, probe := range []uint64{1, head, head + 1, head + 50} {
			err := resumeSpectating(t, ctx, n, game, probe)
			if refused := err != nil; refused != (c.refusedPastHead && probe > head) {
				t.Errorf("%s: resume at %d (head %d): %v", c.config, probe, head, err)
			}
		}
	}
}

// While a game delayed by N events has at most N+1 of them, its spectator
// head is 1 whatever the head is: a resume refused past the head would
// tell the spectator the head. Every id up to N+1 is taken and waited
// for; past it the refusal names no head. A player is still refused past
// the head, with it named.
func TestEventsDelayedSpectatorCannotProbeAnEarlyHead(t *testing.T) {
	n := startNode(t, testenv.Stores(t)[0].Open(t), nil, gateway.Config{})
	ctx := ctxT(t)
	const delay = 8
	game := createWith(t, n, `{"spectator_delay":{"events":`+strconv.Itoa(delay)+`}}`)
	var res struct {
		Head uint64 `json:"head"`
	}
	if st := n.rest(t, "alice", "POST", "/v1/games/"+game.String()+"/actions", map[string]any{
		"message_id": "m0", "action": map[string]any{"type": "place", "cell": 4}}, &res); st != http.StatusOK {
		t.Fatalf("move: %d", st)
	}
	head := res.Head
	if head+1 > delay+1 {
		t.Fatalf("head %d: the game is past its early part already; raise the delay", head)
	}
	for probe := head + 1; probe <= delay+2; probe++ {
		err := resumeSpectating(t, ctx, n, game, probe)
		switch {
		case probe <= delay+1 && err != nil:
			t.Errorf("resume at %d (head %d, delay %d events) refused: %v", probe, head, delay, err)
		case probe > delay+1 && !isCode(err, protocol.CodeInvalidMessage):
			t.Errorf("resume at %d (delay %d events): %v; want invalid_message", probe, delay, err)
		case err != nil && strings.Contains(err.Error(), strconv.FormatUint(head, 10)):
			t.Errorf("resume at %d: the refusal %q names the head %d", probe, err, head)
		}
	}
	cl := n.dial(t, "alice")
	defer cl.Close()
	_, err := cl.Request(ctx, protocol.Request{Type: protocol.TypeJoinGame, GameID: game.String(), LastEventID: u64(head + 1)})
	if !isCode(err, protocol.CodeInvalidMessage) || !strings.Contains(err.Error(), "head "+strconv.FormatUint(head, 10)) {
		t.Errorf("a player's resume past the head %d: %v; want invalid_message naming it", head, err)
	}
}

// A game delayed by N events that has only its game_created yet (head 1)
// looks to a spectator as one with up to N moves: its resume at any id up
// to N+1 is waited for in both, so that the refusal does not tell "no
// move yet" from "moves hidden by the delay".
func TestEventsDelayedSpectatorCannotTellAnUntouchedGame(t *testing.T) {
	n := startNode(t, testenv.Stores(t)[0].Open(t), nil, gateway.Config{})
	ctx := ctxT(t)
	const delay = 8
	game := createWith(t, n, `{"spectator_delay":{"events":`+strconv.Itoa(delay)+`}}`)
	var info struct {
		Head uint64 `json:"head"`
	}
	if st := n.rest(t, "alice", "GET", "/v1/games/"+game.String(), nil, &info); st != http.StatusOK {
		t.Fatalf("get: %d", st)
	}
	if info.Head != 1 {
		t.Fatalf("a new game's head is %d, not 1: this test no longer tests what it says", info.Head)
	}
	for _, probe := range []uint64{2, delay + 1} {
		err := resumeSpectating(t, ctx, n, game, probe)
		if err != nil {
			t.Errorf("resume at %d of an untouched game (delay %d events) refused: %v; a game with a move waits", probe, delay, err)
		}
	}
}

// resumeSpectating is a new connection's spectate of game resuming after
// last: nil once joined, else the refusal.
func resumeSpectating(t *testing.T, ctx context.Context, n *node, game uuid.UUID, last uint64) error {
	cl := n.dial(t, "sam")
	defer cl.Close()
	_, err := cl.Request(ctx, protocol.Request{Type: protocol.TypeSpectate, GameID: game.String(), LastEventID: u64(last)})
	return err
}
