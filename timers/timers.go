package timers

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/projections"
)

// Warning is a turn's warning or expiry, for the game's connections.
type Warning struct {
	Game      uuid.UUID
	Players   []string // to act
	Turn      uint64
	Deadline  time.Time
	Remaining time.Duration // 0 when Expired
	Expired   bool
	// Delayed: the game's spectators are held back (spectator_delay), so
	// they may not be told of the running turn.
	Delayed bool
}

// Config configures a Service.
type Config struct {
	Store projections.Feeder
	// Fire sends the system's command action to game under messageID
	// (play.Service.System). An error wrapping engine.ErrActionNotAllowed
	// or engine.ErrGameOver means the timeout is stale: done. Any other
	// is retried.
	Fire func(ctx context.Context, game uuid.UUID, action json.RawMessage, messageID string) error
	// Warn, if set, is called as warnings come due, and for a deadline
	// once its timeout is in the log (Fire returned nil): never for a
	// turn played in time. It must not block.
	Warn func(Warning)
	// Now is the clock deadlines are compared with: play's. Default
	// time.Now.
	Now func() time.Time
	// FeedEnd, if set, says where the log's feed ends now
	// (projections/open.FeedEnd). With it the service knows it has caught
	// up with the log when its model reaches that position; without it,
	// or when it fails, it guesses from a quiet feed (see Service).
	FeedEnd func(ctx context.Context) (eventstore.Position, error)
	// Workers fire timeouts concurrently. Default 4. Their queue holds
	// 1024; a deadline that finds it full waits 100 ms.
	Workers int
	// RetryAfter is the wait before firing again after a failure. Default 1s.
	RetryAfter time.Duration
	Logger     *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Workers == 0 {
		c.Workers = 4
	}
	if c.RetryAfter == 0 {
		c.RetryAfter = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Service fires timed games' timeouts. Create it with New, then Run it.
type Service struct {
	cfg  Config
	kick chan struct{} // wakes the scheduler; holds one

	mu       sync.Mutex
	pos      eventstore.Position
	end      eventstore.Position      // where the feed ended when it last opened, if exact
	games    map[uuid.UUID]*timedGame // timed games not ended
	due      dueHeap                  // the games with something due, by when
	recorded time.Time                // when the last event folded was stored

	// Nothing is fired until the model has caught up with the log: a node
	// reading a long log from its start would otherwise fire, as stale, the
	// deadline of every turn whose next turn is in a batch not read yet.
	// The same holds after the feed failed and reopened, for what it
	// missed meanwhile.
	started    atomic.Int64 // unix nanoseconds: New, or the feed's last reopening (this node's clock, compared with the appending node's recorded times)
	opened     atomic.Bool  // the feed was asked for once
	caughtUp   atomic.Bool  // the model reached end, or a folded event was stored after started, or the open feed went quiet
	exact      atomic.Bool  // end is known (Config.FeedEnd): quiet counts only after quietForExact
	lastCommit atomic.Int64 // unix nanoseconds of the last commit or of the feed's opening; 0 while it opens

	stats struct {
		sync.Mutex
		fired, stale, failed int64
		late, stored         []time.Duration // of the last 4096 fired
	}
}

// timedGame is one game's timer: its settings, its running turn, and
// what is due next for it (a warning, or the deadline).
type timedGame struct {
	id       uuid.UUID
	timer    *engine.TurnTimer
	delayed  bool // its spectators are held back
	turn     uint64
	players  []string
	deadline time.Time
	warned   int       // warnings of this turn given (or past when it began)
	next     time.Time // when what is due next is due
	idx      int       // in Service.due; -1 when nothing is due
}

// plan sets what is due next: the first warning not given, else the
// deadline.
func (g *timedGame) plan() {
	if g.warned < len(g.timer.Warnings) {
		g.next = g.deadline.Add(-time.Duration(g.timer.Warnings[g.warned]) * time.Second)
		return
	}
	g.next = g.deadline
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	cfg.setDefaults()
	if cfg.Store == nil || cfg.Fire == nil {
		return nil, errors.New("timers: Store and Fire are required")
	}
	if cfg.Workers < 1 || cfg.RetryAfter <= 0 {
		return nil, fmt.Errorf("timers: Workers %d, RetryAfter %v", cfg.Workers, cfg.RetryAfter)
	}
	s := &Service{cfg: cfg, kick: make(chan struct{}, 1), games: map[uuid.UUID]*timedGame{}}
	s.started.Store(time.Now().UnixNano())
	return s, nil
}

// Kick wakes the scheduler to look at the clock again: for an injected
// clock that jumps.
func (s *Service) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Pending returns how many timed games have a running turn.
func (s *Service) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, g := range s.games {
		if g.turn > 0 {
			n++
		}
	}
	return n
}

// Stats are the service's counts since it started.
type Stats struct {
	Fired, Stale, Failed int64
	// Late is how long after their deadlines the last (up to 4096)
	// timeouts were sent (handed to Fire), in the order they were; Stored,
	// how long after them Fire returned (the timeout's append included).
	Late, Stored []time.Duration
}

// Stats returns the counts.
func (s *Service) Stats() Stats {
	s.stats.Lock()
	defer s.stats.Unlock()
	return Stats{Fired: s.stats.fired, Stale: s.stats.stale, Failed: s.stats.failed,
		Late: append([]time.Duration(nil), s.stats.late...), Stored: append([]time.Duration(nil), s.stats.stored...)}
}

// Run follows the log and fires deadlines until ctx ends, then returns nil
// once every goroutine it started has stopped; or the store's ErrClosed.
func (s *Service) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan job, 1024)
	var wg sync.WaitGroup
	for range s.cfg.Workers {
		wg.Add(1)
		go func() { defer wg.Done(); s.work(ctx, jobs) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); s.schedule(ctx, jobs) }()
	// The model is in memory, its checkpoint beside it under s.mu: a new
	// Service reads the log from its start.
	err := projections.RunInMemory(ctx, feeder{s}, &s.mu, &s.pos, s.applyLocked, s.committedLocked,
		projections.RunnerOptions{Name: "timers", Logger: s.cfg.Logger})
	cancel()
	wg.Wait()
	return err
}

// feeder is the Service's store as the runner sees it: each opening of
// the feed, the first and each one after a failure, stops firing until
// the model has caught up again (after a failure, with what the feed
// missed meanwhile), and the quiet that counts for that starts once the
// feed is open (a slow opening is not a quiet log).
type feeder struct{ s *Service }

func (f feeder) Feed(ctx context.Context, from eventstore.Position) (eventstore.Subscription, error) {
	if f.s.opened.Swap(true) {
		// Reopened after a failure: what it missed meanwhile is backlog.
		f.s.started.Store(time.Now().UnixNano())
	}
	f.s.caughtUp.Store(false)
	f.s.lastCommit.Store(0)
	sub, err := f.s.cfg.Store.Feed(ctx, from)
	if err != nil {
		return nil, err
	}
	exact := false
	if f.s.cfg.FeedEnd != nil {
		// Read after the opening: whatever is appended later comes after
		// end in the feed.
		if end, err := f.s.cfg.FeedEnd(ctx); err == nil {
			exact = true
			f.s.mu.Lock()
			f.s.end = end
			if !f.s.pos.Less(end) { // nothing to read: an empty log, or nothing missed
				f.s.caughtUp.Store(true)
			}
			f.s.mu.Unlock()
		} else {
			f.s.cfg.Logger.Warn("timers: the log's end is unknown; the service takes a quiet feed for caught up", "err", err)
		}
	}
	f.s.exact.Store(exact)
	f.s.lastCommit.Store(time.Now().UnixNano())
	f.s.Kick()
	return sub, nil
}

// committedLocked runs after each commit, s.mu held: the model has caught
// up once it has reached where the feed ended when it opened (exact: any
// later event is past it too, should that one be archived before it is
// read); or, without that, once it holds an event stored after the feed
// opened (the feed delivers in order, so everything before it has been
// folded; this compares this node's clock with the appending node's);
// or once the open feed has gone quiet (see schedule).
func (s *Service) committedLocked() {
	s.lastCommit.Store(time.Now().UnixNano())
	switch {
	case s.caughtUp.Load():
	case s.exact.Load():
		s.caughtUp.Store(!s.pos.Less(s.end))
	case s.recorded.UnixNano() > s.started.Load():
		s.caughtUp.Store(true)
	}
	s.Kick()
}

// quietFor is how long an open feed must deliver nothing for the model to
// count as caught up with a log that has no new events, when the feed's
// end is not known; quietForExact when it is, for the rare end that is
// never delivered (its game archived meanwhile) in a log that stays idle.
const (
	quietFor      = 250 * time.Millisecond
	quietForExact = 10 * time.Second
)

// applyLocked folds one event. The caller holds s.mu.
func (s *Service) applyLocked(e eventstore.Event) {
	if e.RecordedAt.After(s.recorded) {
		s.recorded = e.RecordedAt
	}
	switch e.Type {
	case engine.TypeGameCreated:
		var c engine.GameCreated
		if json.Unmarshal(e.Data, &c) != nil {
			return
		}
		if set, err := engine.SettingsOf(c.Config); err == nil && set.TurnTimer != nil {
			s.games[e.GameID] = &timedGame{id: e.GameID, timer: set.TurnTimer, delayed: !set.SpectatorDelay.IsZero(), idx: -1}
		}
	case engine.TypeTurnStarted:
		g := s.games[e.GameID]
		var t engine.TurnStarted
		if g == nil || json.Unmarshal(e.Data, &t) != nil {
			return
		}
		g.turn, g.players, g.deadline, g.warned = t.Turn, t.Players, t.Deadline, 0
		// Warnings already past (a restart reading old turns) are not given.
		now := s.cfg.Now()
		for g.warned < len(g.timer.Warnings) && !g.deadline.Add(-time.Duration(g.timer.Warnings[g.warned])*time.Second).After(now) {
			g.warned++
		}
		s.scheduleLocked(g)
	case engine.TypeDeadlineExtended:
		g := s.games[e.GameID]
		var d engine.DeadlineExtended
		if g == nil || json.Unmarshal(e.Data, &d) != nil || d.Turn != g.turn {
			return
		}
		g.deadline, g.warned = d.Deadline, len(g.timer.Warnings)
		s.scheduleLocked(g)
	case engine.TypeGameEnded:
		if g := s.games[e.GameID]; g != nil {
			if g.idx >= 0 {
				heap.Remove(&s.due, g.idx)
			}
			delete(s.games, e.GameID)
		}
	}
}

// scheduleLocked (re)places g in the schedule at what is due next.
func (s *Service) scheduleLocked(g *timedGame) {
	g.plan()
	if g.idx >= 0 {
		heap.Fix(&s.due, g.idx)
	} else {
		heap.Push(&s.due, g)
	}
}

// job is one timeout to fire.
type job struct {
	game     uuid.UUID
	turn     uint64
	players  []string // to act; the first times out
	deadline time.Time
	delayed  bool
}

// schedule pops what is due, warns, and hands timeouts to the workers.
func (s *Service) schedule(ctx context.Context, jobs chan<- job) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wait := 50 * time.Millisecond
		quiet := quietFor
		if s.exact.Load() {
			quiet = quietForExact
		}
		if last := s.lastCommit.Load(); !s.caughtUp.Load() && last != 0 && time.Since(time.Unix(0, last)) >= quiet {
			s.caughtUp.Store(true)
		}
		if s.caughtUp.Load() {
			wait = s.fireDue(jobs)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		case <-timer.C:
		}
	}
}

// fireDue handles everything due now and returns how long until the next.
func (s *Service) fireDue(jobs chan<- job) time.Duration {
	var warnings []Warning
	defer func() {
		if s.cfg.Warn != nil {
			for _, w := range warnings {
				s.cfg.Warn(w)
			}
		}
	}()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	for s.due.Len() > 0 {
		g := s.due[0]
		if g.next.After(now) {
			return g.next.Sub(now)
		}
		w := Warning{Game: g.id, Players: g.players, Turn: g.turn, Deadline: g.deadline, Delayed: g.delayed}
		if g.warned < len(g.timer.Warnings) {
			g.warned++
			w.Remaining = g.deadline.Sub(now)
			warnings = append(warnings, w)
			s.scheduleLocked(g)
			continue
		}
		select {
		case jobs <- job{game: g.id, turn: g.turn, players: g.players, deadline: g.deadline, delayed: g.delayed}:
			heap.Pop(&s.due) // until the next turn, or a retry
		default: // the workers are behind: look again soon
			g.next = now.Add(100 * time.Millisecond)
			heap.Fix(&s.due, g.idx)
		}
	}
	return time.Hour
}

// work fires timeouts until ctx ends.
func (s *Service) work(ctx context.Context, jobs <-chan job) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-jobs:
			s.fire(ctx, j)
		}
	}
}

func (s *Service) fire(ctx context.Context, j job) {
	action, _ := json.Marshal(struct {
		Type   string `json:"type"`
		Player string `json:"player"`
		Turn   uint64 `json:"turn"`
	}{engine.ActionTimeout, j.players[0], j.turn})
	late := s.cfg.Now().Sub(j.deadline)
	err := s.cfg.Fire(ctx, j.game, action, "timeout/"+strconv.FormatUint(j.turn, 10))
	stored := s.cfg.Now().Sub(j.deadline)
	stale := errors.Is(err, engine.ErrActionNotAllowed) || errors.Is(err, engine.ErrGameOver)
	s.stats.Lock()
	switch {
	case err == nil:
		s.stats.fired++
		if len(s.stats.late) == 4096 {
			s.stats.late, s.stats.stored = s.stats.late[1:], s.stats.stored[1:]
		}
		s.stats.late, s.stats.stored = append(s.stats.late, late), append(s.stats.stored, stored)
	case stale:
		s.stats.stale++
	default:
		s.stats.failed++
	}
	s.stats.Unlock()
	if err == nil && s.cfg.Warn != nil {
		// Announced once the log holds the timeout (this node's or
		// another's, a duplicate then): not for a turn that was played in
		// time, nor again on each retry.
		s.cfg.Warn(Warning{Game: j.game, Players: j.players, Turn: j.turn, Deadline: j.deadline, Expired: true, Delayed: j.delayed})
	}
	if err == nil || stale || ctx.Err() != nil {
		return
	}
	s.cfg.Logger.Warn("timers: firing a timeout failed; retrying", "game", j.game, "turn", j.turn, "err", err, "retry_in", s.cfg.RetryAfter)
	s.mu.Lock()
	if g := s.games[j.game]; g != nil && g.turn == j.turn && g.deadline.Equal(j.deadline) && g.idx < 0 {
		heap.Push(&s.due, g)
		g.next = s.cfg.Now().Add(s.cfg.RetryAfter)
		heap.Fix(&s.due, g.idx)
	}
	s.mu.Unlock()
	s.Kick()
}

// dueHeap orders games by what is due next; each knows its index.
type dueHeap []*timedGame

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].next.Before(h[j].next) }
func (h dueHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}
func (h *dueHeap) Push(x any) {
	g := x.(*timedGame)
	g.idx = len(*h)
	*h = append(*h, g)
}
func (h *dueHeap) Pop() any {
	old := *h
	g := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	g.idx = -1
	return g
}
