package gateway_test

import (
	"context"
	"testing"
	"time"

	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/protocol"
)

// A newcomer is told the spectator count once, not once as the current
// count and again as a change.
func TestNewSpectatorToldCountOnce(t *testing.T) {
	n := startNode(t, testenv.Stores(t)[0].Open(t), nil, gateway.Config{})
	game := n.create(t, "tictactoe", "alice", "bob")
	alice := n.dial(t, "alice") // the game is shown to someone already
	if _, err := alice.Request(ctxT(t), protocol.Request{Type: protocol.TypeJoinGame, GameID: game.String()}); err != nil {
		t.Fatal(err)
	}
	sam := n.dial(t, "sam")
	if _, err := sam.Request(ctxT(t), protocol.Request{Type: protocol.TypeSpectate, GameID: game.String()}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var counts []int
	for {
		m, err := sam.Next(ctx)
		if err != nil {
			break
		}
		if m.Type == protocol.TypeSpectatorCount {
			counts = append(counts, *m.Count)
		}
	}
	if len(counts) != 1 || counts[0] != 1 {
		t.Fatalf("spectator_count messages %v, want one saying 1", counts)
	}
}
