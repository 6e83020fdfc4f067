package gateway

import (
	"sync"
	"time"
)

// sendQueue is one connection's bounded queue of encoded messages. It holds
// memory only for what waits (an idle connection holds none), unlike a
// channel, whose buffer is allocated whole. Safe for concurrent use: any
// number of producers, one consumer (the writer).
type sendQueue struct {
	max   int
	ready chan struct{} // capacity 1: something was queued
	room  chan struct{} // capacity 1: something was taken

	mu    sync.Mutex
	items [][]byte
}

func newSendQueue(max int) *sendQueue {
	return &sendQueue{max: max, ready: make(chan struct{}, 1), room: make(chan struct{}, 1)}
}

// tryPut queues b if there is room, without waiting.
func (q *sendQueue) tryPut(b []byte) bool {
	q.mu.Lock()
	if len(q.items) >= q.max {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, b)
	q.mu.Unlock()
	signal(q.ready)
	return true
}

// put queues b, waiting up to timeout for room while done is open. It
// reports whether b was queued and, if not, whether the wait timed out.
func (q *sendQueue) put(b []byte, done <-chan struct{}, timeout time.Duration) (queued, timedOut bool) {
	if q.tryPut(b) {
		return true, false
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case <-q.room:
			if q.tryPut(b) {
				return true, false
			}
		case <-done:
			return false, false
		case <-t.C:
			return false, true
		}
	}
}

// take returns the oldest message, if any.
func (q *sendQueue) take() ([]byte, bool) {
	q.mu.Lock()
	if len(q.items) == 0 {
		q.mu.Unlock()
		return nil, false
	}
	b := q.items[0]
	q.items[0] = nil
	q.items = q.items[1:]
	if len(q.items) == 0 {
		q.items = nil // let a burst's backing array go
	}
	q.mu.Unlock()
	signal(q.room)
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
