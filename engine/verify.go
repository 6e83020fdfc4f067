package engine

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"time"
)

// Verify audits a finished game's log: it checks the revealed seed against
// the commitment, then re-runs the game from scratch. Create is re-run with
// the recorded config and players, and every command is re-decided from its
// action event on the state before it; each must reproduce the recorded
// events exactly (same types, versions, actors and data). That proves every
// action was legal and every card and die came from the committed seed.
//
// Errors: ErrSeedNotRevealed, ErrCommitmentMismatch, ErrEventMismatch,
// ErrCorruptLog, ErrUnknownGame. Events of older schema versions are upcast
// before comparing.
func Verify(r *Registry, events []Event) error {
	if len(events) == 0 {
		return fmt.Errorf("%w: empty log", ErrCorruptLog)
	}
	g, err := r.GameOf(events[0])
	if err != nil {
		return err
	}
	return g.Verify(events)
}

// Verify audits a finished game of g; see the package function Verify.
func (g *Game) Verify(events []Event) error {
	if len(events) == 0 {
		return fmt.Errorf("%w: empty log", ErrCorruptLog)
	}
	last := events[len(events)-1]
	if last.Type != TypeSeedRevealed {
		return fmt.Errorf("%w: the log ends with %q", ErrSeedNotRevealed, last.Type)
	}
	d, err := g.Decode(last)
	if err != nil {
		return err
	}
	seed, err := hex.DecodeString(d.Payload.(SeedRevealed).Seed)
	if err != nil {
		return fmt.Errorf("%w: revealed seed is not hex", ErrCommitmentMismatch)
	}
	return g.VerifyWithSeed(events, seed)
}

// VerifyWithSeed audits a game's log, finished or not, with its seed
// given rather than revealed: an auditor that holds the server's seed
// secret can re-decide a running game up to its head. It checks the seed
// against the commitment, then re-runs Create and every command as Verify
// does; the log must end after a whole command. Errors as Verify's, but
// for ErrSeedNotRevealed.
func (g *Game) VerifyWithSeed(events []Event, seed []byte) error {
	if len(events) == 0 {
		return fmt.Errorf("%w: empty log", ErrCorruptLog)
	}
	d, err := g.Decode(events[0])
	if err != nil {
		return err
	}
	created, ok := d.Payload.(GameCreated)
	if !ok {
		return fmt.Errorf("%w: first event is %q", ErrCorruptLog, events[0].Type)
	}
	if err := checkSeed(created.Commitment, seed); err != nil {
		return err
	}

	var at time.Time
	if created.At != nil {
		at = *created.At
	}
	want, err := g.CreateAt(created.Config, created.Players, seed, at)
	if err != nil {
		return fmt.Errorf("%w: seq 1: re-creating the game: %v", ErrEventMismatch, err)
	}
	var s State
	for i := 0; ; {
		if err := g.match(events, i, want); err != nil {
			return err
		}
		if s, err = g.Apply(s, want...); err != nil {
			return fmt.Errorf("%w: seq %d: %v", ErrEventMismatch, i+1, err)
		}
		i += len(want)
		if i == len(events) {
			return nil
		}
		d, err := g.Decode(events[i])
		if err != nil {
			return fmt.Errorf("%w: seq %d: %v", ErrEventMismatch, i+1, err)
		}
		act, ok := d.Payload.(ActionTaken)
		if !ok {
			return fmt.Errorf("%w: seq %d: %s where a command's action was expected", ErrEventMismatch, i+1, events[i].Type)
		}
		c := Command{Actor: act.Actor, Action: act.Action}
		if act.At != nil {
			c.At = *act.At
		}
		if want, err = g.Decide(s, c, seed); err != nil {
			return fmt.Errorf("%w: seq %d: the recorded action is rejected: %v", ErrEventMismatch, i+1, err)
		}
	}
}

// match compares want with the recorded events from index i.
func (g *Game) match(events []Event, i int, want []Event) error {
	if i+len(want) > len(events) {
		return fmt.Errorf("%w: seq %d: log ends before the command's %d events", ErrEventMismatch, len(events)+1, len(want))
	}
	for j, w := range want {
		got := events[i+j]
		seq := i + j + 1
		if got.Type != w.Type || got.Actor != w.Actor {
			return fmt.Errorf("%w: seq %d: recorded %s by %q, re-derived %s by %q", ErrEventMismatch, seq, got.Type, got.Actor, w.Type, w.Actor)
		}
		data, version, err := upcast(g.upcasts, got.Type, got.Version, got.Data)
		if err != nil {
			return fmt.Errorf("%w: seq %d: %v", ErrEventMismatch, seq, err)
		}
		if version != w.Version || !sameJSON(data, w.Data) {
			return fmt.Errorf("%w: seq %d: recorded %s %s, re-derived %s", ErrEventMismatch, seq, got.Type, got.Data, w.Data)
		}
	}
	return nil
}

// sameJSON compares two JSON documents byte for byte, or, failing that, as
// values (a store may re-encode JSON, for example PostgreSQL jsonb).
func sameJSON(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var va, vb any
	da := json.NewDecoder(bytes.NewReader(a))
	da.UseNumber()
	db := json.NewDecoder(bytes.NewReader(b))
	db.UseNumber()
	if da.Decode(&va) != nil || db.Decode(&vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}
