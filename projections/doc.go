// Package projections builds read models from the event log's global feed.
//
// A projection is a fold over the feed: it starts from a position, applies
// every event exactly once in feed order (consistent with each game's seq)
// and can be rebuilt at any time by replaying from the start. Projections
// are eventually consistent: they trail the log by the feed's delivery
// latency (milliseconds), and say how far they have read.
//
// # The runner
//
// A Runner keeps one projection's model up to date. Three parts:
//
//   - Projection[T].Apply folds one event into the model through T, the
//     unit of work of the backend that holds the model.
//   - Checkpointer[T] holds the model with its checkpoint (the position
//     of the last event the model holds) and commits a batch's writes
//     with the new checkpoint, atomically, only if the saved checkpoint is
//     still the one the batch started from (a compare-and-set).
//   - Runner reads the feed from the saved checkpoint into a bounded queue
//     (one reader goroutine, which it stops before returning), commits
//     what is queued in batches, and after any failure (feed, database,
//     connection; the store restarted) loads the checkpoint again and
//     follows from it, with capped backoff (logged), while its context
//     lives.
//
// Backends: memory (the Directory: its model and checkpoint under one
// lock, rebuilt from zero by each process), pgproj (a PostgreSQL
// transaction) and jsproj (a JetStream atomic batch publish on a
// key-value bucket).
//
// # Exactly once
//
// The model holds exactly the events up to its checkpoint, each once:
//
//  1. The feed delivers every event after a position exactly once, in
//     position order (eventstore.Store.Feed). So the events after the
//     checkpoint, read from it, are exactly those the model lacks.
//  2. A commit writes a batch's effects and moves the checkpoint from the
//     batch's start to its last event in one atomic unit (one PostgreSQL
//     transaction; one JetStream atomic batch whose last message, the
//     checkpoint, carries its expected revision). A crash before the
//     commit leaves neither; after it, both. No crash point leaves the
//     model ahead of or behind its checkpoint.
//  3. A commit is refused if the saved checkpoint is not the batch's start
//     (MovedError): another runner of the same model (another playlogd
//     on the same store) committed first, or a rebuild reset it. The
//     refused runner drops the events at or before the saved checkpoint
//     (they are in the model) and commits the rest from there, or, if the
//     checkpoint moved back (reset), follows the feed again from it. So
//     no event is applied twice, even with several runners.
//  4. After a restart (of the process, or of the runner after a failure)
//     the runner reads the saved checkpoint, and by 1. folds exactly what
//     the model lacks.
//
// The history projection's fold (EvolveHistory) also changes a record
// only for an event after the record's last seq, a second guard that
// would make a replayed event harmless.
//
// A rebuild (Reset, then a runner from zero) empties the model and zeroes
// the checkpoint in one unit; runners still following the old checkpoint
// find it moved back at their next commit and start over too.
//
// # Concurrency
//
// A Runner's Run is called once at a time; it starts one reader goroutine
// per follow of the feed and waits for it before returning. The queue
// between them holds at most RunnerOptions.MaxBatch events. Directory and
// the history models are safe for concurrent use. Lock order: the
// Directory has one lock (mu), taken by its commits and its readers and
// by nothing else; jsproj.Bucket's cache lock is taken alone, never
// around a request.
package projections
