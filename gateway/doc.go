// Package gateway is playlog's front door: the REST API under /v1 and the
// WebSocket protocol (package protocol, docs/protocol.md) for live play.
//
// It holds no game state of its own. Commands go to the command path
// (package play), which also decides who may act. What a client sees of a
// game comes from the node's hub (package hub): one store subscription per
// game per node, rendered by the engine once per distinct view and fanned
// out to every connection following the game, so a client on any node sees
// every event appended by any node, and resuming from a last_event_id reads
// the stored events after it before going live. A join is answered joined
// only once the viewer is live on the hub; a failure before that is its one
// answer, an error; a failure after it cuts the connection.
//
// Each WebSocket connection has one reader goroutine, which reads the
// client's messages and serves each in turn on a short-lived goroutine of
// its own (so the reader's stack stays small), and a writer goroutine only
// while something waits to be sent: the first message queued, a ping due
// (a runtime timer, not a goroutine) or the connection's end starts one,
// and it exits once the queue is empty; at most one runs, so messages go
// out in order. An idle joined connection thus holds one goroutine. All
// stop when the connection ends, and Server.Close waits for the
// connection's end (a writer that has just found nothing to send may
// return a moment later). Killing a connection cancels the command it is
// running: a client resends it under the same message_id on resume. A
// connection's outgoing messages pass through a bounded send queue. The hub
// never waits for it: a connection whose queue is full when an event is
// fanned out is cut at once (close code 4001) rather than allowed to hold
// up anyone else, and its client resumes with last_event_id. The
// connection's own answers and a join's catch-up wait up to
// SlowConsumerTimeout for room, then cut it the same way; presence updates
// to a full queue are dropped.
//
// Closing: the writer (started for it if none runs) sends the answers
// already queued (none after a slow-consumer cut), then the close frame;
// the reader then reads on, discarding, until the client's close frame, EOF or closeGrace, because
// closing a socket with unread data resets it and the client would lose
// the close code and the last answers.
//
// Stopping: Server.Drain, for a rolling restart, refuses new commands
// (unavailable) and /readyz (503) from its start, waits for the commands
// running to be answered, then closes every connection with 1001 and
// waits for them; Close then stops the rest. Close alone closes at once.
//
// Logs (logging.go): every line about a connection carries its id and
// user, every line about a game the game; at debug level each REST
// request and each client message gets one line once answered. What a
// client sent beyond ids and types (tokens, query strings, actions) is
// never logged.
package gateway
