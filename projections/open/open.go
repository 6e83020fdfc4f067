// Package open opens the read models of package projections on the
// backend of a given store: the one place that knows which model lives
// beside which log (tables in the PostgreSQL schema, a key-value bucket on
// the NATS server), for cmd/playlogd and the test nodes.
package open

import (
	"context"
	"fmt"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/eventstore/postgres"
	"github.com/playlog/playlog/projections"
	"github.com/playlog/playlog/projections/jsproj"
	"github.com/playlog/playlog/projections/pgproj"
)

// History opens the history model beside store's log and returns it, for
// queries, and its runner's Run, which keeps it up to date until its
// context ends.
func History(ctx context.Context, store eventstore.Store, opts projections.RunnerOptions) (projections.HistoryReader, func(context.Context) error, error) {
	switch s := store.(type) {
	case *postgres.Store:
		h := pgproj.NewHistory(s.Pool())
		r, err := h.Runner(s, opts)
		if err != nil {
			return nil, nil, err
		}
		return h, r.Run, nil
	case *jetstream.Store:
		h, err := jsproj.OpenHistory(ctx, s.Conn(), jsproj.Config{})
		if err != nil {
			return nil, nil, err
		}
		r, err := h.Runner(s, opts)
		if err != nil {
			return nil, nil, err
		}
		return h, r.Run, nil
	}
	return nil, nil, fmt.Errorf("no history model for a %T", store)
}
