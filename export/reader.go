package export

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
)

// Reader reads an export one game at a time: memory holds one game's
// block, never the file. It checks the file's structure as it goes (see
// Next); VerifyGame checks a game's contents. Not safe for concurrent use.
type Reader struct {
	sc     *bufio.Scanner
	line   int64 // number of the line last read, from 1
	header Header
	games  int64
	events int64
	seen   map[uuid.UUID]struct{}
	err    error // sticky; io.EOF after the trailer
}

// NewReader reads and checks the header of the export on r, which may be
// gzip-compressed (recognized by its magic bytes 1f 8b). Errors:
// ErrNotExport (not a playlog export), ErrVersion (a version other than
// Version), ErrMalformed, ErrTruncated, or r's.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %v", ErrMalformed, err)
		}
		r = zr
	} else {
		r = br
	}
	x := &Reader{sc: bufio.NewScanner(r), seen: make(map[uuid.UUID]struct{})}
	// A line of MaxLine bytes fits with its "\r\n".
	x.sc.Buffer(make([]byte, 0, 64<<10), MaxLine+2)
	line, err := x.readLine()
	if err == io.EOF {
		return nil, fmt.Errorf("%w: the input is empty", ErrNotExport)
	}
	if err != nil {
		return nil, err
	}
	var h Header
	herr := json.Unmarshal(line, &h)
	if h.Format != Format {
		if herr != nil {
			return nil, fmt.Errorf("%w: the first line is not a JSON header naming format %q", ErrNotExport, Format)
		}
		return nil, fmt.Errorf("%w: the header names format %q, not %q", ErrNotExport, h.Format, Format)
	}
	if herr != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, herr)
	}
	if h.Version != Version {
		return nil, fmt.Errorf("%w: the file is version %d, this reader reads version %d", ErrVersion, h.Version, Version)
	}
	x.header = h
	return x, nil
}

// Header is the export's header.
func (x *Reader) Header() Header { return x.header }

// readLine returns the next line (without its line break, valid until the
// next call), io.EOF at the end of the input, or an error.
func (x *Reader) readLine() ([]byte, error) {
	if !x.sc.Scan() {
		err := x.sc.Err()
		switch {
		case err == nil:
			return nil, io.EOF
		case errors.Is(err, bufio.ErrTooLong):
			return nil, fmt.Errorf("%w: line %d is longer than %d bytes", ErrMalformed, x.line+1, MaxLine)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, fmt.Errorf("%w: line %d: %v", ErrTruncated, x.line+1, err)
		case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader):
			return nil, fmt.Errorf("%w: line %d: %v", ErrMalformed, x.line+1, err)
		}
		return nil, fmt.Errorf("export: reading line %d: %w", x.line+1, err)
	}
	x.line++
	b := x.sc.Bytes()
	if len(b) == 0 {
		return nil, x.malformed("an empty line")
	}
	return b, nil
}

func (x *Reader) malformed(format string, args ...any) error {
	return fmt.Errorf("%w: line %d: %s", ErrMalformed, x.line, fmt.Sprintf(format, args...))
}

// decode unmarshals one line into v, refusing unknown fields and anything
// after the value.
func (x *Reader) decode(line []byte, v any, what string) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return x.malformed("%s: %v", what, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return x.malformed("%s: data after the JSON object", what)
	}
	return nil
}

// Next returns the next game. It returns io.EOF after the trailer, and
// an error wrapping ErrTruncated if the input ends before it (a cut
// file), or ErrMalformed if a line or block breaks the format: bad JSON,
// an unknown field, a block whose counts do not match its lines, an event
// or seal of another game, a game twice, a trailer whose counts are not
// the file's, anything after the trailer. Errors are final: Next keeps
// returning the same one.
func (x *Reader) Next() (Game, error) {
	if x.err != nil {
		return Game{}, x.err
	}
	g, err := x.next()
	if err != nil {
		x.err = err
		return Game{}, err
	}
	return g, nil
}

// control is a line between games: a game line or the trailer.
type control struct {
	Game   *uuid.UUID `json:"game"`
	Events *int64     `json:"events"`
	End    *bool      `json:"end"`
	Games  *int64     `json:"games"`
}

// tail is a line after a game's events: a seal or the game_end.
type tail struct {
	Seal     *sealLine        `json:"seal"`
	GameEnd  *uuid.UUID       `json:"game_end"`
	Events   *int64           `json:"events"`
	HeadHash *eventstore.Hash `json:"head_hash"`
	Seals    *int64           `json:"seals"`
}

type sealLine struct {
	GameID    uuid.UUID           `json:"game_id"`
	Seq       uint64              `json:"seq"`
	Hash      eventstore.Hash     `json:"hash"`
	Kind      eventstore.SealKind `json:"kind"`
	KeyID     string              `json:"key_id"`
	Signature []byte              `json:"signature"`
	SealedAt  string              `json:"sealed_at"`
}

type eventLine struct {
	GameID        uuid.UUID       `json:"game_id"`
	Seq           uint64          `json:"seq"`
	Type          string          `json:"type"`
	SchemaVersion int             `json:"schema_version"`
	Actor         string          `json:"actor"`
	MessageID     string          `json:"message_id"`
	Data          json.RawMessage `json:"data"`
	DataBase64    *string         `json:"data_base64"`
	RecordedAt    string          `json:"recorded_at"`
	PrevHash      eventstore.Hash `json:"prev_hash"`
	Hash          eventstore.Hash `json:"hash"`
}

func (x *Reader) next() (Game, error) {
	line, err := x.readLine()
	if err == io.EOF {
		return Game{}, fmt.Errorf("%w: the input ends after %d games (line %d), without the trailer", ErrTruncated, x.games, x.line)
	}
	if err != nil {
		return Game{}, err
	}
	var c control
	if err := x.decode(line, &c, "expected a game line or the trailer"); err != nil {
		return Game{}, err
	}
	switch {
	case c.End != nil && *c.End && c.Games != nil && c.Events != nil && c.Game == nil:
		if *c.Games != x.games || *c.Events != x.events {
			return Game{}, x.malformed("the trailer counts %d games and %d events, the file holds %d and %d",
				*c.Games, *c.Events, x.games, x.events)
		}
		switch _, err := x.readLine(); {
		case err == io.EOF:
			return Game{}, io.EOF
		case err != nil:
			return Game{}, err
		}
		return Game{}, x.malformed("data after the trailer")
	case c.Game != nil && c.Events != nil && c.End == nil && c.Games == nil:
	default:
		return Game{}, x.malformed("expected a game line {\"game\",\"events\"} or the trailer {\"end\",\"games\",\"events\"}")
	}
	g := Game{ID: *c.Game}
	n := *c.Events
	if g.ID == uuid.Nil {
		return Game{}, x.malformed("a game with the nil id")
	}
	if n < 1 {
		return Game{}, x.malformed("game %s: %d events: a game has at least one", g.ID, n)
	}
	if _, ok := x.seen[g.ID]; ok {
		return Game{}, x.malformed("game %s appears twice", g.ID)
	}
	g.Events = make([]eventstore.Event, 0, min(n, 1024))
	for int64(len(g.Events)) < n {
		line, err := x.readLine()
		if err == io.EOF {
			return Game{}, fmt.Errorf("%w: the input ends inside game %s, after %d of its %d events", ErrTruncated, g.ID, len(g.Events), n)
		}
		if err != nil {
			return Game{}, err
		}
		e, err := x.event(line, g.ID, len(g.Events)+1, n)
		if err != nil {
			return Game{}, err
		}
		g.Events = append(g.Events, e)
	}
	for {
		line, err := x.readLine()
		if err == io.EOF {
			return Game{}, fmt.Errorf("%w: the input ends inside game %s, before its game_end line", ErrTruncated, g.ID)
		}
		if err != nil {
			return Game{}, err
		}
		var t tail
		if err := x.decode(line, &t, fmt.Sprintf("game %s: expected a seal or the game_end line", g.ID)); err != nil {
			return Game{}, err
		}
		switch {
		case t.Seal != nil && t.GameEnd == nil && t.Events == nil && t.HeadHash == nil && t.Seals == nil:
			s, err := x.seal(t.Seal, g.ID)
			if err != nil {
				return Game{}, err
			}
			if !canonical(line, appendSeal(nil, &s)) {
				return Game{}, x.malformed("game %s: seal at seq %d: %s", g.ID, s.Seq, notCanonical)
			}
			g.Seals = append(g.Seals, s)
			continue
		case t.Seal == nil && t.GameEnd != nil && t.Events != nil && t.HeadHash != nil && t.Seals != nil:
		default:
			return Game{}, x.malformed("game %s: expected a seal line {\"seal\"} or the game_end line {\"game_end\",\"events\",\"head_hash\",\"seals\"}", g.ID)
		}
		switch {
		case *t.GameEnd != g.ID:
			return Game{}, x.malformed("game %s ends with the game_end of game %s", g.ID, *t.GameEnd)
		case *t.Events != n:
			return Game{}, x.malformed("game %s: game_end counts %d events, the block holds %d", g.ID, *t.Events, n)
		case *t.Seals != int64(len(g.Seals)):
			return Game{}, x.malformed("game %s: game_end counts %d seals, the block holds %d", g.ID, *t.Seals, len(g.Seals))
		}
		g.HeadHash = *t.HeadHash
		x.seen[g.ID] = struct{}{}
		x.games++
		x.events += n
		return g, nil
	}
}

// event decodes event i of n of game id.
func (x *Reader) event(line []byte, id uuid.UUID, i int, n int64) (eventstore.Event, error) {
	var l eventLine
	if err := x.decode(line, &l, fmt.Sprintf("game %s: event %d of %d", id, i, n)); err != nil {
		return eventstore.Event{}, err
	}
	if l.GameID != id {
		return eventstore.Event{}, x.malformed("game %s: event %d of %d belongs to game %s", id, i, n, l.GameID)
	}
	e := eventstore.Event{
		GameID: l.GameID, Seq: l.Seq, Type: l.Type, SchemaVersion: l.SchemaVersion,
		Actor: l.Actor, MessageID: l.MessageID, PrevHash: l.PrevHash, Hash: l.Hash,
	}
	switch {
	case l.Data != nil && l.DataBase64 == nil:
		e.Data = l.Data
	case l.Data == nil && l.DataBase64 != nil:
		b, err := base64.StdEncoding.DecodeString(*l.DataBase64)
		if err != nil {
			return eventstore.Event{}, x.malformed("game %s: seq %d: data_base64: %v", id, l.Seq, err)
		}
		e.Data = b
	default:
		return eventstore.Event{}, x.malformed("game %s: seq %d: an event has exactly one of data and data_base64", id, l.Seq)
	}
	t, err := parseTime("recorded_at", l.RecordedAt)
	if err != nil {
		return eventstore.Event{}, x.malformed("game %s: seq %d: %v", id, l.Seq, err)
	}
	e.RecordedAt = t
	if !canonical(line, appendEvent(nil, &e)) {
		return eventstore.Event{}, x.malformed("game %s: seq %d: %s", id, l.Seq, notCanonical)
	}
	return e, nil
}

// notCanonical is the refusal of a line that reads, but not as export
// writes it: another field order, a key spelt in other letters or twice, an
// escape or a time written otherwise. Each line has one spelling, so that
// every reader of a file checks the same bytes.
const notCanonical = "the line is not as export writes it (its fields in their order, each once, spelt and escaped as written)"

// canonical reports whether line is want without its line break.
func canonical(line, want []byte) bool {
	return bytes.Equal(line, want[:len(want)-1])
}

func (x *Reader) seal(l *sealLine, id uuid.UUID) (eventstore.Seal, error) {
	if l.GameID != id {
		return eventstore.Seal{}, x.malformed("game %s: a seal of game %s", id, l.GameID)
	}
	t, err := parseTime("sealed_at", l.SealedAt)
	if err != nil {
		return eventstore.Seal{}, x.malformed("game %s: seal at seq %d: %v", id, l.Seq, err)
	}
	return eventstore.Seal{
		GameID: l.GameID, Seq: l.Seq, Hash: l.Hash, Kind: l.Kind, KeyID: l.KeyID,
		Signature: l.Signature, SealedAt: t,
	}, nil
}
