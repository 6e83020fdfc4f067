// Package engine decides what happens in a game. It is playlog's pure core:
// no clock, no I/O, no global random source, nothing of ours imported. A
// game is a fold over its events, so replaying the log always rebuilds the
// same state, and an auditor can re-run every decision and get the same
// result.
//
// # Architecture
//
// A game author implements Rules[S, A] (state type S, action type A) and
// wraps it with Define into a *Game; a Registry, built explicitly, finds
// games by name. The engine supplies everything common to all games around
// the rules: creation, the action record, resignation, timeouts,
// abandonment, the end of the game, the seed and its commitment, rendering
// per viewer and the fairness audit. Callers (the command path, the
// gateway, replay) use only *Game, State, Event and Registry:
//
//	events, err := g.Create(config, players, seed)   // events for seqs 1..n
//	s, err := g.Apply(s, events...)                  // fold (also Fold, ApplyDecoded)
//	events, err := g.Decide(s, engine.Command{Actor: "alice", Action: raw}, seed)
//	g.Turn(s), g.Forced(s), g.Legal(s, "alice"), s.Outcome()
//	r, err := g.RenderEvent(seq, event, viewer)      // what a viewer is sent
//	view := g.View(s, viewer)                        // json.Marshal(view) is the snapshot
//	err := engine.Verify(registry, events)           // audit a finished game
//
// # The log
//
// Event i of a game is stored at seq i, as Type, Version, Actor and JSON
// Data. The engine writes four event types of its own (type names are
// stable; rules must not reuse them):
//
//   - game_created (seq 1): game, players, config, commitment. It is
//     followed by the rules' setup events (a deal, a first roll).
//   - action: opens the events of every accepted command, recording the
//     actor and the action in canonical JSON. Then come the rules' events.
//   - game_ended: the outcome (winners, draw, reason: normal, resignation,
//     timeout, abandonment), in the command that ends the game...
//   - seed_revealed: ...and, right after it, the seed in hex. It is the last
//     event of every finished game.
//
// Decide and Create are deterministic down to the byte: payloads are
// structs encoded by encoding/json (fields in declaration order). An event
// whose schema changes gets a new version (Versioned) and an Upcast that
// rewrites older data on read; stored events are never rewritten.
//
// # Fairness
//
// The caller draws a secret 32-byte seed per game and keeps it outside the
// log until the end. game_created records only Commit(seed) =
// hex(SHA-256(seed)). A command's randomness is the Rand for (seed, seq of
// the command's first event; 1 for Create):
//
//	block(i) = HMAC-SHA256(key = seed, msg = "playlog/rand/v1" || BE64(seq) || BE64(i)), i = 0, 1, ...
//	Uint64   = the next 8 bytes of block(0) || block(1) || ..., big-endian
//	Intn(n)  = Uint64() mod n, redrawing while Uint64() >= 2^64 - (2^64 mod n)
//	Shuffle  = Fisher-Yates: for i = n-1 down to 1, swap(i, Intn(i+1))
//
// Every random outcome (a card, a die) is recorded in the event that uses
// it, so folding never needs the seed. Verify checks the revealed seed
// against the commitment, re-runs Create with the recorded config and
// players, then re-runs Decide for every recorded action on the state
// before it; every event must come out identical. An altered card or die,
// an illegal action or a forged outcome is ErrEventMismatch.
//
// # Visibility
//
// A Viewer is a player, a spectator or the auditor. RenderEvent gives every
// viewer every seq: the whole event (Full), the same event with secrets
// replaced by unknowns (Redacted), or a Stub carrying only the seq. Engine
// events are public; the seed appears in no event and no view before
// seed_revealed, and never to a spectator of a game with secrets (its
// seed_revealed is a Stub, its state has no seed). View renders a state
// the same way. The invariant, checked
// by package enginetest over thousands of games: for every viewer, folding
// the rendered events with ApplyRendered gives exactly View of the state,
// so a client may start from a snapshot or from events and end up in the
// same place.
//
// # Commands
//
// A Command names its actor (a player id, or System) and carries the
// action as a JSON object with a "type". Decoding is strict (see Object):
// unknown types and fields, missing or mistyped fields, out-of-range
// values, duplicate keys and trailing data are ErrInvalidAction. Decide
// checks, in order: the game exists, the seed matches the commitment, the
// game is not over (ErrGameOver), the action decodes, the actor may send
// it (ErrActionNotAllowed for strangers and for the system sending game
// actions), a pending forced action (ErrNotYourTurn for others,
// ErrActionNotAllowed for another action type), the turn (ErrNotYourTurn),
// and then the rules. A rejection returns no events and changes nothing.
//
// The engine's own actions work in every game: {"type":"resign"} from any
// player still in play (they lose; everyone else still in play wins),
// {"type":"timeout","player":p} from System for a player who must act now
// (the rules' TimeoutPolicy action if any, otherwise p loses as if they had
// resigned, with reason timeout), and {"type":"abandon"} from System (no
// winner, reason abandonment). In a game of more than two, resignation or
// timeout therefore ends the game.
//
// # Concurrency
//
// *Game and *Registry are immutable and safe for concurrent use. State is a
// value: Apply returns a new one and leaves its argument valid (rules never
// modify state in place). A Rand is not safe for concurrent use.
package engine
