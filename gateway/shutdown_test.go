package gateway_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/client"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/internal/testkit/testnode"
	"github.com/playlog/playlog/protocol"
)

// readHeld holds reads of more than one event while hold is set, until
// the read's context ends.
type readHeld struct {
	eventstore.Store
	mu      sync.Mutex
	hold    bool
	arrived chan struct{}
}

func (s *readHeld) Unwrap() eventstore.Store { return s.Store }
func (s *readHeld) Read(ctx context.Context, game uuid.UUID, after uint64, limit int) ([]eventstore.Event, error) {
	s.mu.Lock()
	h := s.hold
	s.mu.Unlock()
	if h && limit > 1 {
		select {
		case s.arrived <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return s.Store.Read(ctx, game, after, limit)
}

// TestShutdownCloseWithManyJoins: joins catching up when Server.Close
// begins are closed 1001, like every other connection, and nothing is
// logged as an error: the server's end is why their reads fail.
func TestShutdownCloseWithManyJoins(t *testing.T) {
	var logs logBuffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	store := &readHeld{Store: testenv.Stores(t)[0].Open(t), arrived: make(chan struct{}, 1000)}
	tn := testnode.StartWith(t, store, nil, gateway.Config{MessagesPerSecond: 10000, Burst: 10000}, testnode.Options{Logger: log})
	n := &node{url: tn.URL, store: store}
	game := n.create(t, "tictactoe", "alice", "bob")
	var info gameInfo
	n.rest(t, "alice", "GET", "/v1/games/"+game.String(), nil, &info)
	var legal gameInfo
	n.rest(t, info.Turn[0], "GET", "/v1/games/"+game.String(), nil, &legal)
	n.rest(t, info.Turn[0], "POST", "/v1/games/"+game.String()+"/actions", map[string]any{"action": legal.Legal[0], "message_id": "x1"}, nil)
	const N = 200
	cs := make([]*client.Client, N)
	for i := range cs {
		cs[i] = n.dial(t, "alice")
	}
	store.mu.Lock()
	store.hold = true
	store.mu.Unlock()
	for _, c := range cs {
		c.Send(protocol.Request{Type: protocol.TypeJoinGame, MessageID: "j1", GameID: game.String(), LastEventID: u64(0)})
	}
	for range cs {
		select {
		case <-store.arrived:
		case <-time.After(10 * time.Second):
			t.Fatal("no catch-up read")
		}
	}
	tn.Server.Close()
	codes := map[int]int{}
	for _, c := range cs {
		codes[closeCode(t, c, nil)]++
	}
	t.Logf("codes %v", codes)
	if codes[1001] != N {
		t.Errorf("codes %v, want all 1001", codes)
	}
	noErrorLogged(t, &logs)
}

// TestShutdownCloseWithManyActions: actions in flight at Server.Close
// log no error.
func TestShutdownCloseWithManyActions(t *testing.T) {
	var logs logBuffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	store := newHeldStore(testenv.Stores(t)[0].Open(t))
	store.arrived = make(chan struct{}, 1000)
	tn := testnode.StartWith(t, store, nil, gateway.Config{MessagesPerSecond: 10000, Burst: 10000}, testnode.Options{Logger: log})
	n := &node{url: tn.URL, store: store}
	const N = 100
	cs := make([]*client.Client, N)
	games := make([]uuid.UUID, N)
	for i := range cs {
		games[i] = n.create(t, "tictactoe", "alice", "bob")
		cs[i] = n.dial(t, "alice")
	}
	release := store.holdAppends()
	defer release()
	for i, c := range cs {
		c.Send(protocol.Request{Type: protocol.TypeAction, MessageID: "m1", GameID: games[i].String(), Action: json.RawMessage(`{"type":"place","cell":4}`)})
	}
	for range cs {
		select {
		case <-store.arrived:
		case <-time.After(10 * time.Second):
			t.Fatal("no append")
		}
	}
	tn.Server.Close()
	codes := map[int]int{}
	for _, c := range cs {
		codes[closeCode(t, c, nil)]++
	}
	t.Logf("codes %v", codes)
	noErrorLogged(t, &logs)
}

// noErrorLogged fails t if logs hold an ERROR line: a shutdown is no error.
func noErrorLogged(t *testing.T, logs *logBuffer) {
	t.Helper()
	errs := 0
	for _, l := range logs.lines() {
		if strings.Contains(l, `"level":"ERROR"`) {
			if errs == 0 {
				t.Errorf("error logged at Close: %s", l)
			}
			errs++
		}
	}
	if errs > 0 {
		t.Errorf("%d error lines", errs)
	}
}
