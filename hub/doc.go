// Package hub is the live path of one playlogd node: it delivers each
// game's events, rendered for each viewer's eyes, to every viewer this node
// holds, from one store subscription per game however many viewers there are.
//
// It sits between the store (package eventstore) and the gateway: it knows
// the log and the engine's rendering (package engine) and encodes wire
// messages (package protocol), but nothing of WebSocket. A viewer is a Sink,
// a non-blocking queue that the gateway drains to its connection.
//
// A game's feed is reference-counted: the first Watch of a game opens the
// store subscription, the last Close stops it after Config.Linger (so that a
// quick leave and rejoin reuses it), store side too. Each event is decoded
// once by the subscription, rendered once per distinct view (each player's,
// the spectators'), encoded once, and the same bytes are offered to every
// viewer of that view.
//
// Invariants:
//
//   - A viewer receives every event after the position it watched from, in
//     order, with no gap and no duplicate: a join first reads the stored
//     events between its position and the feed's in pages (the feed is
//     already live, so nothing after it can be missed), then attaches to
//     the feed, which skips what the viewer already has.
//   - The feed never waits for a viewer. A viewer whose queue is full is
//     detached and told ErrSlow (its connection is cut; its client resumes
//     from its last event id), and everyone else carries on.
//   - Watch returns only once the viewer is live, or with an error and
//     nothing delivered: ready runs exactly once, after the store
//     subscription is open and before the first event.
//   - A delayed game's spectators (Game.Delay) get nothing past where the
//     delay lets them stand: their feed holds events back until they are
//     due (behind the head by the delay's events, or on a timer owned by
//     the feed for a seconds delay, stopped with it), and their catch-up
//     reads only up to where the feed has released. A feed opened by any
//     viewer of such a game starts where its spectators stand.
//
// A feed whose subscription is an eventstore.Poller (both stores' are)
// reads it on a goroutine that runs only while there is something to read:
// the subscription's OnReady starts one, and it ends when Poll has nothing
// more. A quiet watched game thus holds no goroutine. Other subscriptions
// are read by a goroutine waiting in Next for the feed's life.
//
// Lock order: Hub.mu before feed.mu; neither is held while calling the
// store. poller.mu is a leaf. The delay timer's callback takes feed.mu
// alone. Sink methods are called with feed.mu held and must not block or
// call back into the hub.
package hub
