package engine_test

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/engine/enginetest"
	"github.com/playlog/playlog/engine/games/crazyeights"
	"github.com/playlog/playlog/engine/games/tictactoe"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// timedGame creates a tic-tac-toe game of x and o with config at t0.
func timedGame(t *testing.T, config string) (*engine.Game, []engine.Event, engine.State) {
	t.Helper()
	g := tictactoe.Game()
	evs, err := g.CreateAt(json.RawMessage(config), []string{"x", "o"}, seed, t0)
	if err != nil {
		t.Fatal(err)
	}
	return g, evs, enginetest.Given(t, g, evs...)
}

func decideAt(g *engine.Game, s engine.State, actor, action string, at time.Time) ([]engine.Event, error) {
	return g.Decide(s, engine.Command{Actor: actor, Action: json.RawMessage(action), At: at}, seed)
}

func apply(t *testing.T, g *engine.Game, s engine.State, evs []engine.Event) engine.State {
	t.Helper()
	s, err := g.Apply(s, evs...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A timed game records its deadlines: the first from its creation, each
// next one from the command that starts the turn, and the command's time
// in its action record.
func TestDeadlinesAreEvents(t *testing.T) {
	g, evs, s := timedGame(t, `{"turn_timer":{"seconds":60}}`)
	last := evs[len(evs)-1]
	if last.Type != engine.TypeTurnStarted || last.Actor != engine.System {
		t.Fatalf("creation ends with %s by %s", last.Type, last.Actor)
	}
	turn, ok := s.Turn()
	if !ok || turn.Number != 1 || !turn.Deadline.Equal(t0.Add(time.Minute)) || turn.Players[0] != "x" {
		t.Fatalf("first turn %+v %v", turn, ok)
	}
	at := t0.Add(10*time.Second + 1234567)
	move, err := decideAt(g, s, "x", `{"type":"place","cell":4}`, at)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(move[0].Data), `"at":"2026-12-01T10:00:10.001Z"`) {
		t.Fatalf("the action record does not carry the command's time: %s", move[0].Data)
	}
	s = apply(t, g, s, move)
	turn, _ = s.Turn()
	if turn.Number != 2 || turn.Players[0] != "o" || !turn.Deadline.Equal(t0.Add(70*time.Second+time.Millisecond)) {
		t.Fatalf("second turn %+v", turn)
	}
	if _, err := g.Create(json.RawMessage(`{"turn_timer":{"seconds":60}}`), []string{"x", "o"}, seed); err == nil {
		t.Fatal("a timed game created without a time")
	}
	if _, err := decideAt(g, s, "o", `{"type":"place","cell":0}`, time.Time{}); !errors.Is(err, engine.ErrInvalidAction) {
		t.Fatalf("a command of a timed game without a time: %v", err)
	}
	if _, ok := enginetest.Given(t, g, enginetest.Created("tictactoe", "{}", "x", "o")).Turn(); ok {
		t.Fatal("an untimed game has a turn deadline")
	}
}

// A timeout is refused before its deadline, for a turn that is no longer
// running (the move landed first), or for a player not to act; at the
// deadline tic-tac-toe, which has no automatic action, loses the game.
func TestTimeoutAtItsDeadline(t *testing.T) {
	g, _, s := timedGame(t, `{"turn_timer":{"seconds":60,"timeouts_to_lose":2}}`)
	deadline := t0.Add(time.Minute)
	for _, tc := range []struct {
		action string
		at     time.Time
	}{
		{`{"type":"timeout","player":"x","turn":1}`, deadline.Add(-time.Millisecond)},
		{`{"type":"timeout","player":"x","turn":2}`, deadline},
		{`{"type":"timeout","player":"o","turn":1}`, deadline},
		{`{"type":"timeout","player":"x"}`, deadline},
	} {
		if evs, err := decideAt(g, s, engine.System, tc.action, tc.at); err == nil || evs != nil {
			t.Errorf("%s at %v: accepted", tc.action, tc.at.Sub(deadline))
		}
	}
	// A move that lands first wins: its turn is over, so the timeout is stale.
	moved := apply(t, g, s, must(decideAt(g, s, "x", `{"type":"place","cell":4}`, deadline.Add(-time.Second))))
	if _, err := decideAt(g, moved, engine.System, `{"type":"timeout","player":"x","turn":1}`, deadline); !errors.Is(err, engine.ErrActionNotAllowed) {
		t.Fatalf("a timeout of a turn already played: %v", err)
	}
	evs, err := decideAt(g, s, engine.System, `{"type":"timeout","player":"x","turn":1}`, deadline)
	if err != nil {
		t.Fatal(err)
	}
	end := apply(t, g, s, evs)
	if out := end.Outcome(); !out.Ended || out.Reason != engine.ReasonTimeout || out.Winners[0] != "o" {
		t.Fatalf("outcome %+v", out)
	}
	if end.Timeouts("x") != 1 {
		t.Fatalf("x's timeouts: %d", end.Timeouts("x"))
	}
	if err := g.Verify(append(enginetestLog(t, g), evs...)); err != nil {
		t.Fatalf("verify: %v", err)
	}
}

// enginetestLog is the creation of timedGame's game with the same config
// as TestTimeoutAtItsDeadline.
func enginetestLog(t *testing.T, g *engine.Game) []engine.Event {
	evs, err := g.CreateAt(json.RawMessage(`{"turn_timer":{"seconds":60,"timeouts_to_lose":2}}`), []string{"x", "o"}, seed, t0)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func must(evs []engine.Event, err error) []engine.Event {
	if err != nil {
		panic(err)
	}
	return evs
}

// The audit re-decides each timeout with its recorded time: a timeout
// whose record says it came before the deadline is refused.
func TestVerifyRefusesAnEarlyTimeout(t *testing.T) {
	g, created, s := timedGame(t, `{"turn_timer":{"seconds":60,"timeouts_to_lose":1}}`)
	evs := must(decideAt(g, s, engine.System, `{"type":"timeout","player":"x","turn":1}`, t0.Add(time.Minute)))
	log := append(append([]engine.Event{}, created...), evs...)
	if err := g.Verify(log); err != nil {
		t.Fatalf("the honest log: %v", err)
	}
	forged := append([]engine.Event{}, log...)
	forged[len(created)].Data = json.RawMessage(strings.Replace(string(forged[len(created)].Data), "10:01:00Z", "10:00:59Z", 1))
	if err := g.Verify(forged); !errors.Is(err, engine.ErrEventMismatch) {
		t.Fatalf("a timeout recorded a second early: %v", err)
	}
}

// Grace moves the deadline of a player who comes back with less than the
// grace left, once a turn; with more left, or twice, it is refused.
func TestGraceOnReconnect(t *testing.T) {
	g, _, s := timedGame(t, `{"turn_timer":{"seconds":60,"grace":15}}`)
	grace := `{"type":"grace","player":"x","turn":1}`
	if _, err := decideAt(g, s, engine.System, grace, t0.Add(40*time.Second)); !errors.Is(err, engine.ErrActionNotAllowed) {
		t.Fatalf("grace with 20 s left: %v", err)
	}
	evs, err := decideAt(g, s, engine.System, grace, t0.Add(50*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if evs[len(evs)-1].Type != engine.TypeDeadlineExtended {
		t.Fatalf("grace ends with %s", evs[len(evs)-1].Type)
	}
	s = apply(t, g, s, evs)
	turn, _ := s.Turn()
	if turn.Number != 1 || !turn.Deadline.Equal(t0.Add(65*time.Second)) || turn.Graces != 1 {
		t.Fatalf("after grace: %+v", turn)
	}
	if _, err := decideAt(g, s, engine.System, grace, t0.Add(64*time.Second)); !errors.Is(err, engine.ErrActionNotAllowed) {
		t.Fatalf("a second grace in one turn: %v", err)
	}
	if _, err := decideAt(g, s, "x", grace, t0.Add(64*time.Second)); !errors.Is(err, engine.ErrActionNotAllowed) {
		t.Fatalf("a player granting itself grace: %v", err)
	}
}

// Timer settings: defaults filled in, bad ones refused.
func TestTimerSettings(t *testing.T) {
	_, _, s := timedGame(t, `{"turn_timer":{"seconds":180}}`)
	tt := s.Settings().TurnTimer
	if tt == nil || tt.Seconds != 180 || len(tt.Warnings) != 1 || tt.Warnings[0] != 30 || tt.Grace != 15 || tt.GracesPerTurn != 1 || tt.TimeoutsToLose != 3 {
		t.Fatalf("defaults: %+v", tt)
	}
	g := tictactoe.Game()
	for _, bad := range []string{
		`{"turn_timer":{}}`, `{"turn_timer":{"seconds":4}}`, `{"turn_timer":{"seconds":60,"warnings":[60]}}`,
		`{"turn_timer":{"seconds":60,"warnings":[10,10]}}`, `{"turn_timer":{"seconds":60,"grace":301}}`,
		`{"turn_timer":{"seconds":60,"timeouts_to_lose":0}}`, `{"turn_timer":{"seconds":60,"x":1}}`,
	} {
		if _, err := g.CreateAt(json.RawMessage(bad), []string{"x", "o"}, seed, t0); !errors.Is(err, engine.ErrInvalidSetup) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// Timing out again and again in crazy eights: each timeout short of the
// limit is the automatic move and play goes on; the player whose timeouts
// reach timeouts_to_lose loses, with reason timeout; the log verifies.
func TestAutoMoveThenLossAfterN(t *testing.T) {
	g := crazyeights.Game()
	created, err := g.CreateAt(json.RawMessage(`{"turn_timer":{"seconds":30,"timeouts_to_lose":3}}`), []string{"ann", "ben"}, seed, t0)
	if err != nil {
		t.Fatal(err)
	}
	log := append([]engine.Event(nil), created...)
	s := apply(t, g, engine.State{}, created)
	for i := 0; !s.Outcome().Ended; i++ {
		if i == 20 {
			t.Fatal("no loss after 20 timeouts")
		}
		turn, ok := s.Turn()
		if !ok {
			t.Fatal("no running turn")
		}
		before := s.Timeouts(turn.Players[0])
		action := `{"type":"timeout","player":"` + turn.Players[0] + `","turn":` + strconv.FormatUint(turn.Number, 10) + `}`
		evs, err := decideAt(g, s, engine.System, action, turn.Deadline)
		if err != nil {
			t.Fatal(err)
		}
		s, log = apply(t, g, s, evs), append(log, evs...)
		if s.Outcome().Ended {
			if before+1 != 3 || s.Outcome().Reason != engine.ReasonTimeout || s.Outcome().Winners[0] == turn.Players[0] {
				t.Fatalf("%s lost after %d timeouts: %+v", turn.Players[0], before+1, s.Outcome())
			}
			break
		}
		if s.Timeouts(turn.Players[0]) != before+1 || evs[len(evs)-1].Type != engine.TypeTurnStarted {
			t.Fatalf("timeout %d: %s has %d timeouts; last event %s", i, turn.Players[0], s.Timeouts(turn.Players[0]), evs[len(evs)-1].Type)
		}
	}
	if err := g.Verify(log); err != nil {
		t.Fatalf("verify: %v", err)
	}
}

// Timeouts and graces decode canonically (a duplicate's check compares
// them), and a grace comes too late once the deadline has passed.
func TestSystemActionsDecodeAndLateGrace(t *testing.T) {
	g, _, s := timedGame(t, `{"turn_timer":{"seconds":60,"grace":15}}`)
	for in, want := range map[string]string{
		`{"turn":1, "player":"x", "type":"timeout"}`: `{"type":"timeout","player":"x","turn":1}`,
		`{"type":"timeout","player":"x"}`:            `{"type":"timeout","player":"x"}`,
		`{"player":"x","type":"grace","turn":2}`:     `{"type":"grace","player":"x","turn":2}`,
	} {
		got, err := g.DecodeAction(json.RawMessage(in))
		if err != nil || string(got) != want {
			t.Errorf("%s: %s %v, want %s", in, got, err, want)
		}
	}
	if _, err := g.DecodeAction(json.RawMessage(`{"type":"grace","player":"x"}`)); !errors.Is(err, engine.ErrInvalidAction) {
		t.Errorf("a grace without its turn: %v", err)
	}
	if _, err := decideAt(g, s, engine.System, `{"type":"grace","player":"x","turn":1}`, t0.Add(time.Minute)); !errors.Is(err, engine.ErrActionNotAllowed) {
		t.Fatalf("a grace at the deadline: %v", err)
	}
}
