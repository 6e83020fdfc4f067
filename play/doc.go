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
// Membership: only a game's players may send it commands (ErrNotInGame
// otherwise), and Viewer decides how a joiner sees a game. Players never
// change, so both are checked first, against this process's state (no round
// trip for a game it has loaded); the edge does not decide membership.
//
// Idempotency: a message id is scoped to its user and its game. It is
// stored with the command's events (as actor "/" message id, see
// StoreMessageID), so two users, or one user in two games, never collide.
// The same command sent again under its message id, on any connection, to
// any process, after any restart, returns the events originally stored and
// appends nothing. A different command under a used message id (a resign
// reusing a move's id, a move to another cell) is refused with
// ErrMessageIDReused: it is never answered with the first command's events. "The same" is
// judged canonically: the first event of every command is the engine's
// action record (engine.ActionTaken), and the action sent now, re-encoded by
// the rules (engine.Game.DecodeAction), must equal the one recorded there.
// The check happens before deciding (against the message ids this process
// has folded), after a rejection (in case the state was behind) and when the
// store itself reports the message id as a duplicate (another process
// stored it).
//
// Caching: a game is cached only once the store has shown it exists; ids
// of games that do not exist are looked up and forgotten, so they never
// evict games that do.
//
// Seeds: each game's secret seed is HMAC-SHA256(SeedSecret, "playlog/seed/v1"
// || game id). Every process that shares the secret can decide any game
// without storing seeds anywhere; the log holds only the engine's
// commitment until the game ends and the seed is revealed. Keep the secret
// as secret as the games' hidden information.
//
// Lock order, outer first: an entry's mu (held for one command, across the
// store's append and the sealer), then the store's locks, the Sealer's mu,
// the game cache's own lock. No two entries' locks are held together.
package play
