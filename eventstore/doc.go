// Package eventstore is playlog's contract with its durable log: the event
// envelope, the hash chain, the errors and the Store interface that every
// backend (jetstream, postgres) implements and that storetest proves.
//
// The log is the only truth. Each game has its own dense sequence of events,
// seq 1, 2, 3, ...; the seq is the event id clients resume from. Everything
// else (state, per-viewer views, history) is a projection of the log.
//
// Invariants every backend keeps:
//
//   - Append is atomic: all events of one call are stored, or none.
//   - Append with expected seq E succeeds only if the game's head is E at the
//     moment of writing; otherwise it returns a *ConflictError (errors.Is
//     ErrConflict) and writes nothing. The database is the guard, not a lock in
//     this process, so any number of processes may append to one store.
//   - A message id identifies the command that caused an append. An Append
//     whose message id the game's log already holds writes nothing and returns
//     the events stored for it with Duplicate set. This is checked against the
//     log itself, so it holds forever and across restarts.
//   - Each event's Hash covers the previous event's hash and its own canonical
//     fields (see ChainHash and docs/eventlog.md); the log is tamper-evident.
//   - Subscriptions deliver a game's events in seq order with no gap and no
//     duplicate, catch-up first and then live. The global feed delivers every
//     event of every game exactly once, in an order consistent with each
//     game's seq, and never skips an event that commits late.
//
// Bad input (empty append, non-JSON data, oversize payloads, malformed fields)
// is rejected with a typed error before anything is written.
//
// This package stores opaque payloads: it never imports the engine.
package eventstore
