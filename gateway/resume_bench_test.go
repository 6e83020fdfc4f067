package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/protocol"
)

// BenchmarkResume measures a player's resume after missing K events: from
// sending join_game with last_event_id = head-K to receiving the K-th event,
// and the bytes received; and a fresh join (no last_event_id, "fresh"), to
// its game_state. Warm: the node has the game in memory and a
// viewer on it. Cold: a node that has never seen the game (fresh caches,
// no feed), as after a restart or on another node. The game is long
// (liar's dice with six players bidding up slowly: over 2000 events), so
// that a cost growing with the game's length would show.
//
//	go test -run '^$' -bench Resume -benchtime 15x ./gateway
//
// (Each cold iteration keeps a node and its store open until the end: more
// iterations run a local PostgreSQL out of connections.)
func BenchmarkResume(b *testing.B) {
	for _, backend := range testenv.Stores(b) {
		store := backend.Open(b)
		players := []string{"p0", "p1", "p2", "p3", "p4", "p5"}
		game := longGame(b, store, players)
		warm := startNode(b, store, nil, gateway.Config{MessagesPerSecond: 1e6, Burst: 1e6})
		keep := warm.dial(b, "p1") // a viewer that keeps the warm node's feed live
		if _, err := keep.Request(ctxT(b), protocol.Request{Type: protocol.TypeJoinGame, GameID: game.String()}); err != nil {
			b.Fatal(err)
		}
		head := headOf(b, warm, game)
		coldNode := func() *node {
			n := startNode(b, backend.Open(b), nil, gateway.Config{MessagesPerSecond: 1e6, Burst: 1e6})
			// A node that has just caught up with the store's feed,
			// as a running node has: only the game is new to it.
			if err := n.dir.WaitFor(ctxT(b), game, head); err != nil {
				b.Fatal(err)
			}
			return n
		}
		b.Run(backend.Name+"/warm/fresh", func(b *testing.B) { benchResume(b, func() *node { return warm }, game, head, 0) })
		b.Run(backend.Name+"/cold/fresh", func(b *testing.B) { benchResume(b, coldNode, game, head, 0) })
		for _, k := range []uint64{1, 10, 100} {
			b.Run(fmt.Sprintf("%s/warm/K=%d", backend.Name, k), func(b *testing.B) {
				benchResume(b, func() *node { return warm }, game, head, k)
			})
			b.Run(fmt.Sprintf("%s/cold/K=%d", backend.Name, k), func(b *testing.B) { benchResume(b, coldNode, game, head, k) })
		}
	}
}

func benchResume(b *testing.B, nodeFor func() *node, game uuid.UUID, head, k uint64) {
	var total time.Duration
	var bytes int
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		n := nodeFor()
		c := n.dial(b, "p0")
		ctx := ctxT(b)
		req := protocol.Request{Type: protocol.TypeJoinGame, MessageID: "r", GameID: game.String()}
		if k > 0 {
			after := head - k
			req.LastEventID = &after
		}
		b.StartTimer()
		start, before := time.Now(), c.BytesRead()
		c.Send(req)
		got := 0
		for {
			m, err := c.Next(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if m.Type == protocol.TypeError {
				b.Fatalf("join: %+v", m.Error)
			}
			if k == 0 && m.Type == protocol.TypeGameState {
				break
			}
			if m.Type == protocol.TypeEvent {
				got++
				if *m.EventID == head {
					break
				}
			}
		}
		total += time.Since(start)
		b.StopTimer()
		bytes += int(c.BytesRead() - before)
		if got != int(k) {
			b.Fatalf("got %d events, want %d", got, k)
		}
		c.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms/resume")
	b.ReportMetric(float64(bytes)/float64(b.N), "bytes/resume")
	b.ReportMetric(0, "ns/op")
}

// longGame plays liar's dice with the smallest raise each time until the
// game has over 2000 events, and returns it.
func longGame(b *testing.B, store eventstore.Store, players []string) uuid.UUID {
	b.Helper()
	svc, err := play.New(play.Config{Store: store, Registry: games.Standard(), SeedSecret: seedSecret})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	g, err := svc.Create(ctx, "liarsdice", players, nil, players[0])
	if err != nil {
		b.Fatal(err)
	}
	for n := 0; g.Head() < 2000; n++ {
		turn := g.Rules.Turn(g.State)
		if len(turn) == 0 {
			b.Fatalf("the game ended at %d events", g.Head())
		}
		legal := g.Rules.Legal(g.State, turn[0])
		action := legal[0]
		for _, a := range legal { // the smallest raise, not a challenge
			if !strings.Contains(string(a), "challenge") {
				action = a
				break
			}
		}
		res, err := svc.Execute(ctx, g.ID, turn[0], action, fmt.Sprintf("m%d", n))
		if err != nil {
			b.Fatal(err)
		}
		g = res.Game
	}
	return g.ID
}

func headOf(b *testing.B, n *node, game uuid.UUID) uint64 {
	var info gameInfo
	n.rest(b, "p0", "GET", "/v1/games/"+game.String(), nil, &info)
	return info.Head
}
