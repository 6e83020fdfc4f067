package jetstream

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/playlog/playlog/eventstore"
)

// A game subscription holds no server-side resource: it is a core NATS
// subscription on the game's republish subject, "<prefix>.live.<game>",
// where the stream republishes each message it has stored (and only those:
// a publish the stream refuses, such as a failed expected-sequence append,
// is never republished), plus reads through batch direct get.
//
// Catch-up without a gap: the live subscription is made (and flushed, so
// the server has it) before the first read, live messages are buffered
// meanwhile, and a live message is delivered only if its first event is
// exactly the next seq. Anything else is a gap (core delivery is at most
// once; a leader change may drop republishes) or a duplicate: a duplicate
// is dropped; a gap is refilled from the stream by direct get, retried with
// backoff while the stream lags the republish (a replica answering direct
// gets), and the buffered message is looked at again. The tail is re-read
// on NATS reconnect, when the connection reports a slow consumer, and every
// Config.TailCheck regardless.
//
// The reader waits in Next, or (eventstore.Poller) calls Poll when told to
// by its OnReady function, and then holds no goroutine while it waits: the
// router's delivery, a reread asked for, a timer set by Poll and Close all
// call it.
type liveSub struct {
	store *Store
	game  uuid.UUID
	nsub  *nats.Subscription

	// Reader's state; Next is not safe for concurrent use.
	afterSeq uint64 // last seq delivered (or skipped: at or before after)
	lastSS   uint64 // stream sequence of the last message read
	buf      []eventstore.Event
	backoff  time.Duration // between refills of a gap the stream lags behind

	mu      sync.Mutex
	queue   []*nats.Msg // live messages not yet read; bounded by maxLiveQueue
	held    *nats.Msg   // a live message beyond a gap, kept for after the refill
	reread  bool        // the tail must be read from the stream
	closed  bool
	stopCtx func() bool // unregisters the context hook

	poll eventstore.PollWake // a Poll reader's
	wake chan struct{}       // capacity 1: a Next reader's
	done chan struct{}
}

// maxLiveQueue bounds the live messages one subscription buffers for a
// reader that is behind; past it messages are dropped and the tail is read
// from the stream instead, so memory stays bounded and nothing is lost.
const maxLiveQueue = 256

// Subscribe implements eventstore.Store.
func (s *Store) Subscribe(ctx context.Context, game uuid.UUID, after uint64) (eventstore.Subscription, error) {
	if err := s.check(game); err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", game, err)
	}
	head, start, err := s.startOf(ctx, game, after)
	if err != nil {
		return nil, s.errStore("subscribe", game, err)
	}
	if head == 0 {
		return nil, fmt.Errorf("subscribe %s: %w", game, eventstore.ErrGameNotFound)
	}
	sub := &liveSub{
		store: s, game: game, afterSeq: after, lastSS: start - 1, reread: true,
		wake: make(chan struct{}, 1), done: make(chan struct{}),
	}
	if err := s.live.add(sub); err != nil {
		return nil, s.errStore("subscribe", game, err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		sub.Close()
		return nil, fmt.Errorf("subscribe %s: %w", game, eventstore.ErrClosed)
	}
	s.subs[sub] = struct{}{}
	s.mu.Unlock()
	stop := context.AfterFunc(ctx, func() { sub.Close() })
	sub.mu.Lock()
	sub.stopCtx = stop
	sub.mu.Unlock()
	return sub, nil
}

// startOf returns the game's head (0: no such game) and the stream sequence
// to read from for the events after after: from the index if this process
// has one, else by probing (cold.go).
func (s *Store) startOf(ctx context.Context, game uuid.UUID, after uint64) (head, start uint64, err error) {
	g, ok := s.games.Get(game)
	if !ok {
		last, found, err := s.lastRef(ctx, game)
		if err != nil || !found {
			return 0, 0, err
		}
		if after >= last.last {
			return last.last, last.streamSeq + 1, nil
		}
		start, err := s.locateCold(ctx, game, after+1, last)
		return last.last, start, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := s.current(ctx, game, g); err != nil {
		return 0, 0, err
	}
	head, start = g.head, g.lastSS+1
	if i := g.locate(after + 1); i < len(g.msgs) {
		start = g.msgs[i].streamSeq
	}
	return head, start, nil
}

func (s *Store) liveSubject(game uuid.UUID) string {
	return s.cfg.SubjectPrefix + ".live." + game.String()
}

// offer queues a live message; called by the router, never blocks.
func (sub *liveSub) offer(m *nats.Msg) {
	sub.mu.Lock()
	if len(sub.queue) < maxLiveQueue {
		sub.queue = append(sub.queue, m)
	} else {
		sub.reread = true
	}
	sub.mu.Unlock()
	sub.signal()
}

// recheck asks the reader to read the tail from the stream.
func (sub *liveSub) recheck() {
	sub.mu.Lock()
	sub.reread = true
	sub.mu.Unlock()
	sub.signal()
}

// signal tells the reader there may be something to do. The caller holds
// none of sub's locks.
func (sub *liveSub) signal() {
	if sub.poll.Ready() {
		return
	}
	select {
	case sub.wake <- struct{}{}:
	default:
	}
}

// pending reports whether the tail must be read, and pops the next live
// message unless a held one waits for a refill.
func (sub *liveSub) pending() (m *nats.Msg, reread, closed bool) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.closed {
		return nil, false, true
	}
	reread, sub.reread = sub.reread, false
	if reread || sub.held != nil || len(sub.queue) == 0 {
		return nil, reread, false
	}
	m = sub.queue[0]
	sub.queue[0] = nil
	sub.queue = sub.queue[1:]
	if len(sub.queue) == 0 {
		sub.queue = nil // let the backing array go
	}
	return m, false, false
}

// Next implements eventstore.Subscription.
func (sub *liveSub) Next(ctx context.Context) (eventstore.Event, error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		ok, err := sub.fill(ctx)
		if err != nil {
			return eventstore.Event{}, err
		}
		if ok {
			return sub.pop(), nil
		}
		// Nothing to do: wait for a live message, the retry of a refill,
		// or the periodic look at the tail.
		if wait := sub.idleWait(); timer == nil {
			timer = time.NewTimer(wait)
		} else {
			timer.Reset(wait)
		}
		select {
		case <-sub.done:
			return eventstore.Event{}, eventstore.ErrClosed
		case <-ctx.Done():
			return eventstore.Event{}, ctx.Err()
		case <-sub.wake:
		case <-timer.C:
			sub.recheck()
		}
	}
}

// Poll implements eventstore.Poller: Next without the wait. When there is
// nothing to return it sets a timer, in place of Next's wait, for the retry
// of a refill or the periodic look at the tail.
func (sub *liveSub) Poll(ctx context.Context) (eventstore.Event, bool, error) {
	if err := ctx.Err(); err != nil {
		return eventstore.Event{}, false, err
	}
	ok, err := sub.fill(ctx)
	switch {
	case err != nil:
		return eventstore.Event{}, false, err
	case ok:
		return sub.pop(), true, nil
	case !sub.poll.After(sub.idleWait(), sub.recheck):
		return eventstore.Event{}, false, eventstore.ErrClosed
	}
	return eventstore.Event{}, false, nil
}

// OnReady implements eventstore.Poller.
func (sub *liveSub) OnReady(f func()) { sub.poll.OnReady(f) }

// fill works through the live messages and rereads until an event is
// buffered (true) or there is nothing to do but wait (false).
func (sub *liveSub) fill(ctx context.Context) (bool, error) {
	for len(sub.buf) == 0 {
		m, reread, closed := sub.pending()
		switch {
		case closed:
			return false, eventstore.ErrClosed
		case reread:
			if err := sub.readTail(ctx); err != nil {
				if sub.isClosed() {
					return false, eventstore.ErrClosed
				}
				sub.recheck() // a retried Next reads again
				if ctx.Err() != nil {
					return false, ctx.Err()
				}
				return false, err
			}
			if held := sub.takeHeld(); held != nil {
				m = held
			} else {
				continue
			}
		}
		if m == nil {
			return false, nil
		}
		if err := sub.live(m); err != nil {
			return false, err
		}
	}
	return true, nil
}

// pop takes the next buffered event.
func (sub *liveSub) pop() eventstore.Event {
	e := sub.buf[0]
	sub.buf = sub.buf[1:]
	return e
}

// idleWait is how long the reader may wait for a live message: until the
// retry of a refill, or the periodic look at the tail.
func (sub *liveSub) idleWait() time.Duration {
	if sub.hasHeld() {
		return sub.backoff
	}
	return sub.store.cfg.TailCheck
}

func (sub *liveSub) takeHeld() *nats.Msg {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	m := sub.held
	sub.held = nil
	return m
}

func (sub *liveSub) hasHeld() bool {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.held != nil
}

// live handles one republished message.
func (sub *liveSub) live(m *nats.Msg) error {
	ss, err := strconv.ParseUint(m.Header.Get(nats.JSSequence), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: republished message without %s", errFormat, nats.JSSequence)
	}
	if ss <= sub.lastSS {
		sub.backoff = 0
		return nil // read already, from the stream
	}
	events, err := decodeMessage(sub.game, ss, m.Data)
	if err != nil {
		return err
	}
	// The per-subject Nats-Last-Sequence names the message before this one:
	// when it is the one read last, nothing was missed. Otherwise only the
	// game's own seq can say (lastSS may be a start mark, not a message).
	if m.Header.Get(nats.JSLastSequence) != strconv.FormatUint(sub.lastSS, 10) && events[0].Seq > sub.afterSeq+1 {
		// A gap: refill from the stream at once, then with backoff while
		// the stream lags the republish; this message waits meanwhile.
		sub.mu.Lock()
		sub.held = m
		if sub.backoff == 0 {
			sub.reread = true
		}
		sub.mu.Unlock()
		sub.backoff = min(max(2*sub.backoff, 10*time.Millisecond), time.Second)
		return nil
	}
	sub.backoff = 0
	sub.accept(ss, events)
	return nil
}

// accept buffers the events of the message at stream sequence ss that come
// after afterSeq.
func (sub *liveSub) accept(ss uint64, events []eventstore.Event) {
	sub.lastSS = ss
	for _, e := range events {
		if e.Seq == sub.afterSeq+1 {
			sub.buf = append(sub.buf, e)
			sub.afterSeq = e.Seq
		}
	}
}

// readTail reads the game's messages after lastSS from the stream, one
// batch; a full batch asks for another read.
func (sub *liveSub) readTail(ctx context.Context) error {
	n := 0
	err := sub.store.directGet(ctx, sub.game, sub.lastSS+1, directBatch, func(m *nats.Msg, ss uint64) error {
		events, err := decodeMessage(sub.game, ss, m.Data)
		if err != nil {
			return err
		}
		if events[0].Seq > sub.afterSeq+1 {
			return fmt.Errorf("%w: game %s continues at %d after %d", errFormat, sub.game, events[0].Seq, sub.afterSeq)
		}
		sub.accept(ss, events)
		n++
		return nil
	})
	if err != nil {
		return sub.store.errStore("subscribe", sub.game, err)
	}
	if n == directBatch {
		sub.recheck()
	}
	return nil
}

func (sub *liveSub) isClosed() bool {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.closed
}

// Close implements eventstore.Subscription: the core subscription is gone
// from the server at once.
func (sub *liveSub) Close() error {
	sub.mu.Lock()
	if sub.closed {
		sub.mu.Unlock()
		return nil
	}
	sub.closed = true
	sub.queue, sub.held = nil, nil
	stop := sub.stopCtx
	sub.mu.Unlock()
	close(sub.done)
	if stop != nil {
		stop()
	}
	sub.poll.Stop() // a Poll reader learns of the end
	sub.store.live.remove(sub)
	sub.store.mu.Lock()
	delete(sub.store.subs, sub)
	sub.store.mu.Unlock()
	return nil
}

// liveRouter delivers every game subscription's republished messages from
// one channel, read by one goroutine: a subscription costs the server an
// interest and this process a map entry, not a goroutine or a 64k channel.
type liveRouter struct {
	nc *nats.Conn
	ch chan *nats.Msg

	mu   sync.Mutex
	subs map[*nats.Subscription]*liveSub
	wg   sync.WaitGroup
	quit chan struct{}

	// lose, set by tests before any subscription, drops the republished
	// messages it returns true for, as a lossy network would.
	lose func(*nats.Msg) bool
}

// liveChannel bounds the republished messages waiting for the router. When
// it is full nats.go drops messages and reports a slow consumer, which makes
// every subscription read its tail.
const liveChannel = 8192

func newLiveRouter(nc *nats.Conn) *liveRouter {
	r := &liveRouter{nc: nc, ch: make(chan *nats.Msg, liveChannel), subs: map[*nats.Subscription]*liveSub{}, quit: make(chan struct{})}
	r.wg.Add(1)
	go r.run()
	return r
}

func (r *liveRouter) run() {
	defer r.wg.Done()
	for {
		select {
		case <-r.quit:
			return
		case m := <-r.ch:
			if r.lose != nil && r.lose(m) {
				continue
			}
			r.mu.Lock()
			sub := r.subs[m.Sub]
			r.mu.Unlock()
			if sub != nil {
				sub.offer(m)
			}
		}
	}
}

// add subscribes sub to its game's republish subject and waits until the
// server has the interest, so that a read after add misses nothing.
func (r *liveRouter) add(sub *liveSub) error {
	r.mu.Lock()
	ns, err := r.nc.ChanSubscribe(sub.store.liveSubject(sub.game), r.ch)
	if err != nil {
		r.mu.Unlock()
		return err
	}
	sub.nsub = ns
	r.subs[ns] = sub
	r.mu.Unlock()
	// A message routed before the map had sub was stored before this flush
	// returns, so the first read finds it.
	if err := r.nc.FlushTimeout(sub.store.cfg.RequestTimeout); err != nil {
		r.remove(sub)
		return err
	}
	return nil
}

func (r *liveRouter) remove(sub *liveSub) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if sub.nsub != nil {
		delete(r.subs, sub.nsub)
		sub.nsub.Unsubscribe()
	}
}

// recheckAll makes every subscription read its tail: after a reconnect or a
// slow-consumer report, republished messages may have been lost.
func (r *liveRouter) recheckAll() {
	r.mu.Lock()
	subs := make([]*liveSub, 0, len(r.subs))
	for _, sub := range r.subs {
		subs = append(subs, sub)
	}
	r.mu.Unlock()
	for _, sub := range subs {
		sub.recheck()
	}
}

// count is the number of live game subscriptions.
func (r *liveRouter) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.subs)
}

// stop ends the router's goroutine. The connection is closed first, so
// nothing more arrives.
func (r *liveRouter) stop() {
	close(r.quit)
	r.wg.Wait()
}
