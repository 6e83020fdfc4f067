package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore"
)

// Store is what the hub needs of the log.
type Store interface {
	Subscribe(ctx context.Context, game uuid.UUID, after uint64) (eventstore.Subscription, error)
	Read(ctx context.Context, game uuid.UUID, after uint64, limit int) ([]eventstore.Event, error)
}

// Game is what Watch needs to know of a game: its id, its rules, and its
// head as the caller has just seen it (a feed the watch opens starts there,
// so the caller's lookup is not made again; an older head only means more
// events delivered live).
type Game struct {
	ID    uuid.UUID
	Rules *engine.Game
	Head  uint64
	// Delay holds the game's spectators back (its settings'
	// spectator_delay); SpectatorHead is the last seq they may see now,
	// as replay.Replayer.SpectatorHead computes it. Both matter only to
	// the watch that opens the feed, which starts at SpectatorHead.
	Delay         engine.Delay
	SpectatorHead uint64
}

// Sink is one viewer's outgoing queue. Send queues a live message without
// blocking and reports false if the queue is full. Push queues a message of
// the viewer's own catch-up, and may wait a bounded time for room (it runs
// in Watch's caller, holding nothing): it returns ErrSlow if the viewer is
// too slow (the sink has dealt with that: Drop is not called for it), or
// another error if the viewer is going anyway.
// Drop is called at most once, when the hub stops delivering to the viewer
// for a reason of its own: ErrSlow, or the failure of the game's
// subscription or rendering. Send and Drop are called with the feed's lock
// held: they must not block or call the hub.
type Sink interface {
	Send(msg []byte) bool
	Push(msg []byte) error
	Drop(err error)
}

// ErrSlow is what a viewer is dropped with when its queue is full.
var ErrSlow = errors.New("hub: viewer too slow to keep up")

// Config configures a Hub.
type Config struct {
	Store Store
	// Linger is how long a game's subscription outlives its last viewer.
	// Default 2s.
	Linger time.Duration
	// MaxHeld bounds the events a feed holds back for a delayed game's
	// spectators; past it they are given up (ErrSpectatorsBehind). Default
	// 20 000.
	MaxHeld int
	// RetryFor is how long a game's subscription may keep failing to read
	// (the store not answering) before its viewers are cut, to resume
	// from their last event id. Default 15s.
	RetryFor time.Duration
	// Now stamps outgoing messages. Default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Linger == 0 {
		c.Linger = 2 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.MaxHeld == 0 {
		c.MaxHeld = 20000
	}
	if c.RetryFor == 0 {
		c.RetryFor = 15 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports the first invalid setting.
func (c *Config) Validate() error {
	switch {
	case c.Store == nil:
		return errors.New("hub: Store is required")
	case c.Linger < 0:
		return fmt.Errorf("hub: negative linger %v", c.Linger)
	case c.RetryFor < 0:
		return fmt.Errorf("hub: negative retry time %v", c.RetryFor)
	}
	return nil
}

// Hub fans games out to this node's viewers. It is safe for concurrent use.
type Hub struct {
	cfg    Config
	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // feeds not yet stopped

	mu     sync.Mutex
	closed bool
	feeds  map[uuid.UUID]*feed

	stats struct {
		viewers, slow, failed, catchUp atomic.Int64
	}
}

// New returns a Hub; Close stops it.
func New(cfg Config) (*Hub, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Hub{cfg: cfg, ctx: ctx, cancel: cancel, feeds: map[uuid.UUID]*feed{}}, nil
}

// Stats is a moment's picture of the hub.
type Stats struct {
	Feeds    int   // games with an open store subscription on this node
	Viewers  int64 // viewers attached or catching up
	Slow     int64 // viewers dropped with ErrSlow, since start
	Failed   int64 // viewers dropped because their feed failed, since start
	CaughtUp int64 // events read from the store to catch joining viewers up
}

// Stats returns the hub's counters. Safe for concurrent use.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	n := len(h.feeds)
	h.mu.Unlock()
	return Stats{Feeds: n, Viewers: h.stats.viewers.Load(), Slow: h.stats.slow.Load(),
		Failed: h.stats.failed.Load(), CaughtUp: h.stats.catchUp.Load()}
}

// Close stops every feed and waits for them. Viewers are not told: their
// owner is closing them too.
func (h *Hub) Close() error {
	h.mu.Lock()
	h.closed = true
	for _, f := range h.feeds { // lingering ones too: their timers go
		if f.linger != nil {
			f.linger.Stop()
		}
		h.stopLocked(f)
	}
	h.mu.Unlock()
	h.cancel()
	h.wg.Wait()
	return nil
}

// Watch is one viewer's attachment to a game.
type Watch struct {
	h    *Hub
	f    *feed
	v    *viewer
	once sync.Once
}

// Watch delivers game, as view may see it, to sink: every event after
// after (at most game.Head), stored ones first, then live ones.
// ready runs once the game's subscription is live and before any event is
// sent (the caller answers its client there); Watch returns once the viewer
// is attached. Errors: the store's (eventstore.ErrGameNotFound, ...), ctx's,
// ErrSlow if sink filled while catching up, eventstore.ErrClosed after
// Close. On an error nothing more is sent, and whether ready ran tells the
// caller if it has answered.
func (h *Hub) Watch(ctx context.Context, game Game, view engine.Viewer, after uint64, sink Sink, ready func()) (*Watch, error) {
	f, err := h.acquire(ctx, game)
	if err != nil {
		return nil, err
	}
	if f.behind(view) { // known now: refused before anything is answered
		h.release(f)
		return nil, ErrSpectatorsBehind
	}
	v := &viewer{view: view, sink: sink, pos: after}
	h.stats.viewers.Add(1)
	w := &Watch{h: h, f: f, v: v}
	ready()
	if err := f.catchUp(ctx, v); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// Close detaches the viewer; the game's subscription stops after Linger if
// it was the last. Safe to call more than once, from any goroutine.
func (w *Watch) Close() {
	w.once.Do(func() {
		w.f.detach(w.v)
		w.h.stats.viewers.Add(-1)
		w.h.release(w.f)
	})
}

// acquire returns the game's feed, opening its subscription if this is the
// first viewer. A new feed starts at the game's head: viewers catch up by
// themselves (Sink.Push may wait for room; the feed's Send may not).
func (h *Hub) acquire(ctx context.Context, g Game) (*feed, error) {
	game := g.ID
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, fmt.Errorf("watch %s: %w", game, eventstore.ErrClosed)
	}
	f := h.feeds[game]
	if f != nil {
		f.refs++
		if f.linger != nil {
			f.linger.Stop()
			f.linger = nil
		}
		h.mu.Unlock()
		select {
		case <-f.ready:
		case <-ctx.Done():
			h.release(f)
			return nil, ctx.Err()
		}
		if f.err != nil {
			h.release(f)
			return nil, f.err
		}
		return f, nil
	}
	fctx, cancel := context.WithCancel(h.ctx)
	start := g.Head
	if !g.Delay.IsZero() {
		// Spectators are behind: the feed reads from where they stand, and
		// holds back what they may not see yet.
		start = min(g.Head, g.SpectatorHead)
	}
	f = &feed{
		h: h, game: game, rules: g.Rules, enc: encoder{game: game, now: h.cfg.Now},
		refs: 1, ready: make(chan struct{}), cancel: cancel, delivered: start,
		delay: g.Delay, released: start,
		views: map[engine.Viewer]map[*viewer]struct{}{},
	}
	h.feeds[game] = f
	h.mu.Unlock()

	sub, err := h.cfg.Store.Subscribe(fctx, game, start)
	h.mu.Lock()
	if err == nil && h.closed { // Close ran meanwhile and waits for no feed
		sub.Close()
		err = eventstore.ErrClosed
	}
	if err != nil {
		f.err = fmt.Errorf("watch %s: %w", game, err)
		cancel()
		if h.feeds[game] == f {
			delete(h.feeds, game)
		}
		h.mu.Unlock()
		close(f.ready)
		return nil, f.err
	}
	// The feed counts in h.wg until it has stopped (a Poller's feed runs
	// goroutines only while it reads), counted under h.mu so that Close,
	// which sets closed under it, waits for every feed it did not refuse.
	h.wg.Add(1)
	h.mu.Unlock()
	if p, ok := sub.(eventstore.Poller); ok {
		f.poll(fctx, p, h.wg.Done)
	} else {
		go func() {
			defer h.wg.Done()
			f.run(fctx, sub)
		}()
	}
	close(f.ready)
	return f, nil
}

// release drops a reference; the last one stops the feed after Linger.
func (h *Hub) release(f *feed) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if f.refs--; f.refs > 0 || h.feeds[f.game] != f {
		return
	}
	if f.err != nil || h.cfg.Linger == 0 {
		h.stopLocked(f)
		return
	}
	f.linger = time.AfterFunc(h.cfg.Linger, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if f.refs == 0 && h.feeds[f.game] == f {
			h.stopLocked(f)
		}
	})
}

// stopLocked forgets f and ends its subscription. The caller holds h.mu.
func (h *Hub) stopLocked(f *feed) {
	delete(h.feeds, f.game)
	f.linger = nil
	f.cancel()
}

// forget removes a failed feed so that the next viewer opens a new one.
func (h *Hub) forget(f *feed) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.feeds[f.game] == f {
		delete(h.feeds, f.game)
	}
	f.cancel() // its context, registered under the hub's, goes too
}
