package seal

import (
	"fmt"

	"github.com/playlog/playlog/eventstore"
)

// Report is what Check found of a game's seals.
type Report struct {
	// Findings name what is wrong, each with the seq it is at; none means
	// the seals and the log agree.
	Findings []Finding
	// Covered is the last seq a sound seal covers (0: none): the log is
	// proved whole and unaltered up to it.
	Covered uint64
	// Final: the game's last event carries a sound final seal.
	Final bool
	// Verified: signatures were checked (a Verifier was given). Without
	// one, seals are only matched against the chain, which proves nothing
	// against someone who can write the store.
	Verified bool
}

// Finding is one thing wrong, at a seq of the game (0: the game as a whole).
type Finding struct {
	Seq  uint64 `json:"seq"`
	What string `json:"what"`
}

func (f Finding) String() string {
	if f.Seq == 0 {
		return f.What
	}
	return fmt.Sprintf("seq %d: %s", f.Seq, f.What)
}

// Check audits a game's events (its whole log, from seq 1, chain already
// checked) against its seals: each seal's signature (when v is not nil),
// that each seal's seq is in the log with the hash it signed, that nothing
// follows a final seal, and, when signatures are checked, that an ended
// game has one (without a key, seals prove nothing, so none is required:
// a log from before seals, or from a server with no key, has none).
func Check(events []eventstore.Event, seals []eventstore.Seal, v *Verifier, ended bool) Report {
	r := Report{Verified: v != nil}
	head := uint64(len(events))
	add := func(seq uint64, format string, args ...any) {
		r.Findings = append(r.Findings, Finding{Seq: seq, What: fmt.Sprintf(format, args...)})
	}
	for _, s := range seals {
		switch {
		case len(events) > 0 && s.GameID != events[0].GameID:
			add(s.Seq, "a seal of game %s is stored with this game", s.GameID)
			continue
		case v != nil:
			if err := v.Verify(s); err != nil {
				add(s.Seq, "%s seal: %v", s.Kind, err)
				continue
			}
		}
		switch {
		case s.Seq == 0 || s.Seq > head:
			add(s.Seq, "the %s seal covers seq %d but the log ends at %d: events were removed", s.Kind, s.Seq, head)
			continue
		case events[s.Seq-1].Hash != s.Hash:
			add(s.Seq, "the %s seal does not match the event stored there: the log was rewritten", s.Kind)
			continue
		}
		if s.Kind == eventstore.SealFinal {
			switch {
			case s.Seq < head:
				add(s.Seq+1, "%d events follow the final seal", head-s.Seq)
				continue
			case !ended:
				add(s.Seq, "a final seal on a game whose log does not end it")
				continue
			}
			r.Final = true
		}
		r.Covered = max(r.Covered, s.Seq)
	}
	if ended && !r.Final && v != nil {
		add(head, "the game has ended but has no sound final seal")
	}
	return r
}
