// Package postgres is the PostgreSQL backend of eventstore.Store, through
// pgx/v5.
//
// Schema (migrations/): table events with primary key (game_id, seq), the
// guard against forks; table commands with primary key (game_id,
// message_id), the idempotency record; both append-only by trigger. An
// Append is one call of the append_events function: one round trip, one
// transaction.
//
// Hashes are computed here, in Go, from the hash of the event at the expected
// seq, which this process caches per game (bounded); the function checks it
// against the stored row, so a stale cache can only cause a retry.
//
// The global feed orders events by the transaction id that wrote them, then
// by row position, and reads only below pg_snapshot_xmin of the current
// snapshot: every transaction there has finished, so an event that commits
// late is never skipped. A long-running transaction on the database holds
// the feed back until it ends; it never makes it lose events.
//
// Subscriptions poll. LISTEN/NOTIFY (channel "<schema>_events", payload the
// game id) and in-process signals only wake them early; the poll interval is
// the fallback, so a lost notification delays an event, never drops it.
package postgres
