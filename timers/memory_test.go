package timers

import (
	"encoding/json"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore"
)

// BenchmarkSchedulerMemory: the service's own memory for 10 000 timed
// games with a running turn each (their settings, turn, and place in the
// schedule), folded from their game_created and turn_started events.
//
//	go test -run '^$' -bench SchedulerMemory -benchtime 1x ./timers
func BenchmarkSchedulerMemory(b *testing.B) {
	const n = 10000
	created, _ := json.Marshal(engine.GameCreated{Game: "tictactoe", Players: []string{"x", "o"},
		Config: json.RawMessage(`{"turn_timer":{"seconds":60}}`), Commitment: string(make([]byte, 64))})
	deadline := time.Now().Add(time.Hour)
	events := make([][2]eventstore.Event, n)
	for i := range events {
		id := uuid.New()
		turn, _ := json.Marshal(engine.TurnStarted{Players: []string{"x"}, Turn: 1, Deadline: deadline.Add(time.Duration(i) * time.Millisecond)})
		events[i] = [2]eventstore.Event{{GameID: id, Seq: 1, Type: engine.TypeGameCreated, Data: created},
			{GameID: id, Seq: 2, Type: engine.TypeTurnStarted, Data: turn}}
	}
	for range b.N {
		s := &Service{cfg: Config{Now: time.Now}, games: map[uuid.UUID]*timedGame{}}
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for _, evs := range events {
			s.applyLocked(evs[0])
			s.applyLocked(evs[1])
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if s.Pending() != n || s.due.Len() != n {
			b.Fatalf("%d pending, %d due", s.Pending(), s.due.Len())
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/game")
		runtime.KeepAlive(s)
	}
}
