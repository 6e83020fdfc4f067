// Package export writes and reads playlog's export format: whole games,
// with their hash chains and seals, as a stream of JSON lines that any
// backend can import back byte for byte (docs/eventlog.md, "Export
// format").
//
// A file is a header line, then one block per game (a game line, its
// events as stored, its seals, a game_end line), then a trailer that
// counts the games and events, so that a file cut short is detected:
//
//	{"format":"playlog.export","version":1,"exported_at":"...","source":"..."}
//	{"game":"<uuid>","events":2}
//	{"game_id":"<uuid>","seq":1,"type":"game_created",...,"data":{...},...}
//	{"game_id":"<uuid>","seq":2,...}
//	{"seal":{"game_id":"<uuid>","seq":2,"hash":"...","kind":"final",...}}
//	{"game_end":"<uuid>","events":2,"head_hash":"...","seals":1}
//	{"end":true,"games":1,"events":2}
//
// The output is deterministic: the same game, with the same seals, gives
// the same bytes whichever store it was read from (an event's data is
// copied as stored, not re-encoded; times are written in one fixed form).
//
// Writer streams games out; Reader streams them back, one game at a time,
// checking the file's structure (counts, game ids, the trailer, a line
// length limit) and accepting gzip input transparently. VerifyGame checks
// a game's contents: its seqs, its hash chain, and that its seals belong
// to its events.
package export
