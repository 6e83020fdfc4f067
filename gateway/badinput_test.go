package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/playlog/playlog/auth"
	"github.com/playlog/playlog/client"
	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/protocol"
)

// TestBadInputOverWebSocket: every malformed or refused message gets its
// error code, echoes its message id when it had a readable one, and
// changes nothing.
func TestBadInputOverWebSocket(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		n := startNode(t, b.Open(t), nil, gateway.Config{MaxFrameBytes: 1024})
		ctx := ctxT(t)
		game := n.create(t, "tictactoe", "alice", "bob")
		other := n.create(t, "tictactoe", "carol", "dave")
		ended := n.create(t, "tictactoe", "alice", "bob")
		if st := n.rest(t, "bob", "POST", "/v1/games/"+ended.String()+"/resign", nil, nil); st != http.StatusOK {
			t.Fatalf("resign: %d", st)
		}
		alice := n.dial(t, "alice")
		g := game.String()
		cases := []struct {
			name string
			raw  string
			code string
			echo string
		}{
			{"malformed JSON", `{"type":"heartbeat","message_id":"a1"`, protocol.CodeInvalidMessage, ""},
			{"not an object", `[1,2]`, protocol.CodeInvalidMessage, ""},
			{"trailing data", `{"type":"heartbeat","message_id":"a2"} {}`, protocol.CodeInvalidMessage, "a2"},
			{"unknown type", `{"type":"teleport","message_id":"a3"}`, protocol.CodeUnknownMessageType, "a3"},
			{"missing type", `{"message_id":"a4"}`, protocol.CodeInvalidMessage, "a4"},
			{"missing message id", `{"type":"heartbeat"}`, protocol.CodeInvalidMessage, ""},
			{"bad message id", `{"type":"heartbeat","message_id":"has space"}`, protocol.CodeInvalidMessage, "has space"},
			{"unknown field", `{"type":"heartbeat","message_id":"a5","x":1}`, protocol.CodeInvalidMessage, "a5"},
			{"missing game id", `{"type":"join_game","message_id":"a6"}`, protocol.CodeInvalidMessage, "a6"},
			{"bad UUID", `{"type":"join_game","message_id":"a7","game_id":"nope"}`, protocol.CodeInvalidMessage, "a7"},
			{"a UUID in braces", `{"type":"join_game","message_id":"a7","game_id":"{` + g + `}"}`, protocol.CodeInvalidMessage, "a7"},
			{"a UUID without hyphens", `{"type":"join_game","message_id":"a7","game_id":"` + strings.ReplaceAll(g, "-", "") + `"}`, protocol.CodeInvalidMessage, "a7"},
			{"unknown game", `{"type":"join_game","message_id":"a8","game_id":"` + uuid.NewString() + `"}`, protocol.CodeGameNotFound, "a8"},
			{"not a participant", `{"type":"join_game","message_id":"a9","game_id":"` + other.String() + `"}`, protocol.CodeNotInGame, "a9"},
			{"last_event_id beyond head", `{"type":"join_game","message_id":"b1","game_id":"` + g + `","last_event_id":99}`, protocol.CodeInvalidMessage, "b1"},
			{"negative last_event_id", `{"type":"join_game","message_id":"b2","game_id":"` + g + `","last_event_id":-1}`, protocol.CodeInvalidMessage, "b2"},
			{"action on heartbeat", `{"type":"heartbeat","message_id":"b4","action":{}}`, protocol.CodeInvalidMessage, "b4"},
			{"leave a game not joined", `{"type":"leave_game","message_id":"b5","game_id":"` + g + `"}`, protocol.CodeNotInGame, "b5"},
			{"spectate own game", `{"type":"spectate","message_id":"b6","game_id":"` + g + `"}`, protocol.CodeActionNotAllowed, "b6"},
		}
		for _, tc := range cases {
			if err := alice.SendRaw([]byte(tc.raw)); err != nil {
				t.Fatal(err)
			}
			m, err := alice.Next(ctx)
			if err != nil || m.Type != protocol.TypeError || m.Error == nil || m.Error.Code != tc.code {
				t.Fatalf("%s: got %+v (%v), want error %s", tc.name, m, err, tc.code)
			}
			if m.RequestMessageID != tc.echo || m.Error.Message == "" {
				t.Fatalf("%s: request_message_id %q (want %q), message %q", tc.name, m.RequestMessageID, tc.echo, m.Error.Message)
			}
		}
		// A refusal of a join or a leave names its game when the id was one,
		// whatever refused it.
		if err := alice.SendRaw([]byte(`{"type":"leave_game","message_id":"b7","game_id":"` + g + `","last_event_id":1}`)); err != nil {
			t.Fatal(err)
		}
		if m, err := alice.Next(ctx); err != nil || m.Type != protocol.TypeError || m.Error == nil ||
			m.Error.Code != protocol.CodeInvalidMessage || m.RequestMessageID != "b7" || m.GameID != g {
			t.Fatalf("leave_game with last_event_id: %+v %v, want error invalid_message naming game %s", m, err, g)
		}
		// null stands for an absent field.
		if err := alice.SendRaw([]byte(`{"type":"heartbeat","message_id":"b8","action":null}`)); err != nil {
			t.Fatal(err)
		}
		if m, err := alice.Next(ctx); err != nil || m.Type != protocol.TypeHeartbeatAck || m.RequestMessageID != "b8" {
			t.Fatalf("heartbeat with a null action: %+v %v, want heartbeat_ack", m, err)
		}
		// Malformed actions are refusals of actions: a failed action_result,
		// with the game when its id was one.
		for _, tc := range []struct{ name, raw, id, game string }{
			{"action without action", `{"type":"action","message_id":"b3","game_id":"` + g + `"}`, "b3", g},
			{"action with a null action", `{"type":"action","message_id":"b9","game_id":"` + g + `","action":null}`, "b9", g},
			{"action on a bad UUID", `{"type":"action","message_id":"c1","game_id":"nope","action":{"type":"place","cell":0}}`, "c1", ""},
			{"resign with last_event_id", `{"type":"resign","message_id":"c2","game_id":"` + g + `","last_event_id":1}`, "c2", g},
		} {
			if err := alice.SendRaw([]byte(tc.raw)); err != nil {
				t.Fatal(err)
			}
			m, err := alice.Next(ctx)
			if err != nil || m.Type != protocol.TypeActionResult || m.Success == nil || *m.Success || m.Error == nil ||
				m.Error.Code != protocol.CodeInvalidMessage || m.RequestMessageID != tc.id || m.GameID != tc.game {
				t.Fatalf("%s: %+v %v, want failed action_result invalid_message for %q in game %q", tc.name, m, err, tc.id, tc.game)
			}
		}
		// Refused actions: a failed action_result with the code.
		actions := []struct {
			name, game, action, code string
		}{
			{"invalid action", g, `{"type":"place","cell":42}`, protocol.CodeInvalidAction},
			{"unknown action type", g, `{"type":"castle"}`, protocol.CodeInvalidAction},
			{"action not an object", g, `"place"`, protocol.CodeInvalidAction},
			{"not a participant", other.String(), `{"type":"place","cell":0}`, protocol.CodeNotInGame},
			{"unknown game", uuid.NewString(), `{"type":"place","cell":0}`, protocol.CodeGameNotFound},
			{"game over", ended.String(), `{"type":"place","cell":0}`, protocol.CodeGameEnded},
		}
		for _, tc := range actions {
			m, err := alice.Request(ctx, protocol.Request{Type: protocol.TypeAction, GameID: tc.game, Action: []byte(tc.action)})
			var pe *protocol.Error
			if !errors.As(err, &pe) || pe.Code != tc.code || m.Type != protocol.TypeActionResult || m.Success == nil || *m.Success {
				t.Fatalf("%s: %+v %v, want failed action_result %s", tc.name, m, err, tc.code)
			}
		}
		bob := n.dial(t, "bob")
		if _, err := bob.Request(ctx, protocol.Request{Type: protocol.TypeAction, GameID: g, Action: []byte(`{"type":"place","cell":0}`)}); !isCode(err, protocol.CodeNotYourTurn) {
			t.Fatalf("bob out of turn: %v", err)
		}
		// A spectator cannot act: not a player.
		sam := n.dial(t, "sam")
		if _, err := sam.Request(ctx, protocol.Request{Type: protocol.TypeSpectate, GameID: g}); err != nil {
			t.Fatal(err)
		}
		if _, err := sam.Request(ctx, protocol.Request{Type: protocol.TypeAction, GameID: g, Action: []byte(`{"type":"place","cell":0}`)}); !isCode(err, protocol.CodeNotInGame) {
			t.Fatalf("spectator acting: %v", err)
		}
		// Nothing above changed the game.
		var info gameInfo
		n.rest(t, "alice", "GET", "/v1/games/"+g, nil, &info)
		if info.Head != 1+uint64(countSetup(t, n, game)) || info.Turn[0] != "alice" {
			t.Fatalf("game changed: %+v", info)
		}
		// The connection survived all of it.
		if _, err := alice.Request(ctx, protocol.Request{Type: protocol.TypeHeartbeat}); err != nil {
			t.Fatalf("heartbeat after bad input: %v", err)
		}
		// An oversize frame closes the connection with 1009.
		alice.SendRaw([]byte(`{"type":"heartbeat","message_id":"big","pad":"` + strings.Repeat("x", 2000) + `"}`))
		for {
			_, err := alice.Next(ctx)
			if err == nil {
				continue
			}
			if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
				t.Fatalf("after an oversize frame: %v, want close 1009", err)
			}
			break
		}
	})
}

// countSetup is how many events a new game of tictactoe starts with beyond
// game_created.
func countSetup(t *testing.T, n *node, game uuid.UUID) int {
	var out struct {
		Events []protocol.Message `json:"events"`
	}
	n.rest(t, "alice", "GET", "/v1/games/"+game.String()+"/events", nil, &out)
	return len(out.Events) - 1
}

func isCode(err error, code string) bool {
	var pe *protocol.Error
	return errors.As(err, &pe) && pe.Code == code
}

// TestBadTokens: the handshake refuses bad credentials with 401 and
// authentication_failed.
func TestBadTokens(t *testing.T) {
	n := startNode(t, testenv.Stores(t)[0].Open(t), nil, gateway.Config{})
	expired, _ := auth.Mint(jwtSecret, "alice", time.Minute, "", "", time.Now().Add(-time.Hour))
	wrongKey, _ := auth.Mint([]byte("another-secret-another-secret-another!"), "alice", time.Hour, "", "", time.Now())
	for name, tok := range map[string]string{"none": "", "garbage": "garbage", "expired": expired, "wrong key": wrongKey} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := client.Dial(ctx, "ws"+strings.TrimPrefix(n.url, "http")+"/v1/ws", tok, client.Options{})
		cancel()
		if !isCode(err, protocol.CodeAuthenticationFailed) {
			t.Fatalf("%s token: %v", name, err)
		}
		req, _ := http.NewRequest("GET", n.url+"/v1/games?player=me", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s token over REST: %v %v", name, resp.Status, err)
		}
		resp.Body.Close()
	}
}

// TestQueryTokenOnlyOnTheHandshake: the access_token query parameter, for
// browsers that cannot set headers on a WebSocket handshake, works there
// and nowhere else: REST refuses a request carrying one, even beside a
// good Authorization header, since a URL ends up in logs and histories.
func TestQueryTokenOnlyOnTheHandshake(t *testing.T) {
	n := startNode(t, testenv.Stores(t)[0].Open(t), nil, gateway.Config{})
	tok := token(t, "alice")
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(n.url, "http")+"/v1/ws?access_token="+tok, nil)
	if err != nil {
		t.Fatalf("handshake with access_token: %v", err)
	}
	ws.Close()
	// Handshake headers on a REST request change nothing: it is no
	// handshake to the WebSocket endpoint.
	handshake := map[string]string{"Connection": "Upgrade", "Upgrade": "websocket"}
	for name, headers := range map[string]map[string]string{
		"query only":                    {},
		"query and header":              {"Authorization": "Bearer " + tok},
		"query and handshake headers":   handshake,
		"query, header and a handshake": {"Authorization": "Bearer " + tok, "Connection": "Upgrade", "Upgrade": "websocket"},
	} {
		req, _ := http.NewRequest("GET", n.url+"/v1/games?player=me&access_token="+tok, nil)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Error protocol.Error `json:"error"`
		}
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || body.Error.Code != protocol.CodeAuthenticationFailed ||
			!strings.Contains(body.Error.Message, "Authorization header") {
			t.Fatalf("%s over REST: %d %+v; want 401 authentication_failed saying to use the Authorization header", name, resp.StatusCode, body.Error)
		}
	}
}

// An access_token is found however its pair is spelt: url.ParseQuery drops
// a pair holding a ';' or a bad %-escape, so a REST request with such a
// token in its URL was served (200) and a handshake with two tokens, one
// malformed, was let in with the other.
func TestQueryTokenRefusedWhateverItsSpelling(t *testing.T) {
	n := startNode(t, testenv.Stores(t)[0].Open(t), nil, gateway.Config{})
	tok := token(t, "alice")
	for _, q := range []string{"access_token=" + tok + ";", "access_token=" + tok + "%zz", "x=1;access_token=" + tok} {
		req, _ := http.NewRequest("GET", n.url+"/v1/games?player=me&"+q, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("REST with %q in its query: %d, want 401", q, resp.StatusCode)
		}
	}
	ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(n.url, "http")+"/v1/ws?access_token="+tok+"&access_token=%zz", nil)
	if err == nil {
		ws.Close()
		t.Errorf("a handshake with two access_token parameters: %d, want 401", resp.StatusCode)
	}
}
