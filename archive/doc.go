// Package archive moves finished games out of the hot log and keeps them
// readable.
//
// A game that ended more than a retention period ago is written in the
// export format (package export: its events, chain and seals, gzipped) to
// an archive beside the log (Blobs: a JetStream object store bucket, or a
// PostgreSQL table), read back and verified there, and only then removed
// from the hot store (eventstore.Importer.Remove, guarded by the game's
// head). The hot store's size then follows the games in play, not the
// history.
//
// Store wraps the hot store so that every reader, replay, audit, the
// history pages' links, the hub, reads an archived game as if it were
// still there: Read, Head, Subscribe and Seals fall back to the archive
// for a game the hot store no longer holds, and Append and Import refuse
// to start a game again under an archived id. docs/lifecycle.md follows a
// game's log from creation to archive.
package archive
