package gateway_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/client"
	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/protocol"
)

// drawCells is a tictactoe game that fills the board without a line.
var drawCells = []int{0, 1, 2, 4, 3, 5, 7, 6, 8}

// BenchmarkPlay plays tictactoe through the whole real path: WebSocket
// clients, gateway, command path, store, subscriptions. G games run at once,
// two clients each; b.N moves in all. It reports moves/s and the latency
// from sending a move to the mover's action_result and to the opponent's
// event, p50 and p99.
//
//	go test -run '^$' -bench Play -benchtime 2000x ./gateway
func BenchmarkPlay(b *testing.B) {
	for _, backend := range testenv.Stores(b) {
		for _, g := range []int{1, 50, 200} {
			b.Run(fmt.Sprintf("%s/games=%d", backend.Name, g), func(b *testing.B) {
				benchPlay(b, backend, g)
			})
		}
	}
}

type slot struct {
	id       uuid.UUID
	players  [2]*client.Client
	move     int
	toResult []time.Duration
	toPeer   []time.Duration
}

func benchPlay(b *testing.B, backend testenv.Backend, games int) {
	n := startNode(b, backend.Open(b), nil, gateway.Config{MessagesPerSecond: 1e6, Burst: 1e6})
	slots := make([]*slot, games)
	for i := range slots {
		u := [2]string{"a" + strconv.Itoa(i), "b" + strconv.Itoa(i)}
		s := &slot{players: [2]*client.Client{n.dial(b, u[0]), n.dial(b, u[1])}}
		s.newGame(b, n, u)
		slots[i] = s
	}
	per := make([]int, games)
	for i := 0; i < b.N; i++ {
		per[i%games]++
	}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i, s := range slots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := [2]string{"a" + strconv.Itoa(i), "b" + strconv.Itoa(i)}
			for m := 0; m < per[i]; m++ {
				if err := s.play(b); err != nil {
					b.Error(err)
					return
				}
				if s.move == len(drawCells) {
					s.newGame(b, n, u)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	var toResult, toPeer []time.Duration
	for _, s := range slots {
		toResult = append(toResult, s.toResult...)
		toPeer = append(toPeer, s.toPeer...)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "moves/s")
	b.ReportMetric(pct(toResult, 50), "result-p50-ms")
	b.ReportMetric(pct(toResult, 99), "result-p99-ms")
	b.ReportMetric(pct(toPeer, 50), "peer-p50-ms")
	b.ReportMetric(pct(toPeer, 99), "peer-p99-ms")
}

func (s *slot) newGame(b *testing.B, n *node, users [2]string) {
	var g gameInfo
	n.rest(b, users[0], "POST", "/v1/games", map[string]any{"rules": "tictactoe", "players": users[:]}, &g)
	id := uuid.MustParse(g.GameID)
	ctx := ctxT(b)
	for i, c := range s.players {
		if s.id != uuid.Nil {
			c.Request(ctx, protocol.Request{Type: protocol.TypeLeaveGame, GameID: s.id.String()})
		}
		if _, err := c.Request(ctx, protocol.Request{Type: protocol.TypeJoinGame, GameID: id.String(), LastEventID: &g.Head}); err != nil {
			b.Fatalf("player %d joins: %v", i, err)
		}
	}
	s.id, s.move = id, 0
}

// play makes the slot's next move and waits for the opponent to see it.
func (s *slot) play(b *testing.B) error {
	ctx := ctxT(b)
	mover, peer := s.players[s.move%2], s.players[(s.move+1)%2]
	sent := time.Now()
	res, err := mover.Request(ctx, protocol.Request{Type: protocol.TypeAction, GameID: s.id.String(),
		Action: json.RawMessage(`{"type":"place","cell":` + strconv.Itoa(drawCells[s.move]) + `}`)})
	if err != nil {
		return fmt.Errorf("move %d: %w", s.move, err)
	}
	s.toResult = append(s.toResult, time.Since(sent))
	last := res.EventIDs[len(res.EventIDs)-1]
	for {
		m, at, err := peer.NextTimed(ctx)
		if err != nil {
			return err
		}
		if m.Type == protocol.TypeEvent && m.GameID == s.id.String() && *m.EventID == last {
			s.toPeer = append(s.toPeer, at.Sub(sent))
			break
		}
	}
	s.move++
	return nil
}

func pct(d []time.Duration, p int) float64 {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return float64(d[(len(d)-1)*p/100]) / float64(time.Millisecond)
}
