package hub_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/hub"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/protocol"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var seedSecret = []byte("seed-secret-seed-secret-seed-secret!")

// sink is a bounded queue, as a connection's is.
type sink struct {
	ch      chan []byte
	dropped chan error
}

func newSink(n int) *sink { return &sink{ch: make(chan []byte, n), dropped: make(chan error, 1)} }

func (s *sink) Send(b []byte) bool {
	select {
	case s.ch <- b:
		return true
	default:
		return false
	}
}

func (s *sink) Push(b []byte) error {
	select {
	case s.ch <- b:
		return nil
	case <-time.After(time.Second):
		return hub.ErrSlow
	}
}

func (s *sink) Drop(err error) { s.dropped <- err }

// events reads the sink's event messages until it has the one at last.
func (s *sink) events(t *testing.T, last uint64) []protocol.Message {
	t.Helper()
	var out []protocol.Message
	timeout := time.After(20 * time.Second)
	for {
		select {
		case b := <-s.ch:
			var m protocol.Message
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if m.Type != protocol.TypeEvent {
				continue
			}
			out = append(out, m)
			if *m.EventID == last {
				return out
			}
		case err := <-s.dropped:
			t.Fatalf("dropped: %v", err)
		case <-timeout:
			t.Fatalf("timed out with %d events, waiting for %d", len(out), last)
		}
	}
}

type fixture struct {
	store eventstore.Store
	svc   *play.Service
	hub   *hub.Hub
}

func newFixture(t *testing.T, b testenv.Backend, linger time.Duration) *fixture {
	return fixtureOn(t, b.Open(t), hub.Config{Linger: linger})
}

// fixtureOn is a fixture on store, its hub configured by cfg.
func fixtureOn(t *testing.T, store eventstore.Store, cfg hub.Config) *fixture {
	svc, err := play.New(play.Config{Store: store, Registry: games.Standard(), SeedSecret: seedSecret})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store = store
	h, err := hub.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return &fixture{store: store, svc: svc, hub: h}
}

// move plays the first legal action of whoever is to act; false once the
// game is over.
func (f *fixture) move(t *testing.T, game uuid.UUID, n int) bool {
	t.Helper()
	g, err := f.svc.Load(context.Background(), game)
	if err != nil {
		t.Fatal(err)
	}
	turn := g.Rules.Turn(g.State)
	if g.State.Outcome().Ended || len(turn) == 0 {
		return false
	}
	legal := g.Rules.Legal(g.State, turn[0])
	if _, err := f.svc.Execute(context.Background(), game, turn[0], legal[0], fmt.Sprintf("m%d", n)); err != nil {
		t.Fatal(err)
	}
	return true
}

func (f *fixture) watch(t *testing.T, game uuid.UUID, view engine.Viewer, after uint64, s *sink) *hub.Watch {
	t.Helper()
	g, err := f.svc.Load(context.Background(), game)
	if err != nil {
		t.Fatal(err)
	}
	readied := false
	w, err := f.hub.Watch(context.Background(), hub.Game{ID: game, Rules: g.Rules, Head: g.Head()}, view, after, s, func() { readied = true })
	if err != nil || !readied {
		t.Fatalf("watch: %v (ready ran: %v)", err, readied)
	}
	return w
}

// Many viewers of one game, joining from different points while it is
// played, each get every event once, in order, rendered for their eyes,
// and the store holds one subscription for all of them.
func TestViewersShareOneSubscription(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		f := newFixture(t, b, time.Hour)
		ctx := context.Background()
		g, err := f.svc.Create(ctx, "crazyeights", []string{"ann", "bob", "cat"}, nil, "ann")
		if err != nil {
			t.Fatal(err)
		}
		views := []engine.Viewer{engine.AsPlayer("ann"), engine.AsPlayer("bob"), engine.AsSpectator()}
		type watcher struct {
			s     *sink
			view  engine.Viewer
			after uint64
		}
		var ws []watcher
		n := 0
		for round := 0; round < 10; round++ {
			head, _ := f.store.Head(ctx, g.ID)
			for i := 0; i < 100; i++ {
				w := watcher{s: newSink(4096), view: views[i%3], after: head - uint64(i%int(head))}
				f.watch(t, g.ID, w.view, w.after, w.s)
				ws = append(ws, w)
			}
			for i := 0; i < 3; i++ {
				n++
				f.move(t, g.ID, n)
			}
		}
		for n++; f.move(t, g.ID, n); n++ {
		}
		last, _ := f.store.Head(ctx, g.ID)
		if st := f.hub.Stats(); st.Feeds != 1 || st.Viewers != 1000 {
			t.Fatalf("stats %+v, want 1 feed and 1000 viewers", st)
		}
		if js, ok := f.store.(*jetstream.Store); ok && js.LiveSubscriptions() != 1 {
			t.Fatalf("%d live store subscriptions, want 1", js.LiveSubscriptions())
		}
		// What a viewer that never dropped gets, per view.
		want := map[engine.Viewer][]protocol.Message{}
		all, err := f.store.Read(ctx, g.ID, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range views {
			for _, e := range all {
				m, err := hub.EventMessage(g.Rules, g.ID, e, v)
				if err != nil {
					t.Fatal(err)
				}
				want[v] = append(want[v], m)
			}
		}
		for i, w := range ws {
			exp := want[w.view][w.after:]
			if len(exp) == 0 {
				continue // joined after the game's end
			}
			got := w.s.events(t, last)
			if len(got) != len(exp) {
				t.Fatalf("viewer %d (%v after %d): %d events, want %d", i, w.view, w.after, len(got), len(exp))
			}
			for j := range got {
				if *got[j].EventID != *exp[j].EventID || string(got[j].Data) != string(exp[j].Data) || got[j].Visibility != exp[j].Visibility {
					t.Fatalf("viewer %d event %d: got %+v, want %+v", i, j, got[j], exp[j])
				}
			}
		}
	})
}

// A viewer whose queue fills is dropped with ErrSlow; the others keep
// getting every event.
func TestSlowViewerIsDropped(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		f := newFixture(t, b, time.Hour)
		g, err := f.svc.Create(context.Background(), "crazyeights", []string{"ann", "bob"}, nil, "ann")
		if err != nil {
			t.Fatal(err)
		}
		slow, fast := newSink(2), newSink(4096)
		f.watch(t, g.ID, engine.AsSpectator(), g.Head(), slow)
		f.watch(t, g.ID, engine.AsSpectator(), g.Head(), fast)
		n := 0
		for n < 10 && f.move(t, g.ID, n) {
			n++
		}
		select {
		case err := <-slow.dropped:
			if !errors.Is(err, hub.ErrSlow) {
				t.Fatalf("dropped with %v, want ErrSlow", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the slow viewer was not dropped")
		}
		last, _ := f.store.Head(context.Background(), g.ID)
		fast.events(t, last)
		if st := f.hub.Stats(); st.Slow != 1 {
			t.Fatalf("stats %+v, want 1 slow", st)
		}
	})
}

// The last viewer leaving stops the game's subscription after the linger,
// store side too; a game that does not exist is refused before ready.
func TestFeedStopsAfterLastViewer(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		f := newFixture(t, b, 50*time.Millisecond)
		g, err := f.svc.Create(context.Background(), "tictactoe", []string{"ann", "bob"}, nil, "ann")
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 200; i++ {
			f.watch(t, g.ID, engine.AsSpectator(), g.Head(), newSink(16)).Close()
		}
		w := f.watch(t, g.ID, engine.AsSpectator(), g.Head(), newSink(16))
		w.Close()
		w.Close()
		deadline := time.Now().Add(5 * time.Second)
		for f.hub.Stats().Feeds != 0 || liveSubs(f.store) != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("after the last viewer left: %+v, %d live store subscriptions", f.hub.Stats(), liveSubs(f.store))
			}
			time.Sleep(10 * time.Millisecond)
		}

		readied := false
		_, err = f.hub.Watch(context.Background(), hub.Game{ID: uuid.New(), Rules: g.Rules, Head: 1}, engine.AsSpectator(), 0, newSink(16), func() { readied = true })
		if !errors.Is(err, eventstore.ErrGameNotFound) || readied {
			t.Fatalf("unknown game: %v, ready ran: %v", err, readied)
		}
		if st := f.hub.Stats(); st.Feeds != 0 || st.Viewers != 0 {
			t.Fatalf("a refused watch left %+v", st)
		}
	})
}

func liveSubs(s eventstore.Store) int {
	if js, ok := s.(*jetstream.Store); ok {
		return js.LiveSubscriptions()
	}
	return 0
}

// A delayed game that moves faster than its delay can hold gives its
// spectators up, with ErrSpectatorsBehind, and refuses new ones; its
// players carry on, every event delivered.
func TestTooMuchHeldGivesSpectatorsUpNotPlayers(t *testing.T) {
	b := testenv.Stores(t)[0]
	store := b.Open(t)
	svc, err := play.New(play.Config{Store: store, Registry: games.Standard(), SeedSecret: seedSecret})
	if err != nil {
		t.Fatal(err)
	}
	h, err := hub.New(hub.Config{Store: store, Linger: time.Hour, MaxHeld: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	f := &fixture{store: store, svc: svc, hub: h}
	g, err := svc.Create(context.Background(), "tictactoe", []string{"x", "o"}, json.RawMessage(`{"spectator_delay":{"seconds":3600}}`), "x")
	if err != nil {
		t.Fatal(err)
	}
	watch := func(view engine.Viewer, s *sink) error {
		_, err := h.Watch(context.Background(), hub.Game{ID: g.ID, Rules: g.Rules, Head: g.Head(), Delay: engine.Delay{Seconds: 3600}, SpectatorHead: 1},
			view, g.Head(), s, func() {})
		return err
	}
	player, spectator := newSink(100), newSink(100)
	if err := watch(engine.AsPlayer("x"), player); err != nil {
		t.Fatal(err)
	}
	if err := watch(engine.AsSpectator(), spectator); err != nil {
		t.Fatal(err)
	}
	for i := 0; f.move(t, g.ID, i); i++ {
	}
	last, err := store.Head(context.Background(), g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := player.events(t, last); len(got) != int(last-g.Head()) {
		t.Fatalf("the player got %d events, want %d", len(got), last-g.Head())
	}
	select {
	case err := <-spectator.dropped:
		if !errors.Is(err, hub.ErrSpectatorsBehind) {
			t.Fatalf("the spectator was dropped with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the spectator was not given up")
	}
	if len(spectator.ch) != 0 {
		t.Fatalf("the spectator got %d messages from inside the delay", len(spectator.ch))
	}
	// The game has ended, which releases every delay: a new spectator is
	// taken again (TestBehindSpectatorsWatchAgainAfterTheEnd; before the
	// end it is refused, TestBehindSpectatorRefusedBeforeReady).
	if err := watch(engine.AsSpectator(), newSink(100)); err != nil {
		t.Fatalf("a new spectator of the overflowed feed, after the end: %v", err)
	}
}

// A spectator of a delayed game whose feed has given its spectators up
// (it held more than MaxHeld) is refused before ready: the gateway would
// have answered `joined`, then cut the connection (1011), and the client,
// resuming as told, got the same again while the feed stayed open.
func TestBehindSpectatorRefusedBeforeReady(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		f, hg, _, _ := overflowed(t, b)
		readied := false
		_, err := f.hub.Watch(context.Background(), hg, engine.AsSpectator(), 1, newSink(100), func() { readied = true })
		if !errors.Is(err, hub.ErrSpectatorsBehind) {
			t.Fatalf("spectator of an overflowed feed: %v", err)
		}
		if readied {
			t.Fatal("ready ran before the refusal")
		}
	})
}

// Close stops the feeds that linger after their last viewer, timers and
// all: nothing of the hub runs or stays registered after it.
func TestCloseStopsLingeringFeeds(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		f := newFixture(t, b, 300*time.Millisecond)
		g, err := f.svc.Create(context.Background(), "tictactoe", []string{"x", "o"}, nil, "x")
		if err != nil {
			t.Fatal(err)
		}
		w := f.watch(t, g.ID, engine.AsSpectator(), g.Head(), newSink(10))
		w.Close() // the last viewer: the feed lingers on a timer
		if st := f.hub.Stats(); st.Feeds != 1 {
			t.Fatalf("%d feeds lingering, want 1", st.Feeds)
		}
		f.hub.Close()
		if st := f.hub.Stats(); st.Feeds != 0 {
			t.Fatalf("after Close: %d feeds still registered (their linger timers armed)", st.Feeds)
		}
		if js, ok := f.store.(*jetstream.Store); ok && js.LiveSubscriptions() != 0 {
			t.Fatalf("after Close: %d live store subscriptions", js.LiveSubscriptions())
		}
	})
}

// A feed that gave its delayed spectators up takes them again once the
// game has ended: the end releases every delay, so nothing is left to hold
// back (they were refused for as long as the feed stayed open).
func TestBehindSpectatorsWatchAgainAfterTheEnd(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		f, hg, player, n := overflowed(t, b)
		if _, err := f.hub.Watch(context.Background(), hg, engine.AsSpectator(), 1, newSink(100), func() {}); !errors.Is(err, hub.ErrSpectatorsBehind) {
			t.Fatalf("before the end: %v, want ErrSpectatorsBehind", err)
		}
		for ; f.move(t, hg.ID, n); n++ {
		}
		last, _ := f.store.Head(context.Background(), hg.ID)
		player.events(t, last)
		spectator := newSink(100)
		if _, err := f.hub.Watch(context.Background(), hg, engine.AsSpectator(), 1, spectator, func() {}); err != nil {
			t.Fatalf("after the end: %v", err)
		}
		if got := spectator.events(t, last); uint64(len(got)) != last-1 {
			t.Fatalf("after the end, a spectator got %d events, want %d", len(got), last-1)
		}
	})
}

// overflowed is a game delayed an hour for its spectators, on a feed of
// MaxHeld 4 that has given them up: a player follows it (player), and n
// moves were played, all fanned out and held.
func overflowed(t *testing.T, b testenv.Backend) (f *fixture, hg hub.Game, player *sink, n int) {
	t.Helper()
	f = fixtureOn(t, b.Open(t), hub.Config{Linger: time.Hour, MaxHeld: 4})
	g, err := f.svc.Create(context.Background(), "tictactoe", []string{"x", "o"}, json.RawMessage(`{"spectator_delay":{"seconds":3600}}`), "x")
	if err != nil {
		t.Fatal(err)
	}
	hg = hub.Game{ID: g.ID, Rules: g.Rules, Head: g.Head(), Delay: engine.Delay{Seconds: 3600}, SpectatorHead: 1}
	player = newSink(100)
	if _, err := f.hub.Watch(context.Background(), hg, engine.AsPlayer("x"), g.Head(), player, func() {}); err != nil {
		t.Fatal(err)
	}
	for ; n < 6 && f.move(t, g.ID, n); n++ {
	}
	head, _ := f.store.Head(context.Background(), g.ID)
	player.events(t, head) // the feed has fanned out (and held) them all
	return f, hg, player, n
}
