package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/playlog/playlog/client"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/internal/testkit/testnode"
	"github.com/playlog/playlog/protocol"
)

// heldStore is a real store whose appends can be held at its door, so that
// a test has commands in flight for as long as it wants.
type heldStore struct {
	eventstore.Store
	mu      sync.Mutex
	hold    chan struct{} // while non-nil, appends wait for it to close
	arrived chan struct{} // one value per append held
}

func newHeldStore(s eventstore.Store) *heldStore {
	return &heldStore{Store: s, arrived: make(chan struct{}, 64)}
}

func (s *heldStore) Unwrap() eventstore.Store { return s.Store }

func (s *heldStore) Append(ctx context.Context, game uuid.UUID, expected uint64, events ...eventstore.Pending) (eventstore.Appended, error) {
	s.mu.Lock()
	hold := s.hold
	s.mu.Unlock()
	if hold != nil {
		s.arrived <- struct{}{}
		select {
		case <-hold:
		case <-ctx.Done():
			return eventstore.Appended{}, ctx.Err()
		}
	}
	return s.Store.Append(ctx, game, expected, events...)
}

// holdAppends holds every append from now until release is called.
func (s *heldStore) holdAppends() (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := make(chan struct{})
	s.hold = h
	return func() {
		s.mu.Lock()
		s.hold = nil
		s.mu.Unlock()
		close(h)
	}
}

// ourGoroutines lists the goroutines running code of the given packages
// of ours ("gateway.", "hub."), waiting up to five seconds for them to go.
func ourGoroutines(t *testing.T, pkgs ...string) []string {
	t.Helper()
	var found []string
	for deadline := time.Now().Add(5 * time.Second); ; {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		found = nil
		for _, g := range strings.Split(string(buf), "\n\n") {
			for _, p := range pkgs {
				if strings.Contains(g, "github.com/playlog/playlog/"+p) {
					found = append(found, g)
					break
				}
			}
		}
		if len(found) == 0 || time.Now().After(deadline) {
			return found
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func statusOf(t *testing.T, method, url, authz, body string) (int, protocol.Error) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Error protocol.Error `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out.Error
}

// closeCode reads c to its end and returns the close code it was sent:
// 1006 if it ended without one. What it reads first goes to seen.
func closeCode(t *testing.T, c *client.Client, seen func(protocol.Message)) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		m, err := c.Next(ctx)
		if err == nil {
			if seen != nil {
				seen(m)
			}
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		t.Logf("connection ended without a close code: %v", err)
		return websocket.CloseAbnormalClosure
	}
}

// TestDrainAnswersInFlightThenGoesAway drains a node (a rolling restart's
// SIGTERM) while a WebSocket and a REST command are in flight, held at the
// store: /readyz turns 503 at once; commands that arrive meanwhile, on a
// connection or over REST, and a new connection, are refused unavailable
// while heartbeats and REST reads are still served; the commands in
// flight then end and are answered; every client is closed with 1001,
// after its answers; the gateway's goroutines are gone. Another node then
// holds exactly what was answered: the answered move sent again there is
// a duplicate, the refused one was never stored.
func TestDrainAnswersInFlightThenGoesAway(t *testing.T) {
	b := testenv.Stores(t)[0]
	store := newHeldStore(b.Open(t))
	tn := testnode.Start(t, store, nil, gateway.Config{MessagesPerSecond: 10000, Burst: 10000})
	n := &node{url: tn.URL, store: store, srv: tn.Server, hub: tn.Hub, dir: tn.Directory, timers: tn.Timers, blobs: tn.Blobs}
	ctx := ctxT(t)
	g1, g2, g3 := n.create(t, "tictactoe", "alice", "bob"), n.create(t, "tictactoe", "carol", "dave"), n.create(t, "tictactoe", "erin", "frank")
	place := func(cell int) json.RawMessage {
		return json.RawMessage(`{"type":"place","cell":` + strconv.Itoa(cell) + `}`)
	}
	join := func(user string, game uuid.UUID) *client.Client {
		c := n.dial(t, user)
		if _, err := c.Request(ctx, protocol.Request{Type: protocol.TypeJoinGame, GameID: game.String()}); err != nil {
			t.Fatalf("%s joins: %v", user, err)
		}
		return c
	}
	alice, bob, erin := join("alice", g1), join("bob", g1), join("erin", g3)
	frank := dialRaw(t, n, "frank", nil) // reads its close frame itself
	if st, _ := statusOf(t, "GET", n.url+"/readyz", "", ""); st != http.StatusOK {
		t.Fatalf("readyz before the drain: %d", st)
	}

	// In flight: alice's move over WebSocket, carol's over REST.
	release := store.holdAppends()
	defer func() {
		if release != nil {
			release()
		}
	}()
	if err := alice.Send(protocol.Request{Type: protocol.TypeAction, MessageID: "m1", GameID: g1.String(), Action: place(4)}); err != nil {
		t.Fatal(err)
	}
	restDone := make(chan int, 1)
	carol := "Bearer " + token(t, "carol")
	go func() {
		req, _ := http.NewRequest("POST", n.url+"/v1/games/"+g2.String()+"/actions",
			strings.NewReader(`{"message_id":"r1","action":{"type":"place","cell":0}}`))
		req.Header.Set("Authorization", carol)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			restDone <- 0
			return
		}
		resp.Body.Close()
		restDone <- resp.StatusCode
	}()
	for range 2 {
		select {
		case <-store.arrived:
		case <-ctx.Done():
			t.Fatal("the commands never reached the store")
		}
	}

	drained := make(chan error, 1)
	go func() {
		dctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		drained <- tn.Drain(dctx)
	}()
	for st := 0; st != http.StatusServiceUnavailable; {
		if st, _ = statusOf(t, "GET", n.url+"/readyz", "", ""); st != http.StatusServiceUnavailable {
			select {
			case <-ctx.Done():
				t.Fatalf("readyz still %d while draining", st)
			case <-time.After(5 * time.Millisecond):
			}
		}
	}

	// Draining, with the two commands still held: new commands are
	// refused, the rest is served.
	if _, err := erin.Request(ctx, protocol.Request{Type: protocol.TypeAction, MessageID: "e1", GameID: g3.String(), Action: place(0)}); !isCode(err, protocol.CodeUnavailable) {
		t.Fatalf("a move after the drain began: %v, want unavailable", err)
	}
	if _, err := erin.Request(ctx, protocol.Request{Type: protocol.TypeSpectate, GameID: g1.String()}); !isCode(err, protocol.CodeUnavailable) {
		t.Fatalf("a spectate after the drain began: %v, want unavailable", err)
	}
	if _, err := bob.Request(ctx, protocol.Request{Type: protocol.TypeResign, GameID: g1.String()}); !isCode(err, protocol.CodeUnavailable) {
		t.Fatalf("a resign after the drain began: %v, want unavailable", err)
	}
	if m, err := erin.Request(ctx, protocol.Request{Type: protocol.TypeHeartbeat}); err != nil || m.Type != protocol.TypeHeartbeatAck {
		t.Fatalf("a heartbeat while draining: %+v %v", m, err)
	}
	if st, e := statusOf(t, "POST", n.url+"/v1/games/"+g3.String()+"/actions", "Bearer "+token(t, "erin"),
		`{"message_id":"e2","action":{"type":"place","cell":0}}`); st != http.StatusServiceUnavailable || e.Code != protocol.CodeUnavailable {
		t.Fatalf("a REST move while draining: %d %+v", st, e)
	}
	if st, e := statusOf(t, "POST", n.url+"/v1/games", "Bearer "+token(t, "erin"),
		`{"rules":"tictactoe","players":["erin","frank"]}`); st != http.StatusServiceUnavailable || e.Code != protocol.CodeUnavailable {
		t.Fatalf("a REST create while draining: %d %+v", st, e)
	}
	if st, _ := statusOf(t, "GET", n.url+"/v1/games/"+g3.String(), "Bearer "+token(t, "erin"), ""); st != http.StatusOK {
		t.Fatalf("a REST read while draining: %d", st)
	}
	if _, err := client.Dial(ctx, "ws"+strings.TrimPrefix(n.url, "http")+"/v1/ws", token(t, "bob"), client.Options{}); !isCode(err, protocol.CodeUnavailable) {
		t.Fatalf("a new connection while draining: %v, want unavailable", err)
	}
	select {
	case err := <-drained:
		t.Fatalf("Drain returned (%v) with commands in flight", err)
	default:
	}

	release()
	release = nil
	var result *protocol.Message
	if code := closeCode(t, alice, func(m protocol.Message) {
		if m.RequestMessageID == "m1" {
			result = &m
		}
	}); code != websocket.CloseGoingAway {
		t.Fatalf("alice's connection closed with %d, want 1001", code)
	}
	if result == nil || result.Type != protocol.TypeActionResult || result.Success == nil || !*result.Success || len(result.EventIDs) == 0 {
		t.Fatalf("alice's move in flight was answered %+v before the close", result)
	}
	if st := <-restDone; st != http.StatusOK {
		t.Fatalf("carol's REST move in flight: %d", st)
	}
	for name, c := range map[string]*client.Client{"bob": bob, "erin": erin} {
		if code := closeCode(t, c, nil); code != websocket.CloseGoingAway {
			t.Fatalf("%s's connection closed with %d, want 1001", name, code)
		}
	}
	if _, code := readToClose(t, frank, 10*time.Second); code != websocket.CloseGoingAway {
		t.Fatalf("frank's raw connection closed with %d, want 1001", code)
	}
	if err := <-drained; err != nil {
		t.Fatalf("Drain: %v", err)
	}
	if open := tn.Server.Stats().Open; open != 0 {
		t.Fatalf("%d connections open after the drain", open)
	}
	if left := ourGoroutines(t, "gateway.(*conn)"); len(left) > 0 {
		t.Fatalf("connections' goroutines after the drain:\n%s", strings.Join(left, "\n\n"))
	}
	tn.Stop()
	tn.Stop() // again, as the cleanup will
	if left := ourGoroutines(t, "gateway.", "hub.", "timers.", "seal.", "projections."); len(left) > 0 {
		t.Fatalf("goroutines after the node stopped:\n%s", strings.Join(left, "\n\n"))
	}

	// The next node holds what was answered, once.
	next := startNode(t, store, nil, gateway.Config{})
	c := next.dial(t, "alice")
	m, err := c.Request(ctx, protocol.Request{Type: protocol.TypeAction, MessageID: "m1", GameID: g1.String(), Action: place(4)})
	if err != nil || !*m.Duplicate || len(m.EventIDs) != len(result.EventIDs) || m.EventIDs[0] != result.EventIDs[0] {
		t.Fatalf("alice's answered move sent again: %+v %v; want the duplicate of %v", m, err, result.EventIDs)
	}
	if head, err := store.Head(ctx, g3); err != nil || head != 1 {
		t.Fatalf("erin's refused move: game head %d (%v), want 1 (nothing stored)", head, err)
	}
}

// TestDrainOfAnIdleNode returns at once, and a second Drain too; Close
// after it is quick.
func TestDrainOfAnIdleNode(t *testing.T) {
	tn := testnode.Start(t, testenv.Stores(t)[0].Open(t), nil, gateway.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := tn.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tn.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("draining an idle node took %v", took)
	}
	if st, _ := statusOf(t, "GET", tn.URL+"/readyz", "", ""); st != http.StatusServiceUnavailable {
		t.Fatalf("readyz after the drain: %d", st)
	}
	tn.Stop()
}

// A drain whose deadline passes with a command still running closes the
// connections anyway (1001) and says so.
func TestDrainDeadline(t *testing.T) {
	store := newHeldStore(testenv.Stores(t)[0].Open(t))
	tn := testnode.Start(t, store, nil, gateway.Config{})
	n := &node{url: tn.URL, store: store}
	ctx := ctxT(t)
	game := n.create(t, "tictactoe", "alice", "bob")
	alice := n.dial(t, "alice")
	if _, err := alice.Request(ctx, protocol.Request{Type: protocol.TypeJoinGame, GameID: game.String()}); err != nil {
		t.Fatal(err)
	}
	release := store.holdAppends()
	defer release()
	alice.Send(protocol.Request{Type: protocol.TypeAction, MessageID: "m1", GameID: game.String(), Action: json.RawMessage(`{"type":"place","cell":4}`)})
	select {
	case <-store.arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the action never reached the store")
	}
	dctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := tn.Drain(dctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Drain past its deadline: %v", err)
	}
	if code := closeCode(t, alice, nil); code != websocket.CloseGoingAway {
		t.Fatalf("closed with %d, want 1001", code)
	}
}
