// Package pig is the smallest complete game on the engine, the example in
// docs/writing-a-game.md: the dice game Pig for 2 to 4 players.
//
// On your turn you roll a die as often as you like. A 1 ends your turn and
// loses what you rolled this turn; any other face adds to your turn total.
// You may hold instead of rolling: your turn total is added to your score
// and the turn passes. The first to reach the target score (config
// {"target":n}, 1..100, default 20) wins. A player who times out holds.
//
// Actions: {"type":"roll"}, {"type":"hold"}. Events: rolled, held.
package pig
