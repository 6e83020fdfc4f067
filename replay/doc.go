// Package replay is the read side of a game's log: it turns stored events
// (package eventstore) into the engine's events (package engine) and reads
// whole games, for everything that looks back at a game rather than playing
// it: the command path's fold, the hub's rendering, the audit and the dump.
//
// It imports the engine and the store's contract, never a backend; the
// engine and the store import nothing of it.
package replay
