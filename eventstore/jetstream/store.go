package jetstream

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/internal/lru"
)

// Store is the JetStream eventstore.Store. It is safe for concurrent use.
type Store struct {
	cfg    Config
	ns     *server.Server // the embedded server, nil with an external one
	nc     *nats.Conn
	js     natsjs.JetStream
	stream natsjs.Stream

	games   *lru.Cache[uuid.UUID, *gameIndex]
	replies *replyMux   // every direct get's replies, on one subscription
	live    *liveRouter // every game subscription's republished messages

	mu     sync.Mutex
	closed bool
	subs   map[eventstore.Subscription]struct{}

	denyPurge bool     // the stream refuses purges: Remove cannot work
	clustered bool     // the server is in a cluster: see replicated
	dirLock   *os.File // an embedded server's directory, held locked (dirlock.go)
}

var _ eventstore.Store = (*Store)(nil)

// Open connects to (or starts) the server and creates or updates the stream.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Store{cfg: cfg, games: newGameCache(cfg.CachedGames), subs: map[eventstore.Subscription]struct{}{}}
	// Republished messages may be lost while the connection is down or when
	// this process falls behind: every game subscription then reads its tail.
	opts := []nats.Option{
		nats.Name("playlog"),
		nats.ReconnectHandler(func(*nats.Conn) { s.live.recheckAll() }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrSlowConsumer) {
				s.live.recheckAll()
			}
		}),
	}
	var err error
	if cfg.URL == "" {
		if s.dirLock, err = lockDir(cfg.Dir); err != nil {
			return nil, err
		}
		if s.ns, err = startEmbedded(&cfg); err != nil {
			s.dirLock.Close()
			return nil, err
		}
		s.nc, err = nats.Connect(s.ns.ClientURL(), append(opts, nats.InProcessServer(s.ns))...)
	} else {
		s.nc, err = nats.Connect(cfg.URL, append(opts, nats.MaxReconnects(-1))...)
	}
	if err != nil {
		s.shutdownServer()
		return nil, fmt.Errorf("jetstream: connect: %w", err)
	}
	s.replies, s.live = newReplyMux(s.nc), newLiveRouter(s.nc)
	if s.js, err = natsjs.New(s.nc); err == nil {
		s.stream, err = s.createOrUpdateStream(ctx)
		// A cluster just started may have no meta leader yet, or be busy
		// electing one: creating the stream times out or answers 503. Try
		// again for a while (nodes started together with their servers).
		for wait, deadline := 100*time.Millisecond, time.Now().Add(3*cfg.RequestTimeout); err != nil && unavailable(err) && time.Now().Before(deadline); wait = min(2*wait, 2*time.Second) {
			if serr := sleep(ctx, wait); serr != nil {
				break
			}
			s.stream, err = s.createOrUpdateStream(ctx)
		}
	}
	if err != nil {
		s.nc.Close()
		s.live.stop()
		s.shutdownServer()
		return nil, fmt.Errorf("jetstream: stream %s: %w", cfg.Stream, err)
	}
	s.clustered = s.nc.ConnectedClusterName() != ""
	return s, nil
}

// replicated reports whether reads must guard against replicas that lag
// the stream's leader (docs/cluster.md, "Reads are current"): the stream
// has several, or the server is in a cluster, where another node may give
// it more at any time (-nats-replicas, nats stream edit) without this
// process knowing.
func (s *Store) replicated() bool { return s.cfg.Replicas > 1 || s.clustered }

// createOrUpdateStream creates the stream, or updates an existing one in
// place to streamConfig (an existing stream gains the seal subjects so).
// JetStream cannot lift deny_purge from a stream: one created before
// archiving existed keeps it, and Remove then refuses (it says why).
func (s *Store) createOrUpdateStream(ctx context.Context) (natsjs.Stream, error) {
	want := streamConfig(s.cfg)
	old, err := s.js.Stream(ctx, s.cfg.Stream)
	switch {
	case err == nil && old.CachedInfo().Config.DenyPurge:
		want.DenyPurge = true
		s.cfg.Logger.Warn("jetstream: the stream was created with deny_purge, which JetStream cannot lift: archiving cannot remove games from it",
			"stream", s.cfg.Stream)
	case err != nil && !errors.Is(err, natsjs.ErrStreamNotFound):
		return nil, err
	}
	if s.cfg.Replicas == 0 && err == nil {
		want.Replicas = old.CachedInfo().Config.Replicas
	}
	st, err := s.js.CreateOrUpdateStream(ctx, want)
	if err == nil {
		s.denyPurge = st.CachedInfo().Config.DenyPurge
		s.cfg.Replicas = st.CachedInfo().Config.Replicas
	}
	return st, err
}

// streamConfig is the stream playlog keeps its log in; docs/eventlog.md and
// docs/performance.md explain each setting.
func streamConfig(cfg Config) natsjs.StreamConfig {
	return natsjs.StreamConfig{
		Name:        cfg.Stream,
		Description: "playlog game event log: one subject per game, one message per append; the games' seals and state snapshots",
		// Games on "<prefix>.<game>", their seals on "<prefix>.seal.<game>"
		// (seals.go), their snapshots on "<prefix>.snap.<game>"
		// (snapshots.go): "<prefix>.*" (the feed, the republish) is one
		// token and never matches a seal or a snapshot.
		Subjects:   []string{cfg.SubjectPrefix + ".*", cfg.SubjectPrefix + ".seal.*", cfg.SubjectPrefix + ".snap.*"},
		Storage:    natsjs.FileStorage,
		Replicas:   max(cfg.Replicas, 1),
		Duplicates: cfg.DuplicateWindow,
		Retention:  natsjs.LimitsPolicy,
		Discard:    natsjs.DiscardNew,
		// No single message can be deleted, ever. Purging is allowed,
		// because archiving must take a whole game out of the hot log:
		// Remove purges the game's subjects, after checking the head it
		// was told (remove.go); otherwise only older snapshots are purged
		// (snapshots.go).
		// Until archiving, DenyPurge was true too; JetStream cannot lift it
		// from an existing stream (createOrUpdateStream).
		DenyDelete: true,
		DenyPurge:  false,
		// Reads are direct gets, live delivery is RePublish: viewers cost
		// the server no consumer. Only projections (one feed per process)
		// hold consumers, so no cap is set.
		AllowDirect:  true,
		MaxConsumers: -1,
		// The largest append (eventstore.MaxAppendData and its envelope) fits.
		MaxMsgSize: maxMessageBytes,
		RePublish: &natsjs.RePublish{
			Source:      cfg.SubjectPrefix + ".*",
			Destination: cfg.SubjectPrefix + ".live.{{wildcard(1)}}",
		},
	}
}

// maxMessageBytes bounds one stored message: MaxAppendData of event data plus
// the envelope of MaxAppendEvents events, with room to spare.
const maxMessageBytes = 1 << 20

// LiveSubscriptions is the number of game subscriptions open in this
// process: one core NATS subscription each, no consumer. Safe for
// concurrent use.
func (s *Store) LiveSubscriptions() int { return s.live.count() }

// ClientURL is the embedded server's client URL for other processes, or ""
// if it accepts only in-process connections or the server is external.
func (s *Store) ClientURL() string {
	if s.ns == nil || s.cfg.Listen == "" {
		return ""
	}
	return s.ns.ClientURL()
}

// Replicas is the stream's number of replicas.
func (s *Store) Replicas() int { return s.cfg.Replicas }

// Conn is the store's NATS connection, for tools that need the server
// directly (benchmarks, administration). Do not close it.
func (s *Store) Conn() *nats.Conn { return s.nc }

// Close ends every subscription, closes the connection and stops the
// embedded server, waiting for it to finish writing. Safe to call twice.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	subs := s.subs
	s.subs = nil
	s.mu.Unlock()
	for sub := range subs {
		sub.Close()
	}
	s.replies.stop()
	s.nc.Close()
	s.live.stop()
	s.shutdownServer()
	return nil
}

func (s *Store) shutdownServer() {
	if s.ns != nil {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
		s.dirLock.Close() // the files are the next process's now
	}
}

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Store) subject(game uuid.UUID) string {
	return s.cfg.SubjectPrefix + "." + game.String()
}

// sealSubject is the subject of the game's seals.
func (s *Store) sealSubject(game uuid.UUID) string {
	return s.cfg.SubjectPrefix + ".seal." + game.String()
}

// errStore maps connection-level errors of a closed store to ErrClosed, and
// those of a server or cluster not answering to ErrUnavailable.
func (s *Store) errStore(op string, game uuid.UUID, err error) error {
	switch {
	case s.isClosed() || errors.Is(err, nats.ErrConnectionClosed):
		return fmt.Errorf("%s %s: %w", op, game, eventstore.ErrClosed)
	case unavailable(err) && !errors.Is(err, eventstore.ErrUnavailable):
		return fmt.Errorf("jetstream: %s %s: %w: %w", op, game, eventstore.ErrUnavailable, err)
	}
	return fmt.Errorf("jetstream: %s %s: %w", op, game, err)
}

// unavailable reports whether err says the servers did not answer, or not
// now: a timeout, no responders, a connection reconnecting, JetStream's
// 503 (no leader, no quorum), replicas lagging past RequestTimeout.
func unavailable(err error) bool {
	var apiErr *natsjs.APIError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout),
		errors.Is(err, nats.ErrNoResponders), errors.Is(err, natsjs.ErrNoStreamResponse),
		errors.Is(err, nats.ErrDisconnected), errors.Is(err, nats.ErrConnectionReconnecting),
		errors.Is(err, errLagging), errors.Is(err, eventstore.ErrUnavailable):
		return true
	case errors.As(err, &apiErr):
		return apiErr.Code == 503
	}
	return false
}

// Head implements eventstore.Store.
func (s *Store) Head(ctx context.Context, game uuid.UUID) (uint64, error) {
	if err := s.check(game); err != nil {
		return 0, err
	}
	g, ok := s.games.Get(game)
	if !ok { // one direct get, no index built (cold.go)
		last, found, err := s.lastRef(ctx, game)
		if err != nil {
			return 0, s.errStore("head", game, err)
		}
		if !found {
			return 0, fmt.Errorf("head %s: %w", game, eventstore.ErrGameNotFound)
		}
		return last.last, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := s.current(ctx, game, g); err != nil {
		return 0, s.errStore("head", game, err)
	}
	if g.head == 0 { // removed (here or by another process): the index is cached, empty
		return 0, fmt.Errorf("head %s: %w", game, eventstore.ErrGameNotFound)
	}
	return g.head, nil
}

func (s *Store) check(game uuid.UUID) error {
	if s.isClosed() {
		return eventstore.ErrClosed
	}
	return eventstore.ValidateGame(game)
}
