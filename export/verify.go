package export

import (
	"fmt"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore"
)

// VerifyGame checks a game's contents before it is imported: events of
// g.ID only, seqs 1, 2, 3, ... with no gap, an intact hash chain from the
// zero hash (eventstore.VerifyChain), a declared head hash equal to the
// last event's hash, and seals that belong to its events: each of g.ID,
// with a seq within the game and the hash of the event at that seq, of
// kind final (then at the last event, which ends the game: nothing may
// follow a final seal) or
// checkpoint. checkSeal, if not nil, is called on every seal to check its
// signature (seal.Verifier.Verify); nil means signatures are not checked.
// Errors wrap ErrInvalid and, for a seal checkSeal refused, its error.
func VerifyGame(g Game, checkSeal func(eventstore.Seal) error) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: game %s: %s", ErrInvalid, g.ID, fmt.Sprintf(format, args...))
	}
	if len(g.Events) == 0 {
		return fail("no events")
	}
	for i := range g.Events {
		e := &g.Events[i]
		if e.GameID != g.ID {
			return fail("event %d belongs to game %s", i+1, e.GameID)
		}
		if e.Seq != uint64(i)+1 {
			return fail("event %d has seq %d: seqs go 1, 2, 3, ... with no gap", i+1, e.Seq)
		}
	}
	if err := eventstore.VerifyChain(eventstore.Hash{}, g.Events); err != nil {
		return fail("%v", err)
	}
	head := g.Events[len(g.Events)-1]
	if g.HeadHash != head.Hash {
		return fail("head_hash %s is not the hash of its last event (seq %d, %s)", g.HeadHash, head.Seq, head.Hash)
	}
	for i, s := range g.Seals {
		if s.GameID != g.ID {
			return fail("seal %d belongs to game %s", i+1, s.GameID)
		}
		if s.Seq < 1 || s.Seq > head.Seq {
			return fail("seal %d (%s) is at seq %d, the game has %d events", i+1, s.Kind, s.Seq, head.Seq)
		}
		if want := g.Events[s.Seq-1].Hash; s.Hash != want {
			return fail("seal %d (%s at seq %d) has hash %s, the event's is %s", i+1, s.Kind, s.Seq, s.Hash, want)
		}
		switch s.Kind {
		case eventstore.SealFinal:
			if s.Seq != head.Seq {
				return fail("seal %d is final at seq %d, but events follow it up to seq %d", i+1, s.Seq, head.Seq)
			}
			if head.Type != engine.TypeSeedRevealed {
				return fail("seal %d is final, but the game's log does not end it (its last event is %s, not %s)", i+1, head.Type, engine.TypeSeedRevealed)
			}
		case eventstore.SealCheckpoint:
		default:
			return fail("seal %d has the unknown kind %q", i+1, s.Kind)
		}
		if checkSeal != nil {
			if err := checkSeal(s); err != nil {
				return fmt.Errorf("%w: game %s: seal %d (%s at seq %d): %w", ErrInvalid, g.ID, i+1, s.Kind, s.Seq, err)
			}
		}
	}
	return nil
}
