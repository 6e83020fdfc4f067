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
type gameIndex struct {
	mu       sync.Mutex // held across a refresh or an append of this game
	head     uint64
	headHash eventstore.Hash
	ids      map[string][2]uint64 // message id -> first, last seq
}

func newGameIndex() *gameIndex { return &gameIndex{ids: map[string][2]uint64{}} }

// refresh reads the index columns of the game's events after g.head. The
// caller holds g.mu.
func (s *Store) refresh(ctx context.Context, game uuid.UUID, g *gameIndex) error {
	rows, err := s.pool.Query(ctx,
		`SELECT seq, hash, message_id, command_size FROM events
		  WHERE game_id = $1 AND seq > $2 ORDER BY seq`, game, int64(g.head))
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
	return rows.Err()
}
