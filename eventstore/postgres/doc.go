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
// Subscriptions poll. LISTEN/NOTIFY (channel "<schema>_events", payload the
// comma-separated ids of games appended to, or "*") and in-process signals
// only wake them early; the poll interval is
// the fallback, so a lost notification delays an event, never drops it.
package postgres
