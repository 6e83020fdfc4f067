package eventstore

import (
	"context"

	"github.com/google/uuid"
)

// Store is the durable, per-game, append-only event log. Implementations are
// safe for concurrent use by many goroutines and many processes sharing one
// database.
type Store interface {
	// Append stores events after the game's event expected (0 for a new
	// game), atomically. Errors: *ConflictError (ErrConflict) if the head is
	// not expected; ErrGameNotFound if expected > 0 and the game has no
	// events; validation errors (see ValidateAppend); ErrClosed. A message id
	// the game already holds returns the stored events with Duplicate set.
	Append(ctx context.Context, game uuid.UUID, expected uint64, events ...Pending) (Appended, error)

	// Read returns up to limit events with seq > after, in order (limit <= 0
	// means MaxReadLimit). An empty slice means the reader is at the head.
	// Errors: ErrGameNotFound, ErrInvalidArgument, ErrClosed.
	Read(ctx context.Context, game uuid.UUID, after uint64, limit int) ([]Event, error)

	// Head returns the seq of the game's last event. Errors: ErrGameNotFound,
	// ErrInvalidArgument, ErrClosed.
	Head(ctx context.Context, game uuid.UUID) (uint64, error)

	// Subscribe delivers the game's events with seq > after: those already
	// stored, then new ones as they are appended. Errors: ErrGameNotFound,
	// ErrInvalidArgument, ErrClosed. The subscription ends when ctx is done
	// or it is closed.
	Subscribe(ctx context.Context, game uuid.UUID, after uint64) (Subscription, error)

	// Feed delivers every event of every game with a position after from,
	// exactly once, in an order consistent with each game's seq.
	Feed(ctx context.Context, from Position) (Subscription, error)

	// Ping reports whether the store answers: one cheap round trip to the
	// database itself (not merely a check of the connection), bounded by
	// ctx. It returns nil if the store can serve requests, ErrClosed after
	// Close, or the backend's error. Meant for readiness probes.
	Ping(ctx context.Context) error

	// Close releases the store. Subscriptions end with ErrClosed.
	Close() error

	Sealed
	Snapshots
	Importer
}

// Subscription is a stream of events. Next is not safe for concurrent use;
// Close may be called from any goroutine, more than once.
type Subscription interface {
	// Next blocks until the next event. It returns ctx.Err() when ctx is done
	// (the subscription stays usable), and ErrClosed once the subscription,
	// its store or the context given to Subscribe/Feed has ended. Any other
	// error is a read that failed (the store not answering): a later Next
	// reads on from where it stopped.
	Next(ctx context.Context) (Event, error)
	Close() error
}

// A Poller is a Subscription that tells its reader when to read, so that
// the reader holds no goroutine while nothing happens: a node's hub holds
// thousands of quiet games. Subscribe's subscriptions may implement it;
// use Next or Poll on one subscription, not both.
type Poller interface {
	Subscription
	// Poll is Next without the wait for new events: ok is false when Next
	// would wait. It may still read the store (a refill, the tail), and
	// its errors are Next's.
	Poll(ctx context.Context) (e Event, ok bool, err error)
	// OnReady sets f, called after anything that may give Poll something
	// new to return: a delivery, a reason to read the tail, the end. Set
	// it once, before the first Poll. f is called from the subscription's
	// own goroutines, holding none of its locks; it must not block.
	OnReady(f func())
}

// Unwrap returns the store s wraps (a store that adds to another, such as
// package archive's, has an Unwrap method), down to the backend's own, for
// code that needs the backend (its connection, its pool).
func Unwrap(s Store) Store {
	for {
		w, ok := s.(interface{ Unwrap() Store })
		if !ok {
			return s
		}
		s = w.Unwrap()
	}
}
