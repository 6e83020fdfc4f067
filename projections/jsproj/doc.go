// Package jsproj keeps projections' models in JetStream key-value
// buckets, one bucket per projection, beside the event log's stream on the
// same server (Bucket), and the history model (History).
//
// The key "checkpoint" holds the checkpoint: the model's generation and
// the feed position of the last event the model holds. Every other key is
// under the generation's prefix, "g<generation>.". A commit is one atomic
// batch publish (nats-server 2.12 or later; the bucket's stream allows
// it): the model's keys the batch wrote, then the checkpoint, which
// carries the revision the commit read it at (expected last subject
// sequence). The server stores the whole batch or none of it, and none if
// any other commit (another runner, a reset) came between. So the model
// holds exactly the events up to its checkpoint, whatever crashes: the
// same argument as one PostgreSQL transaction.
//
// Reset (rebuild) writes a new generation's zero checkpoint, then purges
// the old generation's keys. A runner still following from the old
// checkpoint has its next commit refused whole and starts again from zero,
// in the new generation, which the purge does not touch.
//
// A commit writes at most MaxWrites keys (the server's cap on a batch);
// the runner splits a batch that would write more.
package jsproj
