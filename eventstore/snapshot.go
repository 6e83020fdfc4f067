package eventstore

import (
	"context"
	"fmt"

	"github.com/google/uuid"
)

// A Snapshot is a game's state after its event Seq, encoded by the engine
// (engine.Game.EncodeState): a cache of the fold that lets a process new
// to a long game fold only the events after Seq. Hash is event Seq's, so
// that a reader can tell the snapshot belongs to the log it reads. It is
// never evidence: audits fold the log. Stores keep only each game's
// latest; Data is opaque to them.
type Snapshot struct {
	GameID uuid.UUID
	Seq    uint64
	Hash   Hash
	Data   []byte
}

// MaxSnapshotData bounds a snapshot's Data.
const MaxSnapshotData = 256 << 10

// Snapshots is the part of a Store that keeps state snapshots. Both
// backends implement it as part of Store (docs/snapshots.md).
type Snapshots interface {
	// PutSnapshot stores s as its game's snapshot, unless the store holds
	// one at s.Seq or later (then nothing changes, and it is not an error).
	// Event s.Seq must be in the game's log with hash s.Hash. Errors:
	// ErrGameNotFound (the game has no events), ErrInvalidArgument (nil
	// game, seq 0, no data or over MaxSnapshotData, s.Seq past the game's
	// head or s.Hash not its event's), ErrClosed.
	PutSnapshot(ctx context.Context, s Snapshot) error

	// Snapshot returns the game's latest snapshot; ok is false if there is
	// none. It does not look at the game's events: the caller checks Hash
	// against the log it reads. Errors: ErrInvalidArgument, ErrClosed.
	Snapshot(ctx context.Context, game uuid.UUID) (s Snapshot, ok bool, err error)
}

// ValidateSnapshot checks what PutSnapshot can check without the log.
func ValidateSnapshot(s Snapshot) error {
	if err := ValidateGame(s.GameID); err != nil {
		return err
	}
	switch {
	case s.Seq == 0:
		return fmt.Errorf("%w: snapshot at seq 0", ErrInvalidArgument)
	case len(s.Data) == 0 || len(s.Data) > MaxSnapshotData:
		return fmt.Errorf("%w: snapshot data must be 1 to %d bytes, is %d", ErrInvalidArgument, MaxSnapshotData, len(s.Data))
	}
	return nil
}

// SnapshotOf checks that event s.Seq of the log, read as events (the
// store's Read after s.Seq-1, up to one event), has s.Hash.
func SnapshotOf(s Snapshot, events []Event) error {
	switch {
	case len(events) == 0 || events[0].Seq != s.Seq:
		return fmt.Errorf("%w: snapshot at seq %d is past the game's head", ErrInvalidArgument, s.Seq)
	case events[0].Hash != s.Hash:
		return fmt.Errorf("%w: snapshot at seq %d has hash %s, the log's event %s", ErrInvalidArgument, s.Seq, s.Hash, events[0].Hash)
	}
	return nil
}
