package eventstore

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Event is one stored event: a Pending event sealed by the store with its
// game, seq, recorded time and place in the hash chain. Data is read-only:
// a store may hand the same bytes to every reader of the event (the
// subscriptions of one game, the events of one stored message).
type Event struct {
	GameID        uuid.UUID       `json:"game_id"`
	Seq           uint64          `json:"seq"`
	Type          string          `json:"type"`
	SchemaVersion int             `json:"schema_version"`
	Actor         string          `json:"actor"`
	MessageID     string          `json:"message_id,omitempty"`
	Data          json.RawMessage `json:"data"`
	RecordedAt    time.Time       `json:"recorded_at"`
	PrevHash      Hash            `json:"prev_hash"`
	Hash          Hash            `json:"hash"`

	// Position is the event's place in the store's global feed. It is set on
	// every event a store returns; its meaning is backend-specific.
	Position Position `json:"position"`
}

// Pending is an event proposed to Append: what the caller decides. The store
// adds the rest.
type Pending struct {
	Type          string
	SchemaVersion int
	Actor         string
	// MessageID names the command that produced this event; every event of one
	// Append must carry the same MessageID. Empty means not idempotent.
	MessageID string
	Data      json.RawMessage
}

// Appended is what an Append stored, or, for a duplicate message id, what an
// earlier Append stored for it.
type Appended struct {
	Events    []Event
	Duplicate bool
}

// Last returns the seq of the last event, or 0 if there are none.
func (a Appended) Last() uint64 {
	if len(a.Events) == 0 {
		return 0
	}
	return a.Events[len(a.Events)-1].Seq
}

// Position is a place in a store's global feed. Positions are totally ordered
// (by Major, then Minor); the zero Position is before every event. JetStream
// uses (stream sequence, index in the message); PostgreSQL uses
// (transaction id, row position).
type Position struct {
	Major uint64 `json:"major"`
	Minor uint64 `json:"minor"`
}

// Less reports whether p comes before q.
func (p Position) Less(q Position) bool {
	if p.Major != q.Major {
		return p.Major < q.Major
	}
	return p.Minor < q.Minor
}

// String formats p as "major.minor", which ParsePosition reads back.
func (p Position) String() string {
	return strconv.FormatUint(p.Major, 10) + "." + strconv.FormatUint(p.Minor, 10)
}

// ParsePosition parses the form produced by Position.String.
func ParsePosition(s string) (Position, error) {
	a, b, ok := strings.Cut(s, ".")
	if !ok {
		return Position{}, fmt.Errorf("%w: position %q is not major.minor", ErrInvalidArgument, s)
	}
	major, err1 := strconv.ParseUint(a, 10, 64)
	minor, err2 := strconv.ParseUint(b, 10, 64)
	if err1 != nil || err2 != nil {
		return Position{}, fmt.Errorf("%w: position %q is not major.minor", ErrInvalidArgument, s)
	}
	return Position{Major: major, Minor: minor}, nil
}
