package gateway

import (
	"context"
	"sync"
	"time"
)

// workers serve the connections' client messages on goroutines that
// outlive one message. Serving a message (a move's append, a join's
// catch-up, encoding) grows a goroutine's stack to tens of KB; a goroutine
// started for each message grew it anew each time, copying it at every
// doubling (4% of the CPU of a 200-game run). A worker keeps its stack
// from one message to the next, and ends after idle with nothing to do,
// so a node whose clients are quiet holds none (the reader's own stack
// stays as small as reading needs: see conn.offload).
//
// There is no queue: a message goes to a worker waiting for one, or to a
// new worker. So there are as many workers as messages being served at
// once, as there were goroutines before.
// workerIdle is how long a worker waits for the next message before it
// ends: long enough to span the gaps of a busy node, short enough that a
// burst's workers (20 000 clients joining at once) are soon let go.
const workerIdle = 2 * time.Second

type workers struct {
	tasks chan func() // unbuffered: taken only by a waiting worker
	idle  time.Duration
	ctx   context.Context // ends at Server.Close: idle workers end
	wg    *sync.WaitGroup // Server.wg: Close waits for every worker
}

func newWorkers(ctx context.Context, wg *sync.WaitGroup, idle time.Duration) *workers {
	return &workers{tasks: make(chan func()), idle: idle, ctx: ctx, wg: wg}
}

// run runs f on a worker and returns at once. The caller is counted in
// wg (a connection's reader), so the count is never zero here.
func (w *workers) run(f func()) {
	select {
	case w.tasks <- f:
	default:
		w.wg.Add(1)
		go w.work(f)
	}
}

func (w *workers) work(f func()) {
	defer w.wg.Done()
	t := time.NewTimer(w.idle)
	defer t.Stop()
	for {
		f()
		t.Reset(w.idle)
		select {
		case f = <-w.tasks:
		case <-t.C:
			return
		case <-w.ctx.Done():
			return
		}
	}
}
