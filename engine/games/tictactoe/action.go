package tictactoe

import (
	"fmt"

	"github.com/playlog/playlog/engine"
)

// Action is {"type":"place","cell":c}, c in 0..8.
type Action struct {
	Type string `json:"type"`
	Cell int    `json:"cell"`
}

// DecodeAction decodes a place action strictly.
func (Rules) DecodeAction(data []byte) (Action, error) {
	o, typ, err := engine.ParseAction(data)
	if err != nil {
		return Action{}, err
	}
	if typ != "place" {
		return Action{}, fmt.Errorf("%w: unknown action type %q", engine.ErrInvalidAction, typ)
	}
	cell, err := o.Int("cell", 0, 8)
	if err != nil {
		return Action{}, err
	}
	return Action{Type: typ, Cell: cell}, o.Done()
}

// Decide places the mover's mark on an empty cell.
func (Rules) Decide(s State, _ string, a Action, _ *engine.Rand) ([]engine.Payload, error) {
	if s.Board[a.Cell] != Empty {
		return nil, fmt.Errorf("%w: cell %d is taken", engine.ErrActionNotAllowed, a.Cell)
	}
	return []engine.Payload{Placed{Cell: a.Cell}}, nil
}

// Legal lists a place action per empty cell.
func (Rules) Legal(s State, _ string) []Action {
	var out []Action
	for c, m := range s.Board {
		if m == Empty {
			out = append(out, Action{Type: "place", Cell: c})
		}
	}
	return out
}
