package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/auth"
	"github.com/playlog/playlog/client"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/internal/par"
	"github.com/playlog/playlog/internal/testkit/jscluster"
	"github.com/playlog/playlog/internal/testkit/testnode"
	"github.com/playlog/playlog/protocol"
	"github.com/playlog/playlog/seal"
)

// Two playlogd nodes on a 3-server JetStream cluster with R3; players of
// each game on different nodes play while one NATS server after another
// is killed and comes back.
func TestClusterNodeLoss(t *testing.T) {
	t.Parallel() // with the package's other long tests: each waits on its own servers
	testCluster(t, func(t *testing.T, c *jscluster.Cluster, stream string) {
		for i := range 3 {
			time.Sleep(time.Second)
			c.Kill(i)
			t.Logf("killed n%d", i+1)
			time.Sleep(2 * time.Second)
			c.Restart(i)
			t.Logf("n%d is back", i+1)
		}
		time.Sleep(time.Second)
	})
}

// The same, while the stream's leader steps down three times.
func TestClusterLeaderStepDown(t *testing.T) {
	t.Parallel() // with the package's other long tests: each waits on its own servers
	testCluster(t, func(t *testing.T, c *jscluster.Cluster, stream string) {
		for range 3 {
			time.Sleep(time.Second)
			t.Logf("n%d leads the stream now", c.StepDown(stream)+1)
		}
		time.Sleep(time.Second)
	})
}

// A rolling restart of playlogd under 100 games, on the 3-server cluster:
// each of the two nodes in turn drains (no new commands, the running ones
// answered, WebSockets closed with 1001) and stops, and a new one starts
// on its store. Clients resume on the other node; no command is lost or
// applied twice.
func TestRollingRestart(t *testing.T) {
	t.Parallel() // with the package's other long tests: each waits on its own servers
	c := jscluster.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stores := []*jetstream.Store{openReplicated(t, ctx, c), openReplicated(t, ctx, c)}
	cfg := gateway.Config{MessagesPerSecond: 10000, Burst: 10000}
	opts := testnode.Options{Seal: seal.Policy{Interval: 200 * time.Millisecond}}
	start := func(i int) *testnode.Node {
		return testnode.StartWith(t, stores[i], stores[i].Bus("presence"), cfg, opts)
	}
	nodes := []*testnode.Node{start(0), start(1)}
	urls := newNodeURLs(nodes[0].URL, nodes[1].URL)
	games := 100
	if testing.Short() { // the race detector's pass: the same, smaller
		games = 30
	}
	played := playUnder(t, ctx, urls, games, func() {
		for i := range nodes {
			time.Sleep(2 * time.Second)
			wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
			urls.waitJoined(wctx, i, games/4)
			wcancel()
			dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
			err := nodes[i].Drain(dctx)
			dcancel()
			if err != nil {
				t.Errorf("node %d drains: %v", i, err)
			}
			nodes[i].Stop()
			// A new process: a new connection, a cold index.
			stores[i].Close()
			stores[i] = openReplicated(t, ctx, c)
			nodes[i] = start(i)
			urls.set(i, nodes[i].URL)
			t.Logf("node %d restarted", i)
		}
		time.Sleep(2 * time.Second)
	})
	if _, reconnects := checkPlayed(t, ctx, urls, played, stores[0], stores[1]); reconnects == 0 {
		t.Fatal("no client had to resume: the restarts tested nothing")
	}
	waitSealed(t, nodes...)
	auditCluster(t, c)
}

// openReplicated opens a store on the cluster's stream with R3; it closes
// after the nodes on it (cleanups run last first).
func openReplicated(t *testing.T, ctx context.Context, c *jscluster.Cluster) *jetstream.Store {
	s, err := jetstream.Open(ctx, jetstream.Config{URL: c.URL(), Replicas: 3,
		RequestTimeout: 2 * time.Second, TailCheck: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// waitSealed waits until no node has a seal left to store.
func waitSealed(t *testing.T, nodes ...*testnode.Node) {
	t.Helper()
	pending := func() int {
		n := 0
		for _, node := range nodes {
			n += node.Sealer.Pending()
		}
		return n
	}
	for deadline := time.Now().Add(10 * time.Second); pending() > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("%d seals still pending 10 s after play", pending())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// auditCluster runs "playlog audit" on the cluster's whole store, seals
// checked with the test nodes' key: it must find nothing.
func auditCluster(t *testing.T, c *jscluster.Cluster) {
	t.Helper()
	pub := filepath.Join(t.TempDir(), "seal.pub")
	if err := seal.WritePublicKey(pub, testnode.SealKey.Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"audit", "--nats-url", c.URL(), "--public-key", pub, "--quiet"},
		func(string) string { return "" }, &out, &errOut); code != 0 {
		t.Fatalf("audit: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "0 findings") {
		t.Fatalf("audit: %s", out.String())
	}
}

// clusterGames is how many games are in play at once in the cluster tests.
const clusterGames = 12

// testCluster runs clusterGames players' pairs, alice-i on node A and
// bob-i on node B, each playing tictactoe games one after another while
// disrupt runs, then checks what the issue asks: play went on, no
// acknowledged event lost, no command applied twice, no fork, every
// player ends with exactly the events of a viewer that never dropped,
// and "playlog audit" passes on every game.
func testCluster(t *testing.T, disrupt func(*testing.T, *jscluster.Cluster, string)) {
	c := jscluster.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sa, sb := openReplicated(t, ctx, c), openReplicated(t, ctx, c)
	cfg := gateway.Config{MessagesPerSecond: 10000, Burst: 10000}
	// A short seal interval: a seal that failed to store while the
	// cluster was disrupted is retried within the test, not a minute on.
	opts := testnode.Options{Seal: seal.Policy{Interval: 200 * time.Millisecond}}
	nodes := []*testnode.Node{
		testnode.StartWith(t, sa, sa.Bus("presence"), cfg, opts),
		testnode.StartWith(t, sb, sb.Bus("presence"), cfg, opts),
	}

	urls := newNodeURLs(nodes[0].URL, nodes[1].URL)
	played := playUnder(t, ctx, urls, clusterGames, func() { disrupt(t, c, sa.StreamName()) })
	if retries, reconnects := checkPlayed(t, ctx, urls, played, sa, sb); retries+reconnects == 0 {
		t.Fatal("no command had to be retried, no client to resume: the disruption tested nothing")
	}
	waitSealed(t, nodes...)
	auditCluster(t, c)
}

// playUnder plays tictactoe games until disrupt returns: pairs pairs of
// players, alice-i on node 0 and bob-i on node 1 (or the next node, when
// theirs goes away), each pair one game after another. It returns every
// game played, each to its end.
func playUnder(t *testing.T, ctx context.Context, nodes *nodeURLs, pairs int, disrupt func()) []*clusterGame {
	var stop atomic.Bool
	results := make([][]*clusterGame, pairs)
	errs := make(chan error, pairs)
	var wg sync.WaitGroup
	for w := range pairs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			alice, bob := fmt.Sprintf("alice-%d", w), fmt.Sprintf("bob-%d", w)
			for !stop.Load() {
				g, err := playClusterGame(ctx, nodes, alice, bob)
				if err != nil {
					errs <- fmt.Errorf("%s and %s: %w", alice, bob, err)
					return
				}
				results[w] = append(results[w], g)
			}
		}()
	}
	disrupt()
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	var all []*clusterGame
	for _, gs := range results {
		all = append(all, gs...)
	}
	if len(all) < pairs {
		t.Fatalf("only %d games finished", len(all))
	}
	return all
}

// checkPlayed checks what the issue asks of games played through trouble:
// no acknowledged event lost, no command applied twice, no fork (every
// store reads the same log), and every player ends with exactly the
// events of a viewer that never dropped.
func checkPlayed(t *testing.T, ctx context.Context, nodes *nodeURLs, played []*clusterGame, stores ...eventstore.Store) (retries, reconnects int) {
	t.Helper()
	// Games are checked eight at a time: each check waits on reads and
	// joins, and a rolling restart leaves some 900 games to check.
	_, err := par.Each(ctx, len(played), 8, func(n int) error {
		g := played[n]
		head, err := checkClusterGame(ctx, g, stores...)
		if err != nil {
			return err
		}
		for i, p := range g.players {
			// A viewer that never dropped: a fresh connection after the end.
			fresh := &clusterPlayer{user: p.user, game: g.id, nodes: nodes, node: i}
			err := fresh.follow(ctx, head)
			fresh.close()
			if err != nil {
				return fmt.Errorf("game %s, %s's reference viewer: %w", g.id, p.user, err)
			}
			if err := sameViews(p.events, fresh.events); err != nil {
				return fmt.Errorf("game %s, %s: %w", g.id, p.user, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	moves := 0
	for _, g := range played {
		moves += len(g.acked)
		for _, p := range g.players {
			retries += p.retries
			reconnects += p.reconnects
		}
	}
	t.Logf("%d games, %d moves acknowledged, %d retried commands, %d reconnects", len(played), moves, retries, reconnects)
	return retries, reconnects
}

// clusterGame is one game the cluster tests played, and what each player
// was told.
type clusterGame struct {
	id      uuid.UUID
	players [2]*clusterPlayer
	acked   map[string][]uint64 // "<user>/<message_id>" → the event ids its action_result named
}

// playClusterGame creates a game over REST (retrying while the store does
// not answer), then alice on one node and bob on another play it to its
// end, each following every event.
func playClusterGame(ctx context.Context, nodes *nodeURLs, alice, bob string) (*clusterGame, error) {
	var id uuid.UUID
	for n := 0; ; n++ {
		var err error
		if id, err = createClusterGame(ctx, nodes.at(n), alice, bob); err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil, err
		}
		time.Sleep(50 * time.Millisecond)
	}
	g := &clusterGame{id: id, acked: map[string][]uint64{}, players: [2]*clusterPlayer{
		{user: alice, game: id, nodes: nodes, node: 0}, {user: bob, game: id, nodes: nodes, node: 1}}}
	defer g.players[0].close()
	defer g.players[1].close()
	for i, cell := range drawCells { // nine moves and a draw
		p := g.players[i%2]
		msgID := "m" + strconv.Itoa(i)
		ids, err := p.act(ctx, msgID, json.RawMessage(`{"type":"place","cell":`+strconv.Itoa(cell)+`}`))
		if err != nil {
			return g, fmt.Errorf("game %s, move %d: %w", id, i, err)
		}
		g.acked[p.user+"/"+msgID] = ids
		for _, q := range g.players {
			if err := q.follow(ctx, ids[len(ids)-1]); err != nil {
				return g, fmt.Errorf("game %s, %s follows move %d: %w", id, q.user, i, err)
			}
		}
	}
	for _, q := range g.players {
		if err := q.follow(ctx, 0); err != nil {
			return g, fmt.Errorf("game %s, %s follows to the end: %w", id, q.user, err)
		}
	}
	return g, nil
}

func createClusterGame(ctx context.Context, url, creator, other string) (uuid.UUID, error) {
	body, _ := json.Marshal(map[string]any{"rules": "tictactoe", "players": []string{creator, other}})
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, "POST", url+"/v1/games", bytes.NewReader(body))
	if err != nil {
		return uuid.Nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tokenOf(creator))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return uuid.Nil, err
	}
	defer resp.Body.Close()
	var game struct {
		GameID uuid.UUID `json:"game_id"`
	}
	if resp.StatusCode != http.StatusCreated {
		return uuid.Nil, fmt.Errorf("create: status %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&game); err != nil {
		return uuid.Nil, err
	}
	return game.GameID, nil
}

// tokenOf mints an hour's token for user with the test nodes' secret.
func tokenOf(user string) string {
	tok, err := auth.Mint(testnode.JWTSecret, user, time.Hour, "", "", time.Now())
	if err != nil {
		panic(err)
	}
	return tok
}

// nodeURLs are the nodes' URLs, which change as nodes restart. Safe for
// concurrent use.
type nodeURLs struct {
	mu     sync.Mutex
	urls   []string
	joined []int // players joined to a game in play, by node
}

func newNodeURLs(urls ...string) *nodeURLs {
	return &nodeURLs{urls: urls, joined: make([]int, len(urls))}
}

// join counts a player joined on node i (modulo the number of nodes), or
// one leaving it for delta -1.
func (n *nodeURLs) join(i, delta int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.joined[i%len(n.urls)] += delta
}

// waitJoined waits until at least want players are joined to a game on
// node i, or ctx is done: a restart then cuts games in play, not players
// between games (the pairs, playing the same game, can fall into step).
func (n *nodeURLs) waitJoined(ctx context.Context, i, want int) {
	for ctx.Err() == nil {
		n.mu.Lock()
		got := n.joined[i]
		n.mu.Unlock()
		if got >= want {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// at is node i's URL (i modulo the number of nodes).
func (n *nodeURLs) at(i int) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.urls[i%len(n.urls)]
}

func (n *nodeURLs) set(i int, url string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.urls[i] = url
}

// clusterPlayer is one player's connection to one game through one of
// the nodes, node first. It resumes with the last event id it saw after
// any failure (on the next node if its node refuses it), and retries a
// command under its message id until the log answers it.
type clusterPlayer struct {
	user   string
	game   uuid.UUID
	nodes  *nodeURLs
	node   int
	c      *client.Client
	on     int                // the node c is joined on
	events []protocol.Message // every event, in order, each once
	over   bool

	retries, reconnects int
}

// connect (re)joins the game after the last event seen.
func (p *clusterPlayer) connect(ctx context.Context) error {
	if p.c != nil {
		p.c.Drop()
		p.c = nil
		p.nodes.join(p.on, -1)
		p.reconnects++
	}
	for {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		url := p.nodes.at(p.node)
		c, err := client.Dial(rctx, "ws"+strings.TrimPrefix(url, "http")+"/v1/ws", tokenOf(p.user), client.Options{})
		if err == nil {
			_, err = c.Request(rctx, protocol.Request{Type: protocol.TypeJoinGame, GameID: p.game.String(),
				LastEventID: new(uint64(len(p.events)))})
			if err == nil {
				cancel()
				p.c, p.on = c, p.node
				p.nodes.join(p.on, 1)
				return nil
			}
			c.Drop()
		}
		cancel()
		if ctx.Err() != nil {
			return fmt.Errorf("join: %w", err)
		}
		p.node++ // that node may be going away: try the next
		time.Sleep(50 * time.Millisecond)
	}
}

// act sends an action until it is answered: retryable refusals and lost
// answers are retried under the same message id.
func (p *clusterPlayer) act(ctx context.Context, msgID string, action json.RawMessage) ([]uint64, error) {
	for {
		if p.c == nil {
			if err := p.connect(ctx); err != nil {
				return nil, err
			}
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		res, err := p.c.Request(rctx, protocol.Request{Type: protocol.TypeAction, GameID: p.game.String(),
			MessageID: msgID, Action: action})
		cancel()
		var pe *protocol.Error
		switch {
		case err == nil:
			return res.EventIDs, nil
		case ctx.Err() != nil:
			return nil, err
		case errors.As(err, &pe) && pe.Code == protocol.CodeUnavailable:
			// The node is draining: resume on the next one.
			p.retries++
			p.node++
			if err := p.connect(ctx); err != nil {
				return nil, err
			}
		case errors.As(err, &pe) && pe.Code == protocol.CodeInternalError:
			p.retries++
			time.Sleep(50 * time.Millisecond)
		case errors.As(err, &pe):
			return nil, err
		default: // the connection failed, or the answer did not come
			p.retries++
			if err := p.connect(ctx); err != nil {
				return nil, err
			}
		}
	}
}

// follow reads events until the one numbered upTo, or the game's end if
// upTo is 0, resuming after any failure. An event out of order fails.
func (p *clusterPlayer) follow(ctx context.Context, upTo uint64) error {
	for (upTo == 0 && !p.over) || uint64(len(p.events)) < upTo {
		if p.c == nil {
			if err := p.connect(ctx); err != nil {
				return err
			}
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		m, err := p.c.Next(rctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			if err := p.connect(ctx); err != nil {
				return err
			}
			continue
		}
		if m.GameID != p.game.String() {
			continue
		}
		switch m.Type {
		case protocol.TypeEvent:
			if want := uint64(len(p.events)) + 1; *m.EventID != want {
				if *m.EventID < want {
					return fmt.Errorf("event %d again after %d", *m.EventID, want-1)
				}
				return fmt.Errorf("event %d after %d: a gap", *m.EventID, want-1)
			}
			p.events = append(p.events, m)
		case protocol.TypeGameOver:
			p.over = true
		}
	}
	return nil
}

func (p *clusterPlayer) close() {
	if p.c != nil {
		p.c.Close()
		p.c = nil
		p.nodes.join(p.on, -1)
	}
}

// sameViews compares two viewers' events, envelope fields aside (the
// server's message id and send time).
func sameViews(got, want []protocol.Message) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d events, a viewer that never dropped %d", len(got), len(want))
	}
	for i := range want {
		a, b := got[i], want[i]
		a.MessageID, b.MessageID, a.Timestamp = "", "", b.Timestamp
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if !bytes.Equal(ja, jb) {
			return fmt.Errorf("event %d differs:\ngot  %s\nwant %s", i+1, ja, jb)
		}
	}
	return nil
}

// checkClusterGame reads a game's log through every store given: the
// same log (no fork), dense, every acknowledged event where its answer
// said under its message id, and no message id stored twice.
func checkClusterGame(ctx context.Context, g *clusterGame, stores ...eventstore.Store) (head uint64, err error) {
	var la []eventstore.Event
	for i, s := range stores {
		l, err := s.Read(ctx, g.id, 0, 0)
		if err != nil {
			return 0, err
		}
		if i == 0 {
			la = l
		} else if len(l) != len(la) || len(l) == 0 || l[len(l)-1].Hash != la[len(la)-1].Hash {
			return 0, fmt.Errorf("game %s: store 0 reads %d events, store %d %d, heads differ", g.id, len(la), i, len(l))
		}
	}
	if err := eventstore.VerifyChain(eventstore.Hash{}, la); err != nil {
		return 0, fmt.Errorf("game %s: %v", g.id, err)
	}
	appends := map[string]uint64{} // message id → the seq its append (a stream message) begins at
	for _, e := range la {
		if e.MessageID == "" || e.Position.Minor != 1 { // an append's first event
			continue
		}
		if first, ok := appends[e.MessageID]; ok {
			return 0, fmt.Errorf("game %s: message id %s stored at seq %d and again at %d", g.id, e.MessageID, first, e.Seq)
		}
		appends[e.MessageID] = e.Seq
	}
	for id, seqs := range g.acked {
		for _, seq := range seqs {
			if seq == 0 || seq > uint64(len(la)) || la[seq-1].MessageID != id {
				return 0, fmt.Errorf("game %s: %s was acknowledged with event %d, which the log does not hold under it", g.id, id, seq)
			}
		}
	}
	return uint64(len(la)), nil
}
