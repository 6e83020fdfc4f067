package eventstore

import (
	"sync"
	"sync/atomic"
	"time"
)

// PollWake is what a backend's subscription needs to be a Poller: the
// reader's OnReady function, and the timer that Poll sets, in place of
// Next's wait, for the subscription's next look regardless. The zero value
// is ready for use; it is safe for concurrent use.
type PollWake struct {
	ready atomic.Pointer[func()]

	mu      sync.Mutex
	tick    *time.Timer
	stopped bool
}

// OnReady sets the reader's function (Poller.OnReady).
func (w *PollWake) OnReady(f func()) { w.ready.Store(&f) }

// Ready calls the reader's function and reports true, or reports false
// when the subscription has no Poll reader (its reader waits in Next).
// The caller holds none of the subscription's locks.
func (w *PollWake) Ready() bool {
	f := w.ready.Load()
	if f != nil {
		(*f)()
	}
	return f != nil
}

// After calls f once d has passed, replacing the time set before; it
// reports false, and sets nothing, once Stop has been called.
func (w *PollWake) After(d time.Duration, f func()) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.stopped:
		return false
	case w.tick == nil:
		w.tick = time.AfterFunc(d, f)
	default:
		w.tick.Reset(d)
	}
	return true
}

// Stop stops the timer for good and calls the reader's function, so that
// a Poll reader learns of the end. The subscription's Close calls it.
func (w *PollWake) Stop() {
	w.mu.Lock()
	w.stopped = true
	if w.tick != nil {
		w.tick.Stop()
	}
	w.mu.Unlock()
	w.Ready()
}
