package engine

import "fmt"

// Decode upcasts and decodes one stored event. Errors wrap ErrCorruptLog.
func (g *Game) Decode(ev Event) (Decoded, error) {
	data, version, err := upcast(g.upcasts, ev.Type, ev.Version, ev.Data)
	if err != nil {
		return Decoded{}, err
	}
	var p Payload
	if isLifecycle(ev.Type) {
		p, err = decodeLifecycle(ev.Type, data)
	} else {
		p, err = g.k.decodeEvent(ev.Type, data)
	}
	if err != nil {
		return Decoded{}, err
	}
	if want := versionOf(p); version != want {
		return Decoded{}, fmt.Errorf("%w: %s version %d, this build reads version %d", ErrCorruptLog, ev.Type, version, want)
	}
	return Decoded{Actor: ev.Actor, Payload: p}, nil
}

// Apply folds events into s; the first event folded is seq s.Seq()+1.
// It returns s unchanged and an error wrapping ErrCorruptLog if any event
// cannot be decoded or is out of place: all or nothing.
func (g *Game) Apply(s State, events ...Event) (State, error) {
	ds := make([]Decoded, len(events))
	for i, ev := range events {
		d, err := g.Decode(ev)
		if err != nil {
			return s, fmt.Errorf("seq %d: %w", s.seq+uint64(i)+1, err)
		}
		ds[i] = d
	}
	return g.k.apply(g.name, s, ds)
}

// ApplyDecoded folds already decoded events into s, like Apply.
func (g *Game) ApplyDecoded(s State, ds ...Decoded) (State, error) {
	return g.k.apply(g.name, s, ds)
}

// Fold rebuilds a game's state from its events, seq 1 first.
func (g *Game) Fold(events []Event) (State, error) {
	return g.Apply(State{}, events...)
}
