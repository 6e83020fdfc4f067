package engine

import (
	"encoding/json"
	"fmt"
)

// Event is one event as the log stores it. Event i of a game (1-based) is
// stored at seq i. Data is the JSON encoding of a Payload; the engine
// produces it deterministically (struct fields in declaration order), so
// deciding the same command on the same state yields identical bytes.
type Event struct {
	Type    string          `json:"type"`
	Version int             `json:"version"`
	Actor   string          `json:"actor"` // a player id, or System
	Data    json.RawMessage `json:"data"`
}

// Payload is the Go value an event carries. EventType is its stable name;
// it must not change once events of that type are stored.
type Payload interface {
	EventType() string
}

// Versioned is implemented by payloads whose schema has changed: the result
// is the current schema version, written into new events. Payloads that do
// not implement it are version 1.
type Versioned interface {
	EventVersion() int
}

// Decoded is an event decoded (and upcast) for folding.
type Decoded struct {
	Actor   string
	Payload Payload
}

func versionOf(p Payload) int {
	if v, ok := p.(Versioned); ok {
		return v.EventVersion()
	}
	return 1
}

func encode(actor string, p Payload) (Event, error) {
	data, err := json.Marshal(p)
	if err != nil {
		return Event{}, fmt.Errorf("encode %s event: %w", p.EventType(), err)
	}
	return Event{Type: p.EventType(), Version: versionOf(p), Actor: actor, Data: data}, nil
}
