package testkit

import (
	"sync"
	"sync/atomic"
)

// Each runs check(i) for every i in [0, n) on workers goroutines and
// returns the first error; once one check has failed, no new one starts.
// It is for tests whose checks wait on a server more than they compute:
// the checks run in any order and must not call t.Fatal.
func Each(n, workers int, check func(i int) error) error {
	var (
		next  atomic.Int64
		first error
		once  sync.Once
		stop  atomic.Bool
		wg    sync.WaitGroup
	)
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := check(i); err != nil {
					once.Do(func() { first = err })
					stop.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	return first
}
