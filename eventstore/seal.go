package eventstore

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// SealKind says what a seal vouches for.
type SealKind string

const (
	// SealFinal: the game has ended and Seq is its last event. Nothing may
	// follow it.
	SealFinal SealKind = "final"
	// SealCheckpoint: the game's log held at least Seq events, the last of
	// them with Hash, when it was signed. The game goes on.
	SealCheckpoint SealKind = "checkpoint"
)

// A Seal is the server's Ed25519 signature over a game's log up to Seq:
// the game id, Seq, the hash of event Seq and the kind (the signed message
// is specified in docs/eventlog.md and built by package seal). The chain
// has no key, so whoever can write the store can cut or rewrite a game and
// recompute every hash; a seal is what they cannot forge. Stores keep seals
// beside the game's events, append-only, in the order stored; they do not
// verify them (package seal does).
type Seal struct {
	GameID    uuid.UUID `json:"game_id"`
	Seq       uint64    `json:"seq"`
	Hash      Hash      `json:"hash"`
	Kind      SealKind  `json:"kind"`
	KeyID     string    `json:"key_id"`
	Signature []byte    `json:"signature"` // 64 bytes; base64 in JSON
	SealedAt  time.Time `json:"sealed_at"` // microseconds, UTC; not signed
}

// Sealed is the part of a Store that keeps seals. Both backends implement it
// as part of Store.
type Sealed interface {
	// PutSeal stores s after the game's other seals. A seal equal to one
	// already stored (same seq, kind, key id and signature) is not stored
	// again and is not an error. Errors: ErrGameNotFound (the game has no
	// events), ErrInvalidArgument (nil game, seq 0, a kind other than
	// final or checkpoint, a key id that is empty or longer than 64 bytes,
	// a signature that is not 64 bytes), ErrClosed.
	PutSeal(ctx context.Context, s Seal) error

	// Seals returns the game's seals in the order stored (none is not an
	// error). Errors: ErrGameNotFound, ErrInvalidArgument, ErrClosed.
	Seals(ctx context.Context, game uuid.UUID) ([]Seal, error)

	// SealedWithoutEvents lists, in id order, the games whose seals the
	// store holds without any of their events. Remove takes a game's
	// events, then its seals, so each is a game removed behind the store's
	// back (or archived by a Remove cut short between the two). Errors:
	// ErrClosed.
	SealedWithoutEvents(ctx context.Context) ([]uuid.UUID, error)
}

// ImportResult is what Import did.
type ImportResult struct {
	// Written is how many events Import stored; 0 when the store already
	// held the whole game.
	Written int
}

// Importer is the part of a Store that takes games copied from another
// log. Both backends implement it as part of Store.
type Importer interface {
	// Import stores a whole game's events exactly as given: seqs, recorded
	// times, message ids and hashes kept, so the chain is the same bytes
	// in any store. events must be the game's log from seq 1 with an
	// intact chain (VerifyChain), one game, each event valid as an append
	// would require; Import checks all of it before writing anything.
	// Consecutive events with the same message id and recorded time were
	// one append and are stored as one again (the idempotency index is
	// rebuilt from them).
	//
	// If the store holds a prefix of the given events, byte for byte (a
	// previous Import cut short), the rest is written; if it holds all of
	// them, nothing is written. If it holds anything else for the game,
	// the result is a *ConflictError and nothing is written.
	Import(ctx context.Context, events []Event) (ImportResult, error)

	// Remove deletes a game's events and seals from the store, for
	// archiving: only if its head is head with hash headHash (else a
	// *ConflictError and nothing removed). Afterwards the game is
	// ErrGameNotFound here. Errors: ErrGameNotFound, ErrInvalidArgument,
	// ErrClosed.
	Remove(ctx context.Context, game uuid.UUID, head uint64, headHash Hash) error
}
