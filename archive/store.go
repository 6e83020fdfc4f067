package archive

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/export"
	"github.com/playlog/playlog/internal/lru"
)

// Store is a hot store whose archived games stay readable: what the hot
// store no longer holds, Read, Head, Subscribe and Seals find in the
// archive. Archived events carry no feed Position (the feed delivered them
// before they left). Safe for concurrent use.
type Store struct {
	eventstore.Store
	blobs Blobs
	cache *lru.Cache[uuid.UUID, *export.Game]
}

// DefaultCachedGames bounds the archived games Store keeps decoded.
const DefaultCachedGames = 256

// Wrap returns hot with blobs behind it, keeping up to cached archived
// games decoded in memory (DefaultCachedGames if 0).
func Wrap(hot eventstore.Store, blobs Blobs, cached int) *Store {
	if cached <= 0 {
		cached = DefaultCachedGames
	}
	return &Store{Store: hot, blobs: blobs, cache: lru.New[uuid.UUID, *export.Game](cached)}
}

// Unwrap is the hot store.
func (s *Store) Unwrap() eventstore.Store { return s.Store }

// Blobs is the archive.
func (s *Store) Blobs() Blobs { return s.blobs }

// archived returns the archived game, or eventstore.ErrGameNotFound.
// ErrUnreadable: the archive holds a blob under the game's id that is not
// an export of that game (truncated, corrupt, or another game's). Readers
// of the whole store (audit, export) report the game and go on.
var ErrUnreadable = errors.New("archive: the archived blob is unreadable")

func (s *Store) archived(ctx context.Context, game uuid.UUID) (*export.Game, error) {
	if g, ok := s.cache.Get(game); ok {
		return g, nil
	}
	blob, err := s.blobs.Get(ctx, game)
	if err != nil {
		return nil, err
	}
	g, err := Decode(blob)
	if err != nil {
		return nil, fmt.Errorf("archive: game %s: %w: %w", game, ErrUnreadable, err)
	}
	if g.ID != game {
		return nil, fmt.Errorf("archive: the blob named %s holds game %s: %w", game, g.ID, ErrUnreadable)
	}
	g, _ = s.cache.Add(game, g)
	return g, nil
}

// Archived reports whether the archive holds game.
func (s *Store) Archived(ctx context.Context, game uuid.UUID) (bool, error) {
	_, err := s.archived(ctx, game)
	if errors.Is(err, eventstore.ErrGameNotFound) {
		return false, nil
	}
	return err == nil, err
}

// fallback runs hot; if the hot store does not hold the game, it runs cold
// on the archived game instead.
func fallback[T any](ctx context.Context, s *Store, game uuid.UUID, hot func() (T, error), cold func(*export.Game) (T, error)) (T, error) {
	v, err := hot()
	if !errors.Is(err, eventstore.ErrGameNotFound) {
		return v, err
	}
	g, aerr := s.archived(ctx, game)
	if aerr != nil {
		if errors.Is(aerr, eventstore.ErrGameNotFound) {
			return v, err
		}
		return v, aerr
	}
	return cold(g)
}

func (s *Store) Read(ctx context.Context, game uuid.UUID, after uint64, limit int) ([]eventstore.Event, error) {
	return fallback(ctx, s, game,
		func() ([]eventstore.Event, error) { return s.Store.Read(ctx, game, after, limit) },
		func(g *export.Game) ([]eventstore.Event, error) {
			limit := eventstore.ReadLimit(limit)
			if after >= uint64(len(g.Events)) {
				return nil, nil
			}
			page := g.Events[after:min(uint64(len(g.Events)), after+uint64(limit))]
			return append([]eventstore.Event(nil), page...), nil
		})
}

func (s *Store) Head(ctx context.Context, game uuid.UUID) (uint64, error) {
	return fallback(ctx, s, game,
		func() (uint64, error) { return s.Store.Head(ctx, game) },
		func(g *export.Game) (uint64, error) { return uint64(len(g.Events)), nil })
}

func (s *Store) Seals(ctx context.Context, game uuid.UUID) ([]eventstore.Seal, error) {
	return fallback(ctx, s, game,
		func() ([]eventstore.Seal, error) {
			seals, err := s.Store.Seals(ctx, game)
			if err == nil && len(seals) == 0 {
				// Another process may have removed the game since this one
				// indexed it; a Read finds that out.
				_, err = s.Store.Read(ctx, game, 0, 1)
			}
			return seals, err
		},
		func(g *export.Game) ([]eventstore.Seal, error) {
			return append([]eventstore.Seal(nil), g.Seals...), nil
		})
}

func (s *Store) Subscribe(ctx context.Context, game uuid.UUID, after uint64) (eventstore.Subscription, error) {
	return fallback(ctx, s, game,
		func() (eventstore.Subscription, error) { return s.Store.Subscribe(ctx, game, after) },
		func(g *export.Game) (eventstore.Subscription, error) {
			var rest []eventstore.Event
			if after < uint64(len(g.Events)) {
				rest = g.Events[after:]
			}
			return newEnded(ctx, rest), nil
		})
}

// Append of an archived game's next event is a conflict (the archived
// game has ended). Starting a game (expected 0) is not checked against the
// archive: game ids are fresh random UUIDs, and the round trip would cost
// every game created; Import, which takes ids from elsewhere, checks.
func (s *Store) Append(ctx context.Context, game uuid.UUID, expected uint64, events ...eventstore.Pending) (eventstore.Appended, error) {
	res, err := s.Store.Append(ctx, game, expected, events...)
	if errors.Is(err, eventstore.ErrGameNotFound) {
		if g, aerr := s.archived(ctx, game); aerr == nil {
			return res, &eventstore.ConflictError{Game: game, Expected: expected, Actual: uint64(len(g.Events))}
		}
	}
	return res, err
}

// Import skips a game the archive holds identically and refuses one it
// holds otherwise.
func (s *Store) Import(ctx context.Context, events []eventstore.Event) (eventstore.ImportResult, error) {
	if len(events) > 0 {
		g, err := s.archived(ctx, events[0].GameID)
		switch {
		case err == nil && sameEvents(g.Events, events):
			return eventstore.ImportResult{}, nil
		case err == nil:
			return eventstore.ImportResult{}, &eventstore.ConflictError{Game: g.ID, Actual: uint64(len(g.Events))}
		case !errors.Is(err, eventstore.ErrGameNotFound):
			return eventstore.ImportResult{}, err
		}
	}
	return s.Store.Import(ctx, events)
}

func sameEvents(a, b []eventstore.Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Hash != b[i].Hash || a[i].Seq != b[i].Seq {
			return false
		}
	}
	return true
}

// archivedAt is the export time written in a game's blob: its last
// event's, so that the same game always makes the same blob (Put is then
// idempotent across retries and nodes).
func archivedAt(events []eventstore.Event) time.Time {
	if len(events) == 0 {
		return time.Time{}
	}
	return events[len(events)-1].RecordedAt
}

// Encode is a game's archive blob: the game alone in the export format,
// gzipped. The same game always gives the same bytes.
func Encode(events []eventstore.Event, seals []eventstore.Seal) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	w := export.NewWriter(zw, "playlog archive", archivedAt(events))
	if err := w.WriteGame(events, seals); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Decode reads an archive blob back: the one game in it.
func Decode(blob []byte) (*export.Game, error) {
	r, err := export.NewReader(bytes.NewReader(blob))
	if err != nil {
		return nil, err
	}
	g, err := r.Next()
	if err != nil {
		return nil, err
	}
	if _, err := r.Next(); err != io.EOF {
		return nil, fmt.Errorf("archive blob holds more than one game (%v)", err)
	}
	return &g, nil
}

// ended is the subscription of an archived game: its events, then nothing
// until it is closed.
type ended struct {
	events []eventstore.Event // only Next's
	ctx    context.Context
	once   sync.Once
	closed chan struct{}
}

func newEnded(ctx context.Context, events []eventstore.Event) *ended {
	return &ended{events: events, ctx: ctx, closed: make(chan struct{})}
}

func (e *ended) Next(ctx context.Context) (eventstore.Event, error) {
	select {
	case <-e.closed:
		return eventstore.Event{}, eventstore.ErrClosed
	case <-e.ctx.Done():
		return eventstore.Event{}, eventstore.ErrClosed
	default:
	}
	if len(e.events) > 0 {
		ev := e.events[0]
		e.events = e.events[1:]
		return ev, nil
	}
	select {
	case <-e.closed:
		return eventstore.Event{}, eventstore.ErrClosed
	case <-e.ctx.Done():
		return eventstore.Event{}, eventstore.ErrClosed
	case <-ctx.Done():
		return eventstore.Event{}, ctx.Err()
	}
}

func (e *ended) Close() error {
	e.once.Do(func() { close(e.closed) })
	return nil
}
