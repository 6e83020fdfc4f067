package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/internal/testkit/testnode"
	"github.com/playlog/playlog/protocol"
)

// testClock is a node's injected time.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// next returns v's next message of type typ (recording events on the way).
func next(t *testing.T, v *viewer, typ string) protocol.Message {
	t.Helper()
	return nextOf(t, v, typ)
}

// nextOf returns the next message of v's game of one of types.
func nextOf(t *testing.T, v *viewer, types ...string) protocol.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		m, err := v.c.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for %v: %v", types, err)
		}
		v.take(m)
		if m.GameID == v.game.String() && slices.Contains(types, m.Type) {
			return m
		}
	}
}

// A timed game over WebSocket, on an injected clock: the deadline in REST,
// the warning to everyone in the game at its threshold, the grace when the
// player to act reconnects short of it, then the expiry and the timeout's
// events for every viewer.
func TestTurnTimerOverWebSocket(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		c := &testClock{now: t0}
		n := startNodeWith(t, b.Open(t), nil, gateway.Config{}, testnode.Options{Now: c.Now})
		ctx := ctxT(t)
		game := createWith(t, n, `{"turn_timer":{"seconds":60,"warnings":[30],"grace":15,"timeouts_to_lose":1}}`)
		var info struct {
			TurnNumber uint64    `json:"turn_number"`
			Deadline   time.Time `json:"deadline"`
		}
		n.rest(t, "alice", "GET", "/v1/games/"+game.String(), nil, &info)
		if info.TurnNumber != 1 || !info.Deadline.Equal(t0.Add(time.Minute)) {
			t.Fatalf("REST turn %d deadline %v", info.TurnNumber, info.Deadline)
		}
		join := func(user, how string) *viewer {
			v := newViewer(t, n.dial(t, user), game, "tictactoe")
			if _, err := v.c.Request(ctx, protocol.Request{Type: how, GameID: game.String(), LastEventID: u64(0)}); err != nil {
				t.Fatal(err)
			}
			// A connection's messages are handled in order: once the
			// heartbeat is answered, the join has finished (presence too).
			if _, err := v.c.Request(ctx, protocol.Request{Type: protocol.TypeHeartbeat}); err != nil {
				t.Fatal(err)
			}
			return v
		}
		fresh := newViewer(t, n.dial(t, "bob"), game, "tictactoe")
		if _, err := fresh.c.Request(ctx, protocol.Request{Type: protocol.TypeJoinGame, GameID: game.String()}); err != nil {
			t.Fatal(err)
		}
		if st := next(t, fresh, protocol.TypeGameState); st.TurnNumber == nil || *st.TurnNumber != 1 || !st.Deadline.Equal(t0.Add(time.Minute)) {
			t.Fatalf("game_state of a timed game: turn %v deadline %v", st.TurnNumber, st.Deadline)
		}
		fresh.c.Close()
		bob, sam := join("bob", protocol.TypeJoinGame), join("sam", protocol.TypeSpectate)
		waitUntil(t, "the timer", func() bool { return n.timers.Pending() == 1 })

		c.Set(t0.Add(30 * time.Second))
		n.timers.Kick()
		for _, v := range []*viewer{bob, sam} {
			w := next(t, v, protocol.TypeTurnTimeout)
			if w.PlayerID != "alice" || *w.RemainingSeconds != 30 || !*w.IsWarning || *w.TurnNumber != 1 {
				t.Fatalf("warning %+v", w)
			}
		}

		// alice, to act, comes back with 10 s left: the deadline moves.
		c.Set(t0.Add(50 * time.Second))
		alice := join("alice", protocol.TypeJoinGame)
		m := next(t, bob, protocol.TypeEvent)
		for m.EventType != "deadline_extended" {
			m = next(t, bob, protocol.TypeEvent)
		}
		var ext struct {
			Deadline time.Time `json:"deadline"`
		}
		json.Unmarshal(m.Data, &ext)
		if !ext.Deadline.Equal(t0.Add(65 * time.Second)) {
			t.Fatalf("grace: %s", m.Data)
		}
		n.rest(t, "bob", "GET", "/v1/games/"+game.String(), nil, &info)
		if !info.Deadline.Equal(t0.Add(65 * time.Second)) {
			t.Fatalf("REST deadline after grace %v", info.Deadline)
		}

		c.Set(t0.Add(65 * time.Second))
		n.timers.Kick()
		for _, v := range []*viewer{alice, bob, sam} {
			// The expiry is announced once the timeout is in the log:
			// before or after its events.
			var w, over *protocol.Message
			for w == nil || over == nil {
				m := nextOf(t, v, protocol.TypeTurnTimeout, protocol.TypeGameOver)
				if m.Type == protocol.TypeTurnTimeout {
					w = &m
				} else {
					over = &m
				}
			}
			if *w.IsWarning || *w.RemainingSeconds != 0 {
				t.Fatalf("expiry %+v", w)
			}
			if over.Outcome.Reason != "timeout" || over.Outcome.Winners[0] != "bob" {
				t.Fatalf("game over %+v", over.Outcome)
			}
		}
	})
}

// A move racing its own timeout at the deadline: exactly one wins, and a
// refused move's client is told.
func TestMoveRacingItsTimeout(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		c := &testClock{now: t0}
		n := startNodeWith(t, b.Open(t), nil, gateway.Config{}, testnode.Options{Now: c.Now})
		for i := range 5 {
			game := createWith(t, n, `{"turn_timer":{"seconds":60,"timeouts_to_lose":1}}`)
			waitUntil(t, "the timer", func() bool { return n.timers.Pending() == 1 })
			c.Set(c.Now().Add(time.Minute))
			var code int
			var body struct {
				Error *protocol.Error `json:"error"`
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				code = n.rest(t, "alice", "POST", "/v1/games/"+game.String()+"/actions",
					map[string]any{"message_id": uuid.NewString(), "action": map[string]any{"type": "place", "cell": 4}}, &body)
			}()
			n.timers.Kick()
			<-done
			waitUntil(t, "the race to settle", func() bool { return n.timers.Pending() == 0 || code == http.StatusOK })
			timedOut, _ := timeoutsIn(t, n, game)
			switch {
			case code == http.StatusOK && timedOut == 0:
			case code != http.StatusOK && timedOut == 1 && body.Error != nil && body.Error.Code != "":
			default:
				t.Fatalf("race %d: move %d %+v, %d timeouts", i, code, body.Error, timedOut)
			}
			c.Set(c.Now().Add(time.Hour)) // the next game starts later
		}
	})
}

func timeoutsIn(t *testing.T, n *node, game uuid.UUID) (int, error) {
	var evs struct {
		Events []protocol.Message `json:"events"`
	}
	n.rest(t, "alice", "GET", "/v1/games/"+game.String()+"/events?limit=1000", nil, &evs)
	k := 0
	for _, e := range evs.Events {
		if e.EventType == "action" && e.Actor == "system" {
			k++
		}
	}
	if k > 1 {
		return k, errors.New("more than one timeout")
	}
	return k, nil
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A delayed game's spectators are not told of the running turn: its
// warnings are the present, which they may not see yet.
func TestDelayedSpectatorsGetNoTurnWarnings(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		c := &testClock{now: t0}
		n := startNodeWith(t, b.Open(t), nil, gateway.Config{}, testnode.Options{Now: c.Now})
		ctx := ctxT(t)
		game := createWith(t, n, `{"turn_timer":{"seconds":60,"warnings":[30]},"spectator_delay":{"events":2}}`)
		join := func(user, how string) *viewer {
			v := newViewer(t, n.dial(t, user), game, "tictactoe")
			if _, err := v.c.Request(ctx, protocol.Request{Type: how, GameID: game.String(), LastEventID: u64(0)}); err != nil {
				t.Fatal(err)
			}
			if _, err := v.c.Request(ctx, protocol.Request{Type: protocol.TypeHeartbeat}); err != nil {
				t.Fatal(err)
			}
			return v
		}
		bob, sam := join("bob", protocol.TypeJoinGame), join("sam", protocol.TypeSpectate)
		waitUntil(t, "the timer", func() bool { return n.timers.Pending() == 1 })
		c.Set(t0.Add(30 * time.Second))
		n.timers.Kick()
		if w := next(t, bob, protocol.TypeTurnTimeout); !*w.IsWarning {
			t.Fatalf("bob: %+v", w)
		}
		qctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		for {
			m, err := sam.c.Next(qctx)
			if err != nil {
				break
			}
			if m.Type == protocol.TypeTurnTimeout {
				t.Fatalf("a delayed spectator was told of the running turn: %+v", m)
			}
		}
	})
}
