package gateway

import (
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/protocol"
)

// presenceConn is a conn as presence sees it: its send queue, no socket and
// no writer (queued messages stay in the queue, for the test to read).
func presenceConn(s *Server, user string) *conn {
	c := &conn{s: s, user: user, done: make(chan struct{}), id: user}
	c.send.init(4096, func() {})
	return c
}

// presenceQueued decodes what presence queued for c.
func presenceQueued(t *testing.T, c *conn) []protocol.Message {
	t.Helper()
	var out []protocol.Message
	for b, ok := c.send.take(); ok; b, ok = c.send.take() {
		var m protocol.Message
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func lastStatus(msgs []protocol.Message, player string) string {
	st := ""
	for _, m := range msgs {
		if m.Type == protocol.TypeOpponentStatus && m.PlayerID == player {
			st = m.Status
		}
	}
	return st
}

// Two players of a game join it on one node at the same moment (as
// handle.go's join calls presence.joined once the watch is live). Each
// must end up told that the other is connected.
func TestConcurrentJoinsBothToldOpponentConnected(t *testing.T) {
	s := &Server{now: time.Now}
	p := newPresence(time.Now, 3*time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, "n1")
	// The node is busy: p.mu, which every connection shares, is held now
	// and then for a couple of milliseconds (a spectator-count tick or an
	// expiry over many games), as on a loaded node.
	stop := make(chan struct{})
	defer close(stop)
	for range 4 {
		go func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				p.mu.Lock()
				time.Sleep(500 * time.Microsecond)
				p.mu.Unlock()
			}
		}()
	}
	const rounds = 50
	missed := 0
	var example string
	for i := 0; i < rounds; i++ {
		game := uuid.New()
		alice, bob := presenceConn(s, "alice"), presenceConn(s, "bob")
		var start, wg sync.WaitGroup
		start.Add(1)
		wg.Add(2)
		for _, c := range []*conn{alice, bob} {
			go func() {
				defer wg.Done()
				start.Wait()
				p.joined(game, c, protocol.RolePlayer)
			}()
		}
		start.Done()
		wg.Wait()
		a, b := presenceQueued(t, alice), presenceQueued(t, bob)
		if lastStatus(a, "bob") != "connected" || lastStatus(b, "alice") != "connected" {
			missed++
			if example == "" {
				example = "alice was told " + statuses(a) + "; bob was told " + statuses(b)
			}
		}
		// Tidy up so that p does not grow with the rounds.
		p.left(game, alice, protocol.RolePlayer)
		p.left(game, bob, protocol.RolePlayer)
		p.mu.Lock()
		delete(p.local, game)
		delete(p.shown, game)
		p.mu.Unlock()
	}
	if missed > 0 {
		t.Fatalf("%d of %d rounds: a player both of whose opponents' connections are open was never told the opponent is connected (e.g. %s)",
			missed, rounds, example)
	}
}

func statuses(msgs []protocol.Message) string {
	s := "["
	for _, m := range msgs {
		if m.Type == protocol.TypeOpponentStatus {
			s += " " + m.PlayerID + "=" + m.Status
		}
	}
	return s + " ]"
}

// Every node receives every node's reports, for every game. Once a game's
// last report says nothing is left (or expires), nothing of it should stay.
func TestRemoteReportsLeaveNothingBehind(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	p := newPresence(clock, 3*time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)), NewLocalBus(), "n1")
	report := func(node string, game uuid.UUID, players ...string) []byte {
		b, _ := json.Marshal(presenceReport{Node: node, Game: game, Players: append([]string{}, players...)})
		return b
	}
	for i := 0; i < 1000; i++ { // games watched on node n2 only, then left
		g := uuid.New()
		p.receive(report("n2", g, "alice", "bob"))
		p.receive(report("n2", g)) // n2: nothing left
	}
	for i := 0; i < 1000; i++ { // games on node n3, which then stopped
		p.receive(report("n3", uuid.New(), "carol"))
	}
	now = now.Add(presenceExpiry + time.Second)
	p.mu.Lock()
	p.expire()
	remote, shown, local := len(p.remote), len(p.shown), len(p.local)
	p.mu.Unlock()
	if remote != 0 || shown != 0 || local != 0 {
		t.Fatalf("after every report ended or expired: %d games in p.remote, %d in p.shown, %d in p.local; want none", remote, shown, local)
	}
}

// bob's last connection closes; alice, on the same node, is to be told
// "disconnected" once the debounce has passed: once.
func TestDisconnectAnnouncedOnce(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	s := &Server{now: clock}
	p := newPresence(clock, 3*time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)), NewLocalBus(), "n1")
	game := uuid.New()
	alice, bob := presenceConn(s, "alice"), presenceConn(s, "bob")
	p.joined(game, alice, protocol.RolePlayer)
	p.joined(game, bob, protocol.RolePlayer)
	presenceQueued(t, alice)
	p.left(game, bob, protocol.RolePlayer)
	now = now.Add(3*time.Second + 100*time.Millisecond) // the debounce has passed; the settle tick (every 750 ms) is due
	// Meanwhile another node's periodic report for the game arrives (every
	// node repeats its reports every 5 s): a spectator there.
	b, _ := json.Marshal(presenceReport{Node: "n2", Game: game, Players: []string{}, Spectators: 1})
	p.receive(b)
	p.settle(t.Context())
	n := 0
	for _, m := range presenceQueued(t, alice) {
		if m.Type == protocol.TypeOpponentStatus && m.PlayerID == "bob" {
			if m.Status != "disconnected" {
				t.Fatalf("alice told bob %s", m.Status)
			}
			n++
		}
	}
	if n != 1 {
		t.Fatalf("alice was told bob disconnected %d times, want once", n)
	}
}
