package jetstream

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
)

// The message format, version 1. One message per Append, on subject
// "<prefix>.<game-id>", with one header (one, because the server scans
// headers on every publish)
//
//	Playlog-Index: 1 <first seq> <last seq> <hex hash of last event> <message id>
//
// (format version, the seqs the message holds, the chain head it leaves, and
// the append's message id as a Go-quoted string, "" when empty), and
// and a JSON payload
//
//	{"v":1,"game":"<uuid>","events":[
//	  {"seq":1,"type":"...","sv":1,"actor":"...","mid":"...","at":<unix µs>,
//	   "prev":"<hex>","hash":"<hex>","data":<the event's JSON>}, ...]}
//
// The headers are an index for reading without decoding payloads; the
// payload is the record. Fixtures of every format version live in testdata/
// and are decoded by the tests, so old logs stay readable.
const formatVersion = 1

const hdrIndex = "Playlog-Index"

type wireMessage struct {
	V      int         `json:"v"`
	Game   uuid.UUID   `json:"game"`
	Events []wireEvent `json:"events"`
}

type wireEvent struct {
	Seq   uint64          `json:"seq"`
	Type  string          `json:"type"`
	SV    int             `json:"sv"`
	Actor string          `json:"actor"`
	MsgID string          `json:"mid,omitempty"`
	At    int64           `json:"at"`
	Prev  eventstore.Hash `json:"prev"`
	Hash  eventstore.Hash `json:"hash"`
	Data  json.RawMessage `json:"data"`
}

// encodeMessage encodes the events of one append. It writes each event's
// data verbatim (encoding/json would compact it), because the hash covers
// the exact bytes.
func encodeMessage(game uuid.UUID, events []eventstore.Event) ([]byte, error) {
	size := 64
	for _, e := range events {
		size += 256 + len(e.Type) + len(e.Actor) + len(e.MessageID) + len(e.Data)
	}
	b := make([]byte, 0, size)
	b = append(b, `{"v":1,"game":"`...)
	b = append(b, game.String()...)
	b = append(b, `","events":[`...)
	for i, e := range events {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"seq":`...)
		b = strconv.AppendUint(b, e.Seq, 10)
		b = append(b, `,"type":`...)
		b = appendString(b, e.Type)
		b = append(b, `,"sv":`...)
		b = strconv.AppendInt(b, int64(e.SchemaVersion), 10)
		b = append(b, `,"actor":`...)
		b = appendString(b, e.Actor)
		if e.MessageID != "" {
			b = append(b, `,"mid":`...)
			b = appendString(b, e.MessageID)
		}
		b = append(b, `,"at":`...)
		b = strconv.AppendInt(b, e.RecordedAt.UnixMicro(), 10)
		b = append(b, `,"prev":"`...)
		b = hex.AppendEncode(b, e.PrevHash[:])
		b = append(b, `","hash":"`...)
		b = hex.AppendEncode(b, e.Hash[:])
		b = append(b, `","data":`...)
		b = append(b, e.Data...)
		b = append(b, '}')
	}
	b = append(b, "]}"...)
	return b, nil
}

// appendString appends s as a JSON string: as is when nothing in it needs
// escaping (the common case: ids and type names), else as encoding/json
// writes it.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

var errFormat = errors.New("jetstream: malformed stored message")

// decodeMessage decodes a stored message's payload. streamSeq places its
// events in the global feed. It rejects anything that is not a well-formed
// message for game: unknown versions, empty or non-consecutive events, bad
// hashes, data that is not JSON.
func decodeMessage(game uuid.UUID, streamSeq uint64, payload []byte) ([]eventstore.Event, error) {
	m, ok := parseCanonical(game, payload)
	if !ok {
		var err error
		if m, err = decodeJSON(payload); err != nil {
			return nil, fmt.Errorf("%w at stream seq %d: %v", errFormat, streamSeq, err)
		}
	}
	if m.V != formatVersion {
		return nil, fmt.Errorf("%w at stream seq %d: format version %d", errFormat, streamSeq, m.V)
	}
	if m.Game != game {
		return nil, fmt.Errorf("%w at stream seq %d: game %s on the subject of %s", errFormat, streamSeq, m.Game, game)
	}
	if len(m.Events) == 0 {
		return nil, fmt.Errorf("%w at stream seq %d: no events", errFormat, streamSeq)
	}
	out := make([]eventstore.Event, len(m.Events))
	for i, w := range m.Events {
		if w.Seq == 0 || (i > 0 && w.Seq != m.Events[i-1].Seq+1) {
			return nil, fmt.Errorf("%w at stream seq %d: event seq %d out of order", errFormat, streamSeq, w.Seq)
		}
		if len(w.Data) == 0 || w.Type == "" || w.SV < 1 {
			return nil, fmt.Errorf("%w at stream seq %d: event %d lacks type, version or data", errFormat, streamSeq, w.Seq)
		}
		out[i] = eventstore.Event{
			GameID: game, Seq: w.Seq, Type: w.Type, SchemaVersion: w.SV, Actor: w.Actor,
			MessageID: w.MsgID, Data: w.Data, RecordedAt: time.UnixMicro(w.At).UTC(),
			PrevHash: w.Prev, Hash: w.Hash,
			Position: eventstore.Position{Major: streamSeq, Minor: uint64(i + 1)},
		}
	}
	return out, nil
}

// decodeJSON reads a payload with encoding/json: the reference for what
// the format accepts, and the path for any payload parseCanonical leaves.
func decodeJSON(payload []byte) (wireMessage, error) {
	var m wireMessage
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return wireMessage{}, err
	}
	if dec.More() {
		return wireMessage{}, errors.New("trailing data")
	}
	return m, nil
}

// msgRef indexes one stored message of a game.
type msgRef struct {
	first, last uint64 // the per-game seqs it holds
	streamSeq   uint64
	lastHash    eventstore.Hash
	msgID       string
}

// indexHeader is the Playlog-Index header of a message holding events.
func indexHeader(events []eventstore.Event, msgID string) string {
	last := events[len(events)-1]
	b := make([]byte, 0, 100+len(msgID))
	b = append(b, "1 "...)
	b = strconv.AppendUint(b, events[0].Seq, 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, last.Seq, 10)
	b = append(b, ' ')
	b = hex.AppendEncode(b, last.Hash[:])
	b = append(b, ' ')
	b = strconv.AppendQuote(b, msgID)
	return string(b)
}

// headerRef reads a message's index entry from its Playlog-Index header.
func headerRef(header string, streamSeq uint64) (msgRef, error) {
	bad := fmt.Errorf("%w at stream seq %d: bad %s header %q", errFormat, streamSeq, hdrIndex, header)
	parts := strings.SplitN(header, " ", 5)
	if len(parts) != 5 || parts[0] != "1" {
		return msgRef{}, bad
	}
	r := msgRef{streamSeq: streamSeq}
	var err1, err2, err4 error
	r.msgID, err4 = strconv.Unquote(parts[4])
	r.first, err1 = strconv.ParseUint(parts[1], 10, 64)
	r.last, err2 = strconv.ParseUint(parts[2], 10, 64)
	err3 := r.lastHash.UnmarshalText([]byte(parts[3]))
	if errors.Join(err1, err2, err3, err4) != nil || r.first == 0 || r.last < r.first {
		return msgRef{}, bad
	}
	return r, nil
}
