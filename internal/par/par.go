// Package par runs a loop's iterations on a few goroutines: for work
// that waits on a server more than it computes (a load tool's setup, a
// test's checks of many games).
package par

import (
	"context"
	"sync"
	"sync/atomic"
)

// Each runs f(i) for i in [0, n) on workers goroutines, in any order,
// until every i has run, f has returned an error or ctx is done. It
// returns how many iterations were started and the first error; once
// one has failed or ctx is done, no new one starts.
func Each(ctx context.Context, n, workers int, f func(i int) error) (started int, err error) {
	var (
		next  atomic.Int64
		first error
		once  sync.Once
		stop  atomic.Bool
		wg    sync.WaitGroup
	)
	for range min(workers, n) {
		wg.Go(func() {
			for !stop.Load() && ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { first = err })
					stop.Store(true)
				}
			}
		})
	}
	wg.Wait()
	return min(int(next.Load()), n), first
}
