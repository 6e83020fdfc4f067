package projections

import (
	"context"
	"sync"

	"github.com/playlog/playlog/eventstore"
)

// RunInMemory keeps a model held in memory up to date with the feed, under
// a Runner, until ctx ends (see Runner.Run): apply folds one event into it
// with mu held, and pos, also guarded by mu, is its checkpoint, so a batch
// and its checkpoint are committed together by holding the lock across
// both. committed, if set, runs after each commit, mu still held. A new
// model (pos zero) starts from the start of the log. apply must not fail:
// it skips what it cannot use.
func RunInMemory(ctx context.Context, feed Feeder, mu sync.Locker, pos *eventstore.Position, apply func(eventstore.Event), committed func(), opts RunnerOptions) error {
	m := memory{mu: mu, pos: pos, apply: apply, committed: committed}
	r, err := NewRunner[struct{}](feed, m, m, opts)
	if err != nil {
		return err
	}
	return r.Run(ctx)
}

// memory is both the projection and the checkpointer of RunInMemory.
type memory struct {
	mu        sync.Locker
	pos       *eventstore.Position
	apply     func(eventstore.Event)
	committed func()
}

func (m memory) Apply(_ context.Context, _ struct{}, e eventstore.Event) error {
	m.apply(e)
	return nil
}

func (m memory) Checkpoint(context.Context) (eventstore.Position, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return *m.pos, nil
}

func (m memory) Commit(ctx context.Context, from, to eventstore.Position, apply func(context.Context, struct{}) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if *m.pos != from {
		return &MovedError{At: *m.pos}
	}
	if err := apply(ctx, struct{}{}); err != nil {
		return err
	}
	*m.pos = to
	if m.committed != nil {
		m.committed()
	}
	return nil
}
