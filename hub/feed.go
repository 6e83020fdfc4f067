package hub

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

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

	// A delayed game's spectators (delay.IsZero() for most games) see
	// events up to released; held are the events after it, in order,
	// until they are due: delay.Events behind delivered (all of them
	// once the game ends), or delay.Seconds after they were recorded, on
	// timer. Guarded by mu.
	delay      engine.Delay
	released   uint64
	held       []eventstore.Event
	ended      bool
	overflowed bool // held passed maxHeld: spectators given up
	timer      *time.Timer
	stopped    bool // run has returned: no timer may be set again
}

// delayed reports whether view is held back.
func (f *feed) delayed(view engine.Viewer) bool {
	return !f.delay.IsZero() && view.Role == engine.RoleSpectator
}

// behind reports whether view is a delayed game's spectators' whom the feed
// has given up (overflowLocked): catchUp would refuse them.
func (f *feed) behind(view engine.Viewer) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.delayed(view) && f.overflowed
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
		if f.delayed(v.view) {
			if f.overflowed {
				f.mu.Unlock()
				return ErrSpectatorsBehind
			}
			target = f.released
		}
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

// run fans the subscription's events out until ctx ends or it fails,
// waiting in Next on a goroutine of its own.
func (f *feed) run(ctx context.Context, sub eventstore.Subscription) {
	defer sub.Close()
	defer f.stopTimer()
	var r retry
	for {
		e, err := sub.Next(ctx)
		if err == nil {
			r = retry{}
			f.fanOut(e)
			continue
		}
		if !f.retry(ctx, err, &r) {
			return
		}
	}
}

// retry is the state of a run of failed reads.
type retry struct {
	failing time.Time     // when the run of failed reads began
	wait    time.Duration // before the next try
}

// retry handles a failed read: it reports whether to read again, after
// waiting its turn, or to stop (ctx done, or the feed failed).
func (f *feed) retry(ctx context.Context, err error, r *retry) bool {
	switch {
	case ctx.Err() != nil:
		return false // stopped: no viewers left, or the hub closed
	case errors.Is(err, eventstore.ErrClosed):
		f.fail(fmt.Errorf("game %s: %w", f.game, err))
		return false
	case !errors.Is(err, eventstore.ErrUnavailable):
		f.fail(err) // not a store outage: waiting would not mend it
		return false
	}
	// The store did not answer (a NATS server lost, a stream electing a
	// leader, PostgreSQL restarting): reads go on where they stopped, so
	// the viewers wait instead of being cut, for a while.
	now := time.Now()
	if r.failing.IsZero() {
		r.failing = now
		f.h.cfg.Logger.Warn("hub: reading the game failed; retrying", "game", f.game, "err", err, "for", f.h.cfg.RetryFor)
	}
	if now.Sub(r.failing) >= f.h.cfg.RetryFor {
		f.fail(err)
		return false
	}
	r.wait = min(max(2*r.wait, 50*time.Millisecond), time.Second)
	t := time.NewTimer(r.wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// A poller reads a subscription that says when to read
// (eventstore.Poller): a goroutine runs only while there is something to
// read, so a quiet game holds none. kick starts one unless one runs, in
// which case it tells it to look again before it ends; the last one, once
// the subscription has ended, closes the feed down and tells the hub.
type poller struct {
	f    *feed
	ctx  context.Context
	sub  eventstore.Poller
	done func() // the hub's count of running feeds

	mu      sync.Mutex // never held while taking another lock
	running bool       // a pump goroutine runs
	again   bool       // kicked while it ran: read once more before ending
	ended   bool       // the feed has stopped: start nothing more
}

func (f *feed) poll(ctx context.Context, sub eventstore.Poller, done func()) {
	p := &poller{f: f, ctx: ctx, sub: sub, done: done}
	sub.OnReady(p.kick)
	p.kick()
}

// kick is the subscription's OnReady: it never blocks.
func (p *poller) kick() {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.ended:
	case p.running:
		p.again = true
	default:
		p.running = true
		go p.pump()
	}
}

// pump reads what the subscription has, then ends.
func (p *poller) pump() {
	var r retry
	for {
		p.mu.Lock()
		p.again = false
		p.mu.Unlock()
		for {
			e, ok, err := p.sub.Poll(p.ctx)
			if err != nil {
				if p.f.retry(p.ctx, err, &r) {
					continue
				}
				p.end()
				return
			}
			if !ok {
				break
			}
			r = retry{}
			p.f.fanOut(e)
		}
		p.mu.Lock()
		if !p.again {
			p.running = false
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
	}
}

// end stops the feed for good: its subscription and timer, then the hub's
// count.
func (p *poller) end() {
	p.mu.Lock()
	p.ended, p.running = true, false
	p.mu.Unlock()
	p.sub.Close()
	p.f.stopTimer()
	p.done()
}

// ErrSpectatorsBehind is what a delayed game's spectators are dropped or
// refused with when their feed holds more than it may for them: the game
// moves faster than its delay can hold. They may watch again once the
// game has ended, or its feed on this node has closed and reopened (no
// viewer for a while).
var ErrSpectatorsBehind = errors.New("hub: this game moves too fast for its spectator delay: its spectators are behind by more than the node holds")

// fanOut renders e once per view that has a viewer who needs it, and
// offers the bytes to each.
func (f *feed) fanOut(e eventstore.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delivered = e.Seq
	r := rendering{en: f.enc, rules: f.rules, e: e}
	for view, vs := range f.views {
		if !f.delayed(view) {
			f.sendLocked(&r, view, vs)
		}
	}
	if f.overflowed && e.Type == engine.TypeSeedRevealed {
		// The end releases every delay: nothing is left to hold back, and
		// spectators may watch the game again (from the log, catchUp).
		f.overflowed, f.ended, f.released = false, true, e.Seq
		return
	}
	if !f.delay.IsZero() && !f.overflowed {
		f.held = append(f.held, e)
		f.ended = f.ended || e.Type == engine.TypeSeedRevealed
		f.releaseLocked()
		// An events delay holds at most its N and one command's events; a
		// seconds delay, what is appended in that time, which a game played
		// by bots could make large.
		if len(f.held) > f.h.cfg.MaxHeld {
			f.overflowLocked()
		}
	}
}

// overflowLocked gives the feed's delayed spectators up: they are dropped,
// nothing more is held, and no spectator may attach to this feed again
// until the game ends (fanOut)
// (catchUp refuses them). Players are not touched.
func (f *feed) overflowLocked() {
	f.h.cfg.Logger.Warn("hub: too many events held back for a delayed game's spectators; dropping them", "game", f.game, "held", len(f.held))
	f.overflowed = true
	f.held = nil
	for view := range f.views {
		if f.delayed(view) {
			f.dropViewLocked(view, ErrSpectatorsBehind)
		}
	}
}

// sendLocked offers e (rendered by r) to the viewers of view who lack it.
func (f *feed) sendLocked(r *rendering, view engine.Viewer, vs map[*viewer]struct{}) {
	var msgs [][]byte
	for v := range vs {
		if v.pos >= r.e.Seq {
			continue
		}
		if msgs == nil {
			var err error
			if msgs, err = r.forView(view); err != nil {
				f.h.cfg.Logger.Error("hub: render event", "game", f.game, "seq", r.e.Seq, "err", err)
				f.dropViewLocked(view, fmt.Errorf("render %s seq %d: %w", f.game, r.e.Seq, err))
				return
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

// releaseLocked hands the spectators the held events that are due, and
// sets the timer for the next one of a seconds delay.
func (f *feed) releaseLocked() {
	now := f.h.cfg.Now()
	for len(f.held) > 0 {
		e := f.held[0]
		due := f.ended || (f.delay.Events > 0 && e.Seq+f.delay.Events <= f.delivered) ||
			(f.delay.Seconds > 0 && !e.RecordedAt.Add(f.delay.Duration()).After(now))
		if !due {
			break
		}
		f.held[0] = eventstore.Event{}
		f.held = f.held[1:]
		f.released = e.Seq
		r := rendering{en: f.enc, rules: f.rules, e: e}
		for view, vs := range f.views {
			if f.delayed(view) {
				f.sendLocked(&r, view, vs)
			}
		}
	}
	if f.delay.Seconds == 0 || len(f.held) == 0 || f.stopped {
		return
	}
	wait := f.held[0].RecordedAt.Add(f.delay.Duration()).Sub(now)
	if f.timer == nil {
		f.timer = time.AfterFunc(wait, f.releaseDue)
	} else {
		f.timer.Reset(wait)
	}
}

func (f *feed) releaseDue() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.stopped {
		f.releaseLocked()
	}
}

func (f *feed) stopTimer() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = true
	if f.timer != nil {
		f.timer.Stop()
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
