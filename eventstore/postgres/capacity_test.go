package postgres_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore/postgres"
	"github.com/playlog/playlog/eventstore/storetest"
	"github.com/playlog/playlog/internal/testkit/pgtest"
)

// BenchmarkBusPublish: how many messages a second the bus that carries
// presence between nodes takes on PostgreSQL (queued, and sent by the
// store's notifier, many in one NOTIFY transaction), published from 32 goroutines of one node and received by another. Each
// node publishes one presence report per game with a connection there
// every 5 s (gateway/presence.go), so this bounds the connected games.
//
//	go test -run '^$' -bench BusPublish -benchtime 20000x ./eventstore/postgres
func BenchmarkBusPublish(b *testing.B) {
	ctx := context.Background()
	schema := pgtest.NewSchema("bus")
	open := func() *postgres.Store {
		s, err := postgres.Open(ctx, postgres.Config{URL: databaseURL, Schema: schema})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}
	sender, receiver := open(), open()
	var got atomic.Int64
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go receiver.Bus("presence").Subscribe(sctx, func([]byte) { got.Add(1) })
	time.Sleep(200 * time.Millisecond) // the subscription is in place
	node := uuid.New()
	bus := sender.Bus("presence")
	start := time.Now()
	storetest.Concurrently(b, 32, func(w, i int) error {
		// Distinct reports: an equal one still queued would be replaced.
		msg := fmt.Sprintf(`{"node":"%s","game":"%s","players":["alice-0000000001","bob-0000000002"],"spectators":%d}`, node, uuid.New(), i)
		return bus.Publish(ctx, []byte(msg))
	})
	for deadline := time.Now().Add(30 * time.Second); got.Load() < int64(b.N) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	b.ReportMetric(float64(got.Load())/time.Since(start).Seconds(), "received/s")
	b.ReportMetric(float64(got.Load())/float64(b.N), "received/published")
}
