// Package testnode starts one playlogd node for tests, wired as
// cmd/playlogd wires it (command path, directory, hub, replayer, gateway)
// over a real store, and serves it over HTTP on loopback.
package testnode

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/archive"
	"github.com/playlog/playlog/auth"
	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/hub"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/projections"
	"github.com/playlog/playlog/projections/open"
	"github.com/playlog/playlog/replay"
	"github.com/playlog/playlog/seal"
	"github.com/playlog/playlog/timers"
)

// The secrets every test node uses: tokens minted with JWTSecret are
// accepted by all of them, and games' seeds derive from SeedSecret.
var (
	JWTSecret  = []byte("test-secret-test-secret-test-secret!")
	SeedSecret = []byte("seed-secret-seed-secret-seed-secret!")
	// SealKey signs every test node's seals.
	SealKey = ed25519.NewKeyFromSeed([]byte("seal-key-seal-key-seal-key-seal!"))
)

// Node is one running node. Everything in it stops at the test's cleanup,
// or earlier at Stop.
type Node struct {
	URL       string         // http://127.0.0.1:port
	Store     *archive.Store // the store given, with its archive behind it, as playlogd wires it
	Hot       eventstore.Store
	Blobs     archive.Blobs
	Play      *play.Service
	Directory *projections.Directory
	History   projections.HistoryReader
	Hub       *hub.Hub
	Replay    *replay.Replayer
	Server    *gateway.Server
	Timers    *timers.Service
	Sealer    *seal.Sealer

	stopOnce sync.Once
	stop     func()
}

// Options are a node's optional parts.
type Options struct {
	// Now is the node's clock (play's and the timer service's). Default
	// time.Now.
	Now func() time.Time
	// Seal is the node's sealing policy (seal.Policy defaults if zero).
	Seal seal.Policy
	// Logger receives the logs of every part of the node (gateway, play,
	// hub, timers, sealer, history projection). Default slog.Default().
	Logger *slog.Logger
}

// Start starts a node on store. bus carries presence between nodes (nil:
// this node only); cfg configures its gateway. The hub lingers 100 ms.
func Start(t testing.TB, store eventstore.Store, bus gateway.Bus, cfg gateway.Config) *Node {
	t.Helper()
	return StartWith(t, store, bus, cfg, Options{})
}

// StartWith is Start with options. Every node runs a timer service, as
// playlogd does.
func StartWith(t testing.TB, store eventstore.Store, bus gateway.Bus, cfg gateway.Config, opts Options) *Node {
	t.Helper()
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	blobs, err := archive.OpenBlobs(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	hot := store
	store = archive.Wrap(hot, blobs, 0)
	n := &Node{Store: store.(*archive.Store), Hot: hot, Blobs: blobs}
	n.Sealer = seal.NewSealer(seal.NewSigner(SealKey), store, opts.Seal, opts.Now, opts.Logger)
	if n.Play, err = play.New(play.Config{Store: store, Registry: games.Standard(), SeedSecret: SeedSecret, Now: opts.Now,
		Sealer: n.Sealer, Logger: opts.Logger}); err != nil {
		t.Fatal(err)
	}
	if n.Replay, err = replay.New(replay.Config{Store: store, Registry: games.Standard()}); err != nil {
		t.Fatal(err)
	}
	verifier, err := auth.NewVerifier(auth.Config{Secret: JWTSecret})
	if err != nil {
		t.Fatal(err)
	}
	if n.Hub, err = hub.New(hub.Config{Store: store, Linger: 100 * time.Millisecond, Logger: opts.Logger}); err != nil {
		t.Fatal(err)
	}
	feed := projections.NewShared(store) // as playlogd: one feed for the directory, the history and the timers
	n.Directory = projections.NewDirectory(feed)
	ctx, cancel := context.WithCancel(context.Background())
	history, err := open.History(ctx, store)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	n.History = history
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); history.Run(ctx, feed, projections.RunnerOptions{Logger: opts.Logger}) }()
		n.Directory.Run(ctx)
		wg.Wait()
	}()
	n.Server, err = gateway.New(gateway.Deps{Play: n.Play, Directory: n.Directory, Store: store, Hub: n.Hub,
		Replay: n.Replay, History: history, Auth: verifier, Bus: bus, Logger: opts.Logger}, cfg)
	if err != nil {
		cancel()
		<-done
		t.Fatal(err)
	}
	if n.Timers, err = timers.New(timers.Config{Store: feed, Now: opts.Now, RetryAfter: 50 * time.Millisecond, Logger: opts.Logger,
		FeedEnd: open.EndOf(store),
		Fire: func(ctx context.Context, game uuid.UUID, action json.RawMessage, id string) error {
			_, err := n.Play.System(ctx, game, action, id)
			return err
		},
		Warn: func(w timers.Warning) {
			n.Server.TurnTimeout(w.Game, w.Players[0], w.Turn, w.Deadline, w.Remaining, !w.Expired, w.Delayed)
		}}); err != nil {
		cancel()
		<-done
		t.Fatal(err)
	}
	timersDone := make(chan struct{})
	go func() { defer close(timersDone); n.Timers.Run(ctx) }()
	sealerDone := make(chan struct{})
	go func() { defer close(sealerDone); n.Sealer.Run(ctx) }()
	hs := httptest.NewServer(n.Server.Handler())
	n.URL = hs.URL
	n.stop = func() {
		n.Server.Close()
		hs.Close()
		n.Hub.Close()
		cancel()
		<-done
		<-timersDone
		<-sealerDone
	}
	t.Cleanup(n.Stop)
	return n
}

// Drain drains the node's gateway as playlogd does on SIGTERM
// (gateway.Server.Drain): no new commands, the running ones answered,
// every WebSocket closed with 1001. The node still serves REST reads until
// Stop.
func (n *Node) Drain(ctx context.Context) error { return n.Server.Drain(ctx) }

// Stop stops the node: its gateway (closing any WebSocket left with
// 1001), HTTP server, hub, projections, timers and sealer, and waits for
// them. The store is the caller's and stays open. Safe to call more than
// once and before the test's cleanup, which calls it too; for a rolling
// restart, Drain first.
func (n *Node) Stop() { n.stopOnce.Do(n.stop) }

// Token mints an hour's token for user.
func Token(t testing.TB, user string) string {
	t.Helper()
	tok, err := auth.Mint(JWTSecret, user, time.Hour, "", "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
