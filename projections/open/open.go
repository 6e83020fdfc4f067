// Package open opens the read models of package projections on the
// backend of a given store: the one place that knows which model lives
// beside which log (tables in the PostgreSQL schema, a key-value bucket on
// the NATS server), for cmd/playlogd, cmd/playlog and the test nodes.
package open

import (
	"context"
	"fmt"
	"time"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/eventstore/postgres"
	"github.com/playlog/playlog/projections"
	"github.com/playlog/playlog/projections/jsproj"
	"github.com/playlog/playlog/projections/pgproj"
)

// HistoryModel is the history model of one backend: its queries, and what
// running and rebuilding it need.
type HistoryModel struct {
	projections.HistoryReader
	// Reset empties the model and its checkpoint.
	Reset func(context.Context) error
	// Run keeps the model up to date with the log's feed until ctx ends:
	// feed is the store's, or a projections.Shared over it.
	Run func(context.Context, projections.Feeder, projections.RunnerOptions) error
	// End is where the log's feed ends now, and how far that is in Unit.
	End func(context.Context) (end eventstore.Position, total int64, err error)
	// Unit is what Done counts; Done is how far a runner that has folded
	// events, up to to, has come in it.
	Unit string
	Done func(to eventstore.Position, events int64) int64
}

// FeedEnd is where store's feed ends now (the position of its last event;
// the zero Position for an empty log), and how far that is: a count of
// appends (JetStream) or events (PostgreSQL), for progress bars.
func FeedEnd(ctx context.Context, store eventstore.Store) (eventstore.Position, int64, error) {
	switch s := eventstore.Unwrap(store).(type) {
	case *postgres.Store:
		return pgproj.FeedEnd(ctx, s.Pool())
	case *jetstream.Store:
		end, appends, err := jsproj.FeedEnd(ctx, s.Conn(), s.StreamName(), s.SubjectPrefix(), s)
		return end, int64(appends), err
	}
	return eventstore.Position{}, 0, fmt.Errorf("no feed end for a %T", store)
}

// EndOf is FeedEnd of store without the count, as a function: what
// timers.Config.FeedEnd takes.
func EndOf(store eventstore.Store) func(context.Context) (eventstore.Position, error) {
	return func(ctx context.Context) (eventstore.Position, error) {
		end, _, err := FeedEnd(ctx, store)
		return end, err
	}
}

// HistoryCommitInterval is the history runner's CommitInterval unless its
// options set one: a commit is a transaction or an atomic batch, and a
// user's history may lag the end of a game by this much more. On
// JetStream most of an atomic batch's cost is per batch (the server
// stages each in a store of its own, then removes it): at 200 games
// these commits were 5.5% of playlogd's CPU every 100 ms and 2% every
// second (docs/performance.md).
const HistoryCommitInterval = 500 * time.Millisecond

func historyOptions(opts projections.RunnerOptions) projections.RunnerOptions {
	if opts.CommitInterval == 0 {
		opts.CommitInterval = HistoryCommitInterval
	}
	return opts
}

// History opens the history model beside store's log.
func History(ctx context.Context, store eventstore.Store) (HistoryModel, error) {
	switch s := eventstore.Unwrap(store).(type) {
	case *postgres.Store:
		h := pgproj.NewHistory(s.Pool())
		return HistoryModel{
			HistoryReader: h, Reset: h.Reset,
			Run: func(ctx context.Context, feed projections.Feeder, opts projections.RunnerOptions) error {
				r, err := h.Runner(feed, historyOptions(opts))
				if err != nil {
					return err
				}
				return r.Run(ctx)
			},
			End:  func(ctx context.Context) (eventstore.Position, int64, error) { return FeedEnd(ctx, s) },
			Unit: "events",
			Done: func(_ eventstore.Position, events int64) int64 { return events },
		}, nil
	case *jetstream.Store:
		h, err := jsproj.OpenHistory(ctx, s.Conn(), jsproj.Config{Replicas: s.Replicas()})
		if err != nil {
			return HistoryModel{}, err
		}
		return HistoryModel{
			HistoryReader: h, Reset: h.Reset,
			Run: func(ctx context.Context, feed projections.Feeder, opts projections.RunnerOptions) error {
				r, err := h.Runner(feed, historyOptions(opts))
				if err != nil {
					return err
				}
				return r.Run(ctx)
			},
			End:  func(ctx context.Context) (eventstore.Position, int64, error) { return FeedEnd(ctx, s) },
			Unit: "appends",
			Done: func(to eventstore.Position, _ int64) int64 { return int64(to.Major) },
		}, nil
	}
	return HistoryModel{}, fmt.Errorf("no history model for a %T", store)
}
