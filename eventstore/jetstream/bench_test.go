package jetstream_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/eventstore/storetest"
)

// BenchmarkAppend compares, in one run on one embedded server and one
// connection, a raw JetStream publish with an expected last subject
// sequence (the engine's floor for a guarded append) with playlog's Append,
// for 1 game appended sequentially and for 200 games concurrently.
//
//	go test -run '^$' -bench Append -benchtime 5s ./eventstore/jetstream
func BenchmarkAppend(b *testing.B) {
	for _, games := range []int{1, 200} {
		b.Run("games="+strconv.Itoa(games), func(b *testing.B) {
			b.Run("raw", func(b *testing.B) { benchRaw(b, games) })
			b.Run("playlog", func(b *testing.B) { benchPlaylog(b, games) })
		})
	}
}

func openBench(b *testing.B) *jetstream.Store {
	s, err := jetstream.Open(context.Background(), jetstream.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func benchRaw(b *testing.B, games int) {
	s := openBench(b)
	ctx := context.Background()
	js, _ := natsjs.New(s.Conn())
	if _, err := js.CreateStream(ctx, natsjs.StreamConfig{
		Name: "RAW", Subjects: []string{"raw.*"}, Storage: natsjs.FileStorage,
	}); err != nil {
		b.Fatal(err)
	}
	// A payload the size of playlog's message for one event.
	payload := make([]byte, 330)
	copy(payload, storetest.BenchData)
	subjects := make([]string, games)
	last := make([]uint64, games)
	for g := range subjects {
		subjects[g] = "raw." + uuid.NewString()
	}
	storetest.Concurrently(b, games, func(g, _ int) error {
		m := nats.NewMsg(subjects[g])
		m.Data = payload
		m.Header.Set(natsjs.ExpectedLastSubjSeqHeader, strconv.FormatUint(last[g], 10))
		ack, err := js.PublishMsg(ctx, m)
		if err != nil {
			return err
		}
		last[g] = ack.Sequence
		return nil
	})
}

func benchPlaylog(b *testing.B, games int) {
	s := openBench(b)
	ctx := context.Background()
	ids := make([]uuid.UUID, games)
	for g := range ids {
		ids[g] = uuid.New()
	}
	storetest.Concurrently(b, games, func(g, i int) error {
		_, err := s.Append(ctx, ids[g], uint64(i), eventstore.Pending{
			Type: "moved", SchemaVersion: 1, Actor: "alice", MessageID: "m" + strconv.Itoa(i), Data: storetest.BenchData,
		})
		return err
	})
}

// BenchmarkReadTail reads the last 10 events of a random game of a store
// holding many games whose messages interleave (as live play leaves them),
// the read of a resume after 10 missed events. Its cost must not grow with
// the store.
//
//	go test -run '^$' -bench ReadTail ./eventstore/jetstream
func BenchmarkReadTail(b *testing.B) {
	for _, games := range []int{10, 2000} {
		b.Run("games="+strconv.Itoa(games), func(b *testing.B) {
			s := openBench(b)
			ctx := context.Background()
			ids := make([]uuid.UUID, games)
			for i := range ids {
				ids[i] = uuid.New()
			}
			const perGame = 30
			for seq := uint64(0); seq < perGame; seq++ {
				for _, id := range ids {
					if _, err := s.Append(ctx, id, seq, eventstore.Pending{Type: "t", SchemaVersion: 1, Actor: "a", Data: storetest.BenchData}); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ResetTimer()
			for i := range b.N {
				evs, err := s.Read(ctx, ids[i%games], perGame-10, 10)
				if err != nil || len(evs) != 10 {
					b.Fatal(len(evs), err)
				}
			}
		})
	}
}
