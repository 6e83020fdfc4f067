package postgres

import (
	"context"
	"sync"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
)

// gameIndex is this process's view of one game: its head and every message
// id it holds, built from the log. It may lag the log (another process
// appended); refresh brings it up to date. Events never change, so what it
// holds is never wrong, only possibly incomplete past head.
//
// An index is cached only once the log has shown that its game exists (see
// index and remember): appends to games that do not exist never evict games
// that do. Two goroutines missing the same game at once may each build an
// index; the first remembered stays cached, the other serves only its own
// call, and the database's guard keeps both correct.
type gameIndex struct {
	mu       sync.Mutex // held across a refresh or an append of this game
	head     uint64
	headHash eventstore.Hash
	ids      map[string][2]uint64 // message id -> first, last seq
	offered  bool                 // remember has offered it to the cache
}

func newGameIndex() *gameIndex { return &gameIndex{ids: map[string][2]uint64{}} }

// index returns this process's index of game: the cached one, or on a miss
// a new, empty one that is not cached. refresh and a stored append cache it
// once the log has shown the game exists.
func (s *Store) index(game uuid.UUID) *gameIndex {
	if g, ok := s.games.Get(game); ok {
		return g
	}
	return newGameIndex()
}

// remember caches g as game's index if the log holds the game (g knows an
// event) and no other index of it is cached; it is a no-op for an index
// already offered. The caller holds g.mu.
func (s *Store) remember(game uuid.UUID, g *gameIndex) {
	if g.offered || g.head == 0 {
		return
	}
	s.games.Add(game, g)
	g.offered = true
}

// refresh reads the index columns of the game's events after g.head, and
// caches g once it knows the game exists. The caller holds g.mu.
func (s *Store) refresh(ctx context.Context, game uuid.UUID, g *gameIndex) error {
	rows, err := s.pool.Query(ctx,
		`SELECT seq, hash, message_id, command_size FROM events
		  WHERE game_id = $1 AND seq > $2 ORDER BY seq`, [16]byte(game), int64(g.head))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			seq   int64
			hash  []byte
			msgID string
			size  int16
		)
		if err := rows.Scan(&seq, &hash, &msgID, &size); err != nil {
			return err
		}
		g.head = uint64(seq)
		copy(g.headHash[:], hash)
		if size > 0 {
			g.ids[msgID] = [2]uint64{uint64(seq), uint64(seq) + uint64(size) - 1}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	s.remember(game, g)
	return nil
}

// reindex rebuilds g from the log, for a game that lost events since it was
// indexed (Remove, in this or another process, maybe followed by Import).
// The caller holds g.mu. A cached index stays cached: emptied if the game
// is gone, which is what the log then holds for it.
func (s *Store) reindex(ctx context.Context, game uuid.UUID, g *gameIndex) error {
	g.reset()
	return s.refresh(ctx, game, g)
}

// reset empties g, the index of a game whose log lost events. The caller
// holds g.mu.
func (g *gameIndex) reset() {
	g.head, g.headHash, g.ids = 0, eventstore.Hash{}, map[string][2]uint64{}
}
