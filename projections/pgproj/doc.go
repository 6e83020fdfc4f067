// Package pgproj keeps projections' models in PostgreSQL, in the event
// log's own database and schema (tables of migration 002): a checkpoint
// row per projection in projection_checkpoints, committed in the same
// transaction as the model's writes (Checkpoints), and the history model
// (History).
//
// A commit is one transaction: it locks the checkpoint's row, compares it
// with the position the runner started the batch from, runs the batch's
// statements in one round trip and writes the new position. So the model
// holds exactly the events up to its checkpoint, whatever crashes, and
// two runners of one model (two playlogd on one database) never both
// apply a batch: the second finds the checkpoint moved and skips what it
// holds. Reset (rebuild) truncates the model and zeroes the checkpoint in
// one transaction under the same lock.
package pgproj
