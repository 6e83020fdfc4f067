// Package projections builds read models from the event log's global feed.
//
// A projection is a fold over the feed: it starts from a position, applies
// every event exactly once in feed order (consistent with each game's seq)
// and can be rebuilt at any time by replaying from the start. Projections
// are eventually consistent: they trail the log by the feed's delivery
// latency (milliseconds), and say how far they have read.
package projections
