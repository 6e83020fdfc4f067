package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/playlog/playlog/eventstore"
)

// Projection folds events into a model through T, the unit of work of the
// backend that holds the model (a PostgreSQL transaction, a JetStream
// key-value batch, the model itself in memory).
type Projection[T any] interface {
	// Apply folds one event into the model through tx. The runner calls it
	// in feed order, each event once per commit attempt: whatever Apply
	// writes through tx is kept only if the commit succeeds. Apply must
	// not fail on an event it cannot use (skip it); an error fails the
	// batch, which is retried.
	Apply(ctx context.Context, tx T, e eventstore.Event) error
}

// Checkpointer holds a projection's model and its checkpoint, the position
// of the last event folded into the model, and commits both together.
type Checkpointer[T any] interface {
	// Checkpoint returns the saved checkpoint (the zero Position for a new
	// or reset model).
	Checkpoint(ctx context.Context) (eventstore.Position, error)

	// Commit runs apply in one unit of work and moves the checkpoint from
	// from to to in that same unit: the model's writes and the new
	// checkpoint are kept together or not at all. If the saved checkpoint
	// is not from, nothing is written and Commit returns a *MovedError
	// (ErrMoved) carrying the saved one. ErrBatchTooLarge: the unit of
	// work cannot hold what apply wrote; retry with fewer events.
	Commit(ctx context.Context, from, to eventstore.Position, apply func(ctx context.Context, tx T) error) error
}

// Feeder is the part of eventstore.Store a runner reads.
type Feeder interface {
	Feed(ctx context.Context, from eventstore.Position) (eventstore.Subscription, error)
}

var (
	// ErrMoved: the saved checkpoint is not the one a commit started from
	// (another runner advanced it, or a rebuild reset it).
	ErrMoved = errors.New("projections: checkpoint moved")
	// ErrBatchTooLarge: a backend's unit of work cannot hold the batch.
	ErrBatchTooLarge = errors.New("projections: batch too large for one commit")
)

// MovedError is a Commit refused because the saved checkpoint is At. It
// matches ErrMoved under errors.Is.
type MovedError struct{ At eventstore.Position }

func (e *MovedError) Error() string {
	return fmt.Sprintf("projections: checkpoint moved to %s", e.At)
}

// Is makes errors.Is(err, ErrMoved) true.
func (e *MovedError) Is(target error) bool { return target == ErrMoved }

// RunnerOptions configures a Runner.
type RunnerOptions struct {
	// Name names the projection in logs. Required.
	Name string
	// MaxBatch bounds the events of one commit, and the queue between the
	// feed and the committer. Default 500.
	MaxBatch int
	// MinBackoff and MaxBackoff bound the wait before resuming after a
	// failure; it doubles from min to max and returns to min after a
	// commit. Defaults 100ms and 5s.
	MinBackoff, MaxBackoff time.Duration
	// CommitInterval is the least time from one commit's start to the
	// next's: events that arrive sooner wait, gathered into one batch,
	// unless MaxBatch of them are waiting. Under load a commit then
	// carries many events instead of one or two, for a model whose
	// commits cost (on JetStream every commit is an atomic batch, which
	// the server stages in a store of its own); an idle model still
	// commits an event at once. Default 0: commit whatever is waiting as
	// soon as the last commit is done. At most 1s.
	CommitInterval time.Duration
	// OnCommit, if set, is called after each commit with the new checkpoint
	// and how many events the commit folded, on Run's goroutine; also with
	// 0 events when another runner's commit moved the checkpoint past this
	// one's batch, which it then follows (a rebuild racing a live runner
	// learns so that the model has reached its end).
	OnCommit func(to eventstore.Position, events int)
	// Logger receives failures and recoveries. Default slog.Default().
	Logger *slog.Logger
}

func (o *RunnerOptions) setDefaults() {
	if o.MaxBatch == 0 {
		o.MaxBatch = 500
	}
	if o.MinBackoff == 0 {
		o.MinBackoff = 100 * time.Millisecond
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Validate reports the first invalid setting.
func (o *RunnerOptions) Validate() error {
	switch {
	case o.Name == "":
		return errors.New("projections: runner needs a Name")
	case o.MaxBatch < 1:
		return fmt.Errorf("projections: runner %s: MaxBatch %d", o.Name, o.MaxBatch)
	case o.MinBackoff <= 0 || o.MaxBackoff < o.MinBackoff:
		return fmt.Errorf("projections: runner %s: backoff %v..%v", o.Name, o.MinBackoff, o.MaxBackoff)
	case o.CommitInterval < 0 || o.CommitInterval > time.Second:
		return fmt.Errorf("projections: runner %s: commit interval %v not in 0..1s", o.Name, o.CommitInterval)
	}
	return nil
}

// Runner keeps one projection up to date with the global feed: it reads
// the feed from the saved checkpoint, commits the events in batches with
// the checkpoint, and after any failure (feed, database, connection)
// resumes from the saved checkpoint, with capped backoff, for as long as
// its context lives. Run it once at a time per Runner; any number of
// runners, in any processes, may share one model: each commit checks the
// checkpoint.
type Runner[T any] struct {
	feed Feeder
	proj Projection[T]
	cp   Checkpointer[T]
	opts RunnerOptions
}

// NewRunner returns a runner of projection p, whose model and checkpoint
// cp holds, over feed (usually the eventstore.Store); Run starts it.
func NewRunner[T any](feed Feeder, p Projection[T], cp Checkpointer[T], opts RunnerOptions) (*Runner[T], error) {
	opts.setDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if feed == nil || p == nil || cp == nil {
		return nil, fmt.Errorf("projections: runner %s needs a feed, a projection and a checkpointer", opts.Name)
	}
	return &Runner[T]{feed: feed, proj: p, cp: cp, opts: opts}, nil
}

// errRewound: the saved checkpoint is behind the runner's (a rebuild reset
// it): follow again from it, at once.
var errRewound = errors.New("projections: checkpoint moved back")

// feedClosed marks ErrClosed from opening the feed: the store is closed,
// which no retry mends.
type feedClosed struct{ err error }

func (e feedClosed) Error() string { return e.err.Error() }
func (e feedClosed) Unwrap() error { return e.err }

// Run follows the feed until ctx ends, and returns nil then: whatever it
// had committed is saved, anything after is read again by the next Run.
// It returns early only when the store is closed (an error matching
// eventstore.ErrClosed). Every other failure is logged and retried.
func (r *Runner[T]) Run(ctx context.Context) error {
	backoff := r.opts.MinBackoff
	failed := false
	for {
		progressed, err := r.follow(ctx, &failed)
		if ctx.Err() != nil {
			return nil
		}
		var closed feedClosed
		switch {
		case errors.As(err, &closed):
			return fmt.Errorf("projection %s: %w", r.opts.Name, closed.err)
		case errors.Is(err, errRewound):
			r.opts.Logger.Info("projection checkpoint moved back (rebuilt?); following from it", "projection", r.opts.Name)
			continue
		}
		if progressed {
			backoff = r.opts.MinBackoff
		}
		failed = true
		r.opts.Logger.Warn("projection stopped; resuming from its checkpoint", "projection", r.opts.Name, "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, r.opts.MaxBackoff)
	}
}

// follow reads the feed from the saved checkpoint and commits until
// something fails. progressed reports a commit.
func (r *Runner[T]) follow(ctx context.Context, failed *bool) (progressed bool, err error) {
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	from, err := r.cp.Checkpoint(ctx)
	if err != nil {
		// A model in the store's own database fails once the store is
		// closed: say so, rather than retry for ever.
		if probe, perr := r.feed.Feed(fctx, eventstore.Position{}); errors.Is(perr, eventstore.ErrClosed) && ctx.Err() == nil {
			return false, feedClosed{perr}
		} else if perr == nil {
			probe.Close()
		}
		return false, fmt.Errorf("load checkpoint: %w", err)
	}
	feed, err := r.feed.Feed(fctx, from)
	if err != nil {
		if errors.Is(err, eventstore.ErrClosed) && ctx.Err() == nil {
			return false, feedClosed{err}
		}
		return false, fmt.Errorf("open feed at %s: %w", from, err)
	}
	// One reader goroutine keeps the bounded queue full while a batch
	// commits; follow stops it before returning.
	events := make(chan eventstore.Event, r.opts.MaxBatch)
	var readErr error // set before events is closed
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(events)
		for {
			e, err := feed.Next(fctx)
			if err != nil {
				readErr = err
				return
			}
			select {
			case events <- e:
			case <-fctx.Done():
				readErr = fctx.Err()
				return
			}
		}
	}()
	defer func() { cancel(); feed.Close(); wg.Wait() }()

	batch := make([]eventstore.Event, 0, r.opts.MaxBatch)
	var last time.Time // the last commit's start
	for {
		batch, open := gather(fctx, events, batch[:0], r.opts.MaxBatch)
		if open && len(batch) < r.opts.MaxBatch {
			if wait := time.Until(last.Add(r.opts.CommitInterval)); wait > 0 {
				batch, open = gatherFor(fctx, events, batch, r.opts.MaxBatch, wait)
			}
		}
		if len(batch) > 0 {
			last = time.Now()
			to, n, err := r.commit(ctx, from, batch)
			if err != nil {
				return progressed, err
			}
			if n > 0 {
				progressed = true
				if *failed {
					r.opts.Logger.Info("projection resumed", "projection", r.opts.Name, "at", to)
					*failed = false
				}
			}
			if to != from && r.opts.OnCommit != nil {
				r.opts.OnCommit(to, n)
			}
			from = to
		}
		if !open {
			if ctx.Err() != nil {
				return progressed, ctx.Err()
			}
			return progressed, fmt.Errorf("feed: %w", readErr)
		}
	}
}

// gather blocks for one event, then takes what else is queued, up to max.
// open is false once the reader has stopped and its queue is drained.
func gather(ctx context.Context, events <-chan eventstore.Event, batch []eventstore.Event, max int) (_ []eventstore.Event, open bool) {
	select {
	case e, ok := <-events:
		if !ok {
			return batch, false
		}
		batch = append(batch, e)
	case <-ctx.Done():
		return batch, false
	}
	return gatherUntil(ctx, events, batch, max, nil)
}

// gatherFor adds what arrives within wait to batch, up to max.
func gatherFor(ctx context.Context, events <-chan eventstore.Event, batch []eventstore.Event, max int, wait time.Duration) (_ []eventstore.Event, open bool) {
	t := time.NewTimer(wait)
	defer t.Stop()
	return gatherUntil(ctx, events, batch, max, t.C)
}

// gatherUntil adds events to batch, up to max, until until fires; a nil
// until takes only what is queued already.
func gatherUntil(ctx context.Context, events <-chan eventstore.Event, batch []eventstore.Event, max int, until <-chan time.Time) (_ []eventstore.Event, open bool) {
	for len(batch) < max {
		if until == nil {
			select {
			case e, ok := <-events:
				if !ok {
					return batch, false
				}
				batch = append(batch, e)
				continue
			default:
				return batch, true
			}
		}
		select {
		case e, ok := <-events:
			if !ok {
				return batch, false
			}
			batch = append(batch, e)
		case <-until:
			return batch, true
		case <-ctx.Done():
			return batch, false
		}
	}
	return batch, true
}

// commit folds batch into the model after from and returns the new
// checkpoint and how many events it folded. Events at or before the saved
// checkpoint are already in the model and are dropped: another runner of
// the same model may be ahead.
func (r *Runner[T]) commit(ctx context.Context, from eventstore.Position, batch []eventstore.Event) (eventstore.Position, int, error) {
	folded := 0
	for {
		batch = after(from, batch)
		if len(batch) == 0 {
			return from, folded, nil
		}
		n := len(batch)
		for {
			part := batch[:n]
			to := part[n-1].Position
			err := r.cp.Commit(ctx, from, to, func(ctx context.Context, tx T) error {
				for _, e := range part {
					if err := r.proj.Apply(ctx, tx, e); err != nil {
						return fmt.Errorf("apply %s seq %d: %w", e.GameID, e.Seq, err)
					}
				}
				return nil
			})
			var moved *MovedError
			switch {
			case err == nil:
				from, folded, batch = to, folded+n, batch[n:]
			case errors.Is(err, ErrBatchTooLarge) && n > 1:
				n /= 2
				continue
			case errors.As(err, &moved):
				if moved.At == from {
					return from, folded, fmt.Errorf("commit to %s: %w", to, err)
				}
				if moved.At.Less(from) {
					return from, folded, errRewound
				}
				from = moved.At
			default:
				return from, folded, fmt.Errorf("commit to %s: %w", to, err)
			}
			break
		}
	}
}

// after returns the events of batch positioned after p (a suffix: the feed
// is in position order).
func after(p eventstore.Position, batch []eventstore.Event) []eventstore.Event {
	for i, e := range batch {
		if p.Less(e.Position) {
			return batch[i:]
		}
	}
	return nil
}
