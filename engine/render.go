package engine

import (
	"encoding/json"
	"fmt"
)

// Rendered is an event as one viewer receives it. Every viewer receives
// every seq, so each viewer's sequence is gap-free; a Stub carries only its
// Seq. A Redacted event has the same type as the stored one, with secret
// values replaced by unknowns.
type Rendered struct {
	Seq        uint64          `json:"seq"`
	Visibility Visibility      `json:"visibility"`
	Type       string          `json:"type,omitempty"`
	Version    int             `json:"version,omitempty"`
	Actor      string          `json:"actor,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
}

// RenderEvent renders the event stored at seq for v. Engine events are
// public but for seed_revealed, the seed, which a spectator of a game with
// secrets gets as a Stub (the seed would deal every hidden card again);
// the rules decide for their own events. Errors wrap ErrCorruptLog.
func (g *Game) RenderEvent(seq uint64, ev Event, v Viewer) (Rendered, error) {
	d, err := g.Decode(ev)
	if err != nil {
		return Rendered{}, fmt.Errorf("seq %d: %w", seq, err)
	}
	return g.RenderDecoded(seq, ev.Type, d, v)
}

// RenderDecoded is RenderEvent for an event already decoded (by Decode), so
// that one event rendered for many viewers is decoded once. typ is the
// stored event's type.
func (g *Game) RenderDecoded(seq uint64, typ string, d Decoded, v Viewer) (Rendered, error) {
	ev := Event{Type: typ, Actor: d.Actor}
	vis, p := Full, d.Payload
	switch {
	case !isLifecycle(ev.Type):
		vis, p = g.k.render(d.Payload, v)
	case ev.Type == TypeSeedRevealed && g.k.hidesSeed(v):
		vis = Stub
	}
	r := Rendered{Seq: seq, Visibility: vis}
	if vis == Stub || p == nil {
		r.Visibility = Stub
		return r, nil
	}
	data, err := json.Marshal(p)
	if err != nil {
		return Rendered{}, fmt.Errorf("seq %d: render %s: %w", seq, ev.Type, err)
	}
	r.Type, r.Version, r.Actor, r.Data = p.EventType(), versionOf(p), ev.Actor, data
	return r, nil
}

// ApplyRendered folds one rendered event into a viewer's state: the
// client-side fold. Starting from the zero State, folding everything v was
// sent gives exactly View(state, v). Errors wrap ErrCorruptLog (a gap in
// seqs included).
func (g *Game) ApplyRendered(s State, r Rendered) (State, error) {
	if r.Seq != s.seq+1 {
		return s, fmt.Errorf("%w: got seq %d after %d", ErrCorruptLog, r.Seq, s.seq)
	}
	if r.Visibility == Stub {
		if !s.Created() {
			return s, fmt.Errorf("%w: stub before game_created", ErrCorruptLog)
		}
		s.seq++
		return s, nil
	}
	return g.Apply(s, Event{Type: r.Type, Version: r.Version, Actor: r.Actor, Data: r.Data})
}
