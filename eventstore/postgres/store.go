package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/internal/lru"
	"github.com/playlog/playlog/migrations"
)

// Config configures a Store.
type Config struct {
	// URL is the database's connection string (postgres://...). Required.
	URL string
	// Schema holds playlog's tables. Default "playlog".
	Schema string
	// MaxConns bounds the connection pool. Default 32.
	MaxConns int32
	// PollInterval is how often the global feed looks for new events when
	// no notification has woken it. Default 500ms.
	PollInterval time.Duration
	// FeedInterval is the least time between two feed queries that appends
	// wake (a feed behind reads on at once): the appends of that time are
	// read in one query, shared by this process's feed subscriptions.
	// 0 means the default, 100ms; a negative value disables the wait (each
	// wake-up queries at once). At most 1s.
	FeedInterval time.Duration
	// TailCheck is how often a game subscription, woken by LISTEN/NOTIFY,
	// looks at its game regardless, in case a notification was lost (an
	// appending process that died between commit and NOTIFY). Default 5s:
	// 10 000 idle games cost 2 000 small queries a second.
	TailCheck time.Duration
	// NotifyDelay is how long appends are gathered before one NOTIFY tells
	// other processes about them all. Default 5ms.
	NotifyDelay time.Duration
	// CachedGames bounds how many games' indexes (head and message ids) are
	// kept in memory. Default 10000.
	CachedGames int
	// Now is the clock that stamps events. Default time.Now.
	Now func() time.Time
	// NewID makes the id that marks this store's notifications, so that
	// its own listener skips them: unique to each open store. Default
	// uuid.New.
	NewID func() uuid.UUID
	// Logger receives operational messages. Default slog.Default().
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Schema == "" {
		c.Schema = "playlog"
	}
	if c.MaxConns == 0 {
		c.MaxConns = 32
	}
	if c.PollInterval == 0 {
		c.PollInterval = 500 * time.Millisecond
	}
	if c.FeedInterval == 0 {
		c.FeedInterval = 100 * time.Millisecond
	}
	if c.TailCheck == 0 {
		c.TailCheck = 5 * time.Second
	}
	if c.NewID == nil {
		c.NewID = uuid.New
	}
	if c.CachedGames == 0 {
		c.CachedGames = 10000
	}
	if c.NotifyDelay == 0 {
		c.NotifyDelay = 5 * time.Millisecond
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports the first invalid setting.
func (c *Config) Validate() error {
	switch {
	case c.URL == "":
		return errors.New("postgres: URL is required")
	case c.MaxConns < 2:
		return fmt.Errorf("postgres: MaxConns %d: need at least 2", c.MaxConns)
	case c.PollInterval < time.Millisecond:
		return fmt.Errorf("postgres: PollInterval %v is under 1ms", c.PollInterval)
	case c.FeedInterval > time.Second:
		return fmt.Errorf("postgres: FeedInterval %v is over 1s", c.FeedInterval)
	case c.TailCheck < time.Millisecond:
		return fmt.Errorf("postgres: TailCheck %v is under 1ms", c.TailCheck)
	case c.NotifyDelay < 0 || c.NotifyDelay > time.Second:
		return fmt.Errorf("postgres: NotifyDelay %v not in 0..1s", c.NotifyDelay)
	case c.CachedGames < 1:
		return fmt.Errorf("postgres: CachedGames %d", c.CachedGames)
	}
	return nil
}

// Store is the PostgreSQL eventstore.Store. It is safe for concurrent use,
// and any number of processes may share one database.
type Store struct {
	cfg     Config
	pool    *pgxpool.Pool
	channel string
	games   *lru.Cache[uuid.UUID, *gameIndex]
	hub     *hub
	feed    *feedReader
	buses   busSubs
	// Queries, for tests: reads of a game's events, feed queries.
	gameReads, feedReads atomic.Int64
	// origin marks this store's notifications, which its listener skips:
	// its own subscriptions were told at once.
	origin string

	cancel context.CancelFunc // stops the listener and notifier
	wg     sync.WaitGroup

	mu     sync.Mutex
	closed bool
}

var _ eventstore.Store = (*Store)(nil)

// Open connects, applies pending migrations and starts listening for other
// processes' appends.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pcfg, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	conn, err := pgx.ConnectConfig(ctx, pcfg.ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	_, err = migrations.Apply(ctx, conn, cfg.Schema)
	conn.Close(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	pcfg.MaxConns = cfg.MaxConns
	pcfg.ConnConfig.RuntimeParams["search_path"] = cfg.Schema
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := checkTxids(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s := &Store{
		cfg: cfg, pool: pool, channel: cfg.Schema + "_events", cancel: cancel,
		games: lru.New[uuid.UUID, *gameIndex](cfg.CachedGames), hub: newHub(),
		origin: "@" + cfg.NewID().String(),
	}
	s.feed = &feedReader{s: s, summarize: make(chan struct{}, 1)}
	s.wg.Add(3)
	go func() { defer s.wg.Done(); s.feed.runSummarizer(runCtx) }()
	go func() { defer s.wg.Done(); s.listen(runCtx) }()
	go func() {
		defer s.wg.Done()
		s.hub.runNotifier(runCtx, cfg.NotifyDelay, s.origin, s.channel, cfg.Logger, s.notifyOthers)
	}()
	return s, nil
}

// checkTxids refuses an events table that holds transaction ids this
// server has not yet given out: a logical restore (pg_dump, pg_restore)
// from another server copies the rows' txid column, not that server's
// transaction counter. The feed reads rows below the server's horizon, so
// it would deliver nothing restored, and new appends would sort before the
// restored rows, until the counter passed them. No row of this server's
// own can be at or past its next transaction id. The BRIN index on txid
// finds such rows without reading the table.
func checkTxids(ctx context.Context, pool *pgxpool.Pool) error {
	var next string
	if err := pool.QueryRow(ctx, `SELECT pg_snapshot_xmax(pg_current_snapshot())::text`).Scan(&next); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	var ahead *string
	if err := pool.QueryRow(ctx, `SELECT max(txid)::text FROM events WHERE txid >= $1::text::bigint`, next).Scan(&ahead); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if ahead == nil {
		return nil
	}
	max, err := strconv.ParseUint(*ahead, 10, 64)
	if err != nil {
		return fmt.Errorf("postgres: txid %q: %w", *ahead, err)
	}
	return fmt.Errorf("postgres: the events table holds transaction ids up to %d, past this server's next (%s): "+
		"it was restored from another server, whose transaction counter a logical restore does not carry, and its feed "+
		"would deliver nothing restored. Stop PostgreSQL, advance its counter past them "+
		"(pg_resetwal -e %d -x %d DATADIR), start it, then playlogd (docs/operations.md, Backups)",
		max, next, max>>32, max&0xffffffff+1)
}

// Close ends every subscription, stops the listener and closes the pool,
// waiting for all of them. Safe to call twice.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.hub.close()
	s.cancel()
	s.wg.Wait()
	s.pool.Close()
	return nil
}

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Store) check(game uuid.UUID) error {
	if s.isClosed() {
		return eventstore.ErrClosed
	}
	return eventstore.ValidateGame(game)
}

// wrap maps errors of a closed store to ErrClosed, and those of a server
// not answering (a timeout, a connection refused or lost) to
// ErrUnavailable.
func (s *Store) wrap(op string, game uuid.UUID, err error) error {
	if s.isClosed() {
		return fmt.Errorf("%s %s: %w", op, game, eventstore.ErrClosed)
	}
	if unavailable(err) && !errors.Is(err, eventstore.ErrUnavailable) {
		return fmt.Errorf("postgres: %s %s: %w: %w", op, game, eventstore.ErrUnavailable, err)
	}
	return fmt.Errorf("postgres: %s %s: %w", op, game, err)
}

// unavailable reports whether err says the server did not answer: a
// timeout, a connection refused, one lost before the query was sent, or
// one the server ended as it shut down or crashed (SQLSTATE class 57P:
// the first answer of every pooled connection after a restart).
func unavailable(err error) bool {
	var connErr *pgconn.ConnectError
	var pgErr *pgconn.PgError
	return pgconn.Timeout(err) || errors.As(err, &connErr) || pgconn.SafeToRetry(err) || errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "57P")
}

// LiveSubscriptions is the number of game subscriptions open in this
// process, each a reader woken by LISTEN. Safe for concurrent use.
func (s *Store) LiveSubscriptions() int { return s.hub.gameSubs() }
