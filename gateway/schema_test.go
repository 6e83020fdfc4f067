package gateway_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/internal/testkit/testnode"
	"github.com/playlog/playlog/protocol"
)

// The WebSocket schemas (protocol.WebSocketSchema) checked against real
// traffic: every message a test client sends and every message it
// receives, in full games, refusals and resumes.

// wsTraffic validates WebSocket messages and counts them by type.
type wsTraffic struct {
	client, server *jsonschema.Schema
	types          map[string]*jsonschema.Schema // by message type
	clientTypes    []string                      // as the schema lists them
	serverTypes    []string
	sent, received map[string][]byte // the first message of each type
}

func newWSTraffic(t *testing.T) *wsTraffic {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(protocol.WebSocketSchema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("websocket.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	compile := func(def string) *jsonschema.Schema {
		s, err := c.Compile("websocket.schema.json#/$defs/" + def)
		if err != nil {
			t.Fatalf("websocket.schema.json: %s: %v", def, err)
		}
		return s
	}
	tr := &wsTraffic{client: compile("ClientMessage"), server: compile("ServerMessage"), types: map[string]*jsonschema.Schema{},
		sent: map[string][]byte{}, received: map[string][]byte{}}
	defs := doc.(map[string]any)["$defs"].(map[string]any)
	for union, list := range map[string]*[]string{"ClientMessage": &tr.clientTypes, "ServerMessage": &tr.serverTypes} {
		for _, ref := range defs[union].(map[string]any)["oneOf"].([]any) {
			typ := strings.TrimPrefix(ref.(map[string]any)["$ref"].(string), "#/$defs/")
			*list = append(*list, typ)
			tr.types[typ] = compile(typ)
		}
	}
	return tr
}

// validate checks msg against the union schema, naming what is wrong by
// its type's schema, and returns its type.
func (tr *wsTraffic) validate(union *jsonschema.Schema, msg []byte) (string, error) {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(msg))
	if err != nil {
		return "", err
	}
	typ, _ := inst.(map[string]any)["type"].(string)
	if err := union.Validate(inst); err != nil {
		if s, ok := tr.types[typ]; ok {
			if terr := s.Validate(inst); terr != nil {
				return typ, terr
			}
		}
		return typ, err
	}
	return typ, nil
}

// wsConn is a raw WebSocket whose traffic is checked.
type wsConn struct {
	tr      *wsTraffic
	ws      *websocket.Conn
	user    string
	pending []protocol.Message // read, not yet asked for
}

func (tr *wsTraffic) dial(t *testing.T, n *node, user string) *wsConn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(n.url, "http")+"/v1/ws",
		http.Header{"Authorization": {"Bearer " + token(t, user)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	c := &wsConn{tr: tr, ws: ws, user: user}
	if m := c.next(t); m.Type != protocol.TypeConnected || m.UserID != user {
		t.Fatalf("%s: first message %+v", user, m)
	}
	return c
}

// send sends a client message, which the client schema must accept.
func (c *wsConn) send(t *testing.T, req protocol.Request) {
	t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	typ, err := c.tr.validate(c.tr.client, b)
	if err != nil {
		t.Fatalf("%s sends %s: not a valid client message: %v", c.user, b, err)
	}
	if _, ok := c.tr.sent[typ]; !ok {
		c.tr.sent[typ] = b
	}
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		t.Fatal(err)
	}
}

// sendInvalid sends a malformed text message, which the client schema
// must refuse too.
func (c *wsConn) sendInvalid(t *testing.T, raw string) {
	t.Helper()
	if _, err := c.tr.validate(c.tr.client, []byte(raw)); err == nil {
		t.Fatalf("the client schema accepts %s, which the test sends as malformed", raw)
	}
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(raw)); err != nil {
		t.Fatal(err)
	}
}

// next reads the next server message, which the server schema must accept.
func (c *wsConn) next(t *testing.T) protocol.Message {
	t.Helper()
	c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	typ, b, err := c.ws.ReadMessage()
	if err != nil {
		t.Fatalf("%s reads: %v", c.user, err)
	}
	if typ != websocket.TextMessage {
		t.Fatalf("%s: a frame of type %d", c.user, typ)
	}
	mt, err := c.tr.validate(c.tr.server, b)
	if err != nil {
		t.Fatalf("%s receives %s: not a valid server message: %v", c.user, b, err)
	}
	if _, ok := c.tr.received[mt]; !ok {
		c.tr.received[mt] = b
	}
	var m protocol.Message
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// until returns the first message, read before or now, that ok accepts.
func (c *wsConn) until(t *testing.T, ok func(m protocol.Message) bool) protocol.Message {
	t.Helper()
	for i, m := range c.pending {
		if ok(m) {
			c.pending = append(c.pending[:i], c.pending[i+1:]...)
			return m
		}
	}
	for {
		m := c.next(t)
		if ok(m) {
			return m
		}
		c.pending = append(c.pending, m)
	}
}

// answer returns the answer to the message id.
func (c *wsConn) answer(t *testing.T, id string) protocol.Message {
	t.Helper()
	return c.until(t, func(m protocol.Message) bool { return m.RequestMessageID == id })
}

// request sends req under a fresh id and returns its answer.
func (c *wsConn) request(t *testing.T, req protocol.Request) protocol.Message {
	t.Helper()
	req.MessageID = req.Type + "." + uuid.NewString() // unique per user and game, across connections
	c.send(t, req)
	return c.answer(t, req.MessageID)
}

// typed returns the next message of type typ for game.
func (c *wsConn) typed(t *testing.T, typ string, game uuid.UUID) protocol.Message {
	t.Helper()
	return c.until(t, func(m protocol.Message) bool { return m.Type == typ && m.GameID == game.String() })
}

// event returns game's event id seq.
func (c *wsConn) event(t *testing.T, game uuid.UUID, seq uint64) protocol.Message {
	t.Helper()
	return c.until(t, func(m protocol.Message) bool {
		return m.Type == protocol.TypeEvent && m.GameID == game.String() && *m.EventID == seq
	})
}

// flush reads everything the server sent before a heartbeat's answer.
func (c *wsConn) flush(t *testing.T) {
	t.Helper()
	c.request(t, protocol.Request{Type: protocol.TypeHeartbeat})
	c.pending = nil
}

// wantError checks that m refuses with code: an error, or a failed
// action_result.
func wantError(t *testing.T, what string, m protocol.Message, typ, code string) {
	t.Helper()
	if m.Type != typ || m.Error == nil || m.Error.Code != code {
		t.Fatalf("%s: %+v (error %+v), want %s %s", what, m, m.Error, typ, code)
	}
}

// Real traffic, every message checked against the WebSocket schemas: a
// tic-tac-toe game with two players and a spectator, with refusals, a
// duplicate, a drop and a resume; a timed game's warning and timeout; a
// crazy eights game played to its end. Every message type must have been
// sent or received, and each type's first message with a field more, or
// without its message_id, must be refused.
func TestSchemaWebSocketTraffic(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		clock := &testClock{now: time.Now().UTC()}
		n := startNodeWith(t, b.Open(t), nil, gateway.Config{PresenceDebounce: 20 * time.Millisecond}, testnode.Options{Now: clock.Now})
		tr := newWSTraffic(t)
		game := n.create(t, "tictactoe", "alice", "bob")
		g := game.String()

		alice := tr.dial(t, n, "alice")
		if m := alice.request(t, protocol.Request{Type: protocol.TypeJoinGame, GameID: g}); m.Type != protocol.TypeJoined {
			t.Fatalf("alice joins: %+v", m)
		}
		if st := alice.typed(t, protocol.TypeGameState, game); st.Legal == nil || len(*st.Legal) != 9 {
			t.Fatalf("alice's snapshot: %+v", st)
		}
		bob := tr.dial(t, n, "bob")
		if m := bob.request(t, protocol.Request{Type: protocol.TypeJoinGame, GameID: g, LastEventID: u64(0)}); m.Type != protocol.TypeJoined {
			t.Fatalf("bob joins: %+v", m)
		}
		bob.event(t, game, 1)
		alice.until(t, func(m protocol.Message) bool { return m.Type == protocol.TypeOpponentStatus && m.Status == "connected" })
		sam := tr.dial(t, n, "sam")
		if m := sam.request(t, protocol.Request{Type: protocol.TypeSpectate, GameID: g}); m.Type != protocol.TypeJoined || m.Role != protocol.RoleSpectator {
			t.Fatalf("sam spectates: %+v", m)
		}
		sam.typed(t, protocol.TypeGameState, game)
		alice.until(t, func(m protocol.Message) bool { return m.Type == protocol.TypeSpectatorCount && *m.Count == 1 })

		// Refusals of malformed messages, whose shapes the schema refuses.
		for _, bad := range []struct{ raw, code, typ string }{
			{`{"type":"join_game","message_id":"bad id!",` + `"game_id":"` + g + `"}`, protocol.CodeInvalidMessage, protocol.TypeError},
			{`{"type":"heartbeat","message_id":"e1","extra":1}`, protocol.CodeInvalidMessage, protocol.TypeError},
			{`{"type":"heartbeat","message_id":"e2","game_id":"` + g + `"}`, protocol.CodeInvalidMessage, protocol.TypeError},
			{`{"type":"action","message_id":"e3","game_id":"` + g + `"}`, protocol.CodeInvalidMessage, protocol.TypeActionResult},
			{`{"type":"join_game","message_id":"e4","game_id":"nope"}`, protocol.CodeInvalidMessage, protocol.TypeError},
			{`{"type":"dance","message_id":"e5"}`, protocol.CodeUnknownMessageType, protocol.TypeError},
			{`{"message_id":"e6"}`, protocol.CodeInvalidMessage, protocol.TypeError},
			{`{"type":"heartbeat","message_id":"e7"`, protocol.CodeInvalidMessage, protocol.TypeError},
			// Failed action_results without a readable game id or message id.
			{`{"type":"action","message_id":"e8","game_id":"nope","action":{"type":"place","cell":0}}`, protocol.CodeInvalidMessage, protocol.TypeActionResult},
			{`{"type":"resign","message_id":"e9"}`, protocol.CodeInvalidMessage, protocol.TypeActionResult},
			{`{"type":"action","message_id":"","game_id":"` + g + `","action":{"type":"place","cell":0}}`, protocol.CodeInvalidMessage, protocol.TypeActionResult},
			{`{"type":"action","message_id":"bad id!","game_id":"` + g + `","action":{"type":"place","cell":0}}`, protocol.CodeInvalidMessage, protocol.TypeActionResult},
		} {
			alice.sendInvalid(t, bad.raw)
			m := alice.until(t, func(m protocol.Message) bool { return m.Type == bad.typ })
			wantError(t, bad.raw, m, bad.typ, bad.code)
		}
		if err := alice.ws.WriteMessage(websocket.BinaryMessage, []byte(`{"type":"heartbeat","message_id":"bin"}`)); err != nil {
			t.Fatal(err)
		}
		wantError(t, "a binary frame", alice.answer(t, "bin"), protocol.TypeError, protocol.CodeInvalidMessage)
		// Refusals of well-formed ones.
		wantError(t, "an unknown game", alice.request(t, protocol.Request{Type: protocol.TypeJoinGame, GameID: uuid.NewString()}),
			protocol.TypeError, protocol.CodeGameNotFound)
		wantError(t, "a second join", alice.request(t, protocol.Request{Type: protocol.TypeJoinGame, GameID: g}),
			protocol.TypeError, protocol.CodeActionNotAllowed)
		wantError(t, "leaving what alice does not spectate", alice.request(t, protocol.Request{Type: protocol.TypeLeaveSpectate, GameID: g}),
			protocol.TypeError, protocol.CodeNotInGame)
		carol := tr.dial(t, n, "carol")
		wantError(t, "carol joining as a player", carol.request(t, protocol.Request{Type: protocol.TypeJoinGame, GameID: g}),
			protocol.TypeError, protocol.CodeNotInGame)
		wantError(t, "a resume beyond the head", carol.request(t, protocol.Request{Type: protocol.TypeSpectate, GameID: g, LastEventID: u64(99)}),
			protocol.TypeError, protocol.CodeInvalidMessage)
		place := func(cell int) json.RawMessage {
			return json.RawMessage(`{"type":"place","cell":` + strconv.Itoa(cell) + `}`)
		}
		wantError(t, "bob out of turn", bob.request(t, protocol.Request{Type: protocol.TypeAction, GameID: g, Action: place(0)}),
			protocol.TypeActionResult, protocol.CodeNotYourTurn)
		wantError(t, "sam acting", sam.request(t, protocol.Request{Type: protocol.TypeAction, GameID: g, Action: place(0)}),
			protocol.TypeActionResult, protocol.CodeNotInGame)
		wantError(t, "a bad action", alice.request(t, protocol.Request{Type: protocol.TypeAction, GameID: g, Action: json.RawMessage(`{"type":"place","cell":99}`)}),
			protocol.TypeActionResult, protocol.CodeInvalidAction)

		// Moves, a duplicate and a reused id.
		everyone := []*wsConn{alice, bob, sam}
		seen := func(conns []*wsConn, res protocol.Message) {
			t.Helper()
			if res.Type != protocol.TypeActionResult || res.Success == nil || !*res.Success {
				t.Fatalf("a move: %+v (error %+v)", res, res.Error)
			}
			for _, c := range conns {
				c.event(t, game, res.EventIDs[len(res.EventIDs)-1])
			}
		}
		a1 := protocol.Request{Type: protocol.TypeAction, MessageID: "a1", GameID: g, Action: place(4)}
		alice.send(t, a1)
		seen(everyone, alice.answer(t, "a1"))
		alice.send(t, a1)
		if dup := alice.answer(t, "a1"); !*dup.Duplicate {
			t.Fatalf("a1 again: %+v", dup)
		}
		alice.send(t, protocol.Request{Type: protocol.TypeResign, MessageID: "a1", GameID: g})
		wantError(t, "a1 reused", alice.answer(t, "a1"), protocol.TypeActionResult, protocol.CodeInvalidMessage)
		res := bob.request(t, protocol.Request{Type: protocol.TypeAction, GameID: g, Action: place(0)})
		seen(everyone, res)

		// bob drops; alice moves; bob resumes after the last event he saw.
		last := res.EventIDs[len(res.EventIDs)-1]
		bob.ws.Close()
		alice.until(t, func(m protocol.Message) bool {
			return m.Type == protocol.TypeOpponentStatus && m.Status == "disconnected"
		})
		res = alice.request(t, protocol.Request{Type: protocol.TypeAction, GameID: g, Action: place(1)})
		seen([]*wsConn{alice, sam}, res)
		bob = tr.dial(t, n, "bob")
		if m := bob.request(t, protocol.Request{Type: protocol.TypeJoinGame, GameID: g, LastEventID: &last}); m.Type != protocol.TypeJoined {
			t.Fatalf("bob resumes: %+v", m)
		}
		bob.event(t, game, last+1)
		alice.until(t, func(m protocol.Message) bool { return m.Type == protocol.TypeOpponentStatus && m.Status == "connected" })
		everyone = []*wsConn{alice, bob, sam}
		seen(everyone, bob.request(t, protocol.Request{Type: protocol.TypeAction, GameID: g, Action: place(2)}))
		seen(everyone, alice.request(t, protocol.Request{Type: protocol.TypeAction, GameID: g, Action: place(7)}))
		for _, c := range everyone {
			if over := c.typed(t, protocol.TypeGameOver, game); over.Outcome.Winners[0] != "alice" {
				t.Fatalf("%s: %+v", c.user, over.Outcome)
			}
		}
		wantError(t, "a move after the end", bob.request(t, protocol.Request{Type: protocol.TypeAction, GameID: g, Action: place(8)}),
			protocol.TypeActionResult, protocol.CodeGameEnded)
		if m := sam.request(t, protocol.Request{Type: protocol.TypeLeaveSpectate, GameID: g}); m.Type != protocol.TypeLeft {
			t.Fatalf("sam leaves: %+v", m)
		}
		if m := alice.request(t, protocol.Request{Type: protocol.TypeLeaveGame, GameID: g}); m.Type != protocol.TypeLeft {
			t.Fatalf("alice leaves: %+v", m)
		}
		alice.request(t, protocol.Request{Type: protocol.TypeJoinGame, GameID: g}) // an ended game's snapshot
		if st := alice.typed(t, protocol.TypeGameState, game); !st.Outcome.Ended || len(*st.Legal) != 0 || len(*st.Turn) != 0 {
			t.Fatalf("the snapshot of an ended game: %+v", st)
		}

		// A timed game: its snapshot, its warning, its timeout.
		timed := createWith(t, n, `{"turn_timer":{"seconds":60,"warnings":[30],"timeouts_to_lose":1}}`)
		bob.request(t, protocol.Request{Type: protocol.TypeJoinGame, GameID: timed.String()})
		if st := bob.typed(t, protocol.TypeGameState, timed); st.TurnNumber == nil {
			t.Fatalf("a timed game's snapshot: %+v", st)
		}
		sam.request(t, protocol.Request{Type: protocol.TypeSpectate, GameID: timed.String(), LastEventID: u64(0)})
		// Messages are served in order: once these are answered, the
		// joins have finished, presence too.
		bob.request(t, protocol.Request{Type: protocol.TypeHeartbeat})
		sam.request(t, protocol.Request{Type: protocol.TypeHeartbeat})
		waitUntil(t, "the timer", func() bool { return n.timers.Pending() == 1 })
		start := clock.Now()
		clock.Set(start.Add(30 * time.Second))
		n.timers.Kick()
		for _, c := range []*wsConn{bob, sam} {
			if w := c.typed(t, protocol.TypeTurnTimeout, timed); !*w.IsWarning || *w.RemainingSeconds != 30 {
				t.Fatalf("%s: the warning: %+v", c.user, w)
			}
		}
		clock.Set(start.Add(61 * time.Second))
		n.timers.Kick()
		for _, c := range []*wsConn{bob, sam} {
			// The expiry is announced once the timeout is in the log:
			// before or after its events.
			var w, over *protocol.Message
			for w == nil || over == nil {
				m := c.until(t, func(m protocol.Message) bool {
					return m.GameID == timed.String() && (m.Type == protocol.TypeTurnTimeout || m.Type == protocol.TypeGameOver)
				})
				if m.Type == protocol.TypeTurnTimeout {
					w = &m
				} else {
					over = &m
				}
			}
			if *w.IsWarning || *w.RemainingSeconds != 0 {
				t.Fatalf("%s: the expiry: %+v", c.user, w)
			}
			if over.Outcome.Reason != "timeout" {
				t.Fatalf("the timeout: %+v", over.Outcome)
			}
		}

		// Crazy eights to its end: redacted events, a richer state.
		eights := n.create(t, "crazyeights", "alice", "bob")
		e := eights.String()
		players := map[string]*wsConn{"alice": alice, "bob": bob}
		for _, c := range players {
			c.request(t, protocol.Request{Type: protocol.TypeJoinGame, GameID: e})
			c.typed(t, protocol.TypeGameState, eights)
		}
		sam.request(t, protocol.Request{Type: protocol.TypeSpectate, GameID: e, LastEventID: u64(0)})
		rng := rand.New(rand.NewPCG(12, 1))
		forcedSnapshot, moves := false, 0
		for ; ; moves++ {
			if moves > 1000 {
				t.Fatal("crazy eights did not end in 1000 moves")
			}
			var info gameInfo
			n.rest(t, "alice", "GET", "/v1/games/"+e, nil, &info)
			if info.Status == "ended" {
				break
			}
			mover := info.Turn[0]
			if info.Forced != nil {
				mover = info.Forced.Player
				if !forcedSnapshot { // a snapshot with a forced action pending
					forcedSnapshot = true
					c := tr.dial(t, n, "sam")
					c.request(t, protocol.Request{Type: protocol.TypeSpectate, GameID: e})
					if st := c.typed(t, protocol.TypeGameState, eights); st.Forced == nil {
						t.Fatalf("a snapshot while %s must %s: %+v", mover, info.Forced.Action, st)
					}
					c.ws.Close()
				}
			}
			var mine gameInfo
			n.rest(t, mover, "GET", "/v1/games/"+e, nil, &mine)
			res := players[mover].request(t, protocol.Request{Type: protocol.TypeAction, GameID: e, Action: mine.Legal[rng.IntN(len(mine.Legal))]})
			if res.Success == nil || !*res.Success {
				t.Fatalf("move %d by %s: %+v", moves, mover, res.Error)
			}
			for _, c := range []*wsConn{alice, bob, sam} {
				c.until(t, func(m protocol.Message) bool {
					return m.Type == protocol.TypeEvent && m.GameID == e && *m.EventID == res.EventIDs[len(res.EventIDs)-1]
				})
			}
		}
		t.Logf("crazy eights: %d moves; a snapshot with a forced action: %v", moves, forcedSnapshot)
		for _, c := range []*wsConn{alice, bob, sam} {
			c.typed(t, protocol.TypeGameOver, eights)
			c.flush(t)
		}
		carol.flush(t)

		// Every type seen; each refused with a field more or its id gone.
		for _, side := range []struct {
			types  []string
			seen   map[string][]byte
			schema *jsonschema.Schema
		}{{tr.clientTypes, tr.sent, tr.client}, {tr.serverTypes, tr.received, tr.server}} {
			for _, typ := range side.types {
				msg, ok := side.seen[typ]
				if !ok {
					t.Errorf("no %s message in the traffic", typ)
					continue
				}
				var m map[string]any
				json.Unmarshal(msg, &m)
				more := maps.Clone(m)
				more["undocumented"] = true
				noID := maps.Clone(m)
				delete(noID, "message_id")
				for what, v := range map[string]map[string]any{"a field more": more, "no message_id": noID} {
					b, _ := json.Marshal(v)
					if _, err := tr.validate(side.schema, b); err == nil {
						t.Errorf("the schema accepts a %s message with %s: %s", typ, what, b)
					}
				}
			}
		}
	})
}
