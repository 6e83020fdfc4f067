package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/archive"
	"github.com/playlog/playlog/client"
	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/protocol"
	"github.com/playlog/playlog/replay"
)

type replayStep struct {
	GameID  string          `json:"game_id"`
	Rules   string          `json:"rules"`
	Players []string        `json:"players"`
	View    string          `json:"view"`
	Head    uint64          `json:"head"`
	Ended   bool            `json:"ended"`
	At      uint64          `json:"at"`
	State   json.RawMessage `json:"state"`
	Turn    []string        `json:"turn"`
	Forced  *protocol.Forced
	Outcome protocol.Outcome `json:"outcome"`
	Event   replay.Entry     `json:"event"`
	Error   *protocol.Error  `json:"error"`
}

type replayEvents struct {
	Head   uint64          `json:"head"`
	View   string          `json:"view"`
	Events []replay.Entry  `json:"events"`
	Error  *protocol.Error `json:"error"`
}

// checkReplay compares what a live client of user holds with the replay
// REST API: every event it was sent is the replay's event at that seq, and
// the replay state at its last seq is its fold of them.
func checkReplay(t *testing.T, n *node, user string, v *viewer, wantView string) {
	t.Helper()
	head := v.state.Seq()
	var evs replayEvents
	path := fmt.Sprintf("/v1/games/%s/replay/events?from=1&to=%d", v.game, head)
	if st := n.rest(t, user, "GET", path, nil, &evs); st != http.StatusOK || evs.View != wantView || len(evs.Events) != int(head) {
		t.Fatalf("%s: replay events %d, view %s, %d events, want %s and %d (%+v)", user, st, evs.View, len(evs.Events), wantView, head, evs.Error)
	}
	for i, m := range v.events {
		live, err := client.Rendered(m)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(evs.Events[i].Rendered)
		want, _ := json.Marshal(live)
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: replay event %s, live %s", user, got, want)
		}
	}
	var step replayStep
	if st := n.rest(t, user, "GET", fmt.Sprintf("/v1/games/%s/replay?at=%d", v.game, head), nil, &step); st != http.StatusOK {
		t.Fatalf("%s: replay at %d: %d %+v", user, head, st, step.Error)
	}
	held, _ := json.Marshal(v.state)
	if step.At != head || step.View != wantView || !bytes.Equal(step.State, held) || step.Event.Seq != head {
		t.Fatalf("%s: replay at %d (view %s, event %d)\n%s\nlive client held\n%s", user, step.At, step.View, step.Event.Seq, step.State, held)
	}
}

// Who sees what of a replay, and every bad request refused with its code.
func TestReplayREST(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		n := startNode(t, b.Open(t), nil, gateway.Config{})
		create := func(config string) uuid.UUID {
			var g gameInfo
			body := map[string]any{"rules": "tictactoe", "players": []string{"alice", "bob"}, "config": json.RawMessage(config)}
			if st := n.rest(t, "alice", "POST", "/v1/games", body, &g); st != http.StatusCreated {
				t.Fatalf("create %s: %d %+v", config, st, g.Error)
			}
			return uuid.MustParse(g.GameID)
		}
		move := func(game uuid.UUID, user string, cell int) {
			var out map[string]any
			if st := n.rest(t, user, "POST", "/v1/games/"+game.String()+"/actions",
				map[string]any{"message_id": uuid.NewString(), "action": map[string]any{"type": "place", "cell": cell}}, &out); st != http.StatusOK {
				t.Fatalf("%s places %d: %d %v", user, cell, st, out)
			}
		}
		win := func(game uuid.UUID) { // x wins the top row
			for i, c := range []int{0, 3, 1, 4, 2} {
				move(game, []string{"alice", "bob"}[i%2], c)
			}
		}
		view := func(game uuid.UUID, user string) replayStep {
			var s replayStep
			if st := n.rest(t, user, "GET", "/v1/games/"+game.String()+"/replay", nil, &s); st != http.StatusOK {
				t.Fatalf("%s: replay: %d %+v", user, st, s.Error)
			}
			return s
		}

		private, public := create(`{}`), create(`{"public":true}`)
		move(private, "alice", 4)
		if s := view(private, "alice"); s.View != "player" || s.Ended || s.Head != s.At || s.Head < 2 {
			t.Fatalf("a player of an active game: %+v", s)
		}
		if s := view(private, "carol"); s.View != "spectator" {
			t.Fatalf("a stranger of an active game: %+v", s)
		}
		move(private, "bob", 0)
		move(private, "alice", 1)
		move(private, "bob", 2)
		move(private, "alice", 7) // x: 4 1 7, the middle column
		win(public)
		for _, tc := range []struct {
			game       uuid.UUID
			user, want string
		}{
			{private, "alice", "auditor"}, {private, "bob", "auditor"}, {private, "carol", "spectator"},
			{public, "carol", "auditor"}, {public, "bob", "auditor"},
		} {
			s := view(tc.game, tc.user)
			var st struct {
				Seed string `json:"seed"`
			}
			json.Unmarshal(s.State, &st)
			if s.View != tc.want || !s.Ended || !s.Outcome.Ended || s.At != s.Head {
				t.Fatalf("%s of ended game: %+v", tc.user, s)
			}
			if st.Seed == "" { // tictactoe has no secrets: its seed is anyone's once it ends
				t.Fatalf("%s (%s) does not see the revealed seed", tc.user, tc.want)
			}
		}
		first := view(private, "alice")
		var errBody struct {
			Error protocol.Error `json:"error"`
		}
		g := "/v1/games/" + private.String()
		for _, tc := range []struct {
			name, user, path string
			status           int
			code             string
		}{
			{"step 0", "alice", g + "/replay?at=0", 400, protocol.CodeInvalidMessage},
			{"past the head", "alice", fmt.Sprintf("%s/replay?at=%d", g, first.Head+1), 400, protocol.CodeInvalidMessage},
			{"not a number", "alice", g + "/replay?at=x", 400, protocol.CodeInvalidMessage},
			{"negative", "alice", g + "/replay?at=-1", 400, protocol.CodeInvalidMessage},
			{"from after to", "alice", g + "/replay/events?from=3&to=2", 400, protocol.CodeInvalidMessage},
			{"events past the head", "alice", fmt.Sprintf("%s/replay/events?from=1&to=%d", g, first.Head+1), 400, protocol.CodeInvalidMessage},
			{"unknown game", "alice", "/v1/games/" + uuid.NewString() + "/replay", 404, protocol.CodeGameNotFound},
			{"bad id", "alice", "/v1/games/nope/replay/events", 400, protocol.CodeInvalidMessage},
			{"no token", "", g + "/replay", 401, protocol.CodeAuthenticationFailed},
		} {
			errBody.Error = protocol.Error{}
			if st := n.rest(t, tc.user, "GET", tc.path, nil, &errBody); st != tc.status || errBody.Error.Code != tc.code || errBody.Error.Message == "" {
				t.Fatalf("%s: %d %+v, want %d %s", tc.name, st, errBody.Error, tc.status, tc.code)
			}
		}
		// The default range is the whole log; an auditor's events carry
		// their hashes, chained.
		var evs replayEvents
		n.rest(t, "alice", "GET", g+"/replay/events", nil, &evs)
		if uint64(len(evs.Events)) != first.Head || evs.View != "auditor" {
			t.Fatalf("whole log: %d events, view %s", len(evs.Events), evs.View)
		}
		for i, e := range evs.Events {
			if e.Visibility != engine.Full || e.Hash == nil || e.PrevHash == nil || e.Stored == nil || (i > 0 && *e.PrevHash != *evs.Events[i-1].Hash) {
				t.Fatalf("auditor's event %d: %+v", e.Seq, e)
			}
		}

		// Archived, the games replay exactly as before, for everyone.
		before := map[string][]byte{}
		for _, who := range []string{"alice", "carol"} {
			for _, game := range []uuid.UUID{private, public} {
				for _, path := range []string{"/replay", "/replay?at=3", "/replay/events"} {
					var raw json.RawMessage
					n.rest(t, who, "GET", "/v1/games/"+game.String()+path, nil, &raw)
					before[who+game.String()+path] = raw
				}
			}
		}
		if m, err := archive.Move(context.Background(), n.store, n.blobs, archive.Options{Before: time.Now().Add(time.Minute)}); err != nil || m.Games != 2 {
			t.Fatalf("archive: %+v %v", m, err)
		}
		if _, err := n.store.Head(context.Background(), private); !errors.Is(err, eventstore.ErrGameNotFound) {
			t.Fatalf("the archived game is still in the hot store: %v", err)
		}
		for key, want := range before {
			who, rest := key[:5], key[5:] // alice and carol are five letters
			var raw json.RawMessage
			if st := n.rest(t, who, "GET", "/v1/games/"+rest, nil, &raw); st != http.StatusOK || !bytes.Equal(raw, want) {
				t.Fatalf("%s GET %s of an archived game: %d\n%s\nwant\n%s", who, rest, st, raw, want)
			}
		}
	})
}
