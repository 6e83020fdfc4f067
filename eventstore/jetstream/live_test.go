package jetstream

import (
	"context"
	"encoding/json"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/playlog/playlog/eventstore"
)

func openLive(t *testing.T, cfg Config) *Store {
	t.Helper()
	cfg.Dir = t.TempDir()
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func appendN(t *testing.T, s *Store, game uuid.UUID, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		data, _ := json.Marshal(map[string]int{"i": i})
		if _, err := s.Append(context.Background(), game, uint64(i), eventstore.Pending{Type: "t", SchemaVersion: 1, Actor: "a", Data: data}); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
}

// expect reads events after..last from sub, in order, within d.
func expect(t *testing.T, sub eventstore.Subscription, after, last uint64, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for want := after + 1; want <= last; want++ {
		e, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for seq %d: %v", want, err)
		}
		if e.Seq != want {
			t.Fatalf("got seq %d, want %d", e.Seq, want)
		}
	}
}

// Subscriptions use no consumer, however many there are, and leave nothing
// on the server once closed.
func TestSubscribeCostsNoConsumer(t *testing.T) {
	s := openLive(t, Config{})
	ctx := context.Background()
	game := uuid.New()
	appendN(t, s, game, 0, 3)
	var subs []eventstore.Subscription
	for i := 0; i < 1200; i++ { // past the 1000 consumers a stream once held
		sub, err := s.Subscribe(ctx, game, uint64(i%3))
		if err != nil {
			t.Fatalf("subscribe %d: %v", i, err)
		}
		subs = append(subs, sub)
	}
	info, err := s.stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Consumers != 0 {
		t.Fatalf("%d consumers on the stream, want 0", info.State.Consumers)
	}
	if n := s.LiveSubscriptions(); n != 1200 {
		t.Fatalf("LiveSubscriptions = %d, want 1200", n)
	}
	appendN(t, s, game, 3, 1)
	expect(t, subs[0], 0, 4, 5*time.Second)
	for _, sub := range subs {
		sub.Close()
	}
	if n := s.LiveSubscriptions(); n != 0 {
		t.Fatalf("LiveSubscriptions after close = %d, want 0", n)
	}
}

// Lost republished messages are refilled from the stream: every third one
// is dropped, and the subscriber still gets every event in order, soon.
func TestSubscribeRefillsLostMessages(t *testing.T) {
	s := openLive(t, Config{TailCheck: 200 * time.Millisecond})
	var n atomic.Int64
	s.live.lose = func(*nats.Msg) bool { return n.Add(1)%3 == 0 }
	game := uuid.New()
	appendN(t, s, game, 0, 1)
	sub, err := s.Subscribe(context.Background(), game, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	done := make(chan struct{})
	go func() { defer close(done); appendN(t, s, game, 1, 60) }()
	expect(t, sub, 1, 61, 10*time.Second)
	<-done
	if n.Load() < 60 {
		t.Fatalf("only %d republished messages seen", n.Load())
	}
}

// The last message lost, with nothing after it to reveal the gap: the
// periodic look at the tail finds it.
func TestSubscribeFindsLostLastMessage(t *testing.T) {
	s := openLive(t, Config{TailCheck: 100 * time.Millisecond})
	var lose atomic.Bool
	s.live.lose = func(*nats.Msg) bool { return lose.Load() }
	game := uuid.New()
	appendN(t, s, game, 0, 2)
	sub, err := s.Subscribe(context.Background(), game, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	expect(t, sub, 0, 2, 5*time.Second)
	lose.Store(true)
	appendN(t, s, game, 2, 1)
	expect(t, sub, 2, 3, 5*time.Second)
}

// A reader that falls far behind overflows its live queue; the overflow is
// read from the stream instead, in order.
func TestSubscribeSlowReaderOverflow(t *testing.T) {
	s := openLive(t, Config{})
	game := uuid.New()
	appendN(t, s, game, 0, 1)
	sub, err := s.Subscribe(context.Background(), game, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	appendN(t, s, game, 1, maxLiveQueue+100)
	expect(t, sub, 0, maxLiveQueue+101, 10*time.Second)
}

// A publish the stream refuses (a stale expected sequence) is never
// delivered: only stored messages are republished.
func TestSubscribeIgnoresRefusedPublish(t *testing.T) {
	s := openLive(t, Config{})
	game := uuid.New()
	appendN(t, s, game, 0, 1)
	sub, err := s.Subscribe(context.Background(), game, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	m := nats.NewMsg(s.subject(game))
	m.Data = []byte(`{"bogus":true}`)
	m.Header.Set("Nats-Expected-Last-Subject-Sequence", strconv.Itoa(999999))
	if _, err := s.js.PublishMsg(context.Background(), m); err == nil {
		t.Fatal("the stream stored a publish with a wrong expected sequence")
	}
	appendN(t, s, game, 1, 1)
	expect(t, sub, 1, 2, 5*time.Second)
}
