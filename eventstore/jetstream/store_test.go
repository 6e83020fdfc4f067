package jetstream

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/storetest"
)

// backend runs stores on an embedded server in one directory; reopening
// restarts the server on the same files.
type backend struct{ dir string }

const testDedupeWindow = 300 * time.Millisecond

func (b backend) Open(t *testing.T, opts storetest.Options) eventstore.Store {
	t.Helper()
	return openTest(t, Config{Dir: b.dir, Listen: "127.0.0.1:0", Now: opts.Now, DuplicateWindow: testDedupeWindow})
}

// OpenPeer connects a second store to the first one's embedded server by
// URL, as another playlogd would.
func (b backend) OpenPeer(t *testing.T, first eventstore.Store, opts storetest.Options) eventstore.Store {
	t.Helper()
	return openTest(t, Config{URL: first.(*Store).ClientURL(), Now: opts.Now, DuplicateWindow: testDedupeWindow})
}

func (b backend) DedupeWindow() time.Duration { return testDedupeWindow }

func openTest(t *testing.T, cfg Config) *Store {
	t.Helper()
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Backend { return backend{dir: t.TempDir()} })
}

func pending(msgID string) eventstore.Pending {
	return eventstore.Pending{Type: "e", SchemaVersion: 1, Actor: "alice", MessageID: msgID, Data: []byte(`{}`)}
}

// TestUnknownGamesAreNotCached: reads, heads and appends of ids no game has
// leave the index cache as it was (a real game stays cached, as the same
// index); a game is cached once the log shows it exists, by whichever
// call finds it, and racing first lookups cache one index.
func TestUnknownGamesAreNotCached(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Config{Dir: t.TempDir(), Listen: "127.0.0.1:0", CachedGames: 2})
	t.Cleanup(func() { s.Close() })
	game := uuid.New()
	if _, err := s.Append(ctx, game, 0, pending("m1")); err != nil {
		t.Fatal(err)
	}
	cached, ok := s.games.Get(game)
	if !ok || s.games.Len() != 1 {
		t.Fatalf("an appended game is not cached (%d cached)", s.games.Len())
	}
	for i := 0; i < 20; i++ {
		id := uuid.New()
		for name, err := range map[string]error{
			"read":   func() error { _, err := s.Read(ctx, id, 0, 0); return err }(),
			"head":   func() error { _, err := s.Head(ctx, id); return err }(),
			"append": func() error { _, err := s.Append(ctx, id, 3, pending("")); return err }(),
			"subscribe": func() error {
				_, err := s.Subscribe(ctx, id, 0)
				return err
			}(),
		} {
			if !errors.Is(err, eventstore.ErrGameNotFound) {
				t.Fatalf("%s of an unknown game: %v", name, err)
			}
		}
	}
	if g, _ := s.games.Get(game); s.games.Len() != 1 || g != cached {
		t.Fatalf("after unknown ids: %d cached, the game's index kept: %v", s.games.Len(), g == cached)
	}

	// Another process sees the game: its first read from the start or
	// append (a stale one, refused) caches it, once, even when racing.
	// (Head and reads from later on need no index: cold.go.)
	for name, call := range map[string]func(p *Store) error{
		"read":   func(p *Store) error { _, err := p.Read(ctx, game, 0, 0); return err },
		"append": func(p *Store) error { _, err := p.Append(ctx, game, 0, pending("m2")); return err },
	} {
		t.Run(name, func(t *testing.T) {
			peer := openTest(t, Config{URL: s.ClientURL()})
			t.Cleanup(func() { peer.Close() })
			var wg sync.WaitGroup
			for i := 0; i < 8; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := call(peer); err != nil && !errors.Is(err, eventstore.ErrConflict) {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			if _, ok := peer.games.Get(game); !ok || peer.games.Len() != 1 {
				t.Fatalf("%d cached after racing first lookups of one game", peer.games.Len())
			}
		})
	}
}

// TestPingAsksJetStream: a ping is answered by JetStream for the stream, so
// it fails when the stream is gone though the connection is up.
func TestPingAsksJetStream(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Config{Dir: t.TempDir()})
	t.Cleanup(func() { s.Close() })
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.js.DeleteStream(ctx, s.cfg.Stream); err != nil {
		t.Fatal(err)
	}
	if !s.nc.IsConnected() {
		t.Fatal("the connection is down")
	}
	if err := s.Ping(ctx); err == nil || errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("ping without the stream: %v", err)
	}
}
