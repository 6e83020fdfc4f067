package main

import (
	"context"
	"log/slog"
	"sync"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/projections"
	"github.com/playlog/playlog/projections/open"
)

// history is the history projection on the store's backend: its model,
// which answers queries, and its runner.
type history struct {
	projections.HistoryReader
	run func(context.Context) error
}

// openHistory opens the history model beside the log: tables in the
// PostgreSQL schema, or a key-value bucket on the NATS server. It follows
// feed, the store's or a Shared over it.
func openHistory(ctx context.Context, store eventstore.Store, feed projections.Feeder, logger *slog.Logger) (*history, error) {
	m, err := open.History(ctx, store)
	if err != nil {
		return nil, err
	}
	opts := projections.RunnerOptions{Logger: logger}
	return &history{HistoryReader: m, run: func(ctx context.Context) error { return m.Run(ctx, feed, opts) }}, nil
}

// startProjections runs each projection until stop is called; stop waits
// for them. A projection that ends early (its store closed) is logged.
func startProjections(logger *slog.Logger, runs map[string]func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for name, run := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(ctx); err != nil {
				logger.Error("projection stopped", "projection", name, "err", err)
			}
		}()
	}
	return func() { cancel(); wg.Wait() }
}
