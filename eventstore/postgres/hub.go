package postgres

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
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

// appended wakes local subscribers of game and queues it for other processes.
func (h *hub) appended(game uuid.UUID) {
	h.wake(game)
	h.mu.Lock()
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

// runNotifier announces queued games to other processes through send until
// ctx ends. After the first append it waits linger, so that a burst of
// appends costs one NOTIFY transaction, not one each: other processes learn
// of an append up to linger late (this process's subscribers at once).
func (h *hub) runNotifier(ctx context.Context, linger time.Duration, send func(context.Context, []string) error) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.kick:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(linger):
		}
		h.mu.Lock()
		var payloads []string
		if h.overflow {
			payloads = []string{"*"}
		} else {
			payloads = pack(h.pending)
		}
		h.pending, h.overflow = map[uuid.UUID]struct{}{}, false
		h.mu.Unlock()
		if len(payloads) == 0 {
			continue
		}
		if err := send(ctx, payloads); err != nil && ctx.Err() == nil {
			// Other processes will find the events by polling.
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// maxPayload keeps a notification under PostgreSQL's 8000-byte limit.
const maxPayload = 7900

// pack joins game ids with commas into as few payloads as fit: each
// notification costs the listening backends work, so 200 ids travel as one.
func pack(games map[uuid.UUID]struct{}) []string {
	var out []string
	var b strings.Builder
	for g := range games {
		if b.Len()+37 > maxPayload {
			out = append(out, b.String())
			b.Reset()
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(g.String())
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}
