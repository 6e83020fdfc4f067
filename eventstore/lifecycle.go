package eventstore

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Checks both backends make in PutSeal and Import.

// MaxKeyIDLen bounds a seal's key id (Sealed).
const MaxKeyIDLen = 64

// ValidateSeal checks a seal as Sealed says and normalizes its
// time: UTC, microseconds; a zero time becomes now.
func ValidateSeal(s *Seal, now func() time.Time) error {
	if err := ValidateGame(s.GameID); err != nil {
		return err
	}
	switch {
	case s.Seq == 0:
		return fmt.Errorf("%w: seal at seq 0", ErrInvalidArgument)
	case s.Kind != SealFinal && s.Kind != SealCheckpoint:
		return fmt.Errorf("%w: seal kind %q is neither %q nor %q", ErrInvalidArgument, s.Kind, SealFinal, SealCheckpoint)
	case s.KeyID == "" || len(s.KeyID) > MaxKeyIDLen:
		return fmt.Errorf("%w: seal key id must be 1 to %d bytes, is %d", ErrInvalidArgument, MaxKeyIDLen, len(s.KeyID))
	case !utf8.ValidString(s.KeyID) || strings.ContainsFunc(s.KeyID, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("%w: seal key id %q is not printable UTF-8", ErrInvalidArgument, s.KeyID)
	case len(s.Signature) != 64:
		return fmt.Errorf("%w: seal signature is %d bytes, want 64", ErrInvalidArgument, len(s.Signature))
	}
	if s.SealedAt.IsZero() {
		s.SealedAt = now()
	}
	if !storable(s.SealedAt) {
		return fmt.Errorf("%w: seal sealed at %v: want a time in years 1 to 9999", ErrInvalidArgument, s.SealedAt)
	}
	s.SealedAt = s.SealedAt.UTC().Truncate(time.Microsecond)
	return nil
}

// SameSeal is the equality under which PutSeal stores a seal once.
func SameSeal(a, b Seal) bool {
	return a.Seq == b.Seq && a.Kind == b.Kind && a.KeyID == b.KeyID && bytes.Equal(a.Signature, b.Signature)
}

// ImportGroups checks a whole game for Import, as Importer says,
// and splits it into the appends that stored it: runs of consecutive events
// with one message id and one recorded time. A run without a message id
// over an append's limits is split (nothing tells such appends apart, nor
// needs to); one with a message id must fit.
func ImportGroups(events []Event) ([][]Event, error) {
	if len(events) == 0 {
		return nil, fmt.Errorf("%w: import of no events", ErrInvalidArgument)
	}
	game := events[0].GameID
	if err := ValidateGame(game); err != nil {
		return nil, err
	}
	for i := range events {
		e := &events[i]
		switch {
		case e.GameID != game:
			return nil, fmt.Errorf("%w: import of one game %s holds an event of %s", ErrInvalidArgument, game, e.GameID)
		case e.Seq != uint64(i+1):
			return nil, fmt.Errorf("%w: import of %s: event %d has seq %d; a game's log is dense from seq 1", ErrInvalidArgument, game, i, e.Seq)
		case !e.RecordedAt.Equal(e.RecordedAt.Truncate(time.Microsecond)):
			return nil, fmt.Errorf("%w: import of %s: seq %d is recorded at %v, finer than the microsecond stored", ErrInvalidArgument, game, e.Seq, e.RecordedAt)
		case !storable(e.RecordedAt):
			return nil, fmt.Errorf("%w: import of %s: seq %d is recorded at %v: want a time in years 1 to 9999", ErrInvalidArgument, game, e.Seq, e.RecordedAt)
		}
	}
	if err := VerifyChain(Hash{}, events); err != nil {
		return nil, fmt.Errorf("%w: import of %s: %v", ErrInvalidArgument, game, err)
	}
	var groups [][]Event
	used := map[string]uint64{} // message id -> seq of its append
	for start := 0; start < len(events); {
		first := &events[start]
		end, size := start, 0
		for end < len(events) && events[end].MessageID == first.MessageID && events[end].RecordedAt.Equal(first.RecordedAt) {
			if first.MessageID == "" && end > start && (end-start == MaxAppendEvents || size+len(events[end].Data) > MaxAppendData) {
				break
			}
			size += len(events[end].Data)
			end++
		}
		group := events[start:end]
		if id := first.MessageID; id != "" {
			if at, ok := used[id]; ok {
				return nil, fmt.Errorf("%w: import of %s: message id %q of seq %d was used by seq %d already", ErrInvalidArgument, game, id, first.Seq, at)
			}
			used[id] = first.Seq
		}
		pending := make([]Pending, len(group))
		for i, e := range group {
			pending[i] = Pending{Type: e.Type, SchemaVersion: e.SchemaVersion, Actor: e.Actor, MessageID: e.MessageID, Data: e.Data}
		}
		if err := ValidateAppend(game, pending); err != nil {
			return nil, fmt.Errorf("import of %s: seqs %d..%d: %w", game, first.Seq, group[len(group)-1].Seq, err)
		}
		groups = append(groups, group)
		start = end
	}
	return groups, nil
}

// GroupsFrom returns the groups of the events after seq k (a prefix the
// store holds): a group cut by k keeps its tail.
func GroupsFrom(groups [][]Event, k uint64) [][]Event {
	var out [][]Event
	for _, g := range groups {
		switch last := g[len(g)-1].Seq; {
		case last <= k:
		case g[0].Seq > k:
			out = append(out, g)
		default:
			out = append(out, g[k-g[0].Seq+1:])
		}
	}
	return out
}

// SameEvent reports whether a stored event is the given one, field by field
// (not the position, which is the store's own).
func SameEvent(a, b *Event) bool {
	return a.GameID == b.GameID && a.Seq == b.Seq && a.Type == b.Type && a.SchemaVersion == b.SchemaVersion &&
		a.Actor == b.Actor && a.MessageID == b.MessageID && bytes.Equal(a.Data, b.Data) &&
		a.RecordedAt.Equal(b.RecordedAt) && a.PrevHash == b.PrevHash && a.Hash == b.Hash
}

// StoredPrefix compares the events a store holds for a game with the ones
// Import was given: it returns how many the store holds when they are a
// prefix of the given ones (all of them: nothing to write), else a
// *ConflictError.
func StoredPrefix(stored, given []Event) (uint64, error) {
	if len(stored) > len(given) {
		return 0, HoldsMore(given[0].GameID, uint64(len(stored)), len(given))
	}
	for i := range stored {
		if !SameEvent(&stored[i], &given[i]) {
			game := given[0].GameID
			return 0, fmt.Errorf("import of %s: the stored event at seq %d differs from the given one: %w",
				game, i+1, &ConflictError{Game: game, Expected: uint64(len(given)), Actual: uint64(len(stored))})
		}
	}
	return uint64(len(stored)), nil
}

// HoldsMore is Import's conflict with a store that holds more of the game
// than it was given.
func HoldsMore(game uuid.UUID, head uint64, given int) error {
	return fmt.Errorf("import of %s: the store holds %d events, more than the %d given: %w",
		game, head, given, &ConflictError{Game: game, Expected: uint64(given), Actual: head})
}

// storable reports whether t is a time both backends and the export
// format hold alike: years 1 to 9999 (RFC 3339's four digits; PostgreSQL
// goes further back, JSON encoding of times no further than year 0).
func storable(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 1 && y <= 9999
}
