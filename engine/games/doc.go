// Package games assembles the standard catalogue: the registry of the
// reference games a playlog server offers (tictactoe, crazyeights,
// liarsdice). Each game lives in its own package below this one; nothing
// registers itself, Standard lists them explicitly.
package games
