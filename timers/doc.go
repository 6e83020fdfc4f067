// Package timers enforces timed games' deadlines (docs/timers.md). A
// deadline is an event in the log (engine.TurnStarted, DeadlineExtended),
// so a Service follows the global feed, keeps the pending deadlines in a
// heap (no polling of games), and when one passes fires the system's
// timeout for that turn, named timeout/<turn>: every node may fire it, the
// log takes it once (idempotency), and a move that lands first makes it
// stale (the engine refuses a timeout of a turn no longer running). A
// restarted node reads the feed again and fires what is overdue at once.
// It also calls Warn as a turn's warnings come due and when it expires,
// for the node to tell its own connections.
//
// It imports the engine and the store's contract and runs its model as a
// projection (package projections); nothing imports it but cmd.
//
// Goroutines: Run starts the projection's runner, the scheduler and the
// workers that fire, and returns once all have stopped. Lock: Service.mu
// guards the model and the heap; it is a leaf (Fire and Warn are called
// without it).
package timers
