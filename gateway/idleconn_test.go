package gateway_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/playlog/playlog/auth"
	"github.com/playlog/playlog/client"
	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/protocol"
)

// connGoroutines counts the goroutines running each of the given functions
// of package gateway ("(*conn).writeLoop", ...).
func connGoroutines(fns ...string) map[string]int {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := map[string]int{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, fn := range fns {
			if strings.Contains(g, "github.com/playlog/playlog/gateway."+fn+"(") {
				n[fn]++
			}
		}
	}
	return n
}

// waitGoroutines waits up to five seconds until connGoroutines is want.
func waitGoroutines(t *testing.T, want map[string]int) {
	t.Helper()
	var fns []string
	for fn := range want {
		fns = append(fns, fn)
	}
	var got map[string]int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if got = connGoroutines(fns...); equalCounts(got, want) {
			return
		}
	}
	t.Fatalf("goroutines %v, want %v", got, want)
}

func equalCounts(a, b map[string]int) bool {
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// TestIdleJoinedConnectionHoldsOnlyItsReader: once its answers are sent,
// a joined connection holds one goroutine, its reader (no writer, no
// goroutine serving a message); an event appended later starts a writer,
// arrives in order after everything before it, and the writer goes again.
// Pings still flow while the connection is quiet, and keep it open.
func TestIdleJoinedConnectionHoldsOnlyItsReader(t *testing.T) {
	b := testenv.Stores(t)[0]
	ping := 100 * time.Millisecond
	n := startNode(t, b.Open(t), nil, gateway.Config{PingInterval: ping, PongTimeout: ping})
	ctx := ctxT(t)
	game := n.create(t, "tictactoe", "alice", "bob")
	alice := n.dial(t, "alice")
	if _, err := alice.Request(ctx, protocol.Request{Type: protocol.TypeJoinGame, GameID: game.String()}); err != nil {
		t.Fatal(err)
	}
	idle := map[string]int{"(*conn).readLoop": 1, "(*conn).writeLoop": 0, "(*conn).serveMessage": 0}
	waitGoroutines(t, idle)

	// Quiet for several ping periods and their pong timeouts: the pings
	// (each on a writer of its own) keep the connection open, and no writer
	// stays.
	time.Sleep(6 * ping)
	waitGoroutines(t, idle)

	// Bob moves; alice gets the event, after her snapshot, in order.
	bob := n.dial(t, "bob")
	if _, err := bob.Request(ctx, protocol.Request{Type: protocol.TypeJoinGame, GameID: game.String(), LastEventID: u64(0)}); err != nil {
		t.Fatal(err)
	}
	var info gameInfo
	n.rest(t, "alice", "GET", "/v1/games/"+game.String(), nil, &info)
	mover := map[string]*client.Client{"alice": alice, "bob": bob}[info.Turn[0]]
	var legal gameInfo
	n.rest(t, info.Turn[0], "GET", "/v1/games/"+game.String(), nil, &legal)
	res, err := mover.Request(ctx, protocol.Request{Type: protocol.TypeAction, GameID: game.String(), Action: legal.Legal[0]})
	if err != nil {
		t.Fatal(err)
	}
	var last uint64
	for got := false; !got; {
		m, err := alice.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m.EventID == nil || m.GameID != game.String() {
			continue
		}
		if *m.EventID <= last && m.Type != protocol.TypeGameState {
			t.Fatalf("event %d after %d", *m.EventID, last)
		}
		last = *m.EventID
		got = last == res.EventIDs[len(res.EventIDs)-1]
	}
	two := map[string]int{"(*conn).readLoop": 2, "(*conn).writeLoop": 0, "(*conn).serveMessage": 0}
	waitGoroutines(t, two)

	// A heartbeat is still answered by a writer started for it.
	if m, err := alice.Request(ctx, protocol.Request{Type: protocol.TypeHeartbeat}); err != nil || m.Type != protocol.TypeHeartbeatAck {
		t.Fatalf("heartbeat: %+v, %v", m, err)
	}
	waitGoroutines(t, two)
}

// TestUnansweredPingsCut: a client that does not answer the server's
// pings (it never reads, so its library never sends a pong) is cut after
// PingInterval and PongTimeout, even though no writer runs between pings.
func TestUnansweredPingsCut(t *testing.T) {
	b := testenv.Stores(t)[0]
	ping := 100 * time.Millisecond
	n := startNode(t, b.Open(t), nil, gateway.Config{PingInterval: ping, PongTimeout: ping})
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(n.url, "http")+"/v1/ws?access_token="+token(t, "alice"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	waitGoroutines(t, map[string]int{"(*conn).readLoop": 1})
	time.Sleep(2*ping + ping/2)                              // the deadline passes, unanswered
	waitGoroutines(t, map[string]int{"(*conn).readLoop": 0}) // cut
}

// TestIdleTimeoutWithoutWriter: a connection that sends nothing for
// IdleTimeout, though it answers pings, is closed with 4002 by the writer
// started for a ping.
func TestIdleTimeoutWithoutWriter(t *testing.T) {
	b := testenv.Stores(t)[0]
	n := startNode(t, b.Open(t), nil, gateway.Config{PingInterval: 50 * time.Millisecond, IdleTimeout: 200 * time.Millisecond})
	c := n.dial(t, "alice")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	for {
		_, err := c.Next(ctx)
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			if ce.Code != protocol.CloseIdle {
				t.Fatalf("closed with %d, want %d", ce.Code, protocol.CloseIdle)
			}
			if d := time.Since(start); d < 150*time.Millisecond {
				t.Fatalf("closed after %v, before the idle timeout", d)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestExpiredTokenEndsTheConnection: a WebSocket does not outlive its
// token. Once the token's exp plus the leeway has passed, the connection
// is closed with 4003 at the next ping, however busy it is; a token with
// time left keeps its connection.
func TestExpiredTokenEndsTheConnection(t *testing.T) {
	b := testenv.Stores(t)[0]
	n := startNode(t, b.Open(t), nil, gateway.Config{PingInterval: 50 * time.Millisecond})
	// Minted long ago, so that its exp plus the 30 s leeway is a second or
	// two from now (exp is in whole seconds).
	expires := time.Now().Add(2 * time.Second).Truncate(time.Second)
	stale, err := auth.Mint(jwtSecret, "alice", time.Minute, "", "", expires.Add(-time.Minute-auth.DefaultLeeway))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(n.url, "http") + "/v1/ws"
	c, err := client.Dial(ctx, url, stale, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fresh := n.dial(t, "alice")
	for {
		// A busy connection: the heartbeats count as activity, and the
		// token ends it still.
		_, err := c.Request(ctx, protocol.Request{Type: protocol.TypeHeartbeat})
		for errors.Is(err, websocket.ErrCloseSent) {
			_, err = c.Next(ctx) // the close came while writing: read it
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			if ce.Code != protocol.CloseTokenExpired || !strings.Contains(ce.Text, "token expired") {
				t.Fatalf("closed with %d %q, want %d token expired", ce.Code, ce.Text, protocol.CloseTokenExpired)
			}
			if time.Now().Before(expires) {
				t.Fatalf("closed at %v, before the token expired at %v", time.Now(), expires)
			}
			break
		}
		if err != nil {
			t.Fatalf("heartbeat: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := fresh.Request(ctx, protocol.Request{Type: protocol.TypeHeartbeat}); err != nil {
		t.Fatalf("a connection whose token has time left: %v", err)
	}
}
