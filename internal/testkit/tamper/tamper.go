// Package tamper changes a game's stored log behind the store's back, as an
// attacker with write access to the storage would, for tests that prove
// the audit finds it (cmd/playlog's tamper test, docs/performance.md).
//
// A Tool writes a game's events and seals straight into the storage: rows
// of PostgreSQL's events and seals tables (Postgres), messages of the
// JetStream stream (JetStream). Nothing is checked: the events are stored
// as given, chain and all. The helpers (Edit, Rechain, Renumber, Delete,
// Swap, Insert, Truncate, Forge, Reassign) make the tampered logs; each
// returns a new slice and never changes its argument.
//
// A store that was open while its game was tampered with may serve what
// it cached of the game: read through a newly opened store (or the audit
// command, which opens its own).
package tamper

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
)

// Tool rewrites games in one store's storage.
type Tool interface {
	// Replace makes events the game's whole stored log, in the order
	// given, in place of everything it held. Every event is stored under
	// game, whatever its GameID (neither backend stores a game id per
	// event apart from its game's: PostgreSQL's game_id column is the
	// game, JetStream's subject and payload name it once). No events
	// removes the game's events (its seals stay: ReplaceSeals).
	Replace(ctx context.Context, game uuid.UUID, events []eventstore.Event) error
	// ReplaceSeals makes seals the game's stored seals, in the order
	// given, stored under game; none deletes them all.
	ReplaceSeals(ctx context.Context, game uuid.UUID, seals []eventstore.Seal) error
	// Close gives the storage back the protections the tool lifted to
	// write (a JetStream stream's deny_purge). The tampering stays.
	Close(ctx context.Context) error
}

// clone copies events deeply enough that changing the copy's fields or
// data bytes leaves events as they were.
func clone(events []eventstore.Event) []eventstore.Event {
	out := make([]eventstore.Event, len(events))
	copy(out, events)
	for i := range out {
		out[i].Data = append([]byte(nil), out[i].Data...)
	}
	return out
}

// Edit changes one byte of event i's data, leaving it valid JSON (a letter
// or digit inside a string becomes the next one), and nothing else: the
// chain is not recomputed, so event i's hash no longer matches it. It
// panics if the data has no such byte.
func Edit(events []eventstore.Event, i int) []eventstore.Event {
	out := clone(events)
	d := out[i].Data
	at := editable(d)
	if at < 0 {
		panic(fmt.Sprintf("tamper: seq %d's data %s has no byte to change inside a string", out[i].Seq, d))
	}
	d[at] = nextAlnum(d[at])
	return out
}

// editable returns the index of the last letter or digit inside a JSON
// string of d (not in an escape), or -1.
func editable(d []byte) int {
	last, in := -1, false
	for j := 0; j < len(d); j++ {
		c := d[j]
		switch {
		case !in:
			in = c == '"'
		case c == '\\':
			if j+1 < len(d) && d[j+1] == 'u' {
				j += 5
			} else {
				j++
			}
		case c == '"':
			in = false
		case isAlnum(c):
			last = j
		}
	}
	return last
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func nextAlnum(c byte) byte {
	switch c {
	case 'z':
		return 'a'
	case 'Z':
		return 'A'
	case '9':
		return '0'
	}
	return c + 1
}

// Rechain recomputes the chain of events from the first, as an attacker
// without the seal key would after changing them: seqs 1, 2, ..., each
// prev_hash the previous event's hash (zero for seq 1), each hash
// eventstore.ChainHash of the event. The result passes every check of the
// chain; only a seal can tell it from the real log.
func Rechain(events []eventstore.Event) []eventstore.Event {
	out := clone(events)
	var prev eventstore.Hash
	for i := range out {
		e := &out[i]
		e.Seq, e.PrevHash = uint64(i+1), prev
		e.Hash = eventstore.ChainHash(prev, e)
		prev = e.Hash
	}
	return out
}

// Renumber sets the seqs to 1, 2, ... and nothing else: what rows moved
// with their seq column rewritten, but no hash recomputed, look like.
// PostgreSQL keeps a game's events in seq order (its primary key), so a
// reordered or lengthened log can be stored there only renumbered.
func Renumber(events []eventstore.Event) []eventstore.Event {
	out := clone(events)
	for i := range out {
		out[i].Seq = uint64(i + 1)
	}
	return out
}

// Reassign makes events another game's: every GameID becomes game, chain
// not recomputed (Rechain after it, for a whole game passed off as game).
func Reassign(events []eventstore.Event, game uuid.UUID) []eventstore.Event {
	out := clone(events)
	for i := range out {
		out[i].GameID = game
	}
	return out
}

// Delete removes event i, seqs left as they were (a gap).
func Delete(events []eventstore.Event, i int) []eventstore.Event {
	out := clone(events)
	return append(out[:i], out[i+1:]...)
}

// Swap exchanges events i and i+1, seqs and hashes moving with them.
func Swap(events []eventstore.Event, i int) []eventstore.Event {
	out := clone(events)
	out[i], out[i+1] = out[i+1], out[i]
	return out
}

// Insert puts e before event i (at the end for i == len(events)), seqs
// left as they were.
func Insert(events []eventstore.Event, i int, e eventstore.Event) []eventstore.Event {
	out := clone(events)
	e.Data = append([]byte(nil), e.Data...)
	out = append(out, eventstore.Event{})
	copy(out[i+1:], out[i:])
	out[i] = e
	return out
}

// Truncate keeps the first n events: the tail is cut.
func Truncate(events []eventstore.Event, n int) []eventstore.Event {
	return clone(events[:n])
}

// Forge makes an event to insert before event i (Insert(events, i, e)): a
// move by a player who never made it, linked to event i-1 as an append
// would have linked it (seq, prev_hash, its own hash computed), recorded
// at the time of its neighbour. The events after it are not rechained.
func Forge(events []eventstore.Event, i int) eventstore.Event {
	near := events[min(i, len(events)-1)]
	if i > 0 {
		near = events[i-1]
	}
	e := eventstore.Event{
		GameID:        near.GameID,
		Type:          "action",
		SchemaVersion: 1,
		Actor:         "mallory",
		MessageID:     "forged",
		Data:          []byte(`{"actor":"mallory","action":{"type":"forged"}}`),
		RecordedAt:    near.RecordedAt,
		Seq:           1,
	}
	if i > 0 {
		e.Seq, e.PrevHash = near.Seq+1, near.Hash
	}
	e.Hash = eventstore.ChainHash(e.PrevHash, &e)
	return e
}

// appends splits events into the runs that one append would have stored:
// consecutive events with one message id (not empty), one recorded time
// and consecutive seqs (docs/eventlog.md; eventstore.Importer).
func appends(events []eventstore.Event) [][]eventstore.Event {
	var out [][]eventstore.Event
	for start := 0; start < len(events); {
		end := start + 1
		first := &events[start]
		for first.MessageID != "" && end < len(events) && events[end].MessageID == first.MessageID &&
			events[end].RecordedAt.Equal(first.RecordedAt) && events[end].Seq == events[end-1].Seq+1 {
			end++
		}
		out = append(out, events[start:end])
		start = end
	}
	return out
}
