// Package postgres is the PostgreSQL backend of eventstore.Store, through
// pgx/v5.
//
// Schema (migrations/): table events with primary key (game_id, seq), the
// guard against forks, append-only by trigger. An Append is one SQL
// statement (appendSQL): one round trip, one transaction.
//
// Each process keeps, per recently used game (bounded), an index built from
// the log: the head, its hash, and every message id with the seqs it
// produced. Hashes are computed here from the head's hash; the statement
// writes only if the event at the expected seq is committed with that hash,
// so a lagging index can only cause a retry. Because of that check, a write
// succeeds only when the index was complete up to the game's real head, which
// makes the index a sound proof that a message id is new: idempotency holds
// forever without an index on message ids (the one cost that kept appends
// well below a raw INSERT).
//
// The global feed orders events by the transaction id that wrote them, then
// by seq (one transaction appends to one game), through a BRIN index on the
// transaction id, a window of ids at a time, and reads only below pg_snapshot_xmin of the current
// snapshot: every transaction there has finished, so an event that commits
// late is never skipped. A long-running transaction on the database holds
// the feed back until it ends; it never makes it lose events.
//
// The feed's queries are shared by the process's feed subscriptions
// (feedReader): the page each query read is kept, and queries that appends
// wake begin at most every FeedInterval. The process also summarizes the
// BRIN index's new complete block ranges (about every second while the
// feed is read), since an unsummarized range is read whole by every query
// and autosummarize waits for autovacuum.
//
// Subscriptions poll. LISTEN/NOTIFY (channel "<schema>_events", payload a
// first item naming the sending store, then the comma-separated ids of
// the games appended to, or "*" for every game) and in-process signals
// only wake them early; the poll interval is the fallback, so a lost
// notification delays an event, never drops it. A game subscription is
// handed the events its own process commits to the game, without a query
// (their Data shared by the process's subscriptions of that game: read
// it, never write it), and reads the log when it may have missed some:
// when it starts, when what it is handed does not continue its last seq,
// when it was handed more than a bound (256 events or 1 MiB of data), on
// another process's notification, after a Remove of its game, and every
// TailCheck. A store's own notifications do not wake its game
// subscriptions, but wake its feeds a second time: at the first, on
// commit, a short transaction elsewhere (a checkpoint, a seal) may have
// held the feed's horizon below the new events.
//
// Lock order, outer first: gameIndex.mu, then hub.mu, then pollSub.mu;
// gameIndex.mu, then feedReader.mu. pollSub.mu and feedReader.mu are never
// held together, nor busSubs.mu or Store.mu with any other.
package postgres
