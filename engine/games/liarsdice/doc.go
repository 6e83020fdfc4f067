// Package liarsdice is Liar's Dice on the engine, for 2 to 6 players.
//
// The rules, as played here:
//
//   - Every player starts with 5 dice. Each round, everyone still in the
//     game rolls all their dice in secret (each sees only their own).
//   - Players bid in seat order, skipping eliminated players, on how many
//     dice on the whole table show one face: {"type":"bid","quantity":3,
//     "face":5} means "at least three 5s". The first bid of a round may be
//     anything (quantity at least 1, face 1 to 6). Each later bid must
//     raise: a higher quantity with any face, or the same quantity with a
//     higher face. A quantity above the number of dice on the table is not
//     allowed. Ones are not wild: a die counts only for its own face.
//   - Instead of raising, the player to act may challenge the last bid
//     ({"type":"challenge"}). All dice are revealed and counted. If at
//     least quantity dice show the face, the bid stands and the challenger
//     loses a die; otherwise the bidder loses a die.
//   - A player with no dice left is eliminated. The loser of the challenge
//     starts the next round, or, if eliminated, the next player in seat
//     order still in the game. The last player with dice wins.
//
// Events: rolled (redacted for others: their dice show as 0), bid,
// challenged (public: it reveals every die). Config: {}.
package liarsdice
