// Package play is the command path: it runs players' commands against games
// whose only truth is the event log.
//
// A Service keeps recently used games' state in memory (bounded LRU; a miss
// folds the game's events from the store). To run a command it decides it
// against that state with the engine, appends the resulting events with the
// state's seq as the expected seq, and on a conflict (another process, or
// another goroutine, appended first) reads what it missed, folds it and
// decides again, a bounded number of times. Racing commands therefore never
// fork a game: the store's expected-seq check is the only arbiter.
//
// Idempotency: a command's message id (scoped to its actor) is stored with
// its events. The same message id sent again, on any connection, to any
// process, after any restart, returns the events originally stored and
// appends nothing. The check happens before deciding (against the events
// this process has folded), after a rejection (in case the state was behind)
// and, finally, in the store itself.
//
// Seeds: each game's secret seed is HMAC-SHA256(SeedSecret, "playlog/seed/v1"
// || game id). Every process that shares the secret can decide any game
// without storing seeds anywhere; the log holds only the engine's
// commitment until the game ends and the seed is revealed. Keep the secret
// as secret as the games' hidden information.
package play
