// Package web is the replay viewer: one page, /replay/{game id}, that steps
// through a game's log in a browser. It is static files only (HTML, ES
// modules, CSS, embedded with go:embed: no build step, nothing fetched from
// another origin); everything it shows it reads from the REST API
// (docs/replay.md) with the viewer's own token, so it sees exactly what
// that viewer may see and nothing the API would not give them.
//
// The page:
//
//   - takes a token (a JWT) from a login field or the address's fragment,
//     /replay/{id}#token=..., which browsers never send to the server; it
//     then drops it from the address and keeps it in sessionStorage (this
//     tab only), and sends it as Authorization: Bearer;
//   - reads the state at the caller's head (GET .../replay) and, at the
//     same time, the first page of events (GET .../replay/events?from=1,
//     whose default end is the head or 1000 events on), then the other
//     pages, and each step's state as it is shown (GET .../replay?at=N,
//     cached, the next step fetched ahead);
//   - draws the board with one renderer per rules name (the renderers map
//     in static/boards.js); a game without one is shown as its state's JSON;
//   - checks the hash chain with WebCrypto, following docs/eventlog.md, on
//     every event that comes with its stored form and hash (outside the
//     auditor's view only those before the first hidden event do: a later
//     hash would let the secret be searched for), and,
//     for an ended game in the auditor's view, the revealed seed against the
//     commitment made at creation.
//
// What the checks prove: that the events shown are the log the server
// stored, unaltered since (an edit, insertion, removal or reordering of a
// stored event breaks a link), and that the seed that drove the game was
// fixed at its creation. The states are the server's folds of those events;
// the page does not fold them itself.
//
// WebCrypto exists only in secure contexts: served over plain http from
// anywhere but localhost, the page shows the chain as "not checkable".
//
// Stable hooks for tests and tools: #step (the step shown), #head,
// #board (data-rules, data-at), #events (li.event[data-seq], .current on
// the step shown, .chain-ok/.chain-bad/.chain-unchecked), #error
// (data-code), #chain-status and #seed-status ("verified", "not verified",
// "not checkable"), body[data-state] ("ready" once a step is drawn); in
// crazyeights .pile .card and .hand .card (data-card: the card's code),
// .seat[data-player][data-count]; in liarsdice .bid, .seat .die, .reveal.
//
// Handler is safe for concurrent use. Every answer carries a strict
// Content-Security-Policy (only this origin's scripts, styles and API; no
// inline script or style), X-Content-Type-Options: nosniff and
// Cache-Control: no-cache with an ETag, so a new build is never hidden
// behind a cached copy and an unchanged file costs a 304.
package web
