package gateway

import (
	"sync"
	"time"
)

// sendQueue is one connection's bounded queue of encoded messages, and the
// state of its writer. It holds memory only for what waits (an idle
// connection holds none), unlike a channel, whose buffer is allocated
// whole, and no writer goroutine runs while nothing waits: the first
// message queued, a ping due or the connection's end starts one (start),
// and it exits once the queue is empty. At most one writer runs at a
// time, so messages go out in the order queued. Safe for concurrent use:
// any number of producers, one writer at a time.
type sendQueue struct {
	max   int
	start func() // starts a writer goroutine (go c.writeLoop())

	mu      sync.Mutex
	items   [][]byte
	room    chan struct{} // capacity 1: something was taken; made once a put waits
	writing bool          // a writer runs (or has been started)
	pingDue bool          // the writer is to ping the client
	ending  bool          // the connection ends: the last writer sends the close; writing stays true
	discard bool          // ending, and what waits is not to be sent
}

// init readies a zero sendQueue (kept in its conn, not allocated apart).
func (q *sendQueue) init(max int, start func()) { q.max, q.start = max, start }

// wakeLocked marks a writer as running and reports whether one must be
// started (the caller does so once it has unlocked q.mu).
func (q *sendQueue) wakeLocked() bool {
	if q.writing {
		return false
	}
	q.writing = true
	return true
}

// tryPut queues b if there is room, without waiting. Once the connection
// ends b is dropped (nothing more reaches the client) and tryPut reports
// true: the queue is not full.
func (q *sendQueue) tryPut(b []byte) bool {
	q.mu.Lock()
	if q.ending {
		q.mu.Unlock()
		return true
	}
	if len(q.items) >= q.max {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, b)
	wake := q.wakeLocked()
	q.mu.Unlock()
	if wake {
		q.start()
	}
	return true
}

// put queues b, waiting up to timeout for room while done is open. It
// reports whether b was queued and, if not, whether the wait timed out.
func (q *sendQueue) put(b []byte, done <-chan struct{}, timeout time.Duration) (queued, timedOut bool) {
	if q.tryPut(b) {
		return true, false
	}
	q.mu.Lock()
	if q.room == nil {
		q.room = make(chan struct{}, 1)
	}
	room := q.room
	q.mu.Unlock()
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		// Try again before each wait: the writer may have taken
		// everything before room existed, and then signalled nobody.
		if q.tryPut(b) {
			return true, false
		}
		select {
		case <-room:
		case <-done:
			return false, false
		case <-t.C:
			return false, true
		}
	}
}

// ping asks the writer to ping the client, starting one if none runs.
// It does nothing once the connection ends.
func (q *sendQueue) ping() {
	q.mu.Lock()
	if q.ending {
		q.mu.Unlock()
		return
	}
	q.pingDue = true
	wake := q.wakeLocked()
	q.mu.Unlock()
	if wake {
		q.start()
	}
}

// end tells the writer the connection ends, starting one if none runs:
// it sends what the close allows, then the close frame. Messages queued
// later are dropped; with discard, so are those waiting now, and a writer
// in the middle of a batch takes no more (a slow consumer is cut at
// once). Once only (conn.kill).
func (q *sendQueue) end(discard bool) {
	q.mu.Lock()
	q.ending = true
	if discard {
		q.discard, q.items = true, nil
	}
	wake := q.wakeLocked()
	q.mu.Unlock()
	if wake {
		q.start()
	}
}

// writerStep is what the writer is to do next.
type writerStep int

const (
	stepStop  writerStep = iota // nothing waits: exit (the next message starts another writer)
	stepWrite                   // messages wait: take and write them
	stepPing                    // ping the client
	stepEnd                     // the connection ends: close it; no other writer starts
)

// next tells the writer what to do. On stepStop the writer is no longer
// running and must exit at once; a message queued later starts another.
func (q *sendQueue) next() writerStep {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.ending:
		return stepEnd
	case q.pingDue:
		q.pingDue = false
		return stepPing
	case len(q.items) > 0:
		return stepWrite
	}
	q.writing = false
	return stepStop
}

// take returns the oldest message, if any. Writer only.
func (q *sendQueue) take() ([]byte, bool) { return q.takeNext(false) }

// takeUnlessPing is take for a writer's batch (stepWrite): it reports
// none once a ping is due, so that the writer goes back to next and
// pings (and checks the idle timeout and the token) even while a busy
// queue never empties.
func (q *sendQueue) takeUnlessPing() ([]byte, bool) { return q.takeNext(true) }

func (q *sendQueue) takeNext(unlessPing bool) ([]byte, bool) {
	q.mu.Lock()
	if len(q.items) == 0 || q.discard || (unlessPing && q.pingDue && !q.ending) {
		q.mu.Unlock()
		return nil, false
	}
	b := q.items[0]
	q.items[0] = nil
	q.items = q.items[1:]
	if len(q.items) == 0 {
		q.items = nil // let a burst's backing array go
	}
	room := q.room
	q.mu.Unlock()
	if room != nil {
		signal(room)
	}
	return b, true
}

func (q *sendQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
