package engine_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/engine/games/crazyeights"
	"github.com/playlog/playlog/engine/games/pig"
	"github.com/playlog/playlog/engine/games/tictactoe"
)

// restoreEqual restores s from its snapshot and checks that the result
// is s: the same snapshot, state JSON, turn and timeouts, and the same
// decision for the command given.
func restoreEqual(t *testing.T, g *engine.Game, s engine.State, actor, action string, at time.Time) engine.State {
	t.Helper()
	data, err := g.EncodeState(s)
	if err != nil {
		t.Fatal(err)
	}
	r, err := g.RestoreState(data)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := g.EncodeState(r)
	a, _ := json.Marshal(s)
	b, _ := json.Marshal(r)
	if !bytes.Equal(again, data) || !bytes.Equal(a, b) {
		t.Fatalf("restored state differs:\n%s\n%s", data, again)
	}
	st, sok := s.Turn()
	rt, rok := r.Turn()
	if sok != rok || st.Number != rt.Number || !st.Deadline.Equal(rt.Deadline) || st.Graces != rt.Graces || strings.Join(st.Players, ",") != strings.Join(rt.Players, ",") {
		t.Fatalf("restored turn %+v %v, want %+v %v", rt, rok, st, sok)
	}
	for _, p := range s.Players() {
		if s.Timeouts(p) != r.Timeouts(p) {
			t.Fatalf("restored timeouts of %s: %d, want %d", p, r.Timeouts(p), s.Timeouts(p))
		}
	}
	want, werr := decideAt(g, s, actor, action, at)
	got, gerr := decideAt(g, r, actor, action, at)
	if (werr == nil) != (gerr == nil) || len(got) != len(want) {
		t.Fatalf("%s %s on the restored state: %v (%d events), want %v (%d events)", actor, action, gerr, len(got), werr, len(want))
	}
	for i := range want {
		if got[i].Type != want[i].Type || !bytes.Equal(got[i].Data, want[i].Data) {
			t.Fatalf("%s %s on the restored state: event %d is %s %s, want %s %s", actor, action, i, got[i].Type, got[i].Data, want[i].Type, want[i].Data)
		}
	}
	return r
}

// A timed game's clock survives a snapshot: the turn, its deadline and
// graces, and the timeouts so far, through a grace, a timeout that does
// not lose (pig holds for the player) and moves; each command decides
// alike on the restored state.
func TestSnapshotKeepsTheClock(t *testing.T) {
	g := pig.Game()
	created, err := g.CreateAt(json.RawMessage(`{"turn_timer":{"seconds":60,"grace":15,"timeouts_to_lose":2}}`), []string{"x", "o"}, seed, t0)
	if err != nil {
		t.Fatal(err)
	}
	s := apply(t, g, engine.State{}, created)
	steps := []struct {
		actor, action string
		at            time.Time
	}{
		{engine.System, `{"type":"grace","player":"x","turn":1}`, t0.Add(50 * time.Second)},
		{engine.System, `{"type":"timeout","player":"x","turn":1}`, t0.Add(75 * time.Second)},
		{"o", `{"type":"roll"}`, t0.Add(80 * time.Second)},
		{"o", `{"type":"hold"}`, t0.Add(90 * time.Second)},
		{"x", `{"type":"roll"}`, t0.Add(100 * time.Second)},
	}
	for _, st := range steps {
		s = restoreEqual(t, g, s, st.actor, st.action, st.at)
		if turn := g.Turn(s); len(turn) == 0 || turn[0] != st.actor && st.actor != engine.System {
			t.Fatalf("%s to act, not %s", turn, st.actor)
		}
		evs, err := decideAt(g, s, st.actor, st.action, st.at)
		if err != nil {
			t.Fatalf("%s %s: %v", st.actor, st.action, err)
		}
		s = apply(t, g, s, evs)
	}
	if s.Timeouts("x") != 1 || s.Ended() {
		t.Fatalf("x timed out %d times (ended %v), want once and the game going on", s.Timeouts("x"), s.Ended())
	}
	restoreEqual(t, g, s, engine.System, `{"type":"timeout","player":"x","turn":4}`, t0.Add(200*time.Second))
}

// A snapshot restores only as the game, format and state shape it was
// written for; anything else is refused, never half read.
func TestSnapshotRefusals(t *testing.T) {
	g, _, s := timedGame(t, `{"turn_timer":{"seconds":60}}`)
	data, err := g.EncodeState(s)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(from, to string) []byte {
		if !bytes.Contains(data, []byte(from)) {
			t.Fatalf("%s not in %s", from, data)
		}
		return bytes.Replace(data, []byte(from), []byte(to), 1)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data []byte
		want error
	}{
		{"another format", edit(`"format":1`, `"format":2`), engine.ErrSnapshotStale},
		{"another shape", edit(`"shape":`+string(fields["shape"]), `"shape":"0000000000000000"`), engine.ErrSnapshotStale},
		{"an unknown field", edit(`"format":1`, `"format":1,"extra":0`), engine.ErrCorruptLog},
		{"an unknown rules field", edit(`"next":0`, `"next":0,"extra":0`), engine.ErrCorruptLog},
		{"no seq", edit(`"seq":`+string(fields["seq"]), `"seq":0`), engine.ErrCorruptLog},
		{"data after it", append(bytes.Clone(data), []byte(` {}`)...), engine.ErrCorruptLog},
		{"not JSON", []byte(`{"format":`), engine.ErrCorruptLog},
	} {
		if _, err := g.RestoreState(c.data); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := crazyeights.Game().RestoreState(data); !errors.Is(err, engine.ErrSnapshotStale) {
		t.Errorf("a tictactoe snapshot restored as crazyeights: %v", err)
	}
	if _, err := g.EncodeState(engine.State{}); err == nil {
		t.Error("a state before game_created encoded")
	}
	if _, err := tictactoe.Game().RestoreState(data); err != nil {
		t.Errorf("another build of the same game refused the snapshot: %v", err)
	}
}

// Rules whose state JSON cannot carry in full are refused a snapshot.
func TestStateThatCannotBeSnapshotted(t *testing.T) {
	for name, g := range map[string]*engine.Game{
		"unexported field": engine.Define[hidden, move](shapeRules[hidden]{}),
		"interface field":  engine.Define[anything, move](shapeRules[anything]{}),
		"field left out":   engine.Define[leftOut, move](shapeRules[leftOut]{}),
	} {
		evs, err := g.Create(nil, []string{"a", "b"}, seed)
		if err != nil {
			t.Fatal(err)
		}
		s, err := g.Apply(engine.State{}, evs...)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := g.EncodeState(s); err == nil || !strings.Contains(err.Error(), "cannot be snapshotted") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

type hidden struct {
	Board  []int `json:"board"`
	secret int
}

type anything struct {
	Board any `json:"board"`
}

type leftOut struct {
	Board []int `json:"board"`
	Cache []int `json:"-"`
}

type move struct {
	Type string `json:"type"`
}

// shapeRules is the smallest Rules with state S: nobody moves, nothing
// happens.
type shapeRules[S any] struct{}

func (shapeRules[S]) Name() string                               { return "shapes" }
func (shapeRules[S]) New(json.RawMessage, []string) (S, error)   { var s S; return s, nil }
func (shapeRules[S]) Start(s S, _ *engine.Rand) []engine.Payload { return nil }
func (shapeRules[S]) DecodeAction(data []byte) (move, error) {
	var m move
	return m, json.Unmarshal(data, &m)
}
func (shapeRules[S]) DecodeEvent(typ string, _ []byte) (engine.Payload, error) {
	return nil, errors.New("no events")
}
func (shapeRules[S]) Decide(S, string, move, *engine.Rand) ([]engine.Payload, error) {
	return nil, errors.New("no moves")
}
func (shapeRules[S]) Evolve(s S, _ engine.Payload) S { return s }
func (shapeRules[S]) Turn(S) []string                { return nil }
func (shapeRules[S]) Forced(S) (engine.Forced, bool) { return engine.Forced{}, false }
func (shapeRules[S]) Legal(S, string) []move         { return nil }
func (shapeRules[S]) Outcome(S) engine.Outcome       { return engine.Outcome{} }
