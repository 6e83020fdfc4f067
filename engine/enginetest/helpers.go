package enginetest

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/playlog/playlog/engine"
)

// TestSeed is the seed rule tests use.
var TestSeed = Seed(0)

// Seed returns the fixed seed of random game i.
func Seed(i int) []byte {
	sum := sha256.Sum256(fmt.Appendf(nil, "enginetest seed %d", i))
	return sum[:]
}

// Names are player ids for tests, in seat order.
var Names = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}

// Players returns the first n Names.
func Players(n int) []string { return append([]string(nil), Names[:n]...) }

// Ev encodes a payload as an event by actor.
func Ev(actor string, p engine.Payload) engine.Event {
	data, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	v := 1
	if vp, ok := p.(engine.Versioned); ok {
		v = vp.EventVersion()
	}
	return engine.Event{Type: p.EventType(), Version: v, Actor: actor, Data: data}
}

// Created is the game_created event of a test game committed to TestSeed.
func Created(game string, config string, players ...string) engine.Event {
	return Ev(engine.System, engine.GameCreated{Game: game, Players: players, Config: json.RawMessage(config), Commitment: engine.Commit(TestSeed)})
}

// Given folds events into a fresh state.
func Given(t testing.TB, g *engine.Game, events ...engine.Event) engine.State {
	t.Helper()
	s, err := g.Fold(events)
	if err != nil {
		t.Fatalf("given: %v", err)
	}
	return s
}

// When decides action (JSON) by actor with TestSeed.
func When(g *engine.Game, s engine.State, actor, action string) ([]engine.Event, error) {
	return g.Decide(s, engine.Command{Actor: actor, Action: json.RawMessage(action)}, TestSeed)
}

// Then checks a command's events: an action event, then exactly want (the
// rules' events, and game_ended and seed_revealed if the game ends).
func Then(t testing.TB, got []engine.Event, err error, want ...engine.Payload) {
	t.Helper()
	if err != nil {
		t.Fatalf("then: unexpected rejection: %v", err)
	}
	if len(got) == 0 || got[0].Type != engine.TypeAction {
		t.Fatalf("then: events do not start with an action: %s", dump(got))
	}
	got = got[1:]
	if len(got) != len(want) {
		t.Fatalf("then: got %d events, want %d:\n got %s\nwant %s", len(got), len(want), dump(got), dumpPayloads(want))
	}
	for i, w := range want {
		we := Ev(got[i].Actor, w)
		if got[i].Type != we.Type || string(got[i].Data) != string(we.Data) {
			t.Fatalf("then: event %d:\n got %s %s\nwant %s %s", i+1, got[i].Type, got[i].Data, we.Type, we.Data)
		}
	}
}

// ThenReject checks that a command was rejected with want.
func ThenReject(t testing.TB, got []engine.Event, err error, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("then: got error %v, want %v", err, want)
	}
	if got != nil {
		t.Fatalf("then: a rejection returned events: %s", dump(got))
	}
}

// Ended is the game_ended and seed_revealed pair ending a test game.
func Ended(out engine.Outcome) []engine.Payload {
	w := out.Winners
	if w == nil {
		w = []string{}
	}
	return []engine.Payload{
		engine.GameEnded{Winners: w, Draw: out.Draw, Reason: out.Reason},
		engine.SeedRevealed{Seed: fmt.Sprintf("%x", TestSeed)},
	}
}

func dump(evs []engine.Event) string {
	s := ""
	for _, e := range evs {
		s += fmt.Sprintf("\n  %s %s", e.Type, e.Data)
	}
	return s
}

func dumpPayloads(ps []engine.Payload) string {
	s := ""
	for _, p := range ps {
		data, _ := json.Marshal(p)
		s += fmt.Sprintf("\n  %s %s", p.EventType(), data)
	}
	return s
}

// After decides action by actor with TestSeed and folds the events: a
// given step written as a command.
func After(t testing.TB, g *engine.Game, s engine.State, actor, action string) engine.State {
	t.Helper()
	evs, err := When(g, s, actor, action)
	if err != nil {
		t.Fatalf("given %s %s: %v", actor, action, err)
	}
	s, err = g.Apply(s, evs...)
	if err != nil {
		t.Fatalf("given %s %s: %v", actor, action, err)
	}
	return s
}
