package pgproj

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/playlog/playlog/eventstore"
)

// FeedEnd returns the position of the last event in the log and how many
// events it holds: where a rebuild started now is caught up.
func FeedEnd(ctx context.Context, pool *pgxpool.Pool) (end eventstore.Position, events int64, err error) {
	var txid *int64
	if err := pool.QueryRow(ctx, `SELECT count(*), max(txid) FROM events`).Scan(&events, &txid); err != nil {
		return end, 0, fmt.Errorf("pgproj: end of the feed: %w", err)
	}
	if txid == nil {
		return end, 0, nil
	}
	var seq int64
	if err := pool.QueryRow(ctx, `SELECT max(seq) FROM events WHERE txid = $1`, *txid).Scan(&seq); err != nil {
		return end, 0, fmt.Errorf("pgproj: end of the feed: %w", err)
	}
	return eventstore.Position{Major: uint64(*txid), Minor: uint64(seq)}, events, nil
}
