package gateway_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/playlog/playlog/client"
	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/protocol"
)

// smallBuffers shrinks the kernel's socket buffers of accepted
// connections, so a client that stops reading fills them in kilobytes.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return c, err
}

// TestSlowReaderIsDisconnected: a spectator that stops reading, watching
// ten games, is disconnected once its send queue fills, while the players
// finish all ten games undisturbed; it then resumes from event 0 and gets
// everything.
func TestSlowReaderIsDisconnected(t *testing.T) {
	b := testenv.Stores(t)[0]
	cfg := gateway.Config{SendQueue: 16, SlowConsumerTimeout: 300 * time.Millisecond}
	n := startNode(t, b.Open(t), nil, cfg)
	// A second HTTP server on the same gateway, with tiny socket buffers.
	hs := httptest.NewUnstartedServer(n.srv.Handler())
	hs.Listener = smallBuffers{hs.Listener}
	hs.Start()
	defer hs.Close()
	ctx := ctxT(t)

	ids := make([]uuid.UUID, 10)
	for i := range ids {
		ids[i] = n.create(t, "tictactoe", "alice", "bob")
	}
	dialer := &websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048) })
		}}
		return d.DialContext(ctx, network, addr)
	}}
	slow, err := client.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/v1/ws", token(t, "sam"), client.Options{Buffer: 1, Dialer: dialer})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	for i, id := range ids {
		slow.Send(protocol.Request{Type: protocol.TypeSpectate, MessageID: "s" + strconv.Itoa(i), GameID: id.String(), LastEventID: u64(0)})
	}

	alice, bob := n.dial(t, "alice"), n.dial(t, "bob")
	start := time.Now()
	for round := 0; round < 4; round++ {
		for _, id := range ids {
			for _, mv := range []struct {
				c    *client.Client
				cell int
			}{{alice, 2 * round}, {bob, 2*round + 1}} {
				_, err := mv.c.Request(ctx, protocol.Request{Type: protocol.TypeAction, GameID: id.String(),
					Action: json.RawMessage(`{"type":"place","cell":` + strconv.Itoa(mv.cell) + `}`)})
				if err != nil && !isCode(err, protocol.CodeGameEnded) {
					t.Fatalf("move: %v", err)
				}
			}
		}
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("players took %v: the slow reader held them up", d)
	}
	deadline := time.Now().Add(20 * time.Second)
	for n.srv.Stats().SlowConsumers == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the slow reader was never disconnected")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// It resumes, reading now, and gets every event of every game.
	again := n.dial(t, "sam")
	for _, id := range ids {
		v := newViewer(t, again, id, "tictactoe")
		if _, err := again.Request(ctx, protocol.Request{Type: protocol.TypeSpectate, GameID: id.String(), LastEventID: u64(0)}); err != nil {
			t.Fatal(err)
		}
		var info gameInfo
		n.rest(t, "alice", "GET", "/v1/games/"+id.String(), nil, &info)
		v.until(ctx, info.Head)
		if _, err := again.Request(ctx, protocol.Request{Type: protocol.TypeLeaveSpectate, GameID: id.String()}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRateLimit: messages over the rate are dropped; the first
// RateLimitReplies refusals of a window are answered rate_limited, naming
// the message, later ones are not; the AbuseLimit-th refusal within the
// window closes the connection with 1008.
func TestRateLimit(t *testing.T) {
	n := startNode(t, testenv.Stores(t)[0].Open(t), nil, gateway.Config{MessagesPerSecond: 1, Burst: 5, AbuseLimit: 20, RateLimitReplies: 5})
	c := dialRaw(t, n, "alice", nil)
	writeHeartbeats(c, "h", 30)
	got, code := readToClose(t, c, 10*time.Second)
	acks, limited := countAnswers(got)
	for _, m := range got {
		if m.Type == protocol.TypeError && m.RequestMessageID == "" {
			t.Fatalf("%+v does not name the message it refused", m.Error)
		}
	}
	if code != websocket.ClosePolicyViolation || acks < 5 || acks > 7 || limited != 5 {
		t.Fatalf("%d acks, %d rate_limited, close %d; want the burst (5) acked, 5 refusals answered, then 1008", acks, limited, code)
	}
	if n.srv.Stats().RateLimitCloses != 1 {
		t.Fatalf("stats %+v", n.srv.Stats())
	}
}

// sendAt writes heartbeats to ws at rate per second for d, on schedule
// (catching up after a stall rather than slowing down), and returns how
// many it wrote before d passed or a write failed.
func sendAt(ws *websocket.Conn, rate float64, d time.Duration) int {
	start := time.Now()
	for i := 0; ; i++ {
		at := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		if at.Sub(start) >= d {
			return i
		}
		time.Sleep(time.Until(at))
		if ws.WriteMessage(websocket.TextMessage, heartbeatFrame("h"+strconv.Itoa(i))) != nil {
			return i
		}
	}
}

// TestFloodIsClosed: a flood at 500 messages a second, 25 times the rate,
// is closed with 1008 long before its three seconds are over, and what it
// got back is bounded: its burst acked and RateLimitReplies refusals
// answered, not one answer per message.
func TestFloodIsClosed(t *testing.T) {
	n := startNode(t, testenv.Stores(t)[0].Open(t), nil, gateway.Config{MessagesPerSecond: 20, Burst: 40})
	ws := dialRaw(t, n, "alice", nil)
	start := time.Now()
	sent := make(chan int, 1)
	go func() { sent <- sendAt(ws, 500, 3*time.Second) }()
	got, code := readToClose(t, ws, 10*time.Second)
	took := time.Since(start)
	acks, limited := countAnswers(got)
	// The default limits: 100 refusals within 10 s close, 10 are answered.
	// At 480 refusals a second the close comes in about 0.2 s; allow for a
	// loaded machine.
	if code != websocket.ClosePolicyViolation || took > 2500*time.Millisecond {
		t.Fatalf("closed with %d after %v; want 1008 within 2.5 s", code, took)
	}
	if maxAcks := 40 + int(20*took.Seconds()) + 1; acks > maxAcks || limited != 10 {
		t.Fatalf("%d acks (at most %d) and %d rate_limited (want 10) in %v", acks, maxAcks, limited, took)
	}
	t.Logf("closed after %v and %d messages: %d acks, %d rate_limited", took, <-sent, acks, limited)
}

// TestModeratelyFastClientIsNotClosed: a client a quarter over the rate
// for four seconds is told rate_limited about its first refused messages,
// each by id, and is not closed: its refusals stay well under AbuseLimit
// within any AbuseWindow.
func TestModeratelyFastClientIsNotClosed(t *testing.T) {
	n := startNode(t, testenv.Stores(t)[0].Open(t), nil, gateway.Config{MessagesPerSecond: 20, Burst: 5})
	ws := dialRaw(t, n, "alice", nil)
	answers := make(chan protocol.Message, 1000)
	go func() {
		defer close(answers)
		for {
			var m protocol.Message
			if ws.ReadJSON(&m) != nil {
				return
			}
			answers <- m
		}
	}()
	sent := sendAt(ws, 25, 4*time.Second)
	time.Sleep(500 * time.Millisecond) // the bucket refills
	if err := ws.WriteMessage(websocket.TextMessage, heartbeatFrame("last")); err != nil {
		t.Fatalf("after %d messages: %v", sent, err)
	}
	var got []protocol.Message
	timeout := time.After(10 * time.Second)
	for len(got) == 0 || got[len(got)-1].RequestMessageID != "last" {
		select {
		case m, ok := <-answers:
			if !ok {
				t.Fatalf("the connection ended after %d messages and %d answers", sent, len(got))
			}
			got = append(got, m)
		case <-timeout:
			t.Fatalf("no answer to the last heartbeat")
		}
	}
	acks, limited := countAnswers(got)
	if limited == 0 || acks+limited > sent+1 {
		t.Fatalf("%d messages: %d acks, %d rate_limited; want some refused and told", sent, acks, limited)
	}
	t.Logf("%d messages: %d acks, %d rate_limited", sent, acks, limited)
}

// TestPresenceAndSpectators: a player hears the opponent connect; a quick
// reconnect within the debounce does not flap; players get the spectator
// count.
func TestPresenceAndSpectators(t *testing.T) {
	n := startNode(t, testenv.Stores(t)[0].Open(t), nil, gateway.Config{PresenceDebounce: 500 * time.Millisecond})
	ctx := ctxT(t)
	game := n.create(t, "tictactoe", "alice", "bob")
	alice := newViewer(t, n.dial(t, "alice"), game, "tictactoe")
	if _, err := alice.c.Request(ctx, protocol.Request{Type: protocol.TypeJoinGame, GameID: game.String()}); err != nil {
		t.Fatal(err)
	}
	bobConn := n.dial(t, "bob")
	bobConn.Request(ctx, protocol.Request{Type: protocol.TypeJoinGame, GameID: game.String()})
	waitFor(t, alice, func(m protocol.Message) bool {
		return m.Type == protocol.TypeOpponentStatus && m.PlayerID == "bob" && m.Status == "connected"
	})
	// A quick reconnect: no "disconnected" reaches alice.
	bobConn.Drop()
	bobConn = n.dial(t, "bob")
	bobConn.Request(ctx, protocol.Request{Type: protocol.TypeJoinGame, GameID: game.String()})
	sam := n.dial(t, "sam")
	sam.Request(ctx, protocol.Request{Type: protocol.TypeSpectate, GameID: game.String()})
	// (alice may first get the count of 0 she was owed on joining, if her
	// own join registered after bob's: that is not a flap.)
	m := waitFor(t, alice, func(m protocol.Message) bool {
		return (m.Type == protocol.TypeSpectatorCount && *m.Count == 1) || (m.Type == protocol.TypeOpponentStatus && m.Status == "disconnected")
	})
	if m.Type != protocol.TypeSpectatorCount {
		t.Fatalf("alice got %+v before the spectator count: presence flapped", m)
	}
	// A real departure is announced after the debounce.
	bobConn.Drop()
	start := time.Now()
	waitFor(t, alice, func(m protocol.Message) bool {
		return m.Type == protocol.TypeOpponentStatus && m.PlayerID == "bob" && m.Status == "disconnected"
	})
	if time.Since(start) < 400*time.Millisecond {
		t.Fatal("disconnected announced before the debounce")
	}
}

// One connection follows at most MaxGames games at once: each costs the
// node a feed and a store subscription, which client input may not grow
// without end. Past it a spectate is refused action_not_allowed and opens
// nothing; leaving one makes room.
func TestGamesPerConnectionAreBounded(t *testing.T) {
	n := startNode(t, testenv.Stores(t)[0].Open(t), nil, gateway.Config{MaxGames: 3})
	var ids []uuid.UUID
	for i := 0; i < 4; i++ {
		ids = append(ids, n.create(t, "tictactoe", "p"+strconv.Itoa(i)+"a", "p"+strconv.Itoa(i)+"b"))
	}
	sam := n.dial(t, "sam")
	spectate := func(g uuid.UUID) protocol.Message {
		m, err := sam.Request(ctxT(t), protocol.Request{Type: protocol.TypeSpectate, GameID: g.String()})
		if err != nil && m.Error == nil {
			t.Fatal(err)
		}
		return m
	}
	for _, g := range ids[:3] {
		if m := spectate(g); m.Type != protocol.TypeJoined {
			t.Fatalf("spectate within the bound: %+v", m)
		}
	}
	m := spectate(ids[3])
	if m.Type != protocol.TypeError || m.Error.Code != protocol.CodeActionNotAllowed || !strings.Contains(m.Error.Message, "follows 3 games") {
		t.Fatalf("a fourth game: %+v", m)
	}
	if st := n.hub.Stats(); st.Feeds != 3 {
		t.Fatalf("%d feeds after the refusal, want 3", st.Feeds)
	}
	if m, err := sam.Request(ctxT(t), protocol.Request{Type: protocol.TypeLeaveSpectate, GameID: ids[0].String()}); err != nil || m.Type == protocol.TypeError {
		t.Fatalf("leave: %+v, %v", m, err)
	}
	if m := spectate(ids[3]); m.Type != protocol.TypeJoined {
		t.Fatalf("a fourth game after leaving one: %+v", m)
	}
}
