package tictactoe_test

import (
	"fmt"
	"testing"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/engine/enginetest"
	"github.com/playlog/playlog/engine/games/tictactoe"
)

// given is a game between alice (X) and bob (O) after the moves in cells,
// alternating from alice.
func given(t *testing.T, cells ...int) engine.State {
	t.Helper()
	g := tictactoe.Game()
	s := enginetest.Given(t, g, enginetest.Created(tictactoe.Name, "{}", "alice", "bob"))
	for i, c := range cells {
		s = enginetest.After(t, g, s, []string{"alice", "bob"}[i%2], fmt.Sprintf(`{"type":"place","cell":%d}`, c))
	}
	return s
}

func TestMoves(t *testing.T) {
	g := tictactoe.Game()
	tests := []struct {
		name   string
		given  []int
		actor  string
		action string
		then   []engine.Payload
	}{
		{"first player places an X", nil, "alice", `{"type":"place","cell":4}`, []engine.Payload{tictactoe.Placed{Cell: 4}}},
		{"second player answers", []int{4}, "bob", `{"type":"place","cell":0}`, []engine.Payload{tictactoe.Placed{Cell: 0}}},
		{"three in a row wins", []int{0, 3, 1, 4}, "alice", `{"type":"place","cell":2}`,
			append([]engine.Payload{tictactoe.Placed{Cell: 2}}, enginetest.Ended(engine.Win("alice"))...)},
		{"a diagonal wins for O", []int{1, 0, 2, 4, 5}, "bob", `{"type":"place","cell":8}`,
			append([]engine.Payload{tictactoe.Placed{Cell: 8}}, enginetest.Ended(engine.Win("bob"))...)},
		{"full board without a line is a draw", []int{0, 1, 2, 4, 3, 5, 7, 6}, "alice", `{"type":"place","cell":8}`,
			append([]engine.Payload{tictactoe.Placed{Cell: 8}}, enginetest.Ended(engine.Draw())...)},
		{"a win on the last cell is a win, not a draw", []int{0, 1, 2, 5, 3, 6, 4, 7}, "alice", `{"type":"place","cell":8}`,
			append([]engine.Payload{tictactoe.Placed{Cell: 8}}, enginetest.Ended(engine.Win("alice"))...)},
		{"resigning hands the win to the opponent", []int{4}, "alice", `{"type":"resign"}`,
			enginetest.Ended(engine.Outcome{Ended: true, Winners: []string{"bob"}, Reason: engine.ReasonResignation})},
		{"a timeout loses", []int{4}, engine.System, `{"type":"timeout","player":"bob"}`,
			enginetest.Ended(engine.Outcome{Ended: true, Winners: []string{"alice"}, Reason: engine.ReasonTimeout})},
		{"abandonment has no winner", nil, engine.System, `{"type":"abandon"}`,
			enginetest.Ended(engine.Outcome{Ended: true, Winners: []string{}, Reason: engine.ReasonAbandonment})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := enginetest.When(g, given(t, tt.given...), tt.actor, tt.action)
			enginetest.Then(t, evs, err, tt.then...)
		})
	}
}

func TestRejections(t *testing.T) {
	g := tictactoe.Game()
	tests := []struct {
		name   string
		given  []int
		actor  string
		action string
		want   error
	}{
		{"second player cannot open", nil, "bob", `{"type":"place","cell":4}`, engine.ErrNotYourTurn},
		{"a taken cell", []int{4}, "bob", `{"type":"place","cell":4}`, engine.ErrActionNotAllowed},
		{"cell out of range", nil, "alice", `{"type":"place","cell":9}`, engine.ErrInvalidAction},
		{"negative cell", nil, "alice", `{"type":"place","cell":-1}`, engine.ErrInvalidAction},
		{"fractional cell", nil, "alice", `{"type":"place","cell":1.5}`, engine.ErrInvalidAction},
		{"cell as a string", nil, "alice", `{"type":"place","cell":"4"}`, engine.ErrInvalidAction},
		{"missing cell", nil, "alice", `{"type":"place"}`, engine.ErrInvalidAction},
		{"unknown field", nil, "alice", `{"type":"place","cell":4,"mark":"X"}`, engine.ErrInvalidAction},
		{"field names are case sensitive", nil, "alice", `{"type":"place","Cell":4}`, engine.ErrInvalidAction},
		{"duplicate field", nil, "alice", `{"type":"place","cell":4,"cell":5}`, engine.ErrInvalidAction},
		{"unknown action", nil, "alice", `{"type":"swap"}`, engine.ErrInvalidAction},
		{"trailing data", nil, "alice", `{"type":"place","cell":4}{}`, engine.ErrInvalidAction},
		{"not a player", nil, "mallory", `{"type":"place","cell":4}`, engine.ErrActionNotAllowed},
		{"the system cannot play", nil, engine.System, `{"type":"place","cell":4}`, engine.ErrActionNotAllowed},
		{"a player cannot report a timeout", nil, "alice", `{"type":"timeout","player":"bob"}`, engine.ErrActionNotAllowed},
		{"only the player to move can time out", nil, engine.System, `{"type":"timeout","player":"bob"}`, engine.ErrActionNotAllowed},
		{"after a win nothing is accepted", []int{0, 3, 1, 4, 2}, "bob", `{"type":"place","cell":5}`, engine.ErrGameOver},
		{"after a win resigning is too late", []int{0, 3, 1, 4, 2}, "bob", `{"type":"resign"}`, engine.ErrGameOver},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := enginetest.When(g, given(t, tt.given...), tt.actor, tt.action)
			enginetest.ThenReject(t, evs, err, tt.want)
		})
	}
}

func TestLegalListsEmptyCellsForThePlayerToMove(t *testing.T) {
	g := tictactoe.Game()
	s := given(t, 0, 4, 8)
	if got := len(g.Legal(s, "bob")); got != 6 {
		t.Errorf("bob has %d legal moves, want 6", got)
	}
	if got := g.Legal(s, "alice"); got != nil {
		t.Errorf("alice, not to move, has legal moves %s", got)
	}
	if got := g.Turn(s); len(got) != 1 || got[0] != "bob" {
		t.Errorf("turn = %v, want [bob]", got)
	}
}

func TestSetupNeedsTwoPlayersAndNoConfig(t *testing.T) {
	g := tictactoe.Game()
	for _, tt := range []struct {
		name    string
		config  string
		players []string
	}{
		{"one player", "", []string{"alice"}},
		{"three players", "", []string{"alice", "bob", "carol"}},
		{"unknown config", `{"size":4}`, []string{"alice", "bob"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := g.Create([]byte(tt.config), tt.players, enginetest.TestSeed)
			enginetest.ThenReject(t, nil, err, engine.ErrInvalidSetup)
		})
	}
}
