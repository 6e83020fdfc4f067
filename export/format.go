package export

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
)

const (
	// Format is the header's "format": what names a playlog export.
	Format = "playlog.export"
	// Version is the format version this package writes and reads.
	Version = 1
	// MaxLine is the longest line Reader accepts, in bytes. Stored events
	// are far smaller (64 KiB of data at most), so a longer line is a
	// corrupt file or not an export.
	MaxLine = 8 << 20
)

// TimeLayout is how recorded_at and sealed_at are written: UTC, always
// six fractional digits (stores keep times to the microsecond), so that
// the same instant is always the same bytes.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// Errors of Reader and VerifyGame, for errors.Is; their messages carry
// the detail (line number, game id).
var (
	// ErrNotExport: the input does not start with a playlog export header.
	ErrNotExport = errors.New("export: not a playlog export")
	// ErrVersion: the header names a format version this reader cannot read.
	ErrVersion = errors.New("export: unsupported export format version")
	// ErrMalformed: a line or a game block breaks the format.
	ErrMalformed = errors.New("export: malformed export")
	// ErrTruncated: the input ends before its trailer: the file was cut.
	ErrTruncated = errors.New("export: truncated export")
	// ErrInvalid: a game block is well formed but its contents do not
	// verify (VerifyGame): seqs, hash chain, head hash or seals.
	ErrInvalid = errors.New("export: game does not verify")
)

// Header is the first line of an export.
type Header struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	// ExportedAt is when the export was written (informative).
	ExportedAt time.Time `json:"exported_at"`
	// Source says where the games came from, free text (for instance
	// "jetstream:PLAYLOG" or "postgres:playlog").
	Source string `json:"source"`
}

// Game is one game of an export: its whole log, from seq 1, as stored
// (Position is not exported and is zero), and its seals in the order
// stored. HeadHash is what the block's game_end line declares as the hash
// of its last event; VerifyGame checks it.
type Game struct {
	ID       uuid.UUID
	Events   []eventstore.Event
	Seals    []eventstore.Seal
	HeadHash eventstore.Hash
}

// formatTime writes t in TimeLayout.
func formatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// parseTime reads a time written in TimeLayout, and only in that form:
// any other spelling of an instant would make two files of the same game
// differ.
func parseTime(what, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || formatTime(t) != s {
		return time.Time{}, fmt.Errorf("%s %q is not a UTC time of the form %s", what, s, TimeLayout)
	}
	return t.UTC(), nil
}
