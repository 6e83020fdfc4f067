package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/storetest"
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

// bothReaders runs f with a subscription read through Next, and through
// Poll as the hub reads it.
func bothReaders(t *testing.T, f func(t *testing.T, read func(eventstore.Subscription) eventstore.Subscription)) {
	t.Run("next", func(t *testing.T) { f(t, func(s eventstore.Subscription) eventstore.Subscription { return s }) })
	t.Run("poll", func(t *testing.T) { f(t, storetest.Polled) })
}

// Lost republished messages are refilled from the stream: every third one
// is dropped, and the subscriber still gets every event in order, soon.
func TestSubscribeRefillsLostMessages(t *testing.T) { bothReaders(t, testRefillsLostMessages) }

func testRefillsLostMessages(t *testing.T, read func(eventstore.Subscription) eventstore.Subscription) {
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
	sub = read(sub)
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
func TestSubscribeFindsLostLastMessage(t *testing.T) { bothReaders(t, testFindsLostLastMessage) }

func testFindsLostLastMessage(t *testing.T, read func(eventstore.Subscription) eventstore.Subscription) {
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
	sub = read(sub)
	expect(t, sub, 0, 2, 5*time.Second)
	lose.Store(true)
	appendN(t, s, game, 2, 1)
	expect(t, sub, 2, 3, 5*time.Second)
}

// A reader that falls far behind overflows its live queue; the overflow is
// read from the stream instead, in order.
func TestSubscribeSlowReaderOverflow(t *testing.T) { bothReaders(t, testSlowReaderOverflow) }

func testSlowReaderOverflow(t *testing.T, read func(eventstore.Subscription) eventstore.Subscription) {
	s := openLive(t, Config{})
	game := uuid.New()
	appendN(t, s, game, 0, 1)
	sub, err := s.Subscribe(context.Background(), game, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	sub = read(sub)
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

// A process with no index of a game (another node wrote it) reads it from
// any seq (its first event too, which a resume's header needs), learns its
// head and subscribes from any seq by probing, without building an index,
// and gets exactly what a full read gets.
func TestColdReadsFindTheirPlace(t *testing.T) {
	ctx := context.Background()
	s := openLive(t, Config{Listen: "127.0.0.1:0"})
	games := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	heads := make([]uint64, len(games))
	// Interleaved appends of one to three events each, so that stream and
	// game sequences differ and messages hold several events.
	for round := 0; round < 40; round++ {
		for i, g := range games {
			n := 1 + (round+i)%3
			batch := make([]eventstore.Pending, n)
			for j := range batch {
				batch[j] = eventstore.Pending{Type: "t", SchemaVersion: 1, Actor: "a", Data: json.RawMessage(`{}`)}
			}
			if _, err := s.Append(ctx, g, heads[i], batch...); err != nil {
				t.Fatal(err)
			}
			heads[i] += uint64(n)
		}
	}
	peer, err := Open(ctx, Config{URL: s.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	for i, g := range games {
		all, err := s.Read(ctx, g, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if h, err := peer.Head(ctx, g); err != nil || h != heads[i] {
			t.Fatalf("cold head %d, %v; want %d", h, err, heads[i])
		}
		if first, err := peer.Read(ctx, g, 0, 1); err != nil || len(first) != 1 || first[0].Hash != all[0].Hash {
			t.Fatalf("cold read of the first event: %d events, %v", len(first), err)
		}
		for after := uint64(0); after <= heads[i]; after++ {
			got, err := peer.Read(ctx, g, after, 7)
			if err != nil {
				t.Fatalf("cold read after %d: %v", after, err)
			}
			want := all[after:min(after+7, heads[i])]
			if len(got) != len(want) {
				t.Fatalf("cold read after %d: %d events, want %d", after, len(got), len(want))
			}
			for j := range got {
				if got[j].Seq != want[j].Seq || got[j].Hash != want[j].Hash {
					t.Fatalf("cold read after %d: event %d is seq %d, want %d", after, j, got[j].Seq, want[j].Seq)
				}
			}
		}
		for _, after := range []uint64{1, heads[i] / 2, heads[i] - 1, heads[i]} {
			sub, err := peer.Subscribe(ctx, g, after)
			if err != nil {
				t.Fatal(err)
			}
			expect(t, sub, after, heads[i], 5*time.Second)
			sub.Close()
		}
	}
	if n := peer.games.Len(); n != 0 {
		t.Fatalf("cold reads built %d indexes", n)
	}
	if _, err := peer.Read(ctx, uuid.New(), 3, 0); !errors.Is(err, eventstore.ErrGameNotFound) {
		t.Fatalf("cold read of an unknown game: %v", err)
	}
}

// A read that brings this process's index of a game up to date keeps the
// events it asked for as the index's refresh gets them, instead of getting
// them again: whether they are all there (a game new to the process, read
// from its start; the tail after what was indexed) or not (a read that
// starts inside what was indexed), and whatever the limit, it returns
// exactly what the writer's own read returns.
func TestReadsWhileIndexingAgree(t *testing.T) {
	ctx := context.Background()
	s := openLive(t, Config{Listen: "127.0.0.1:0"})
	game := uuid.New()
	var head uint64
	appendSome := func(events int) {
		t.Helper()
		for end := head + uint64(events); head < end; {
			n := min(1+int(head%4), int(end-head)) // messages of one to four events
			batch := make([]eventstore.Pending, n)
			for j := range batch {
				batch[j] = eventstore.Pending{Type: "t", SchemaVersion: 1, Actor: "a", Data: json.RawMessage(`{"n":` + strconv.Itoa(int(head)+j) + `}`)}
			}
			if _, err := s.Append(ctx, game, head, batch...); err != nil {
				t.Fatal(err)
			}
			head += uint64(n)
		}
	}
	same := func(what string, got []eventstore.Event, after uint64, limit int) {
		t.Helper()
		want, err := s.Read(ctx, game, after, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s after %d, limit %d: %d events, want %d", what, after, limit, len(got), len(want))
		}
		for i := range got {
			if got[i].Seq != want[i].Seq || got[i].Hash != want[i].Hash || string(got[i].Data) != string(want[i].Data) {
				t.Fatalf("%s after %d: event %d is seq %d, want %d", what, after, i, got[i].Seq, want[i].Seq)
			}
		}
	}
	read := func(peer *Store, what string, after uint64, limit int) {
		t.Helper()
		got, err := peer.Read(ctx, game, after, limit)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		same(what, got, after, limit)
	}
	appendSome(2500)
	for _, limit := range []int{0, 100, eventstore.MaxReadLimit} {
		peer, err := Open(ctx, Config{URL: s.ClientURL()})
		if err != nil {
			t.Fatal(err)
		}
		read(peer, "a cold read from the start", 0, limit)
		if peer.games.Len() != 1 {
			t.Fatal("a whole read from the start did not index the game")
		}
		for after := uint64(0); after < head; after += 997 {
			read(peer, "a read of what is indexed", after, limit)
		}
		indexed := head
		appendSome(37)
		read(peer, "a read of the tail after the index", indexed, limit)
		appendSome(11)
		read(peer, "a read from inside the index", indexed-5, limit)
		peer.Close()
	}

	// A game new to the process, read from its start in pages (play's
	// catch-up of a fresh join): each page stops the refresh where it ends
	// and the next goes on from there, so every message is got once.
	peer, err := Open(ctx, Config{URL: s.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	before := peer.Conn().Stats().InMsgs
	for after := uint64(0); after < head; {
		got, err := peer.Read(ctx, game, after, eventstore.MaxReadLimit)
		if err != nil {
			t.Fatal(err)
		}
		same("a page of a game read from its start", got, after, eventstore.MaxReadLimit)
		after = got[len(got)-1].Seq
	}
	g, _ := peer.games.Get(game)
	messages, replies := uint64(len(g.msgs)), peer.Conn().Stats().InMsgs-before
	// Beside the messages: a batch's end marker, and a few lookups.
	if replies > messages+messages/10 {
		t.Errorf("reading the game's %d messages in pages took %d replies: messages got more than once", messages, replies)
	}
}
