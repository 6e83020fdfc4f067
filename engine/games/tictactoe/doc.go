// Package tictactoe is noughts and crosses on the engine: two players, the
// first plays X, the second O, they alternate placing their mark on an
// empty cell of a 3x3 board (cells 0..8, row by row); three in a row wins, a
// full board without one is a draw. There is no randomness and nothing is
// hidden. It is the baseline for benchmarks against other game servers.
//
// Action: {"type":"place","cell":4}. Event: placed {"cell":4}. Config: {}.
package tictactoe
