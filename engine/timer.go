package engine

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// timerState is a timed game's clock, folded from its turn_started and
// deadline_extended events and its timeouts. Slices are never written in
// place: States share them.
type timerState struct {
	turn     uint64
	deadline time.Time
	toAct    []string
	graces   uint64   // deadline moves this turn
	timeouts []uint64 // per seat, in the game so far
}

// Turn is a timed game's running turn.
type Turn struct {
	Number   uint64    `json:"turn"`
	Players  []string  `json:"players"`
	Deadline time.Time `json:"deadline"`
	Graces   uint64    `json:"graces"` // how often its deadline has moved
}

// Turn returns the running turn of a timed game, and false for a game with
// no turn timer, one that has ended, or one no one is to act in.
func (s State) Turn() (Turn, bool) {
	if s.settings.TurnTimer == nil || s.outcome.Ended || s.timer.turn == 0 {
		return Turn{}, false
	}
	return Turn{Number: s.timer.turn, Players: slices.Clone(s.timer.toAct), Deadline: s.timer.deadline, Graces: s.timer.graces}, true
}

// Timeouts returns how many times player has timed out in the game.
func (s State) Timeouts(player string) uint64 {
	if i := slices.Index(s.players, player); i >= 0 && i < len(s.timer.timeouts) {
		return s.timer.timeouts[i]
	}
	return 0
}

// instant is t as the log records it: UTC, to the millisecond.
func instant(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// applyTimer folds a timed game's clock events, and counts timeouts.
func applyTimer(st State, p Payload) (State, error) {
	switch p := p.(type) {
	case TurnStarted:
		if p.Turn != st.timer.turn+1 {
			return st, fmt.Errorf("%w: seq %d: turn %d after turn %d", ErrCorruptLog, st.seq+1, p.Turn, st.timer.turn)
		}
		st.timer.turn, st.timer.deadline, st.timer.toAct, st.timer.graces = p.Turn, p.Deadline, p.Players, 0
	case DeadlineExtended:
		if p.Turn != st.timer.turn || !slices.Contains(st.timer.toAct, p.Player) {
			return st, fmt.Errorf("%w: seq %d: a deadline of turn %d moved in turn %d", ErrCorruptLog, st.seq+1, p.Turn, st.timer.turn)
		}
		st.timer.deadline = p.Deadline
		st.timer.graces++
	case ActionTaken:
		var a timeoutAction
		if p.Actor != System || json.Unmarshal(p.Action, &a) != nil || a.Type != ActionTimeout {
			return st, nil
		}
		if i := slices.Index(st.players, a.Player); i >= 0 {
			n := make([]uint64, len(st.players))
			copy(n, st.timer.timeouts)
			n[i]++
			st.timer.timeouts = n
		}
	}
	return st, nil
}

// timed completes a timed game's command: its time in the action record,
// and the next turn's start unless the command ended the game or moved a
// deadline.
func (g *Game) timed(s State, c Command, evs []Event) ([]Event, error) {
	t := s.settings.TurnTimer
	if c.At.IsZero() {
		return nil, fmt.Errorf("%w: a command of a timed game needs its time", ErrInvalidAction)
	}
	at := instant(c.At)
	d, err := g.Decode(evs[0])
	if err != nil {
		return nil, err
	}
	act := d.Payload.(ActionTaken)
	act.At = &at
	if evs[0], err = encode(evs[0].Actor, act); err != nil {
		return nil, err
	}
	var a typeOnly
	if json.Unmarshal(act.Action, &a) == nil && a.Type == ActionGrace {
		return evs, nil
	}
	after, err := g.Apply(s, evs...)
	if err != nil {
		return nil, err
	}
	return g.startTurn(after, evs, evs[0].Actor, at, t)
}

// startTurn appends the next turn's start to evs (after them, the game is
// after) unless the game has ended or no one is to act.
func (g *Game) startTurn(after State, evs []Event, actor string, at time.Time, t *TurnTimer) ([]Event, error) {
	if after.outcome.Ended {
		return evs, nil
	}
	toAct := g.Turn(after)
	if f, ok := g.Forced(after); ok {
		toAct = []string{f.Player}
	}
	if len(toAct) == 0 {
		return evs, nil
	}
	ev, err := encode(actor, TurnStarted{Players: toAct, Turn: after.timer.turn + 1, Deadline: at.Add(t.Duration())})
	if err != nil {
		return nil, err
	}
	return append(evs, ev), nil
}

// timedCreate completes a timed game's creation: its time in
// game_created, and the first turn's start.
func (g *Game) timedCreate(evs []Event, at time.Time) ([]Event, error) {
	d, err := g.Decode(evs[0])
	if err != nil {
		return nil, err
	}
	created := d.Payload.(GameCreated)
	set, _, _ := splitConfig(created.Config)
	if set.TurnTimer == nil {
		return evs, nil
	}
	if at.IsZero() {
		return nil, fmt.Errorf("%w: a game with a turn timer needs its time of creation", ErrInvalidSetup)
	}
	at = instant(at)
	created.At = &at
	if evs[0], err = encode(evs[0].Actor, created); err != nil {
		return nil, err
	}
	after, err := g.Fold(evs)
	if err != nil {
		return nil, err
	}
	return g.startTurn(after, evs, System, at, set.TurnTimer)
}

// timedTimeout checks a timeout of a timed game: the turn named is the
// running one, player is to act in it, and its deadline has passed at the
// command's time. It returns whether the timeout loses the game.
func timedTimeout(s State, c Command, player string, turn uint64) (lose bool, err error) {
	t := s.settings.TurnTimer
	switch {
	case turn != s.timer.turn:
		return false, notAllowed("turn %d is not the running turn %d", turn, s.timer.turn)
	case !slices.Contains(s.timer.toAct, player):
		return false, notAllowed("%q is not to act in turn %d", player, turn)
	case c.At.IsZero():
		return false, fmt.Errorf("%w: a timeout needs its time", ErrInvalidAction)
	case instant(c.At).Before(s.timer.deadline):
		return false, notAllowed("turn %d's deadline is %s, not yet passed at %s", turn, s.timer.deadline.Format(time.RFC3339Nano), instant(c.At).Format(time.RFC3339Nano))
	}
	return s.Timeouts(player)+1 >= t.TimeoutsToLose, nil
}

// grace moves the running turn's deadline to the command's time plus the
// grace, for the player to act who came back with less than that left.
func (g *Game) grace(s State, c Command, o *Object) ([]Event, error) {
	player, err := o.String("player")
	if err != nil {
		return nil, err
	}
	turn, err := o.Int("turn", 1, 1<<62)
	if err != nil {
		return nil, err
	}
	if err := o.Done(); err != nil {
		return nil, err
	}
	t := s.settings.TurnTimer
	switch {
	case c.Actor != System:
		return nil, notAllowed("only the system grants grace")
	case t == nil || t.Grace == 0:
		return nil, notAllowed("this game has no grace")
	case uint64(turn) != s.timer.turn || !slices.Contains(s.timer.toAct, player):
		return nil, notAllowed("%q is not to act in turn %d", player, turn)
	case s.timer.graces >= t.GracesPerTurn:
		return nil, notAllowed("turn %d has had its %d grace(s)", turn, t.GracesPerTurn)
	case c.At.IsZero():
		return nil, fmt.Errorf("%w: a grace needs its time", ErrInvalidAction)
	}
	at := instant(c.At)
	grace := time.Duration(t.Grace) * time.Second
	if !at.Before(s.timer.deadline) {
		return nil, notAllowed("turn %d's deadline has passed: too late for grace", turn)
	}
	if s.timer.deadline.Sub(at) >= grace {
		return nil, notAllowed("%q has more than the %v grace left", player, grace)
	}
	canon, _ := json.Marshal(graceAction{Type: ActionGrace, Player: player, Turn: uint64(turn)})
	b := builder{actor: System}
	b.add(ActionTaken{Actor: System, Action: canon})
	b.add(DeadlineExtended{Player: player, Turn: uint64(turn), Deadline: at.Add(grace)})
	return b.result()
}

type graceAction struct {
	Type   string `json:"type"`
	Player string `json:"player"`
	Turn   uint64 `json:"turn"`
}
