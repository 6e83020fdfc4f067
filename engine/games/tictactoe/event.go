package tictactoe

import (
	"encoding/json"
	"fmt"

	"github.com/playlog/playlog/engine"
)

// Placed: the player to move put their mark on Cell.
type Placed struct {
	Cell int `json:"cell"`
}

// EventType is "placed".
func (Placed) EventType() string { return "placed" }

// DecodeEvent decodes a placed event.
func (Rules) DecodeEvent(typ string, data []byte) (engine.Payload, error) {
	if typ != "placed" {
		return nil, fmt.Errorf("unknown event type %q", typ)
	}
	var p struct {
		Cell *int `json:"cell"`
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, err
	}
	if p.Cell == nil || *p.Cell < 0 || *p.Cell > 8 {
		return nil, fmt.Errorf("placed: cell missing or out of range")
	}
	return Placed{Cell: *p.Cell}, nil
}
