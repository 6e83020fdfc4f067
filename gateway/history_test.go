package gateway_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/protocol"
)

// A user's finished games, newest first, in pages; the ended games list;
// bad queries refused.
func TestHistoryREST(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		n := startNode(t, b.Open(t), nil, gateway.Config{})
		var ended []uuid.UUID
		for i := range 3 {
			game := createWith(t, n, `{}`)
			for j, c := range []int{0, 3, 1, 4, 2} {
				var out map[string]any
				if st := n.rest(t, []string{"alice", "bob"}[j%2], "POST", "/v1/games/"+game.String()+"/actions", map[string]any{
					"message_id": "m" + strconv.Itoa(j), "action": map[string]any{"type": "place", "cell": c}}, &out); st != http.StatusOK {
					t.Fatalf("game %d move %d: %d %v", i, j, st, out)
				}
			}
			ended = append(ended, game)
		}
		active := createWith(t, n, `{}`)
		type page struct {
			Games []struct {
				GameID     string           `json:"game_id"`
				Rules      string           `json:"rules"`
				Players    []string         `json:"players"`
				Outcome    protocol.Outcome `json:"outcome"`
				StartedAt  time.Time        `json:"started_at"`
				EndedAt    time.Time        `json:"ended_at"`
				DurationMS int64            `json:"duration_ms"`
				Events     uint64           `json:"events"`
			} `json:"games"`
			Next  string          `json:"next"`
			Error *protocol.Error `json:"error"`
		}
		var all page
		for deadline := time.Now().Add(10 * time.Second); len(all.Games) < 3; {
			if time.Now().After(deadline) {
				t.Fatalf("history %+v", all)
			}
			n.rest(t, "bob", "GET", "/v1/users/me/history", nil, &all)
		}
		for i, g := range all.Games { // newest first
			if g.GameID != ended[2-i].String() || g.Rules != "tictactoe" || g.Outcome.Reason != "normal" ||
				g.Outcome.Winners[0] != "alice" || g.Events != 13 || g.EndedAt.Before(g.StartedAt) || g.GameID == active.String() {
				t.Fatalf("history entry %d: %+v", i, g)
			}
		}
		var seen []string
		for cursor, pages := "", 0; ; pages++ {
			var p page
			path := "/v1/users/me/history?limit=1"
			if cursor != "" {
				path += "&before=" + cursor
			}
			if st := n.rest(t, "alice", "GET", path, nil, &p); st != http.StatusOK {
				t.Fatalf("page %d: %d %+v", pages, st, p.Error)
			}
			for _, g := range p.Games {
				seen = append(seen, g.GameID)
			}
			if p.Next == "" {
				break
			}
			cursor = p.Next
		}
		if len(seen) != 3 || seen[0] != ended[2].String() || seen[2] != ended[0].String() {
			t.Fatalf("pages of 1: %v", seen)
		}
		var list struct {
			Games []protocol.GameSummary `json:"games"`
		}
		n.rest(t, "alice", "GET", "/v1/games?player=me&status=ended", nil, &list)
		if len(list.Games) != 3 || list.Games[0].GameID != ended[2].String() || list.Games[0].Head != 13 {
			t.Fatalf("ended games: %+v", list.Games)
		}
		n.rest(t, "carol", "GET", "/v1/users/me/history", nil, &all)
		if len(all.Games) != 0 {
			t.Fatalf("carol's history: %+v", all.Games)
		}
		var errBody struct {
			Error protocol.Error `json:"error"`
		}
		for _, path := range []string{"/v1/users/me/history?limit=0", "/v1/users/me/history?limit=101", "/v1/users/me/history?before=nonsense", "/v1/games?player=me&status=paused"} {
			if st := n.rest(t, "alice", "GET", path, nil, &errBody); st != http.StatusBadRequest || errBody.Error.Code != protocol.CodeInvalidMessage {
				t.Fatalf("%s: %d %+v", path, st, errBody.Error)
			}
		}
	})
}
