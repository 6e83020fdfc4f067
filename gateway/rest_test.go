package gateway_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/protocol"
)

func TestREST(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		n := startNode(t, b.Open(t), nil, gateway.Config{})
		var errBody struct {
			Error protocol.Error `json:"error"`
		}
		bad := []struct {
			name, user, method, path string
			body                     any
			status                   int
			code                     string
		}{
			{"unknown rules", "alice", "POST", "/v1/games", map[string]any{"rules": "chess", "players": []string{"alice", "bob"}}, 400, protocol.CodeInvalidMessage},
			{"creator not a player", "carol", "POST", "/v1/games", map[string]any{"rules": "tictactoe", "players": []string{"alice", "bob"}}, 403, protocol.CodeNotInGame},
			{"too many players", "alice", "POST", "/v1/games", map[string]any{"rules": "tictactoe", "players": []string{"alice", "bob", "carol"}}, 400, protocol.CodeInvalidMessage},
			{"unknown field", "alice", "POST", "/v1/games", map[string]any{"rules": "tictactoe", "players": []string{"alice", "bob"}, "x": 1}, 400, protocol.CodeInvalidMessage},
			{"no players", "alice", "POST", "/v1/games", map[string]any{"rules": "tictactoe"}, 400, protocol.CodeInvalidMessage},
			{"bad game id", "alice", "GET", "/v1/games/nope", nil, 400, protocol.CodeInvalidMessage},
			{"unknown game", "alice", "GET", "/v1/games/" + uuid.NewString(), nil, 404, protocol.CodeGameNotFound},
			{"list without player=me", "alice", "GET", "/v1/games", nil, 400, protocol.CodeInvalidMessage},
			{"no token", "", "GET", "/v1/games?player=me", nil, 401, protocol.CodeAuthenticationFailed},
			{"unknown endpoint", "alice", "GET", "/v2/things", nil, 404, "not_found"},
		}
		for _, tc := range bad {
			errBody.Error = protocol.Error{}
			if st := n.rest(t, tc.user, tc.method, tc.path, tc.body, &errBody); st != tc.status || errBody.Error.Code != tc.code || errBody.Error.Message == "" {
				t.Fatalf("%s: %d %+v, want %d %s", tc.name, st, errBody.Error, tc.status, tc.code)
			}
		}

		game := n.create(t, "crazyeights", "alice", "bob")
		var list struct {
			Games []protocol.GameSummary `json:"games"`
		}
		deadline := time.Now().Add(10 * time.Second)
		for len(list.Games) == 0 && time.Now().Before(deadline) {
			n.rest(t, "bob", "GET", "/v1/games?player=me", nil, &list)
		}
		if len(list.Games) != 1 || list.Games[0].GameID != game.String() || list.Games[0].Rules != "crazyeights" {
			t.Fatalf("bob's games: %+v", list)
		}
		// Events read by a player show their own hand; by a stranger, not.
		var mine, theirs struct {
			Head   uint64             `json:"head"`
			Events []protocol.Message `json:"events"`
		}
		n.rest(t, "alice", "GET", "/v1/games/"+game.String()+"/events?after=0&limit=50", nil, &mine)
		n.rest(t, "sam", "GET", "/v1/games/"+game.String()+"/events", nil, &theirs)
		if len(mine.Events) != int(mine.Head) || len(theirs.Events) != len(mine.Events) {
			t.Fatalf("events: alice %d, sam %d, head %d", len(mine.Events), len(theirs.Events), mine.Head)
		}
		differ := false
		for i := range mine.Events {
			if *mine.Events[i].EventID != uint64(i+1) || *theirs.Events[i].EventID != uint64(i+1) {
				t.Fatalf("event ids not dense at %d", i)
			}
			a, _ := json.Marshal(mine.Events[i].Data)
			s, _ := json.Marshal(theirs.Events[i].Data)
			differ = differ || string(a) != string(s)
			if theirs.Events[i].Visibility == "full" && mine.Events[i].Visibility != "full" {
				t.Fatalf("a stranger sees more than a player at %d", i+1)
			}
		}
		if !differ {
			t.Fatal("a stranger saw exactly what alice saw: her hand leaked")
		}
		if st := n.rest(t, "alice", "GET", "/v1/games/"+game.String()+"/events?after=999", nil, &errBody); st != 400 {
			t.Fatalf("after beyond head: %d", st)
		}
		// Resign with an idempotency key: twice, one result.
		resign := func() (int, map[string]any) {
			req, _ := http.NewRequest("POST", n.url+"/v1/games/"+game.String()+"/resign", nil)
			req.Header.Set("Authorization", "Bearer "+token(t, "bob"))
			req.Header.Set("Idempotency-Key", "quit-1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out map[string]any
			json.NewDecoder(resp.Body).Decode(&out)
			return resp.StatusCode, out
		}
		st1, r1 := resign()
		st2, r2 := resign()
		if st1 != 200 || st2 != 200 || r1["duplicate"] != false || r2["duplicate"] != true || r1["head"] != r2["head"] {
			t.Fatalf("resign twice: %d %v / %d %v", st1, r1, st2, r2)
		}
		var info gameInfo
		n.rest(t, "alice", "GET", "/v1/games/"+game.String(), nil, &info)
		if info.Status != "ended" {
			t.Fatalf("after resigning: %+v", info)
		}
		if st := n.rest(t, "sam", "POST", "/v1/games/"+game.String()+"/resign", nil, &errBody); st != 403 || errBody.Error.Code != protocol.CodeNotInGame {
			t.Fatalf("a stranger resigning: %d %+v", st, errBody)
		}
		for _, p := range []string{"/healthz", "/readyz"} {
			if st := n.rest(t, "", "GET", p, nil, nil); st != 200 {
				t.Fatalf("%s: %d", p, st)
			}
		}
	})
}

// A timer config that fits in a request body but would make a game_created
// over an event's 64 KiB (thousands of warnings) is the client's bad
// config, 400 invalid_message, and creates nothing; not a server failure.
func TestOversizedConfigIsInvalid(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		n := startNode(t, b.Open(t), nil, gateway.Config{})
		var w []string
		for i := 1; len(strings.Join(w, ",")) <= 65536-180; i++ {
			w = append(w, strconv.Itoa(i))
		}
		config := json.RawMessage(`{"turn_timer":{"seconds":86400,"warnings":[` + strings.Join(w, ",") + `]}}`)
		var errBody struct {
			Error protocol.Error `json:"error"`
		}
		st := n.rest(t, "alice", "POST", "/v1/games", map[string]any{"rules": "tictactoe", "players": []string{"alice", "bob"}, "config": config}, &errBody)
		if st != 400 || errBody.Error.Code != protocol.CodeInvalidMessage {
			t.Fatalf("oversized config: %d %+v; want 400 invalid_message", st, errBody.Error)
		}
		var list struct {
			Games []json.RawMessage `json:"games"`
		}
		if st := n.rest(t, "alice", "GET", "/v1/games?player=me", nil, &list); st != 200 || len(list.Games) != 0 {
			t.Fatalf("after the refusal: %d, %d games", st, len(list.Games))
		}
	})
}

// REST bodies: a field given twice is refused (encoding/json kept the
// last: {"rules":"tictactoe","rules":"crazyeights"} made crazy eights),
// and a resign takes no body: a message id put there was ignored, so the
// retry of a resign was refused game_ended instead of answered duplicate.
func TestRESTBodiesAreRead(t *testing.T) {
	n := startNode(t, testenv.Stores(t)[0].Open(t), nil, gateway.Config{})
	var errBody struct {
		Error protocol.Error `json:"error"`
	}
	if st := n.rawREST(t, "alice", "POST", "/v1/games", `{"rules":"tictactoe","rules":"crazyeights","players":["alice","bob"]}`, nil, &errBody); st != 400 || !strings.Contains(errBody.Error.Message, `duplicate field "rules"`) {
		t.Fatalf("a body with rules twice: %d %+v", st, errBody.Error)
	}
	g := n.create(t, "tictactoe", "alice", "bob")
	path := "/v1/games/" + g.String() + "/resign"
	for body, want := range map[string]string{
		`{"message_id":"res1"}`:     "Idempotency-Key header, not in the body",
		`not json`:                  "takes no body",
		strings.Repeat(" ", 70<<10): "over 64 KiB",
	} {
		errBody.Error = protocol.Error{}
		if st := n.rawREST(t, "alice", "POST", path, body, nil, &errBody); st < 400 || !strings.Contains(errBody.Error.Message, want) {
			t.Fatalf("resign with body %.20q: %d %+v, want %q", body, st, errBody.Error, want)
		}
	}
	var res struct {
		Duplicate bool `json:"duplicate"`
	}
	for i, want := range []bool{false, true} {
		if st := n.rawREST(t, "alice", "POST", path, `{}`, map[string]string{"Idempotency-Key": "res1"}, &res); st != 200 || res.Duplicate != want {
			t.Fatalf("resign %d with its key in the header: %d, duplicate %v", i+1, st, res.Duplicate)
		}
	}
}

// The nil UUID is in the canonical form, and the refusal says what is
// wrong with it instead of asking for that form.
func TestNilGameIDIsNamed(t *testing.T) {
	n := startNode(t, testenv.Stores(t)[0].Open(t), nil, gateway.Config{})
	var errBody struct {
		Error protocol.Error `json:"error"`
	}
	if st := n.rest(t, "alice", "GET", "/v1/games/"+uuid.Nil.String(), nil, &errBody); st != 400 || !strings.Contains(errBody.Error.Message, "nil UUID") {
		t.Fatalf("the nil UUID: %d %+v", st, errBody.Error)
	}
	c := n.dial(t, "alice")
	m, _ := c.Request(ctxT(t), protocol.Request{Type: protocol.TypeSpectate, GameID: uuid.Nil.String()})
	if m.Error == nil || m.Error.Code != protocol.CodeInvalidMessage || !strings.Contains(m.Error.Message, "nil UUID") {
		t.Fatalf("spectating the nil UUID: %+v", m)
	}
}
