package engine

import (
	"encoding/hex"
	"fmt"
)

// builder collects the events of one command, all with the same actor.
type builder struct {
	actor  string
	events []Event
	err    error
}

func (b *builder) add(p Payload) {
	if b.err != nil {
		return
	}
	ev, err := encode(b.actor, p)
	if err != nil {
		b.err = err
		return
	}
	b.events = append(b.events, ev)
}

func (b *builder) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

// end appends game_ended and seed_revealed: a game's last two events.
func (b *builder) end(out Outcome, seed []byte) {
	winners := out.Winners
	if winners == nil {
		winners = []string{}
	}
	b.add(GameEnded{Winners: winners, Draw: out.Draw, Reason: out.Reason})
	b.add(SeedRevealed{Seed: hex.EncodeToString(seed)})
}

func (b *builder) result() ([]Event, error) {
	if b.err != nil {
		return nil, b.err
	}
	return b.events, nil
}

// applyLifecycle folds an engine event other than game_created.
func applyLifecycle(st State, p Payload) (State, error) {
	if st.seq == 0 || st.seed != nil {
		return st, fmt.Errorf("%w: seq %d: %s out of place", ErrCorruptLog, st.seq+1, p.EventType())
	}
	switch p := p.(type) {
	case ActionTaken:
		if st.outcome.Ended {
			return st, fmt.Errorf("%w: seq %d: action after the end", ErrCorruptLog, st.seq+1)
		}
		if st.settings.TurnTimer != nil {
			return applyTimer(st, p)
		}
	case TurnStarted, DeadlineExtended:
		if st.outcome.Ended || st.settings.TurnTimer == nil {
			return st, fmt.Errorf("%w: seq %d: %s out of place", ErrCorruptLog, st.seq+1, p.EventType())
		}
		return applyTimer(st, p)
	case GameEnded:
		if st.outcome.Ended {
			return st, fmt.Errorf("%w: seq %d: game ended twice", ErrCorruptLog, st.seq+1)
		}
		st.outcome = Outcome{Ended: true, Winners: p.Winners, Draw: p.Draw, Reason: p.Reason}
	case SeedRevealed:
		if !st.outcome.Ended {
			return st, fmt.Errorf("%w: seq %d: seed revealed before the end", ErrCorruptLog, st.seq+1)
		}
		seed, err := hex.DecodeString(p.Seed)
		if err != nil {
			return st, fmt.Errorf("%w: seq %d: seed is not hex", ErrCorruptLog, st.seq+1)
		}
		if err := checkSeed(st.commitment, seed); err != nil {
			return st, fmt.Errorf("%w: seq %d: %w", ErrCorruptLog, st.seq+1, err)
		}
		st.seed = seed
	}
	return st, nil
}

// rejection makes sure a rules error is one of the four rejections.
func rejection(err error) error {
	if IsRejection(err) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrActionNotAllowed, err)
}

// invalid makes sure a decoding error wraps ErrInvalidAction.
func invalid(err error) error {
	if IsRejection(err) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrInvalidAction, err)
}
