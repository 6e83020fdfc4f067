package eventstore

import (
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// Sentinel errors. Backends wrap them with detail; test with errors.Is.
var (
	// ErrConflict: the game's head was not the expected seq. Nothing was
	// written. Callers reload and decide again.
	ErrConflict = errors.New("eventstore: expected seq conflict")
	// ErrGameNotFound: the game has no events.
	ErrGameNotFound = errors.New("eventstore: game not found")
	// ErrEmptyAppend: Append was called with no events.
	ErrEmptyAppend = errors.New("eventstore: append with no events")
	// ErrInvalidData: an event's data is not a single valid JSON value.
	ErrInvalidData = errors.New("eventstore: event data is not valid JSON")
	// ErrTooLarge: an event or an append exceeds the documented limits.
	ErrTooLarge = errors.New("eventstore: payload too large")
	// ErrInvalidArgument: a malformed field (nil game id, bad type name, ...).
	ErrInvalidArgument = errors.New("eventstore: invalid argument")
	// ErrClosed: the store or subscription has been closed.
	ErrClosed = errors.New("eventstore: closed")
	// ErrUnavailable: the store did not answer in time, or said it cannot
	// now (a server lost, a leader being elected, a connection down). The
	// same call may succeed later; an append retried under the same
	// message id is stored once, whether or not the first one was.
	ErrUnavailable = errors.New("eventstore: store unavailable")
)

// ConflictError reports an optimistic-concurrency conflict. It matches
// ErrConflict under errors.Is.
type ConflictError struct {
	Game     uuid.UUID
	Expected uint64
	Actual   uint64 // the head seen when the conflict was detected
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("eventstore: game %s: expected seq %d, head is %d", e.Game, e.Expected, e.Actual)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }
