package projections

import (
	"context"
	"sort"
	"sync"

	"github.com/playlog/playlog/eventstore"
)

// SharedRing is how many of the latest events a Shared holds: a runner
// that starts or falls this far behind the shared feed reads a feed of its
// own until it is within it again.
const SharedRing = 4096

// Shared is a Feeder that serves the runners of one process (the
// directory, the timers, the history) from one store feed instead of one
// each: on JetStream each feed is an ordered consumer, which the server
// delivers every message to and the client decodes, so three cost three
// times one.
//
// The shared feed (the pump) is opened by the first Feed and reads into a
// ring of the latest SharedRing events. A Feed whose position the ring
// covers (none of the events after it has left the ring) reads the ring; any
// other reads a feed of its own, and after each event it reads there checks
// whether the ring now covers it, and if so closes its own and reads the
// ring from there on: the classic catch-up subscription, with the store's
// feed as the catch-up. A reader that falls behind the ring goes back to a
// feed of its own, so the pump never waits for anyone. The pump stops when
// its last reader closes, and fails its readers when its feed fails (each
// runner resumes from its checkpoint, as after any failure).
//
// Every reader gets every event after its position once, in feed order,
// as from a feed of its own. Events are shared between readers: their Data
// is read-only (eventstore.Event).
type Shared struct {
	feed Feeder
	size int

	mu   sync.Mutex // leaf: nothing is called with it held that takes another
	pump *pump      // the one new readers join; nil: none
}

// NewShared returns a Shared over feed (usually the eventstore.Store).
func NewShared(feed Feeder) *Shared { return newShared(feed, SharedRing) }

func newShared(feed Feeder, size int) *Shared { return &Shared{feed: feed, size: size} }

// pump reads the shared feed into its ring. Its fields are guarded by the
// Shared's mu, but sub, cancel and done, set before it starts.
type pump struct {
	sub    eventstore.Subscription
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns

	ring       []eventstore.Event  // ring[i%size] for i in [start, end)
	start, end int64               // absolute indexes of the events held
	floor      eventstore.Position // the position before ring[start]: the pump's start until the ring wraps
	err        error               // the feed failed: nothing after end
	grown      chan struct{}       // closed (and replaced) when end grows or err is set
	readers    int
}

// covers reports whether the ring holds every event after at.
func (p *pump) covers(at eventstore.Position) bool {
	if p.err != nil || at.Less(p.floor) {
		return false
	}
	top := p.floor
	if p.end > p.start {
		top = p.ring[(p.end-1)%int64(len(p.ring))].Position
	}
	return !top.Less(at)
}

// after returns the index of the first event held after at.
func (p *pump) after(at eventstore.Position) int64 {
	n := int64(len(p.ring))
	return p.start + int64(sort.Search(int(p.end-p.start), func(i int) bool {
		return at.Less(p.ring[(p.start+int64(i))%n].Position)
	}))
}

// Feed implements Feeder. The subscription ends when ctx does.
func (s *Shared) Feed(ctx context.Context, from eventstore.Position) (eventstore.Subscription, error) {
	sub := &sharedSub{s: s, ctx: ctx, at: from, closed: make(chan struct{})}
	s.mu.Lock()
	if p := s.pump; p != nil && p.covers(from) {
		sub.join(p)
		s.mu.Unlock()
	} else {
		joined := p == nil
		s.mu.Unlock()
		if joined {
			joined = s.start(sub, from) // or another Feed started one first
		}
		if !joined {
			own, err := s.feed.Feed(ctx, from)
			if err != nil {
				return nil, err
			}
			sub.own = own
		}
	}
	stop := context.AfterFunc(ctx, func() { sub.Close() })
	s.mu.Lock()
	sub.stop = stop
	s.mu.Unlock()
	return sub, nil
}

// start opens the shared feed at from, for sub to read first, unless
// another pump started meanwhile or sub was closed (false). A failure to
// open it is not sub's: it reads a feed of its own, whose Feed reports it.
func (s *Shared) start(sub *sharedSub, from eventstore.Position) bool {
	ctx, cancel := context.WithCancel(context.Background())
	inner, err := s.feed.Feed(ctx, from)
	if err != nil {
		cancel()
		return false
	}
	s.mu.Lock()
	if s.pump != nil || sub.isDone {
		s.mu.Unlock()
		cancel()
		inner.Close()
		return false
	}
	p := &pump{sub: inner, cancel: cancel, done: make(chan struct{}), floor: from, grown: make(chan struct{})}
	s.pump = p
	sub.join(p)
	s.mu.Unlock()
	go s.run(p)
	return true
}

// run reads the shared feed into p's ring until it fails or is closed.
func (s *Shared) run(p *pump) {
	defer close(p.done)
	for {
		e, err := p.sub.Next(context.Background())
		s.mu.Lock()
		if err != nil {
			p.err = err
			if s.pump == p {
				s.pump = nil // new readers start another
			}
		} else {
			if p.end-p.start == int64(s.size) {
				p.floor = p.ring[p.start%int64(s.size)].Position
				p.start++
			}
			if len(p.ring) < s.size {
				p.ring = append(p.ring, e)
			} else {
				p.ring[p.end%int64(s.size)] = e
			}
			p.end++
		}
		close(p.grown)
		p.grown = make(chan struct{})
		s.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// stop closes p's feed and waits for run to return. Not with s.mu held.
func (p *pump) stop() {
	p.cancel()
	p.sub.Close()
	<-p.done
}

// sharedSub is one runner's subscription: it reads the pump's ring (p set)
// or a feed of its own (own set).
type sharedSub struct {
	s      *Shared
	ctx    context.Context // the Feed's: a feed of its own is opened with it
	closed chan struct{}   // closed by Close

	// Guarded by s.mu.
	stop   func() bool         // unregisters the context hook
	at     eventstore.Position // the last event delivered (or the start)
	p      *pump
	next   int64 // index in p's ring of the next event to look at
	own    eventstore.Subscription
	isDone bool
}

// join makes sub read p's ring after sub.at. The caller holds s.mu.
func (sub *sharedSub) join(p *pump) {
	sub.p, sub.next = p, p.after(sub.at)
	p.readers++
}

// leave stops sub reading its pump, and returns the pump if sub was its
// last reader: the caller stops it once it has let go of s.mu.
func (sub *sharedSub) leave() *pump {
	p := sub.p
	sub.p = nil
	if p == nil {
		return nil
	}
	if p.readers--; p.readers > 0 {
		return nil
	}
	if sub.s.pump == p {
		sub.s.pump = nil
	}
	return p
}

// Next implements eventstore.Subscription.
func (sub *sharedSub) Next(ctx context.Context) (eventstore.Event, error) {
	s := sub.s
	for {
		s.mu.Lock()
		if sub.isDone {
			s.mu.Unlock()
			return eventstore.Event{}, eventstore.ErrClosed
		}
		if p := sub.p; p != nil {
			switch {
			case sub.next < p.start: // fell behind the ring: read a feed of its own
				last := sub.leave()
				s.mu.Unlock()
				if last != nil {
					last.stop()
				}
				continue
			case sub.next < p.end:
				e := p.ring[sub.next%int64(s.size)]
				sub.next++
				if !sub.at.Less(e.Position) {
					s.mu.Unlock()
					continue
				}
				sub.at = e.Position
				s.mu.Unlock()
				return e, nil
			case p.err != nil:
				err := p.err
				last := sub.leave()
				s.mu.Unlock()
				if last != nil {
					last.stop()
				}
				return eventstore.Event{}, err
			}
			grown := p.grown
			s.mu.Unlock()
			select {
			case <-grown:
			case <-sub.closed:
			case <-ctx.Done():
				return eventstore.Event{}, ctx.Err()
			}
			continue
		}
		own, at := sub.own, sub.at
		s.mu.Unlock()
		if own == nil {
			var err error
			if own, err = s.feed.Feed(sub.ctx, at); err != nil {
				return eventstore.Event{}, err
			}
			s.mu.Lock()
			if sub.isDone {
				s.mu.Unlock()
				own.Close()
				return eventstore.Event{}, eventstore.ErrClosed
			}
			sub.own = own
			s.mu.Unlock()
		}
		e, err := own.Next(ctx)
		if err != nil {
			s.mu.Lock()
			if sub.isDone {
				err = eventstore.ErrClosed
			}
			s.mu.Unlock()
			return eventstore.Event{}, err
		}
		s.mu.Lock()
		sub.at = e.Position
		var drop eventstore.Subscription
		if p := s.pump; p != nil && p.covers(e.Position) {
			sub.join(p)
			drop, sub.own = own, nil
		}
		start := s.pump == nil
		s.mu.Unlock()
		if drop != nil {
			drop.Close()
		}
		if start {
			s.takeOver(sub, own, e.Position)
		}
		return e, nil
	}
}

// takeOver makes own, sub's feed of its own, the shared feed when there is
// none (the last one failed or stopped), so that the runners meet again.
func (s *Shared) takeOver(sub *sharedSub, own eventstore.Subscription, at eventstore.Position) {
	// A feed of its own ends with sub's context; the pump's must not. So the
	// pump reads a new feed from at, and sub reads the pump.
	if !s.start(sub, at) {
		return
	}
	s.mu.Lock()
	sub.own = nil
	s.mu.Unlock()
	own.Close()
}

// Close implements eventstore.Subscription.
func (sub *sharedSub) Close() error {
	s := sub.s
	s.mu.Lock()
	if sub.isDone {
		s.mu.Unlock()
		return nil
	}
	sub.isDone = true
	close(sub.closed)
	own, stop := sub.own, sub.stop
	sub.own = nil
	last := sub.leave()
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
	if own != nil {
		own.Close()
	}
	if last != nil {
		last.stop()
	}
	return nil
}
