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
