package eventstore

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Limits on what Append accepts. They keep a whole append inside one
// JetStream message (1 MiB by default) with room for headers.
const (
	MaxEventData    = 64 << 10  // bytes of Data in one event
	MaxAppendData   = 512 << 10 // bytes of Data in one Append
	MaxAppendEvents = 100       // events in one Append
	MaxTypeLen      = 64        // bytes in Type
	MaxActorLen     = 128       // bytes in Actor
	MaxMessageIDLen = 128       // bytes in MessageID
	MaxReadLimit    = 1000      // events returned by one Read
)

// ValidateAppend checks an Append's arguments. It returns nil or an error
// wrapping ErrInvalidArgument, ErrEmptyAppend, ErrInvalidData or ErrTooLarge.
func ValidateAppend(game uuid.UUID, events []Pending) error {
	if err := ValidateGame(game); err != nil {
		return err
	}
	if len(events) == 0 {
		return fmt.Errorf("%w: game %s", ErrEmptyAppend, game)
	}
	if len(events) > MaxAppendEvents {
		return fmt.Errorf("%w: %d events in one append, limit %d", ErrTooLarge, len(events), MaxAppendEvents)
	}
	total := 0
	for i, e := range events {
		if err := validatePending(e); err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
		if e.MessageID != events[0].MessageID {
			return fmt.Errorf("%w: event %d: all events of one append must share one message id", ErrInvalidArgument, i)
		}
		total += len(e.Data)
	}
	if total > MaxAppendData {
		return fmt.Errorf("%w: %d bytes of data in one append, limit %d", ErrTooLarge, total, MaxAppendData)
	}
	return nil
}

func validatePending(e Pending) error {
	if err := validateType(e.Type); err != nil {
		return err
	}
	if e.SchemaVersion < 1 || e.SchemaVersion > 1<<30 {
		return fmt.Errorf("%w: schema version %d must be at least 1", ErrInvalidArgument, e.SchemaVersion)
	}
	if err := validateText("actor", e.Actor, MaxActorLen); err != nil {
		return err
	}
	if err := validateText("message id", e.MessageID, MaxMessageIDLen); err != nil {
		return err
	}
	if len(e.Data) > MaxEventData {
		return fmt.Errorf("%w: %d bytes of data, limit %d", ErrTooLarge, len(e.Data), MaxEventData)
	}
	// json.Valid takes invalid UTF-8 inside strings; PostgreSQL's json
	// refuses it, and the log must read alike on both backends.
	if !json.Valid(e.Data) || !utf8.Valid(e.Data) {
		return fmt.Errorf("%w: type %q", ErrInvalidData, e.Type)
	}
	// The hash covers the exact bytes, and a store whose format embeds data
	// in JSON (JetStream's) cannot give back white space around a value.
	if d := e.Data; isJSONSpace(d[0]) || isJSONSpace(d[len(d)-1]) {
		return fmt.Errorf("%w: type %q: data begins or ends with white space", ErrInvalidData, e.Type)
	}
	return nil
}

// validateType accepts 1 to MaxTypeLen characters from [a-z0-9_.-], starting
// with a letter: stable names that are safe in subjects, URLs and logs.
func validateType(t string) error {
	if t == "" || len(t) > MaxTypeLen {
		return fmt.Errorf("%w: type must be 1 to %d characters", ErrInvalidArgument, MaxTypeLen)
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		letter := c >= 'a' && c <= 'z'
		if i == 0 && !letter {
			return fmt.Errorf("%w: type %q must start with a lower-case letter", ErrInvalidArgument, t)
		}
		if !letter && !(c >= '0' && c <= '9') && c != '_' && c != '.' && c != '-' {
			return fmt.Errorf("%w: type %q may hold only a-z, 0-9, '_', '.' and '-'", ErrInvalidArgument, t)
		}
	}
	return nil
}

// validateText accepts valid UTF-8 without control characters, up to max bytes.
func validateText(what, s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("%w: %s is %d bytes, limit %d", ErrInvalidArgument, what, len(s), max)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalidArgument, what)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: %s contains a control character", ErrInvalidArgument, what)
		}
	}
	return nil
}

// ValidateGame refuses the nil game id with ErrInvalidArgument.
func ValidateGame(game uuid.UUID) error {
	if game == uuid.Nil {
		return fmt.Errorf("%w: game id is the nil UUID", ErrInvalidArgument)
	}
	return nil
}

// ReadLimit is the number of events a Read returns at most: limit, or
// MaxReadLimit when limit is not in 1..MaxReadLimit.
func ReadLimit(limit int) int {
	if limit <= 0 || limit > MaxReadLimit {
		return MaxReadLimit
	}
	return limit
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
