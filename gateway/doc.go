// Package gateway is playlog's front door: the REST API under /v1 and the
// WebSocket protocol (package protocol, docs/protocol.md) for live play.
//
// It holds no game state of its own. Commands go to the command path (package
// play); what a client sees comes from the store's per-game subscriptions,
// rendered by the engine for that client's eyes, so a client on any node
// sees every event appended by any node, and resuming from a last_event_id
// is a subscription from that seq.
//
// Each WebSocket connection has one reader (the handler goroutine), one
// writer goroutine and one goroutine per joined game; all stop when the
// connection ends, and Server.Close waits for them. A connection's outgoing
// messages pass through a bounded queue; a client too slow to drain it is
// disconnected (close code 4001) rather than allowed to hold up anyone
// else, and resumes with last_event_id.
package gateway
