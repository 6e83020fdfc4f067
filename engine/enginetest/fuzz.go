package enginetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/playlog/playlog/engine"
)

// FuzzDecode fuzzes g's action decoding: it never panics; it either
// rejects with ErrInvalidAction or returns a canonical action that decodes
// to itself.
func FuzzDecode(f *testing.F, g *engine.Game, corpus ...string) {
	for _, c := range corpus {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		canon, err := g.DecodeAction(data)
		if err != nil {
			if !engine.IsRejection(err) {
				t.Fatalf("decode %q: error %v is not ErrInvalidAction", data, err)
			}
			return
		}
		again, err := g.DecodeAction(canon)
		if err != nil || !bytes.Equal(again, canon) {
			t.Fatalf("canonical %s of %q decodes to %s, %v", canon, data, again, err)
		}
	})
}

// FuzzDecide fuzzes Decide on states reached by random play: steps picks
// the state (that many random commands from a fixed seed), actor picks a
// player, the system or a stranger, action is the JSON. A rejection must be
// one of the four, return no events and change nothing; an accepted command
// must fold and decide the same way twice.
func FuzzDecide(f *testing.F, g *engine.Game, config json.RawMessage, players int, corpus ...string) {
	for i, c := range corpus {
		f.Add(uint8(i*7), uint8(i), []byte(c))
	}
	var mu sync.Mutex
	cache := map[uint8]Played{}
	at := func(t *testing.T, steps uint8) Played {
		mu.Lock()
		defer mu.Unlock()
		if pl, ok := cache[steps]; ok {
			return pl
		}
		pl, err := PlayN(g, config, Players(players), Seed(int(steps)), rand.New(rand.NewPCG(uint64(steps), 1)), int(steps))
		if err != nil {
			t.Fatalf("play %d steps: %v", steps, err)
		}
		cache[steps] = pl
		return pl
	}
	f.Fuzz(func(t *testing.T, steps, actor uint8, action []byte) {
		pl := at(t, steps)
		who := append(Players(players), engine.System, "mallory")[int(actor)%(players+2)]
		c := engine.Command{Actor: who, Action: action}
		before, _ := json.Marshal(pl.State)
		evs, err := g.Decide(pl.State, c, pl.Seed)
		if after, _ := json.Marshal(pl.State); !bytes.Equal(before, after) {
			t.Fatalf("Decide changed its input state")
		}
		if err != nil {
			if !engine.IsRejection(err) || evs != nil {
				t.Fatalf("%s %q: error %v with %d events, want a rejection", who, action, err, len(evs))
			}
			return
		}
		if _, err := g.Apply(pl.State, evs...); err != nil {
			t.Fatalf("%s %q: decided events do not fold: %v", who, action, err)
		}
		again, err := g.Decide(pl.State, c, pl.Seed)
		if err != nil || !sameEvents(evs, again) {
			t.Fatalf("%s %q: Decide is not deterministic", who, action)
		}
	})
}

// FuzzEvents fuzzes folding stored events, the decoder that faces the
// disk: an event of any type, version and data applied to a state reached
// by random play either folds or fails with ErrCorruptLog, and never
// panics (Evolve is total).
func FuzzEvents(f *testing.F, g *engine.Game, config json.RawMessage, players int) {
	pl, err := PlayN(g, config, Players(players), Seed(1), rand.New(rand.NewPCG(1, 1)), 40)
	if err != nil {
		f.Fatal(err)
	}
	for i, ev := range pl.Events {
		f.Add(uint8(i), ev.Type, uint8(ev.Version), []byte(ev.Data))
	}
	f.Fuzz(func(t *testing.T, at uint8, typ string, version uint8, data []byte) {
		s, err := g.Fold(pl.Events[:int(at)%len(pl.Events)])
		if err != nil {
			t.Fatal(err)
		}
		ev := engine.Event{Type: typ, Version: int(version), Actor: "alice", Data: data}
		if _, err := g.Apply(s, ev); err != nil && !errors.Is(err, engine.ErrCorruptLog) {
			t.Fatalf("%s v%d %q: error %v does not wrap ErrCorruptLog", typ, version, data, err)
		}
		for _, v := range []engine.Viewer{engine.AsSpectator(), engine.AsPlayer("alice")} {
			if r, err := g.RenderEvent(s.Seq()+1, ev, v); err == nil {
				g.ApplyRendered(g.View(s, v), r)
			}
		}
	})
}
