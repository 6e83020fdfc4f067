package export

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
)

// Writer writes an export: the header when it is made, a block per
// WriteGame, the trailer on Close. It buffers; Close flushes. Not safe for
// concurrent use.
type Writer struct {
	w      *bufio.Writer
	err    error // sticky: the first write error
	closed bool
	games  int64
	events int64
	seen   map[uuid.UUID]struct{}
	line   []byte
}

// NewWriter starts an export on w, with a header that says it was made at
// now from source. Write errors are reported by WriteGame and Close.
func NewWriter(w io.Writer, source string, now time.Time) *Writer {
	x := &Writer{w: bufio.NewWriterSize(w, 64<<10), seen: make(map[uuid.UUID]struct{})}
	b := append(x.line[:0], `{"format":`...)
	b = appendString(b, Format)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, Version, 10)
	b = append(b, `,"exported_at":`...)
	b = appendString(b, now.UTC().Format(time.RFC3339Nano))
	b = append(b, `,"source":`...)
	b = appendString(b, strings.ToValidUTF8(source, "\uFFFD"))
	b = append(b, "}\n"...)
	x.write(b)
	return x
}

func (x *Writer) write(b []byte) {
	x.line = b[:0]
	if x.err != nil {
		return
	}
	if len(b) > MaxLine {
		x.err = fmt.Errorf("export: a line of %d bytes, over the %d a reader accepts", len(b), MaxLine)
		return
	}
	_, x.err = x.w.Write(b)
}

// WriteGame writes one game's block: events must be the whole game, from
// seq 1, as read from the store; seals its seals in the order stored. It
// checks the block's shape first (one game, seqs 1, 2, 3, ..., seals of
// that game, strings a store would hold) and writes nothing of an
// ill-shaped one. The hash chain is not checked here: an export copies
// what the store holds (VerifyGame checks it).
func (x *Writer) WriteGame(events []eventstore.Event, seals []eventstore.Seal) error {
	if x.closed {
		return errors.New("export: WriteGame after Close")
	}
	if x.err != nil {
		return x.err
	}
	if len(events) == 0 {
		return errors.New("export: a game with no events")
	}
	id := events[0].GameID
	if id == uuid.Nil {
		return errors.New("export: a game with the nil id")
	}
	if _, ok := x.seen[id]; ok {
		return fmt.Errorf("export: game %s written twice", id)
	}
	for i := range events {
		e := &events[i]
		if e.GameID != id {
			return fmt.Errorf("export: game %s: event %d belongs to game %s", id, i+1, e.GameID)
		}
		if e.Seq != uint64(i)+1 {
			return fmt.Errorf("export: game %s: event %d has seq %d: a game is written whole, from seq 1", id, i+1, e.Seq)
		}
		for _, s := range []string{e.Type, e.Actor, e.MessageID} {
			if !utf8.ValidString(s) {
				return fmt.Errorf("export: game %s: seq %d: type, actor or message id is not UTF-8", id, e.Seq)
			}
		}
		if len(e.Data) == 0 {
			return fmt.Errorf("export: game %s: seq %d has no data", id, e.Seq)
		}
	}
	for i, s := range seals {
		if s.GameID != id {
			return fmt.Errorf("export: game %s: seal %d belongs to game %s", id, i+1, s.GameID)
		}
		if !utf8.ValidString(string(s.Kind)) || !utf8.ValidString(s.KeyID) {
			return fmt.Errorf("export: game %s: seal %d: kind or key id is not UTF-8", id, i+1)
		}
	}

	b := append(x.line[:0], `{"game":"`...)
	b = append(b, id.String()...)
	b = append(b, `","events":`...)
	b = strconv.AppendInt(b, int64(len(events)), 10)
	b = append(b, "}\n"...)
	x.write(b)
	for i := range events {
		x.write(appendEvent(x.line[:0], &events[i]))
	}
	for i := range seals {
		x.write(appendSeal(x.line[:0], &seals[i]))
	}
	b = append(x.line[:0], `{"game_end":"`...)
	b = append(b, id.String()...)
	b = append(b, `","events":`...)
	b = strconv.AppendInt(b, int64(len(events)), 10)
	b = append(b, `,"head_hash":"`...)
	b = append(b, events[len(events)-1].Hash.String()...)
	b = append(b, `","seals":`...)
	b = strconv.AppendInt(b, int64(len(seals)), 10)
	b = append(b, "}\n"...)
	x.write(b)
	if x.err != nil {
		return x.err
	}
	x.seen[id] = struct{}{}
	x.games++
	x.events += int64(len(events))
	return nil
}

// Close writes the trailer and flushes. It does not close the underlying
// writer. A file without its trailer reads as truncated.
func (x *Writer) Close() error {
	if x.closed {
		return x.err
	}
	x.closed = true
	b := append(x.line[:0], `{"end":true,"games":`...)
	b = strconv.AppendInt(b, x.games, 10)
	b = append(b, `,"events":`...)
	b = strconv.AppendInt(b, x.events, 10)
	b = append(b, "}\n"...)
	x.write(b)
	if x.err == nil {
		x.err = x.w.Flush()
	}
	return x.err
}

// appendEvent writes the envelope of a stored event, in a fixed field
// order, with its data copied byte for byte. JSON lines cannot hold a raw
// line break, which JSON allows as whitespace between tokens (never inside
// a string): data holding one is written as data_base64 instead.
func appendEvent(b []byte, e *eventstore.Event) []byte {
	b = append(b, `{"game_id":"`...)
	b = append(b, e.GameID.String()...)
	b = append(b, `","seq":`...)
	b = strconv.AppendUint(b, e.Seq, 10)
	b = append(b, `,"type":`...)
	b = appendString(b, e.Type)
	b = append(b, `,"schema_version":`...)
	b = strconv.AppendInt(b, int64(e.SchemaVersion), 10)
	b = append(b, `,"actor":`...)
	b = appendString(b, e.Actor)
	b = append(b, `,"message_id":`...)
	b = appendString(b, e.MessageID)
	if bytes.ContainsAny(e.Data, "\r\n") {
		b = append(b, `,"data_base64":"`...)
		b = base64.StdEncoding.AppendEncode(b, e.Data)
		b = append(b, '"')
	} else {
		b = append(b, `,"data":`...)
		b = append(b, e.Data...)
	}
	b = append(b, `,"recorded_at":"`...)
	b = append(b, formatTime(e.RecordedAt)...)
	b = append(b, `","prev_hash":"`...)
	b = append(b, e.PrevHash.String()...)
	b = append(b, `","hash":"`...)
	b = append(b, e.Hash.String()...)
	return append(b, "\"}\n"...)
}

// appendSeal writes a seal line: eventstore.Seal's JSON fields, in their
// order, with sealed_at in TimeLayout.
func appendSeal(b []byte, s *eventstore.Seal) []byte {
	b = append(b, `{"seal":{"game_id":"`...)
	b = append(b, s.GameID.String()...)
	b = append(b, `","seq":`...)
	b = strconv.AppendUint(b, s.Seq, 10)
	b = append(b, `,"hash":"`...)
	b = append(b, s.Hash.String()...)
	b = append(b, `","kind":`...)
	b = appendString(b, string(s.Kind))
	b = append(b, `,"key_id":`...)
	b = appendString(b, s.KeyID)
	b = append(b, `,"signature":"`...)
	b = base64.StdEncoding.AppendEncode(b, s.Signature)
	b = append(b, `","sealed_at":"`...)
	b = append(b, formatTime(s.SealedAt)...)
	return append(b, "\"}}\n"...)
}

// appendString writes s (valid UTF-8) as a JSON string: '"', '\' and
// control characters escaped, nothing else (no HTML escaping), so the
// output is the same on every Go version.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20 || c == 0x7f:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
