package timers_test

import (
	"context"
	"encoding/json"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/timers"
)

// BenchmarkTimers: 10 000 tic-tac-toe games with running 10 s timers on
// one node (embedded JetStream), created at 1000 a second while a timer
// service follows them, as in production; it fires every deadline (the
// timeout ends each game), so at the end 1000 timeouts a second. Reported:
// the service's memory per game, the process's CPU per timeout (its append
// included), and how late the last 4096 timeouts were sent and stored
// after their deadlines.
//
//	go test -run '^$' -bench Timers -benchtime 1x ./timers
func BenchmarkTimers(b *testing.B) {
	const n = 10000
	s, err := jetstream.Open(context.Background(), jetstream.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	p, err := play.New(play.Config{Store: s, Registry: games.Standard(), SeedSecret: secret})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	svc, err := timers.New(timers.Config{Store: s, Workers: 16, Fire: func(ctx context.Context, game uuid.UUID, action json.RawMessage, id string) error {
		_, err := p.System(ctx, game, action, id)
		return err
	}})
	if err != nil {
		b.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(rctx) }()

	config := json.RawMessage(`{"turn_timer":{"seconds":10,"warnings":[2],"timeouts_to_lose":1}}`)
	cpu0 := cpuTime()
	b.ResetTimer()
	tick := time.NewTicker(time.Millisecond)
	var wg sync.WaitGroup
	for range n {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := p.Create(ctx, "tictactoe", []string{"x", "o"}, config, "x"); err != nil {
				b.Error(err)
			}
		}()
	}
	tick.Stop()
	wg.Wait()
	for svc.Pending() < n-int(svc.Stats().Fired) {
		time.Sleep(time.Millisecond)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	for st := svc.Stats(); st.Fired+st.Stale < n; st = svc.Stats() {
		time.Sleep(10 * time.Millisecond)
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	cancel()
	<-done
	st := svc.Stats()
	pct := func(xs []time.Duration, q int) float64 {
		xs = slices.Clone(xs)
		slices.Sort(xs)
		return float64(xs[min(len(xs)-1, len(xs)*q/100)].Microseconds()) / 1000
	}
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/n/1024, "KB/game")
	b.ReportMetric(float64(cpu.Microseconds())/n, "cpu-µs/game")
	b.ReportMetric(pct(st.Late, 50), "sent-p50-ms")
	b.ReportMetric(pct(st.Late, 99), "sent-p99-ms")
	b.ReportMetric(pct(st.Stored, 50), "stored-p50-ms")
	b.ReportMetric(pct(st.Stored, 99), "stored-p99-ms")
	b.ReportMetric(float64(st.Fired), "fired")
	b.ReportMetric(0, "ns/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
