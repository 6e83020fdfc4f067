package postgres

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
)

// hub wakes this process's subscriptions when a game may have new events:
// on this process's own appends at once, on other processes' through
// LISTEN. Wake-ups are hints; subscriptions poll regardless.
type hub struct {
	mu     sync.Mutex
	closed bool
	games  map[uuid.UUID]map[*pollSub]struct{}
	feeds  map[*pollSub]struct{}

	// Games appended here, to announce to other processes. Bounded: past
	// maxPending the notifier announces "*" (look at everything).
	pending  map[uuid.UUID]struct{}
	overflow bool
	kick     chan struct{}

	// Bus messages to send (Bus.Publish), in order.
	bus      []busMsg
	busBytes int
}

const maxPending = 1024

func newHub() *hub {
	return &hub{
		games: map[uuid.UUID]map[*pollSub]struct{}{}, feeds: map[*pollSub]struct{}{},
		pending: map[uuid.UUID]struct{}{}, kick: make(chan struct{}, 1),
	}
}

func (h *hub) add(sub *pollSub) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	if sub.game == uuid.Nil {
		h.feeds[sub] = struct{}{}
	} else {
		if h.games[sub.game] == nil {
			h.games[sub.game] = map[*pollSub]struct{}{}
		}
		h.games[sub.game][sub] = struct{}{}
	}
	return true
}

func (h *hub) remove(sub *pollSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if sub.game == uuid.Nil {
		delete(h.feeds, sub)
		return
	}
	delete(h.games[sub.game], sub)
	if len(h.games[sub.game]) == 0 {
		delete(h.games, sub.game)
	}
}

// appended hands the events this process just committed to game's local
// subscriptions (nil: it does not know them, as after an import; they
// read the log), wakes the feeds, and queues the game for other processes.
// The events' Data is copied once (the appender's caller keeps its own)
// and shared by the subscriptions, and they are pushed outside h.mu.
// Concurrent appends to one game may push in either order (index() can
// hand each its own gameIndex): a subscription that finds a gap reads the
// log.
func (h *hub) appended(game uuid.UUID, events []eventstore.Event) {
	h.mu.Lock()
	subs := make([]*pollSub, 0, len(h.games[game]))
	for sub := range h.games[game] {
		subs = append(subs, sub)
	}
	for sub := range h.feeds {
		sub.signal()
	}
	if len(h.pending) < maxPending {
		h.pending[game] = struct{}{}
	} else {
		h.overflow = true
	}
	h.mu.Unlock()
	select {
	case h.kick <- struct{}{}:
	default:
	}
	if len(subs) == 0 {
		return
	}
	var shared []eventstore.Event
	if events != nil {
		shared = make([]eventstore.Event, len(events))
		copy(shared, events)
		for i := range shared {
			shared[i].Data = append([]byte(nil), shared[i].Data...)
		}
	}
	for _, sub := range subs {
		sub.push(shared)
	}
}

// removed drops what game's subscriptions were handed and not yet taken
// (seqs Remove just deleted) and makes them read the log, and wakes the
// feeds (a transaction ended: the horizon may move).
func (h *hub) removed(game uuid.UUID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.games[game] {
		sub.push(nil)
	}
	for sub := range h.feeds {
		sub.signal()
	}
}

// wake signals the game's subscriptions and every feed; uuid.Nil wakes all.
func (h *hub) wake(game uuid.UUID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if game == uuid.Nil {
		for _, subs := range h.games {
			for sub := range subs {
				sub.signal()
			}
		}
	} else {
		for sub := range h.games[game] {
			sub.signal()
		}
	}
	for sub := range h.feeds {
		sub.signal()
	}
}

func (h *hub) wakeFeed() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.feeds {
		sub.signal()
	}
}

// gameSubs counts the open game subscriptions.
func (h *hub) gameSubs() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, subs := range h.games {
		n += len(subs)
	}
	return n
}

// close ends every subscription.
func (h *hub) close() {
	h.mu.Lock()
	h.closed = true
	var all []*pollSub
	for _, subs := range h.games {
		for sub := range subs {
			all = append(all, sub)
		}
	}
	for sub := range h.feeds {
		all = append(all, sub)
	}
	h.mu.Unlock()
	for _, sub := range all {
		sub.Close()
	}
}

// runNotifier announces queued games to other processes, and sends the
// bus messages queued, through send until ctx ends. After the first append
// or message it waits linger, so that a burst costs one NOTIFY
// transaction, not one each: other processes learn of an append up to
// linger late (this process's subscribers at once). Each payload of games
// starts with origin, "*" included ("@id,*"): this process's listener
// skips its game subscriptions for it (they were handed the events) but
// wakes its feeds once more (see Store.listenOnce). A failed send is
// logged at Warn, at most every notifyWarnEvery.
func (h *hub) runNotifier(ctx context.Context, linger time.Duration, origin, events string, log *slog.Logger,
	send func(ctx context.Context, channels, payloads []string) error) {
	var (
		lastWarn time.Time
		failed   int // sends failed since the last warning
	)
	for {
		// At the end (Close) what was gathered is still sent, once: the
		// appends were acknowledged, and other processes would otherwise
		// learn of them only at their TailCheck.
		stopping := false
		select {
		case <-ctx.Done():
			stopping = true
		case <-h.kick:
		}
		if !stopping {
			select {
			case <-ctx.Done():
				stopping = true
			case <-time.After(linger):
			}
		}
		sendCtx := ctx
		if stopping {
			var cancel context.CancelFunc
			sendCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), finalNotifyTimeout)
			defer cancel()
		}
		h.mu.Lock()
		var payloads []string
		if h.overflow {
			payloads = []string{origin + ",*"}
		} else {
			payloads = pack(origin, h.pending)
		}
		games := len(payloads)
		channels := make([]string, len(payloads), len(payloads)+len(h.bus))
		for i := range channels {
			channels[i] = events
		}
		for _, m := range h.bus {
			channels, payloads = append(channels, m.channel), append(payloads, m.payload)
		}
		h.pending, h.overflow, h.bus, h.busBytes = map[uuid.UUID]struct{}{}, false, nil, 0
		h.mu.Unlock()
		if len(payloads) == 0 {
			if stopping {
				return
			}
			continue
		}
		err := send(sendCtx, channels, payloads)
		if stopping {
			if err != nil {
				log.Warn("postgres: the last notifications not sent at close; other processes will poll", "err", err)
			}
			return
		}
		if err != nil && ctx.Err() == nil {
			// Other processes will find the events by polling; the bus
			// messages are lost.
			failed++
			if time.Since(lastWarn) >= notifyWarnEvery {
				log.Warn("postgres: notifications not sent; other processes will poll, bus messages are lost",
					"err", err, "failed_sends", failed, "game_payloads", games, "bus_messages", len(payloads)-games)
				lastWarn, failed = time.Now(), 0
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// finalNotifyTimeout bounds the last send, at Close.
const finalNotifyTimeout = 2 * time.Second

// notifyWarnEvery is the least time between two warnings of failed sends.
const notifyWarnEvery = 10 * time.Second

// busMsg is a bus message waiting for the notifier.
type busMsg struct{ channel, payload string }

// maxBusBytes bounds the bus messages waiting for the notifier.
const maxBusBytes = 1 << 20

// publish queues a bus message for the notifier, in place of an equal one
// still waiting: PostgreSQL would deliver only one of two equal
// notifications of a transaction, and the later is the one that counts.
// It reports false if the queue is full.
func (h *hub) publish(channel, payload string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	// The equal message goes first: what it frees counts for the bound.
	for i, m := range h.bus {
		if m.channel == channel && m.payload == payload {
			h.bus = append(h.bus[:i], h.bus[i+1:]...)
			h.busBytes -= len(payload)
			break
		}
	}
	if h.busBytes+len(payload) > maxBusBytes {
		return false
	}
	h.bus = append(h.bus, busMsg{channel, payload})
	h.busBytes += len(payload)
	select {
	case h.kick <- struct{}{}:
	default:
	}
	return true
}

// maxPayload keeps a notification under PostgreSQL's 8000-byte limit.
const maxPayload = 7900

// pack joins origin and game ids with commas into as few payloads as fit:
// each notification costs the listening backends work, so 200 ids travel
// as one.
func pack(origin string, games map[uuid.UUID]struct{}) []string {
	var out []string
	var b strings.Builder
	for g := range games {
		if b.Len()+37 > maxPayload {
			out = append(out, b.String())
			b.Reset()
		}
		if b.Len() == 0 {
			b.WriteString(origin)
		}
		b.WriteByte(',')
		b.WriteString(g.String())
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}
