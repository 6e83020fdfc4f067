package storetest

import (
	"sync"
	"testing"
	"time"
)

// Concurrently runs b.N operations spread over games goroutines, each
// owning one game: op(g, i) performs the i-th operation of game g. It reports
// throughput as ops/s, so that a raw engine and playlog's Append measured in
// one run can be compared as a ratio.
func Concurrently(b *testing.B, games int, op func(g, i int) error) {
	b.Helper()
	per := make([]int, games)
	for i := 0; i < b.N; i++ {
		per[i%games]++
	}
	var wg sync.WaitGroup
	errs := make(chan error, games)
	b.ResetTimer()
	start := time.Now()
	for g := 0; g < games; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per[g]; i++ {
				if err := op(g, i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
}

// BenchData is the event payload benchmarks append: a typical small move.
var BenchData = []byte(`{"player":"alice","action":{"type":"place","cell":4},"turn":12}`)
