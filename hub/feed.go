package hub

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore"
)

// feed is one game on this node: its store subscription, read by one
// goroutine, and the viewers it fans out to, grouped by view.
type feed struct {
	h      *Hub
	game   uuid.UUID
	rules  *engine.Game
	enc    encoder
	cancel func() // ends the subscription

	// Guarded by Hub.mu.
	refs   int
	linger interface{ Stop() bool }

	ready chan struct{} // closed once the subscription is open, or failed
	err   error         // set before ready closes: the subscription failed

	mu        sync.Mutex
	delivered uint64 // last seq fanned out (or the start)
	failed    error  // the feed has stopped with this error
	views     map[engine.Viewer]map[*viewer]struct{}
}

// viewer is one Watch's state in its feed.
type viewer struct {
	view engine.Viewer
	sink Sink
	pos  uint64 // has every event up to pos: skip those
	gone bool   // detached
}

// catchUp sends v the stored events from v.pos up to the feed's position in
// pages, then attaches v to the feed. Events the feed delivers meanwhile
// are read too, until v has caught up with it.
func (f *feed) catchUp(ctx context.Context, v *viewer) error {
	for {
		f.mu.Lock()
		if f.failed != nil {
			f.mu.Unlock()
			return f.failed
		}
		target := f.delivered
		if v.pos >= target {
			vs := f.views[v.view]
			if vs == nil {
				vs = map[*viewer]struct{}{}
				f.views[v.view] = vs
			}
			vs[v] = struct{}{}
			f.mu.Unlock()
			return nil
		}
		f.mu.Unlock()
		events, err := f.h.cfg.Store.Read(ctx, f.game, v.pos, int(min(target-v.pos, eventstore.MaxReadLimit)))
		if err != nil {
			return fmt.Errorf("catch up %s after %d: %w", f.game, v.pos, err)
		}
		if len(events) == 0 {
			return fmt.Errorf("catch up %s after %d: %w: the log ends before %d", f.game, v.pos, eventstore.ErrGameNotFound, target)
		}
		f.h.stats.catchUp.Add(int64(len(events)))
		for _, e := range events {
			r := rendering{en: f.enc, rules: f.rules, e: e}
			msgs, err := r.forView(v.view)
			if err != nil {
				return fmt.Errorf("catch up %s: render %d: %w", f.game, e.Seq, err)
			}
			for _, b := range msgs {
				if err := v.sink.Push(b); err != nil {
					if errors.Is(err, ErrSlow) {
						f.h.stats.slow.Add(1)
					}
					return err
				}
			}
			v.pos = e.Seq
		}
	}
}

// detach removes v; it receives nothing more.
func (f *feed) detach(v *viewer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removeLocked(v)
}

func (f *feed) removeLocked(v *viewer) {
	v.gone = true
	if vs := f.views[v.view]; vs != nil {
		delete(vs, v)
		if len(vs) == 0 {
			delete(f.views, v.view)
		}
	}
}

// run fans the subscription's events out until ctx ends or it fails.
func (f *feed) run(ctx context.Context, sub eventstore.Subscription) {
	defer sub.Close()
	for {
		e, err := sub.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return // stopped: no viewers left, or the hub closed
			}
			if errors.Is(err, eventstore.ErrClosed) {
				err = fmt.Errorf("game %s: %w", f.game, err)
			}
			f.fail(err)
			return
		}
		f.fanOut(e)
	}
}

// fanOut renders e once per view that has a viewer who needs it, and
// offers the bytes to each.
func (f *feed) fanOut(e eventstore.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delivered = e.Seq
	r := rendering{en: f.enc, rules: f.rules, e: e}
	for view, vs := range f.views {
		var msgs [][]byte
		for v := range vs {
			if v.pos >= e.Seq {
				continue
			}
			if msgs == nil {
				var err error
				if msgs, err = r.forView(view); err != nil {
					f.h.cfg.Logger.Error("hub: render event", "game", f.game, "seq", e.Seq, "err", err)
					f.dropViewLocked(view, fmt.Errorf("render %s seq %d: %w", f.game, e.Seq, err))
					break
				}
			}
			for _, b := range msgs {
				if !v.sink.Send(b) {
					f.h.stats.slow.Add(1)
					f.removeLocked(v)
					v.sink.Drop(ErrSlow)
					break
				}
			}
		}
	}
}

func (f *feed) dropViewLocked(view engine.Viewer, err error) {
	for v := range f.views[view] {
		f.removeLocked(v)
		f.h.stats.failed.Add(1)
		v.sink.Drop(err)
	}
}

// fail drops every viewer and forgets the feed: its subscription failed.
// Viewers' clients resume from their last event id.
func (f *feed) fail(err error) {
	f.h.cfg.Logger.Error("hub: game subscription failed", "game", f.game, "err", err)
	f.h.forget(f)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failed = err
	for view := range f.views {
		f.dropViewLocked(view, err)
	}
}
