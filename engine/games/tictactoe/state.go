package tictactoe

import "github.com/playlog/playlog/engine"

// Mark is what a cell holds.
type Mark uint8

const (
	Empty Mark = iota
	X          // the first player
	O          // the second player
)

// State is the board and whose move it is.
type State struct {
	Players [2]string `json:"players"`
	Board   [9]Mark   `json:"board"` // row by row; 0 empty, 1 X, 2 O
	Next    int       `json:"next"`  // index into Players
}

var lines = [8][3]int{
	{0, 1, 2}, {3, 4, 5}, {6, 7, 8},
	{0, 3, 6}, {1, 4, 7}, {2, 5, 8},
	{0, 4, 8}, {2, 4, 6},
}

// Evolve places the mover's mark and passes the move.
func (Rules) Evolve(s State, e engine.Payload) State {
	if p, ok := e.(Placed); ok {
		s.Board[p.Cell] = Mark(s.Next + 1)
		s.Next ^= 1
	}
	return s
}

// Turn is the player to move.
func (Rules) Turn(s State) []string { return []string{s.Players[s.Next]} }

// Forced: tictactoe never forces anything.
func (Rules) Forced(State) (engine.Forced, bool) { return engine.Forced{}, false }

// Outcome: three in a row wins; a full board is a draw.
func (Rules) Outcome(s State) engine.Outcome {
	for _, l := range lines {
		if m := s.Board[l[0]]; m != Empty && m == s.Board[l[1]] && m == s.Board[l[2]] {
			return engine.Win(s.Players[m-1])
		}
	}
	for _, m := range s.Board {
		if m == Empty {
			return engine.Outcome{}
		}
	}
	return engine.Draw()
}
