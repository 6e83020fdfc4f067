package engine

import (
	"encoding/json"
	"fmt"
	"sort"
)

// Registry finds games by name. Build it explicitly with the games a
// process serves; it is immutable and safe for concurrent use.
type Registry struct {
	games map[string]*Game
}

// NewRegistry returns a registry of games. Names must be unique.
func NewRegistry(games ...*Game) (*Registry, error) {
	r := &Registry{games: make(map[string]*Game, len(games))}
	for _, g := range games {
		if g == nil || g.name == "" {
			return nil, fmt.Errorf("engine: registry: game without a name")
		}
		if _, dup := r.games[g.name]; dup {
			return nil, fmt.Errorf("engine: registry: game %q registered twice", g.name)
		}
		r.games[g.name] = g
	}
	return r, nil
}

// Lookup returns the game called name, or an error wrapping ErrUnknownGame.
func (r *Registry) Lookup(name string) (*Game, error) {
	if g, ok := r.games[name]; ok {
		return g, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownGame, name)
}

// Names lists the registered games, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.games))
	for n := range r.games {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// GameOf returns the game a log belongs to, read from its first event.
func (r *Registry) GameOf(first Event) (*Game, error) {
	if first.Type != TypeGameCreated {
		return nil, fmt.Errorf("%w: first event is %q, not %s", ErrCorruptLog, first.Type, TypeGameCreated)
	}
	var gc struct {
		Game string `json:"game"`
	}
	if err := json.Unmarshal(first.Data, &gc); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorruptLog, TypeGameCreated, err)
	}
	return r.Lookup(gc.Game)
}

// RestoreState restores a snapshot (Game.EncodeState) with the game it
// names. Errors: those of Game.RestoreState, ErrUnknownGame, and
// ErrCorruptLog for data that names no game.
func (r *Registry) RestoreState(data []byte) (*Game, State, error) {
	var head struct {
		Game string `json:"game"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, State{}, fmt.Errorf("%w: snapshot: %v", ErrCorruptLog, err)
	}
	g, err := r.Lookup(head.Game)
	if err != nil {
		return nil, State{}, err
	}
	s, err := g.RestoreState(data)
	return g, s, err
}
