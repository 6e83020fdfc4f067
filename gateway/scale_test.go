package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/playlog/playlog/auth"
	"github.com/playlog/playlog/client"
	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/protocol"
)

// Scale tests of the live path (package hub behind the gateway): join
// churn over two nodes, a thousand viewers of one game, and a viewer that
// never reads beside viewers that do. All run on both stores over real
// WebSocket; -short scales the counts down for the race detector.

// TestJoinChurn: thousands of join/leave and spectate/leave cycles over two
// nodes, on one game and across many, are each answered (joined then
// game_state, then left) without a single failure; a game has one store
// subscription per node however many viewers it has there; and once the
// last viewer leaves, every feed and store subscription stops.
func TestJoinChurn(t *testing.T) {
	scale := 1
	if testing.Short() {
		scale = 10
	}
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		na, nb := twoNodes(t, b, gateway.Config{})
		ctx := ctxT(t)
		nodes := []*node{na, nb}
		players := []string{"alice", "bob"}
		one := na.create(t, "tictactoe", players...)

		// conns dials count connections, spread over both nodes and, for
		// players, alternating alice and bob on each.
		conns := func(count int, user func(i int) string) []*client.Client {
			cs := make([]*client.Client, count)
			for i := range cs {
				cs[i] = nodes[(i/2)%2].dial(t, user(i))
			}
			return cs
		}
		player := func(i int) string { return players[i%2] }
		run := func(name string, cs []*client.Client, cycles int, role string, game func(conn, cycle int) uuid.UUID) {
			t.Helper()
			start := time.Now()
			err := parallel(ctx, len(cs), func(ctx context.Context, i int) error {
				for k := range cycles {
					if err := joinLeave(ctx, cs[i], game(i, k), role); err != nil {
						return fmt.Errorf("%s: connection %d, cycle %d: %w", name, i, k, err)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d cycles in %v", name, len(cs)*cycles, time.Since(start).Round(time.Millisecond))
		}

		// (a) 5000 cycles on one game, 20 connections of 250.
		run("one game", conns(20, player), 250/scale, protocol.RolePlayer,
			func(int, int) uuid.UUID { return one })

		// (b) 5000 cycles across 500 games: each connection walks all of
		// them from its own offset, so feeds open and linger out all along.
		start := time.Now()
		games := make([]uuid.UUID, 500/scale)
		for i := range games {
			games[i] = nodes[i%2].create(t, "tictactoe", players...)
		}
		t.Logf("created %d games in %v", len(games), time.Since(start).Round(time.Millisecond))
		run("500 games", conns(20, player), 250/scale, protocol.RolePlayer,
			func(i, k int) uuid.UUID { return games[(i*len(games)/20+k)%len(games)] })

		// (c) 2000 spectate/leave_spectate cycles by a non-player.
		run("spectators", conns(4, func(int) string { return "sam" }), 500/scale, protocol.RoleSpectator,
			func(int, int) uuid.UUID { return one })

		waitIdle(t, na, nb)

		// One store subscription per (game, node), however many viewers.
		var joined []*client.Client
		for i, n := range []*node{na, na, na, na, nb} { // 20 viewers on A, 5 on B
			for j := range 5 {
				user, role := players[j%2], protocol.RolePlayer
				if i == 1 { // and a few spectators among them
					user, role = "sam", protocol.RoleSpectator
				}
				c := n.dial(t, user)
				if err := join(ctx, c, one, role); err != nil {
					t.Fatal(err)
				}
				joined = append(joined, c)
			}
		}
		for _, w := range []struct {
			n       *node
			viewers int64
		}{{na, 20}, {nb, 5}} {
			if st, live := w.n.hub.Stats(), liveSubscriptions(t, w.n.store); st.Feeds != 1 || st.Viewers != w.viewers || live != 1 {
				t.Fatalf("%d viewers of one game on a node: hub %+v, %d live store subscriptions; want 1 feed, %d viewers, 1 subscription",
					w.viewers, st, live, w.viewers)
			}
		}
		for _, c := range joined {
			c.Close()
		}
		waitIdle(t, na, nb)
	})
}

// joinLeave joins game as role (join_game or spectate, without
// last_event_id), expects joined then game_state, then leaves and expects
// left.
func joinLeave(ctx context.Context, c *client.Client, game uuid.UUID, role string) error {
	if err := join(ctx, c, game, role); err != nil {
		return err
	}
	leave := protocol.TypeLeaveGame
	if role == protocol.RoleSpectator {
		leave = protocol.TypeLeaveSpectate
	}
	m, err := c.Request(ctx, protocol.Request{Type: leave, GameID: game.String()})
	if err != nil {
		return fmt.Errorf("%s %s: %w", leave, game, err)
	}
	if m.Type != protocol.TypeLeft {
		return fmt.Errorf("%s %s answered %s", leave, game, m.Type)
	}
	return nil
}

// join joins game as role without last_event_id and reads up to the
// snapshot. Presence messages may come between; nothing else may.
func join(ctx context.Context, c *client.Client, game uuid.UUID, role string) error {
	typ := protocol.TypeJoinGame
	if role == protocol.RoleSpectator {
		typ = protocol.TypeSpectate
	}
	m, err := c.Request(ctx, protocol.Request{Type: typ, GameID: game.String()})
	if err != nil {
		return fmt.Errorf("%s %s: %w", typ, game, err)
	}
	if m.Type != protocol.TypeJoined || m.Role != role {
		return fmt.Errorf("%s %s answered %s as %q", typ, game, m.Type, m.Role)
	}
	for {
		m, err := c.Next(ctx)
		switch {
		case err != nil:
			return fmt.Errorf("%s %s: waiting for game_state: %w", typ, game, err)
		case m.Type == protocol.TypeGameState && m.GameID == game.String():
			return nil
		case m.Type != protocol.TypeOpponentStatus && m.Type != protocol.TypeSpectatorCount:
			return fmt.Errorf("%s %s: %s (%+v) before game_state", typ, game, m.Type, m.Error)
		}
	}
}

// parallel runs f(ctx, 0) ... f(ctx, n-1) at once and returns the first
// error one of them returns; that error also ends ctx for the others.
func parallel(ctx context.Context, n int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx, i); err != nil {
				cancel(err)
			}
		}()
	}
	wg.Wait()
	return context.Cause(ctx)
}

// liveSubscriptions is the number of game subscriptions s has open.
func liveSubscriptions(t testing.TB, s eventstore.Store) int {
	t.Helper()
	ls, ok := s.(interface{ LiveSubscriptions() int })
	if !ok {
		t.Fatalf("%T does not count its live subscriptions", s)
	}
	return ls.LiveSubscriptions()
}

// waitIdle waits up to 5 s (the nodes' linger is 100 ms) for every node's
// hub to have no feed and no viewer and its store no live subscription.
func waitIdle(t testing.TB, nodes ...*node) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for i := 0; i < len(nodes); {
		n := nodes[i]
		st, live := n.hub.Stats(), liveSubscriptions(t, n.store)
		if st.Feeds == 0 && st.Viewers == 0 && live == 0 {
			i++
			continue
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %d, 5 s after the last viewer left: hub %+v, %d live store subscriptions; want none", i, st, live)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestThousandViewers: a thousand spectators over WebSocket watch one game
// of crazy eights to its end, some of them joining late from an event in
// the middle; each ends with exactly the events (ids, visibility, data) of
// a spectator that watched from the start, or exactly their suffix after
// its last_event_id, and the node holds one store subscription for all.
func TestThousandViewers(t *testing.T) {
	viewers := 1000
	if testing.Short() {
		viewers = 200
	}
	late := viewers / 10
	ensureFiles(t, uint64(2*(viewers+16)+256)) // both ends of each connection are in this process
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		n := startNode(t, b.Open(t), nil, gateway.Config{})
		// Longer than ctxT's minute: on a loaded machine a thousand joins
		// alone can take half of that.
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		players := []string{"alice", "bob", "carol"}
		game := n.create(t, "crazyeights", players...)
		clients := map[string]*viewer{}
		for _, p := range players {
			c := n.dial(t, p)
			if _, err := c.Request(ctx, protocol.Request{Type: protocol.TypeJoinGame, GameID: game.String(), LastEventID: u64(0)}); err != nil {
				t.Fatalf("%s joins: %v", p, err)
			}
			clients[p] = newViewer(t, c, game, "crazyeights")
		}
		ref := newViewer(t, n.dial(t, "ref"), game, "crazyeights")
		if _, err := ref.c.Request(ctx, protocol.Request{Type: protocol.TypeSpectate, GameID: game.String(), LastEventID: u64(0)}); err != nil {
			t.Fatal(err)
		}

		// The first spectators join from the start, four at a time; the
		// others join late, a few at a time between moves.
		all := make([]*spectator, viewers-late)
		for i := range all {
			all[i] = &spectator{user: "spec" + strconv.Itoa(i)}
		}
		start := time.Now()
		const joiners = 4
		if err := parallel(ctx, joiners, func(_ context.Context, w int) error {
			for i := w; i < len(all); i += joiners {
				if err := all[i].watch(ctx, t, n, game); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		watch := func(after uint64) {
			t.Helper()
			s := &spectator{user: "spec" + strconv.Itoa(len(all)), after: after}
			if err := s.watch(ctx, t, n, game); err != nil {
				t.Fatal(err)
			}
			all = append(all, s)
		}
		t.Logf("%d spectators joined in %v", len(all), time.Since(start).Round(time.Millisecond))
		if st, live := n.hub.Stats(), liveSubscriptions(t, n.store); st.Feeds != 1 || st.Viewers != int64(len(all)+len(players)+1) || live != 1 {
			t.Fatalf("hub %+v, %d live store subscriptions; want 1 feed, %d viewers, 1 subscription", st, live, len(all)+len(players)+1)
		}

		rng := rand.New(rand.NewPCG(7, 1000))
		start = time.Now()
		moves := 0
		for ; ; moves++ {
			if moves > 3000 {
				t.Fatal("game did not end in 3000 moves")
			}
			// A batch of late joiners. The game may have ended on the last
			// move (playOne tells below): lateAfter knows.
			if moves%3 == 2 && len(all) < viewers {
				for range min(10, viewers-len(all)) {
					watch(lateAfter(rng, ref))
				}
			}
			ids := playOne(ctx, t, n, game, clients, rng)
			if ids == nil {
				break
			}
			ref.until(ctx, ids[len(ids)-1])
		}
		for len(all) < viewers { // the game was short: the rest join after its end, before its last event
			watch(lateAfter(rng, ref))
		}
		ref.until(ctx, 0)
		for _, v := range clients {
			v.until(ctx, 0)
		}
		for i, s := range all {
			select {
			case <-s.done:
			case <-ctx.Done():
				t.Fatalf("spectator %d (after %d) has %d events: %v", i, s.after, len(s.events), ctx.Err())
			}
		}
		played := time.Since(start)
		checkSnapshot(t, n, "ref", game, ref, protocol.TypeSpectate)

		want := make([]string, len(ref.events))
		for i, m := range ref.events {
			want[i] = eventKey(m)
		}
		for i, s := range all {
			if s.err != nil {
				t.Fatalf("spectator %d (after %d): %v", i, s.after, s.err)
			}
			exp := want[s.after:]
			if len(s.events) != len(exp) {
				t.Fatalf("spectator %d (after %d): %d events, want %d", i, s.after, len(s.events), len(exp))
			}
			for j, m := range s.events {
				if got := eventKey(m); got != exp[j] {
					t.Fatalf("spectator %d (after %d), event %d:\ngot  %s\nwant %s", i, s.after, s.after+uint64(j)+1, got, exp[j])
				}
			}
		}
		counts := 0
		for _, s := range all {
			counts += s.counts
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		t.Logf("%d spectators (%d late), %d moves, %d events, played in %v; %d spectator_count messages; heap %d MiB, %d goroutines, %d slow consumers",
			len(all), late, moves, len(ref.events), played.Round(time.Millisecond), counts, ms.HeapInuse>>20, runtime.NumGoroutine(), n.srv.Stats().SlowConsumers)
	})
}

// lateAfter is a late joiner's last_event_id, drawn from what ref has
// seen: none of the game's events, or up to all of them while the game
// goes on, but never its last once it has ended (ref has had game_over):
// a spectator that has the last event has nothing more to receive, and
// spectator.run waits for it, until its context ends.
func lateAfter(rng *rand.Rand, ref *viewer) uint64 {
	n := ref.state.Seq() + 1
	if ref.over != nil {
		n--
	}
	return rng.Uint64N(n)
}

// TestLateJoinersOfAnEndedGame: spectators that join a game after its last
// move, as TestThousandViewers's batches of late joiners may (the batch
// before the move that would find the game over), each from an event
// lateAfter picks, each get exactly the events after it, to the last.
// TestThousandViewers once drew the game's last event for one of them (its
// game had ended on the move before a batch): that spectator was sent
// nothing, rightly, and waited for the last event until the test's
// context ended.
func TestLateJoinersOfAnEndedGame(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		n := startNode(t, b.Open(t), nil, gateway.Config{})
		ctx := ctxT(t)
		players := []string{"alice", "bob"}
		game := n.create(t, "tictactoe", players...)
		clients := map[string]*viewer{}
		for _, p := range players {
			c := n.dial(t, p)
			if _, err := c.Request(ctx, protocol.Request{Type: protocol.TypeJoinGame, GameID: game.String(), LastEventID: u64(0)}); err != nil {
				t.Fatalf("%s joins: %v", p, err)
			}
			clients[p] = newViewer(t, c, game, "tictactoe")
		}
		ref := newViewer(t, n.dial(t, "ref"), game, "tictactoe")
		if _, err := ref.c.Request(ctx, protocol.Request{Type: protocol.TypeSpectate, GameID: game.String(), LastEventID: u64(0)}); err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(7, 1000))
		for moves := 0; ; moves++ {
			if moves > 20 {
				t.Fatal("tictactoe did not end in 20 moves")
			}
			ids := playOne(ctx, t, n, game, clients, rng)
			if ids == nil {
				break
			}
			ref.until(ctx, ids[len(ids)-1])
		}
		last := ref.state.Seq()
		if ref.over == nil {
			t.Fatalf("the game is over, but ref (at %d) has had no game_over", last)
		}
		late := make([]*spectator, 30)
		for i := range late {
			late[i] = &spectator{user: "late" + strconv.Itoa(i), after: lateAfter(rng, ref)}
			if err := late[i].watch(ctx, t, n, game); err != nil {
				t.Fatal(err)
			}
		}
		wait := time.After(10 * time.Second)
		for i, s := range late {
			select {
			case <-s.done:
			case <-wait:
				t.Fatalf("late joiner %d (after %d; the game's last event is %d) has %d events, 10 s after joining", i, s.after, last, len(s.events))
			}
			if s.err != nil {
				t.Fatalf("late joiner %d (after %d): %v", i, s.after, s.err)
			}
			if got, want := len(s.events), int(last-s.after); got != want {
				t.Fatalf("late joiner %d (after %d): %d events, want %d", i, s.after, got, want)
			}
		}
	})
}

// spectator is one of many viewers read by its own goroutine: the events
// it was sent, which must follow each other from after+1, up to the
// game's last.
type spectator struct {
	user   string
	after  uint64
	c      *client.Client
	events []protocol.Message
	counts int // spectator_count messages
	err    error
	done   chan struct{} // closed after the game's last event or at the first error
}

// watch connects to n, spectates game from s.after and starts reading. The
// connection is closed at the end of t. Safe to call from any goroutine.
func (s *spectator) watch(ctx context.Context, t testing.TB, n *node, game uuid.UUID) error {
	tok, err := auth.Mint(jwtSecret, s.user, time.Hour, "", "", time.Now())
	if err != nil {
		return err
	}
	// A small buffer: a thousand clients of the default 4096 messages
	// would take gigabytes. This one's goroutine keeps reading.
	c, err := client.Dial(ctx, "ws"+strings.TrimPrefix(n.url, "http")+"/v1/ws", tok, client.Options{Buffer: 64})
	if err != nil {
		return fmt.Errorf("%s dials: %w", s.user, err)
	}
	t.Cleanup(func() { c.Close() })
	if m, err := c.Next(ctx); err != nil || m.Type != protocol.TypeConnected {
		return fmt.Errorf("%s: first message %+v, %v; want connected", s.user, m, err)
	}
	if _, err := c.Request(ctx, protocol.Request{Type: protocol.TypeSpectate, GameID: game.String(), LastEventID: u64(s.after)}); err != nil {
		return fmt.Errorf("%s spectates after %d: %w", s.user, s.after, err)
	}
	s.c, s.done = c, make(chan struct{})
	go s.run(ctx, game)
	return nil
}

func (s *spectator) run(ctx context.Context, game uuid.UUID) {
	defer close(s.done)
	next := s.after + 1
	for {
		m, err := s.c.Next(ctx)
		if err != nil {
			s.err = fmt.Errorf("waiting for event %d: %w", next, err)
			return
		}
		if m.GameID != game.String() {
			continue
		}
		switch m.Type {
		case protocol.TypeEvent:
			if *m.EventID != next {
				s.err = fmt.Errorf("event %d where %d was due", *m.EventID, next)
				return
			}
			s.events = append(s.events, m)
			next++
			// seed_revealed, every finished game's last event: a stub to
			// a spectator of a game with secrets (crazy eights renders no
			// event of its own as a stub).
			if m.EventType == engine.TypeSeedRevealed || m.Visibility == engine.Stub.String() {
				return
			}
		case protocol.TypeSpectatorCount:
			s.counts++
		case protocol.TypeError:
			s.err = fmt.Errorf("error %+v", m.Error)
			return
		}
	}
}

// eventKey is an event message as every viewer of its view must get it:
// all of it but the time it was sent.
func eventKey(m protocol.Message) string {
	m.Timestamp = time.Time{}
	b, _ := json.Marshal(m)
	return string(b)
}

// playOne makes the next move of game: a random legal one of whoever must
// move, sent over that player's connection. It returns the move's event
// ids, none if the game had ended.
func playOne(ctx context.Context, t *testing.T, n *node, game uuid.UUID, players map[string]*viewer, rng *rand.Rand) []uint64 {
	t.Helper()
	var info gameInfo
	for p := range players {
		n.rest(t, p, "GET", "/v1/games/"+game.String(), nil, &info)
		break
	}
	if info.Status == "ended" {
		return nil
	}
	mover := info.Turn[0]
	if info.Forced != nil {
		mover = info.Forced.Player
	}
	var mine gameInfo
	n.rest(t, mover, "GET", "/v1/games/"+game.String(), nil, &mine)
	res, err := players[mover].c.Request(ctx, protocol.Request{Type: protocol.TypeAction, GameID: game.String(),
		Action: mine.Legal[rng.IntN(len(mine.Legal))]})
	if err != nil {
		t.Fatalf("move by %s: %v", mover, err)
	}
	return res.EventIDs
}

// ensureFiles raises the soft limit on open files to at least need, for
// the test's duration.
func ensureFiles(t *testing.T, need uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur >= need {
		return
	}
	if lim.Max < need {
		t.Fatalf("this test needs %d open files; the hard limit is %d (ulimit -Hn)", need, lim.Max)
	}
	old := lim
	lim.Cur = need
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("raising the open-file limit to %d: %v", need, err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
}

// TestSlowViewerDoesNotDelayOthers: crazy eights is played in rounds of
// some hundred events, with normal spectators watching, and in every other
// round also a spectator that never reads (a new one each game, and each
// time the last is cut). Slow viewers are cut and their connections end;
// the normal viewers get every event, and their delay from the mover's
// action_result to each event is, at p99, within a few ms of that in the
// rounds without a slow viewer. (The machine is shared: a measurement over
// the bound is repeated, up to three times, before the test fails.)
func TestSlowViewerDoesNotDelayOthers(t *testing.T) {
	pairs := 3
	if testing.Short() {
		pairs = 1
	}
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		r := newSlowRig(t, b)
		for attempt := 1; ; attempt++ {
			base, slowed := r.rounds(pairs, 150)
			b50, b99, s50, s99 := pctDur(base, 50), pctDur(base, 99), pctDur(slowed, 50), pctDur(slowed, 99)
			t.Logf("attempt %d: delay from action_result to a normal viewer's event: without a slow viewer p50 %v p99 %v (%d), with one p50 %v p99 %v (%d); %d slow viewers, %d cut",
				attempt, b50, b99, len(base), s50, s99, len(slowed), r.slowJoins, r.cuts())
			if s99 <= b99+20*time.Millisecond {
				break
			}
			if attempt == 3 {
				t.Fatalf("a slow viewer raised the others' p99 delay from %v to %v, three times over", b99, s99)
			}
		}
		r.checkEndings()
	})
}

// slowRig is TestSlowViewerDoesNotDelayOthers's node and clients.
type slowRig struct {
	t       *testing.T
	ctx     context.Context
	n       *node
	tiny    string // URL of a server on n's gateway with tiny socket buffers
	conns   map[string]*client.Client
	normals []*client.Client
	rng     *rand.Rand

	slowJoins int
	ended     sync.WaitGroup // cut slow viewers, read to their end
	endings   chan error
}

func newSlowRig(t *testing.T, b testenv.Backend) *slowRig {
	// A send queue small enough for a slow viewer to fill in a game, large
	// enough for a normal viewer's writer to be descheduled a while on a
	// loaded machine without being cut.
	n := startNode(t, b.Open(t), nil, gateway.Config{SendQueue: 64, SlowConsumerTimeout: 300 * time.Millisecond})
	tiny := httptest.NewUnstartedServer(n.srv.Handler())
	tiny.Listener = tinySendBuffers{tiny.Listener}
	tiny.Start()
	t.Cleanup(tiny.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // up to three attempts
	t.Cleanup(cancel)
	r := &slowRig{t: t, ctx: ctx, n: n, tiny: tiny.URL, conns: map[string]*client.Client{},
		rng: rand.New(rand.NewPCG(3, 4)), endings: make(chan error, 1000)}
	for _, p := range []string{"alice", "bob"} {
		r.conns[p] = n.dial(t, p)
	}
	for i := range 6 {
		r.normals = append(r.normals, n.dial(t, "watcher"+strconv.Itoa(i)))
	}
	return r
}

// cuts is how many connections the gateway cut as slow. Only slow viewers
// are; each is counted once, as each watches one game and never joins
// another while its queue is full.
func (r *slowRig) cuts() int64 { return r.n.srv.Stats().SlowConsumers }

// rounds plays 2*pairs rounds of at least perRound events, every other one
// with a slow viewer, and returns the normal viewers' delays in rounds
// without one and with one.
func (r *slowRig) rounds(pairs, perRound int) (base, slowed []time.Duration) {
	t := r.t
	for round := range 2 * pairs {
		withSlow := round%2 == 1
		cutsBefore := r.cuts()
		events, games := 0, 0
		for ; events < perRound || (withSlow && r.cuts() == cutsBefore); games++ {
			if games == 20 {
				t.Fatalf("round %d: %d games, %d events, and no slow viewer was cut", round, games, events)
			}
			delays, head := r.game(withSlow)
			if withSlow {
				slowed = append(slowed, delays...)
			} else {
				base = append(base, delays...)
			}
			events += int(head)
		}
		t.Logf("round %d (slow viewer: %v): %d games, %d events, %d slow viewers cut", round, withSlow, games, events, r.cuts()-cutsBefore)
	}
	return base, slowed
}

// game plays one game to its end, with a slow viewer if withSlow, checks
// that every normal viewer got every event, and returns their delays and
// the game's last event id.
func (r *slowRig) game(withSlow bool) ([]time.Duration, uint64) {
	t, ctx, n := r.t, r.ctx, r.n
	game := n.create(t, "crazyeights", "alice", "bob")
	clients := map[string]*viewer{}
	for p, c := range r.conns {
		if _, err := c.Request(ctx, protocol.Request{Type: protocol.TypeJoinGame, GameID: game.String(), LastEventID: u64(0)}); err != nil {
			t.Fatal(err)
		}
		clients[p] = newViewer(t, c, game, "crazyeights")
	}
	for _, c := range r.normals {
		if _, err := c.Request(ctx, protocol.Request{Type: protocol.TypeSpectate, GameID: game.String(), LastEventID: u64(0)}); err != nil {
			t.Fatal(err)
		}
	}
	var slow *websocket.Conn
	var cutAtJoin int64
	resultAt := map[uint64]time.Time{}
	for moves := 0; ; moves++ {
		if moves > 3000 {
			t.Fatal("game did not end in 3000 moves")
		}
		if withSlow && (slow == nil || r.cuts() > cutAtJoin) {
			if slow != nil {
				r.readToEnd(slow)
			}
			cutAtJoin = r.cuts()
			slow = dialBlind(t, r.tiny, "slowpoke")
			if err := spectateBlind(slow, game); err != nil {
				t.Fatal(err)
			}
			r.slowJoins++
		}
		ids := playOne(ctx, t, n, game, clients, r.rng)
		at := time.Now()
		if ids == nil {
			break
		}
		for _, id := range ids {
			resultAt[id] = at
		}
		for _, v := range clients {
			v.until(ctx, ids[len(ids)-1])
		}
	}
	head := clients["alice"].state.Seq()
	var delays []time.Duration
	for i, c := range r.normals {
		for next := uint64(1); next <= head; {
			m, got, err := c.NextTimed(ctx)
			if err != nil {
				t.Fatalf("viewer %d waiting for event %d of %d: %v", i, next, head, err)
			}
			if m.Type != protocol.TypeEvent || m.GameID != game.String() {
				continue
			}
			if *m.EventID != next {
				t.Fatalf("viewer %d got event %d where %d was due", i, *m.EventID, next)
			}
			if sent, ok := resultAt[next]; ok { // not the game's creation
				delays = append(delays, got.Sub(sent))
			}
			next++
		}
		// Leaving takes the feed's lock: once answered, every event of
		// this game has been offered to every viewer, the slow one too,
		// so cuts() is final for this game.
		if _, err := c.Request(ctx, protocol.Request{Type: protocol.TypeLeaveSpectate, GameID: game.String()}); err != nil {
			t.Fatal(err)
		}
	}
	for p, v := range clients {
		v.until(ctx, 0)
		if _, err := r.conns[p].Request(ctx, protocol.Request{Type: protocol.TypeLeaveGame, GameID: game.String()}); err != nil {
			t.Fatal(err)
		}
	}
	if slow != nil {
		if r.cuts() > cutAtJoin {
			r.readToEnd(slow)
		} else {
			slow.Close() // not filled yet; nothing more can fill it
		}
	}
	return delays, head
}

// readToEnd reads a slow viewer that was cut, in the background, until
// its connection ends, which must come.
func (r *slowRig) readToEnd(ws *websocket.Conn) {
	r.ended.Add(1)
	go func() {
		defer r.ended.Done()
		ws.SetReadDeadline(time.Now().Add(15 * time.Second))
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				r.endings <- err
				return
			}
		}
	}()
}

// checkEndings checks that every slow viewer that was cut saw its
// connection end: with 4001, or without a close frame if the server could
// not write one into its full socket.
func (r *slowRig) checkEndings() {
	r.t.Helper()
	r.ended.Wait()
	close(r.endings)
	for err := range r.endings {
		var ce *websocket.CloseError
		if errors.As(err, &ce) && ce.Code != protocol.CloseSlowConsumer {
			r.t.Fatalf("a slow viewer was closed with %d, want %d", ce.Code, protocol.CloseSlowConsumer)
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			r.t.Fatalf("a slow viewer's connection did not end within 15 s of its cut: %v", err)
		}
	}
}

func pctDur(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	d = append([]time.Duration(nil), d...)
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[(len(d)-1)*p/100]
}

// tinySendBuffers shrinks the kernel's send buffers of accepted
// connections, so that a client that stops reading fills them in kilobytes.
type tinySendBuffers struct{ net.Listener }

func (l tinySendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return c, err
}

// dialBlind opens a raw WebSocket to server (an http:// URL) with a tiny
// receive buffer, and never reads it.
func dialBlind(t *testing.T, server, user string) *websocket.Conn {
	t.Helper()
	d := &websocket.Dialer{ReadBufferSize: 256, NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		nd := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048) })
		}}
		return nd.DialContext(ctx, network, addr)
	}}
	ws, _, err := d.Dial("ws"+strings.TrimPrefix(server, "http")+"/v1/ws", http.Header{"Authorization": {"Bearer " + token(t, user)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

// spectateBlind asks, on a connection that never reads, to spectate game
// from its snapshot.
func spectateBlind(ws *websocket.Conn, game uuid.UUID) error {
	req, _ := json.Marshal(protocol.Request{Type: protocol.TypeSpectate, MessageID: "s-" + game.String()[:8], GameID: game.String()})
	ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return ws.WriteMessage(websocket.TextMessage, req)
}
