// Package jetstream is the NATS JetStream backend of eventstore.Store.
//
// By default it starts an embedded nats-server in this process with file
// storage under Config.Dir; given Config.URL it uses an external server or
// cluster instead, with the same code.
//
// Layout: one stream (default PLAYLOG) with one subject per game,
// "<prefix>.<game-id>". Each Append is exactly one message, whose payload
// holds every event of the append (format.go documents the encoding), so an
// append is atomic on every server version. A game's seals are messages on
// "<prefix>.seal.<game-id>" in the same stream (seals.go); archiving
// removes a game by purging its two subjects (remove.go), the only purge
// playlog makes.
//
// Concurrency control: a message is published with
// Nats-Expected-Last-Subject-Sequence set to the stream sequence of the
// game's last message as this process knows it. The server rejects the
// publish if any other message landed on the subject since, whoever wrote it,
// so a stale cache can only cause a conflict, never a fork. playlog's own
// per-game seq travels in the message (header Playlog-Index and in each
// event), because the server's subject sequence is a stream-wide number.
//
// Idempotency: each process keeps, per recently used game, an index of the
// game's messages (seq range, stream sequence, message id) rebuilt from the
// log itself on a miss. A message id is a duplicate if the log holds it; the
// check never depends on JetStream's duplicate window, so it holds after the
// window has passed and after a restart. Before an Append is judged new, the
// index covers the game up to the head that the server then confirms.
//
// Durability (Config.Durability): DurabilityFlush, the default, writes each
// message to the stream's file before acknowledging it, so an acknowledged
// event survives a kill of the process but not a power loss of the machine;
// DurabilitySync fsyncs every write (the server's sync_interval "always")
// and survives power loss at a large cost in throughput. For an external
// server the setting is the server's own; see docs/eventlog.md.
//
// Lock order, outer first: gameIndex.mu (held across a game's refresh or
// append, and the network requests they make), then Store.mu, the index
// cache's own lock, replyMux.mu (each taken briefly, none while taking
// another). liveSub.mu is never held with Store.mu or liveRouter.mu.
package jetstream
