package gateway_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/auth"
	"github.com/playlog/playlog/client"
	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/internal/testkit/testnode"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/protocol"
)

// logBuffer collects log lines. Safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Split(strings.TrimRight(l.b.String(), "\n"), "\n")
}

// logLine is one JSON log line: its fields, and every string in it as
// decoded (a secret inside a quoted string is escaped in the raw line).
type logLine struct {
	raw     string
	fields  map[string]any
	strings string
}

func (l logLine) str(key string) string { s, _ := l.fields[key].(string); return s }

func parseLogLine(t *testing.T, raw string) logLine {
	t.Helper()
	l := logLine{raw: raw}
	if err := json.Unmarshal([]byte(raw), &l.fields); err != nil {
		t.Fatalf("log line is not JSON: %q (%v)", raw, err)
	}
	var b strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			b.WriteString(v)
			b.WriteByte('\n')
		case map[string]any:
			for k, x := range v {
				b.WriteString(k)
				b.WriteByte('\n')
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(l.fields)
	l.strings = b.String()
	return l
}

// secretForms are the ways a secret could be written into a log line.
func secretForms(b []byte) []string {
	return []string{string(b), hex.EncodeToString(b), base64.StdEncoding.EncodeToString(b),
		base64.RawStdEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b), fmt.Sprint(b)}
}

// TestLogsHoldNoSecrets plays a crazy eights game (hidden hands) to its end
// over real WebSocket on a node logging at debug level, with REST calls
// beside it (one with access_token in its query, several failing, one with
// a hand in its body) and client messages that fail (one with a hand in
// its action, one with a token as its type). Then it scans every line the
// node and its store logged for what it knows to be secret: the tokens,
// the JWT secret, the seed secret, the game's seed and every hand as its
// player saw it while hidden. The debug lines must be there: one per REST
// request and one per client message, with the connection's, the
// request's and the game's ids.
func TestLogsHoldNoSecrets(t *testing.T) {
	logs := &logBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	store, err := jetstream.Open(context.Background(), jetstream.Config{Dir: t.TempDir(), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	tn := testnode.StartWith(t, store, nil, gateway.Config{MessagesPerSecond: 10000, Burst: 10000},
		testnode.Options{Logger: logger})
	ctx := ctxT(t)

	players := []string{"alice", "bob"}
	tokens := map[string]string{"alice": testnode.Token(t, "alice"), "bob": testnode.Token(t, "bob"), "sam": testnode.Token(t, "sam")}
	forged, err := auth.Mint([]byte("not-the-secret-not-the-secret-not-the-secret"), "mallory", time.Hour, "", "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	requests := 0 // HTTP requests made, WebSocket handshakes included
	call := func(method, path, authz string, body any, out any) int {
		t.Helper()
		var rd io.Reader = http.NoBody
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, tn.URL+path, rd)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		requests++
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil {
			json.NewDecoder(resp.Body).Decode(out)
		}
		return resp.StatusCode
	}
	bearer := func(user string) string { return "Bearer " + tokens[user] }

	var created gameInfo
	if st := call("POST", "/v1/games", bearer("alice"), map[string]any{"rules": "crazyeights", "players": players}, &created); st != http.StatusCreated {
		t.Fatalf("create: %d %+v", st, created.Error)
	}
	game := uuid.MustParse(created.GameID)
	gamePath := "/v1/games/" + game.String()

	// alice connects with the header, bob as a browser does, with
	// access_token in the handshake's query; sam spectates.
	wsURL := "ws" + strings.TrimPrefix(tn.URL, "http") + "/v1/ws"
	sent := map[string]int{} // client messages by user
	dial := func(user, url, tok string) *client.Client {
		t.Helper()
		requests++
		c, err := client.Dial(ctx, url, tok, client.Options{})
		if err != nil {
			t.Fatalf("%s dials: %v", user, err)
		}
		t.Cleanup(func() { c.Close() })
		if m, err := c.Next(ctx); err != nil || m.Type != protocol.TypeConnected {
			t.Fatalf("%s: first message %+v, %v", user, m, err)
		}
		return c
	}
	views := map[string]*viewer{
		"alice": newViewer(t, dial("alice", wsURL, tokens["alice"]), game, "crazyeights"),
		"bob":   newViewer(t, dial("bob", wsURL+"?access_token="+tokens["bob"], ""), game, "crazyeights"),
	}
	spec := newViewer(t, dial("sam", wsURL, tokens["sam"]), game, "crazyeights")
	request := func(user string, v *viewer, req protocol.Request) (protocol.Message, error) {
		t.Helper()
		sent[user]++
		return v.c.Request(ctx, req)
	}
	for _, p := range players {
		if _, err := request(p, views[p], protocol.Request{Type: protocol.TypeJoinGame, GameID: game.String(), LastEventID: u64(0)}); err != nil {
			t.Fatalf("%s joins: %v", p, err)
		}
	}
	if _, err := request("sam", spec, protocol.Request{Type: protocol.TypeSpectate, GameID: game.String(), LastEventID: u64(0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := request("sam", spec, protocol.Request{Type: protocol.TypeJoinGame, GameID: uuid.NewString()}); err == nil {
		t.Fatal("sam joined a game that does not exist")
	}

	// hands are the needles: each player's hand, as they saw it, after
	// every move.
	hands := map[string]string{}
	recordHands := func() {
		for seat, p := range players {
			view, _ := json.Marshal(views[p].rules.View(views[p].state, engine.AsPlayer(p)))
			var st struct {
				State struct {
					Hands [][]string `json:"hands"`
				} `json:"state"`
			}
			if err := json.Unmarshal(view, &st); err != nil || len(st.State.Hands) != len(players) {
				t.Fatalf("%s's view %s: %v", p, view, err)
			}
			hand := st.State.Hands[seat]
			if len(hand) == 0 {
				continue
			}
			for _, c := range hand {
				if c == "??" {
					t.Fatalf("%s's own hand shows a hidden card: %v", p, hand)
				}
			}
			j, _ := json.Marshal(hand)
			hands[string(j)] = p + "'s hand"
			if len(hand) >= 3 { // as fmt or a join would print it
				hands["["+strings.Join(hand, " ")+"]"] = p + "'s hand"
				hands[strings.Join(hand, ",")] = p + "'s hand"
			}
		}
	}
	head := uint64(2) // game_created, dealt
	for _, v := range views {
		v.until(ctx, head)
	}
	recordHands()

	rng := rand.New(rand.NewPCG(12, 7))
	moves := 0
	for ; ; moves++ {
		if moves > 2000 {
			t.Fatal("game did not end in 2000 moves")
		}
		var info gameInfo
		call("GET", gamePath, bearer("alice"), nil, &info)
		if info.Status == "ended" {
			break
		}
		mover := info.Turn[0]
		if info.Forced != nil {
			mover = info.Forced.Player
		}
		other := players[0]
		if other == mover {
			other = players[1]
		}
		var mine gameInfo
		call("GET", gamePath, bearer(mover), nil, &mine)
		hand := []byte(nil)
		for h, who := range hands {
			if who == mover+"'s hand" && strings.HasPrefix(h, "[\"") {
				hand = []byte(h)
				break
			}
		}
		switch moves {
		case 1: // out of turn, over WebSocket
			if _, err := request(other, views[other], protocol.Request{Type: protocol.TypeAction, GameID: game.String(),
				Action: json.RawMessage(`{"type":"draw"}`)}); err == nil {
				t.Fatal("a move out of turn was taken")
			}
		case 2: // a hand in an action, and in a malformed message
			if _, err := request(mover, views[mover], protocol.Request{Type: protocol.TypeAction, GameID: game.String(),
				Action: json.RawMessage(`{"type":"draw","hand":` + string(hand) + `}`)}); err == nil {
				t.Fatal("an action with an unknown field was taken")
			}
			sent[mover]++
			views[mover].c.SendRaw([]byte(`{"type":"action","message_id":"bad1","game_id":"` + game.String() + `","action":{"type":"draw"},"hand":` + string(hand) + `}`))
			sent[mover]++
			views[mover].c.SendRaw([]byte(`{"type":"` + tokens[mover] + `","message_id":"bad2"}`))
			sent[mover]++
			views[mover].c.SendRaw([]byte(`{"type":"heartbeat","message_id":"` + tokens[mover] + `"}`))
		case 3: // REST: a hand in a body, access_token in a query, bad tokens, unknown games and cursors
			if st := call("POST", gamePath+"/actions", bearer(mover), map[string]any{"message_id": "r3",
				"action": map[string]string{"type": "draw"}, "hand": json.RawMessage(hand)}, nil); st != http.StatusBadRequest {
				t.Fatalf("a body with an unknown field: %d", st)
			}
			if st := call("GET", gamePath+"?access_token="+tokens[mover], "", nil, nil); st != http.StatusUnauthorized {
				t.Fatalf("access_token on REST: %d", st)
			}
			if st := call("GET", gamePath+"?access_token="+tokens[mover], bearer(mover), nil, nil); st != http.StatusUnauthorized {
				t.Fatalf("access_token beside a header on REST: %d", st)
			}
			if st := call("GET", gamePath, "Bearer "+forged, nil, nil); st != http.StatusUnauthorized {
				t.Fatalf("a forged token: %d", st)
			}
			// A token in the path itself, escaped: the decoded path holds it.
			if st := call("GET", "/v1/games%3Faccess_token="+tokens[mover], bearer(mover), nil, nil); st == http.StatusOK {
				t.Fatalf("a token in the path: %d", st)
			}
			if st := call("GET", "/v1/games/"+uuid.NewString(), bearer(mover), nil, nil); st != http.StatusNotFound {
				t.Fatalf("an unknown game: %d", st)
			}
			if st := call("GET", "/v1/users/me/history?before=nonsense", bearer(mover), nil, nil); st != http.StatusBadRequest {
				t.Fatalf("a bad cursor: %d", st)
			}
			if st := call("POST", gamePath+"/actions", bearer(other), map[string]any{"action": mine.Legal[0]}, nil); st != http.StatusConflict {
				t.Fatalf("a REST move out of turn: %d", st)
			}
		}
		action := mine.Legal[rng.IntN(len(mine.Legal))]
		var last uint64
		if moves%7 == 4 { // some moves over REST
			var res struct {
				EventIDs []uint64 `json:"event_ids"`
			}
			if st := call("POST", gamePath+"/actions", bearer(mover), map[string]any{"message_id": fmt.Sprintf("r%d", moves), "action": action}, &res); st != http.StatusOK {
				t.Fatalf("REST move %d by %s (%s): %d", moves, mover, action, st)
			}
			last = res.EventIDs[len(res.EventIDs)-1]
		} else {
			res, err := request(mover, views[mover], protocol.Request{Type: protocol.TypeAction, GameID: game.String(), Action: action})
			if err != nil {
				t.Fatalf("move %d by %s (%s): %v", moves, mover, action, err)
			}
			last = res.EventIDs[len(res.EventIDs)-1]
		}
		for _, v := range views {
			v.until(ctx, last)
		}
		recordHands()
	}
	for _, v := range views {
		v.until(ctx, 0)
	}
	spec.until(ctx, 0)
	// The log in full, seed and all, now the game is over: read, not logged.
	if st := call("GET", gamePath+"/events?after=0&limit=1000", bearer("alice"), nil, nil); st != http.StatusOK {
		t.Fatalf("events: %d", st)
	}
	for _, v := range views {
		v.c.Close()
	}
	spec.c.Close()
	tn.Stop() // every connection's last line written
	t.Logf("%d moves, %d hands recorded", moves, len(hands))

	needles := map[string]string{}
	for user, tok := range tokens {
		needles[tok] = user + "'s token"
		needles[tok[strings.LastIndexByte(tok, '.')+1:]] = user + "'s token's signature"
	}
	needles[forged] = "a forged token"
	for _, f := range secretForms(testnode.JWTSecret) {
		needles[f] = "the JWT secret"
	}
	for _, f := range secretForms(testnode.SeedSecret) {
		needles[f] = "the seed secret"
	}
	for _, f := range secretForms(play.DeriveSeed(testnode.SeedSecret, game)) {
		needles[f] = "the game's seed"
	}
	for h, what := range hands {
		needles[h] = what + " " + h
	}
	jwtLike := regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ`)

	var lines []logLine
	for _, raw := range logs.lines() {
		l := parseLogLine(t, raw)
		for needle, what := range needles {
			if strings.Contains(l.raw, needle) || strings.Contains(l.strings, needle) {
				t.Errorf("a log line holds %s: %s", what, raw)
			}
		}
		for _, bad := range []string{"access_token", "Bearer", "?"} {
			if strings.Contains(l.str("route"), bad) {
				t.Errorf("a logged route holds %q: %s", bad, raw)
			}
		}
		if jwtLike.MatchString(l.raw) || jwtLike.MatchString(l.strings) || strings.Contains(l.strings, "access_token") {
			t.Errorf("a log line holds a token: %s", raw)
		}
		lines = append(lines, l)
	}

	// The debug lines: one per HTTP request, one per client message.
	httpLines, msgLines := 0, map[string]int{}
	has := func(want map[string]string) bool {
		for _, l := range lines {
			ok := true
			for k, v := range want {
				if got := l.str(k); got != v && !(v == "*" && got != "") {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
		return false
	}
	for _, l := range lines {
		if l.str("conn") != "" && l.str("user") == "" {
			t.Errorf("a connection's line without its user: %s", l.raw)
		}
		switch l.str("msg") {
		case "http request":
			httpLines++
			if l.str("request") == "" || l.str("method") == "" || l.fields["status"] == nil || l.fields["duration"] == nil {
				t.Errorf("an http request line without its request id, method, status or duration: %s", l.raw)
			}
		case "websocket message":
			msgLines[l.str("user")]++
			if l.str("conn") == "" || l.str("outcome") == "" || l.fields["duration"] == nil {
				t.Errorf("a websocket message line without its connection, outcome or duration: %s", l.raw)
			}
		}
	}
	if httpLines != requests {
		t.Errorf("%d http request lines for %d requests", httpLines, requests)
	}
	for user, n := range sent {
		if msgLines[user] != n {
			t.Errorf("%d websocket message lines of %s for %d messages sent", msgLines[user], user, n)
		}
	}
	g := game.String()
	for _, want := range []map[string]string{
		{"msg": "http request", "method": "POST", "route": "/v1/games", "game": g, "user": "alice", "request": "*"},
		{"msg": "http request", "method": "GET", "route": "/v1/games/{id}", "game": g, "code": protocol.CodeAuthenticationFailed},
		{"msg": "http request", "method": "GET", "route": "/v1/ws", "user": "bob", "conn": "*"},
		{"msg": "http request", "method": "POST", "route": "/v1/games/{id}/actions", "game": g, "code": protocol.CodeNotYourTurn},
		{"msg": "http request", "method": "GET", "route": "/v1/users/me/history", "code": protocol.CodeInvalidMessage},
		{"msg": "websocket connected", "user": "bob", "conn": "*"},
		{"msg": "websocket closed", "user": "alice", "conn": "*"},
		{"msg": "websocket message", "type": protocol.TypeJoinGame, "game": g, "user": "bob", "conn": "*", "outcome": "ok"},
		{"msg": "websocket message", "type": protocol.TypeAction, "game": g, "conn": "*", "message_id": "*", "outcome": "ok"},
		{"msg": "websocket message", "type": protocol.TypeAction, "game": g, "outcome": protocol.CodeNotYourTurn},
		{"msg": "websocket message", "type": protocol.TypeAction, "game": g, "outcome": protocol.CodeInvalidAction},
		{"msg": "websocket message", "type": protocol.TypeAction, "message_id": "bad1", "outcome": protocol.CodeInvalidMessage},
		{"msg": "websocket message", "type": "?", "message_id": "bad2", "outcome": protocol.CodeUnknownMessageType},
		{"msg": "websocket message", "type": protocol.TypeJoinGame, "user": "sam", "outcome": protocol.CodeGameNotFound},
	} {
		if !has(want) {
			t.Errorf("no log line with %v", want)
		}
	}
	if t.Failed() {
		t.Logf("the log:\n%s", strings.Join(logs.lines(), "\n"))
	}
}
