// Package measure holds what the memory benchmarks share: the process's
// live heap, and a loop over many items on a bounded number of goroutines.
package measure

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// Memory is the process's live heap right after a collection (HeapAlloc),
// the goroutines' stacks, and how many goroutines there are.
func Memory() (heap, stacks int64, goroutines int) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc), int64(m.StackInuse), runtime.NumGoroutine()
}

// LiveHeap is Memory's heap alone.
func LiveHeap() int64 {
	heap, _, _ := Memory()
	return heap
}

// Parallel runs f(0..n-1) on workers goroutines and fails tb at the first
// error, once every goroutine has stopped.
func Parallel(tb testing.TB, n, workers int, f func(i int) error) {
	tb.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
}
