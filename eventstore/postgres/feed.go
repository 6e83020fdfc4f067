package postgres

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/playlog/playlog/eventstore"
)

// feedReader runs the feed's queries for every feed subscription of one
// store. Each query's page is kept until the next: the subscriptions that
// follow the feed's end together (the projections' runners) read each
// page once between them, and a subscription that finds a query under way
// waits for its page rather than run its own. Queries begin at most every
// FeedInterval when they are woken by appends (a burst costs one), at once
// when a subscription is behind.
//
// A page, or a query under way, serves a subscription only if its query
// began after the subscription was opened and after its latest wake-up
// (pollSub.woke, on the ticks of tick): a query begun earlier may not see
// what the wake-up announced, and serving its page would use the wake-up
// up for nothing, leaving the event to PollInterval.
type feedReader struct {
	s *Store

	summarize chan struct{} // capacity 1: a query ran (runSummarizer)

	// tick orders queries' beginnings and subscriptions' wake-ups: each
	// takes the next value.
	tick atomic.Uint64

	mu      sync.Mutex
	page    feedPage
	running *feedQuery // the latest query under way; nil if none
	began   time.Time  // when the last query began
	// gen counts forget's calls: a query stores its page only if gen did
	// not change while it ran (else the page may hold removed events).
	gen uint64

	queried func() // for tests: called after a query, before its page is kept
}

// feedQuery is a query under way.
type feedQuery struct {
	done chan struct{} // closed when it ends
	tick uint64        // when it began
}

// feedPage is what one query read: every event positioned in (from, to],
// in order. It holds events below the horizon of the query, where every
// transaction had ended: nothing can be committed there later, so the page
// stays true, but for Remove. This process's Remove drops the page
// (forget). Another process's Remove does not reach it: until the next
// query replaces it, this process's feeds whose position lies within it,
// opened and last woken before the query began, may still be given
// events that Remove deleted, exactly as if they had read them a moment
// before it committed. A feed is never promised not to see a removed
// game's events (Remove is for ended games, which feeds have passed).
type feedPage struct {
	from, to eventstore.Position
	events   []eventstore.Event
	tick     uint64 // when its query began
}

// feedSQL reads the next events in feed order below the horizon (the
// snapshot's xmin) and below $3, and returns the horizon with every row,
// or alone in a row of NULL events when there are none: one statement,
// one snapshot.
const feedSQL = `
WITH h AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS x)
SELECT h.x, e.* FROM h LEFT JOIN LATERAL (
    SELECT ` + eventColumns + ` FROM events
     WHERE txid >= $1 AND txid < least(h.x, $3) AND (txid, seq) > ($1, $2)
     ORDER BY txid, seq LIMIT $4) e ON true`

// feedWindow is how many transaction ids one feed query spans at first: the
// BRIN index narrows a query to the pages of its range, and the window keeps
// the rows it sorts bounded however far behind the reader is. An empty
// window doubles the next one, so a sparse stretch of ids (other work on
// the database, or a reader starting from 0 on an old database) costs a
// few dozen cheap queries, not one per window.
const feedWindow = 1024

// read returns the next events of sub's feed (a page, maybe empty), and
// moves sub.afterPos over a stretch it found empty.
func (f *feedReader) read(ctx context.Context, sub *pollSub) ([]eventstore.Event, error) {
	for {
		at := sub.afterPos
		woke := sub.wokeAt()
		f.mu.Lock()
		if p := f.page; p.tick > woke && !at.Less(p.from) && at.Less(p.to) {
			f.mu.Unlock()
			events := p.events
			for len(events) > 0 && !at.Less(events[0].Position) {
				events = events[1:]
			}
			if len(events) == 0 {
				sub.afterPos = p.to
			}
			return events, nil
		}
		if q := f.running; q != nil && q.tick > woke {
			f.mu.Unlock()
			select {
			case <-q.done:
				continue // its page may serve sub
			case <-sub.done:
				return nil, eventstore.ErrClosed
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		// No query that began after sub's wake-up: run one (alongside
		// an older one under way, if any; later comers wait for this).
		q := &feedQuery{done: make(chan struct{}), tick: f.tick.Add(1)}
		gen := f.gen
		f.running, f.began = q, time.Now()
		f.mu.Unlock()

		events, to, err := f.query(ctx, at)
		if f.queried != nil {
			f.queried()
		}
		f.mu.Lock()
		if f.running == q {
			f.running = nil
		}
		close(q.done)
		// Keep the page unless Remove ran meanwhile (it may hold removed
		// events), it is empty of positions (the horizon held: it would
		// serve nobody), or a newer query's page is kept.
		if err == nil && gen == f.gen && at.Less(to) && q.tick > f.page.tick {
			f.page = feedPage{from: at, to: to, events: events, tick: q.tick}
		}
		f.mu.Unlock()
		if err != nil {
			return nil, err
		}
		select {
		case f.summarize <- struct{}{}:
		default:
		}
		if len(events) == 0 && at.Less(to) {
			sub.afterPos = to
		}
		return events, nil
	}
}

// query reads the events after at, below the horizon: a page, or none up
// to the horizon. to is where what it read ends: every event in (at, to]
// is in events. Empty windows of transaction ids (other work on the
// database) move it on.
func (f *feedReader) query(ctx context.Context, at eventstore.Position) (events []eventstore.Event, to eventstore.Position, err error) {
	window := int64(feedWindow)
	lo, minor := int64(at.Major), int64(at.Minor)
	for {
		hi := lo + window
		var horizon int64
		events, err = f.scan(ctx, lo, minor, hi, &horizon)
		if err != nil {
			return nil, at, err
		}
		if len(events) == pageSize {
			return events, events[len(events)-1].Position, nil
		}
		hi = min(hi, horizon)
		if hi <= lo {
			// Nothing at or after lo has ended yet.
			return events, at, nil
		}
		// Every event in [lo, hi) is read: all transactions there have
		// ended, so nothing can appear in it later.
		to = eventstore.Position{Major: uint64(hi - 1), Minor: math.MaxInt64}
		if len(events) > 0 || hi >= horizon {
			return events, to, nil
		}
		lo, minor = hi-1, math.MaxInt64
		window *= 2
	}
}

func (f *feedReader) scan(ctx context.Context, lo, minor, hi int64, horizon *int64) ([]eventstore.Event, error) {
	f.s.feedReads.Add(1)
	rows, err := f.s.pool.Query(ctx, feedSQL, lo, minor, hi, pageSize)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []eventstore.Event{}
	for rows.Next() {
		if rows.RawValues()[1] == nil { // no events: the horizon alone
			if err := rows.Scan(append([]any{horizon}, make([]any, 11)...)...); err != nil {
				return nil, err
			}
			continue
		}
		e, err := scanEvent(rows, horizon)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// pace waits until FeedInterval has passed since the last query began.
func (f *feedReader) pace(ctx context.Context, done <-chan struct{}) error {
	f.mu.Lock()
	wait := time.Until(f.began.Add(f.s.cfg.FeedInterval))
	f.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-done:
		return eventstore.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// forget drops the page kept, and the pages of the queries under way (its
// events may be gone: this process's Remove, after it commits).
func (f *feedReader) forget() {
	f.mu.Lock()
	f.page = feedPage{}
	f.gen++
	f.mu.Unlock()
}

// summarizeSQL summarizes the feed index's complete block ranges from
// block $1 on (a negative $1: from $2 ranges before the last complete one), and returns how many it summarized, where the ranges not
// yet complete begin, and whether the table spans more than a range and
// has no statistics on txid. A range unsummarized is read whole by every
// feed query, and autosummarize leaves new ranges so until autovacuum
// comes (autovacuum_naptime, a minute by default): the ranges filled since
// would be read by every query of the feed's end. The range being filled
// is left alone: every query reads it anyway, and a summary would cost
// each insert an update of it.
const summarizeSQL = `
WITH r AS (SELECT coalesce((SELECT option_value::int FROM pg_options_to_table(
                   (SELECT reloptions FROM pg_class WHERE oid = 'events_feed'::regclass))
                 WHERE option_name = 'pages_per_range'), 128) AS ppr,
                  pg_relation_size('events') / current_setting('block_size')::int AS blocks)
SELECT coalesce(sum(brin_summarize_range('events_feed', b)), 0)::bigint,
       (SELECT blocks - blocks % ppr FROM r),
       (SELECT blocks > ppr FROM r) AND NOT EXISTS (SELECT 1 FROM pg_stats
           WHERE schemaname = current_schema() AND tablename = 'events' AND attname = 'txid')
  FROM r, generate_series(CASE WHEN $1::bigint >= 0 THEN $1::bigint
                               ELSE greatest(0, r.blocks - r.blocks % r.ppr - $2::bigint * r.ppr) END,
                          r.blocks - r.ppr, r.ppr) AS b`

// summarizeBack is how many complete ranges before the table's end the
// summarizer looks at first: those a process that starts may find
// unsummarized (left since the last autovacuum). Starting at block 0 would
// ask for every range of a large table, each one already summarized.
const summarizeBack = 8

// summarizeEvery is how often runSummarizer looks for new complete ranges
// while feed queries run.
const summarizeEvery = time.Second

// runSummarizer summarizes new complete ranges of the feed index, at most
// every summarizeEvery while feed queries run, until ctx ends. It gives up
// when the database's user may not (only the index's owner may): then
// autovacuum's autosummarize does it, later.
func (f *feedReader) runSummarizer(ctx context.Context) {
	var (
		next     int64     = -1 // the first block range not known to be summarized; -1: near the end
		analyzed time.Time      // when txid's statistics were last gathered here
		warned   bool           // an error has been logged at Info
	)
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.summarize:
		}
		done, err := f.summarizeFrom(ctx, &next, &analyzed)
		var pgErr *pgconn.PgError
		switch {
		case ctx.Err() != nil:
			return
		case errors.As(err, &pgErr) && pgErr.Code == "42501": // insufficient_privilege
			f.s.cfg.Logger.Info("postgres: the feed index's new ranges are left to autovacuum", "err", err)
			return
		case err != nil && !(errors.As(err, &pgErr) && pgErr.Code == "55P03"): // lock_not_available
			if !warned { // once at Info; then at Debug, since it retries every summarizeEvery
				warned = true
				f.s.cfg.Logger.Info("postgres: summarizing the feed index failed; it retries (further errors at Debug)", "err", err)
			} else {
				f.s.cfg.Logger.Debug("postgres: summarizing the feed index", "err", err)
			}
		case done > 0:
			f.s.cfg.Logger.Debug("postgres: summarized the feed index", "ranges", done)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(summarizeEvery):
		}
	}
}

// analyzeEvery is how often txid's statistics are gathered while they are
// missing.
const analyzeEvery = time.Minute

// summarizeFrom summarizes complete ranges from block *next on (negative:
// from summarizeBack ranges before the table's end) and moves *next past
// them. It waits at most 100ms for the lock it takes (share
// update exclusive, as VACUUM's), so that a vacuum running is never held up
// by it and never holds the feed's reader up long.
//
// A table that has never been analyzed (a new database, until autovacuum's
// first ANALYZE) has no correlation for txid, and the planner then reads
// the whole table for every feed query rather than trust the BRIN index:
// it gathers txid's statistics then (ANALYZE of that column, at most every
// analyzeEvery, at *analyzed).
func (f *feedReader) summarizeFrom(ctx context.Context, next *int64, analyzed *time.Time) (int64, error) {
	tx, err := f.s.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = 100`); err != nil {
		return 0, err
	}
	var (
		done, from int64
		noStats    bool
	)
	if err := tx.QueryRow(ctx, summarizeSQL, *next, summarizeBack).Scan(&done, &from, &noStats); err != nil {
		return 0, err
	}
	if noStats && time.Since(*analyzed) >= analyzeEvery {
		*analyzed = time.Now()
		if _, err := tx.Exec(ctx, `ANALYZE events (txid)`); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, err
	}
	*next = max(*next, from)
	return done, nil
}
