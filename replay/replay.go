package replay

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/internal/lru"
)

// ErrBadStep is a step outside what the viewer may see (0, or past its
// head), or a range whose ends are the wrong way round.
var ErrBadStep = errors.New("replay: no such step")

// Store is what the replayer reads of the log.
type Store interface {
	Reader
	Head(ctx context.Context, game uuid.UUID) (uint64, error)
}

// Config configures a Replayer.
type Config struct {
	Store    Store
	Registry *engine.Registry
	// SnapshotEvery is K: a snapshot of the full state is kept at every
	// multiple of K. Default 64.
	SnapshotEvery int
	// MaxGames bounds the games whose snapshots are kept (least recently
	// used go first). Default 256.
	MaxGames int
	// MaxSnapshots bounds one game's snapshots; past it the state is folded
	// from the last one. Default 1024 (a 65 536-event game at K = 64).
	MaxSnapshots int
	// Now is the clock of spectator delays. Default time.Now.
	Now func() time.Time
}

func (c *Config) setDefaults() {
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = 64
	}
	if c.MaxGames == 0 {
		c.MaxGames = 256
	}
	if c.MaxSnapshots == 0 {
		c.MaxSnapshots = 1024
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Replayer answers questions about games' pasts. It only reads the log. It
// is safe for concurrent use.
type Replayer struct {
	cfg   Config
	games *lru.Cache[uuid.UUID, *snapshots]
}

// New returns a Replayer.
func New(cfg Config) (*Replayer, error) {
	cfg.setDefaults()
	switch {
	case cfg.Store == nil:
		return nil, errors.New("replay: Store is required")
	case cfg.Registry == nil:
		return nil, errors.New("replay: Registry is required")
	case cfg.SnapshotEvery < 1 || cfg.MaxGames < 1 || cfg.MaxSnapshots < 1:
		return nil, errors.New("replay: SnapshotEvery, MaxGames and MaxSnapshots must be positive")
	}
	return &Replayer{cfg: cfg, games: lru.New[uuid.UUID, *snapshots](cfg.MaxGames)}, nil
}

// snapshots is one game's states at seq 0, K, 2K, ...: immutable once
// taken, since the log only grows. mu serialises the folds that extend it.
type snapshots struct {
	rules *engine.Game
	first engine.State // after game_created

	mu     sync.Mutex
	states []engine.State // states[i] is the state at seq i*K
	hidden map[engine.Viewer]hiddenScan
}

// hiddenScan is what is known of the first event a viewer does not see in
// full: its seq once found (immutable: the log only grows), else how far
// the log has been looked at.
type hiddenScan struct{ first, scanned uint64 }

// open returns the game's snapshots, reading its first event if they are
// not cached. The cache takes the game only once it is known to exist.
func (r *Replayer) open(ctx context.Context, id uuid.UUID) (*snapshots, error) {
	if s, ok := r.games.Get(id); ok {
		return s, nil
	}
	first, err := r.cfg.Store.Read(ctx, id, 0, 1)
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", id, err)
	}
	if len(first) == 0 {
		return nil, fmt.Errorf("replay %s: %w", id, eventstore.ErrGameNotFound)
	}
	ev := EngineEvent(first[0])
	rules, err := r.cfg.Registry.GameOf(ev)
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", id, err)
	}
	st, err := rules.Apply(engine.State{}, ev)
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", id, err)
	}
	s, _ := r.games.Add(id, &snapshots{rules: rules, first: st, states: []engine.State{{}}})
	return s, nil
}

// Rules returns the game's rules and its state after game_created: who
// plays it and its settings. Errors: eventstore.ErrGameNotFound, the
// store's.
func (r *Replayer) Rules(ctx context.Context, id uuid.UUID) (*engine.Game, engine.State, error) {
	s, err := r.open(ctx, id)
	if err != nil {
		return nil, engine.State{}, err
	}
	return s.rules, s.first, nil
}

// StateAt returns the full state after event n (every secret in it: give a
// viewer Game.View of it). It folds from the nearest snapshot, taking new
// ones on the way. Errors: ErrBadStep if the log ends before n, the
// store's, engine.ErrCorruptLog.
func (r *Replayer) StateAt(ctx context.Context, id uuid.UUID, n uint64) (engine.State, error) {
	s, err := r.open(ctx, id)
	if err != nil {
		return engine.State{}, err
	}
	k := uint64(r.cfg.SnapshotEvery)
	s.mu.Lock()
	defer s.mu.Unlock()
	i := min(n/k, uint64(len(s.states)-1))
	st := s.states[i]
	pages, stop := r.pages(ctx, id, st.Seq(), n)
	defer stop()
	for st.Seq() < n {
		p, ok := <-pages
		if !ok {
			return engine.State{}, ctx.Err()
		}
		if p.err != nil {
			return engine.State{}, p.err
		}
		for _, e := range p.events {
			if st, err = s.rules.Apply(st, EngineEvent(e)); err != nil {
				return engine.State{}, fmt.Errorf("replay %s: %w", id, err)
			}
			if st.Seq()%k == 0 && st.Seq()/k == uint64(len(s.states)) && len(s.states) < r.cfg.MaxSnapshots {
				s.states = append(s.states, st)
			}
		}
	}
	return st, nil
}

type page struct {
	events []eventstore.Event
	err    error
}

// pages reads the game's events after `after` up to n, a page ahead of
// its caller: a long fold reads the next page while it folds this one.
// The channel ends after an error, which is the last page sent. stop ends
// the reader and waits for it.
func (r *Replayer) pages(ctx context.Context, id uuid.UUID, after, n uint64) (<-chan page, func()) {
	ctx, cancel := context.WithCancel(ctx)
	out := make(chan page, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(out)
		for after < n {
			events, err := r.cfg.Store.Read(ctx, id, after, int(min(n-after, eventstore.MaxReadLimit)))
			switch {
			case err != nil:
				err = fmt.Errorf("replay %s after %d: %w", id, after, err)
			case len(events) == 0:
				err = fmt.Errorf("%w: %s has %d events, not %d", ErrBadStep, id, after, n)
			}
			select {
			case out <- page{events, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
			after = events[len(events)-1].Seq
		}
	}()
	return out, func() { cancel(); <-done }
}

// View is what one caller may see of one game: decided once, here, from
// the game's players and settings, whether it has ended, and the clock.
type View struct {
	Game    uuid.UUID
	Rules   *engine.Game
	Players []string
	Viewer  engine.Viewer
	// Head is the last step the viewer may see: the game's head, or for a
	// spectator of a delayed game the head as it stood the delay ago.
	Head  uint64
	Ended bool // the game has ended (in the whole log, not only up to Head)
}

// Access decides what user may see of game id: its players their own view
// while it is on and the auditor's view once it has ended; anyone else the
// spectators' view, held back by the spectator delay while it is on, or
// the auditor's view of an ended game whose settings make it public.
// Errors: eventstore.ErrGameNotFound, the store's.
func (r *Replayer) Access(ctx context.Context, id uuid.UUID, user string) (View, error) {
	rules, first, err := r.Rules(ctx, id)
	if err != nil {
		return View{}, err
	}
	head, last, err := r.last(ctx, id)
	if err != nil {
		return View{}, err
	}
	v := View{Game: id, Rules: rules, Players: first.Players(), Head: head, Ended: last.Type == engine.TypeSeedRevealed}
	set := first.Settings()
	switch {
	case v.Ended && (first.IsPlayer(user) || set.Public):
		v.Viewer = engine.AsAuditor()
	case first.IsPlayer(user):
		v.Viewer = engine.AsPlayer(user)
	default:
		v.Viewer = engine.AsSpectator()
		if v.Head, err = r.spectatorHead(ctx, id, set.SpectatorDelay, head, v.Ended); err != nil {
			return View{}, err
		}
	}
	return v, nil
}

// last returns the game's head and its last event.
func (r *Replayer) last(ctx context.Context, id uuid.UUID) (uint64, eventstore.Event, error) {
	head, err := r.cfg.Store.Head(ctx, id)
	if err != nil {
		return 0, eventstore.Event{}, fmt.Errorf("replay %s: %w", id, err)
	}
	e, err := r.event(ctx, id, head)
	return head, e, err
}

func (r *Replayer) event(ctx context.Context, id uuid.UUID, seq uint64) (eventstore.Event, error) {
	page, err := r.cfg.Store.Read(ctx, id, seq-1, 1)
	if err != nil {
		return eventstore.Event{}, fmt.Errorf("replay %s: read %d: %w", id, seq, err)
	}
	if len(page) == 0 {
		return eventstore.Event{}, fmt.Errorf("%w: %s has no event %d", ErrBadStep, id, seq)
	}
	return page[0], nil
}

// SpectatorHead is the last seq a spectator of the game may see now,
// given its delay and its head (as the caller has just read it).
func (r *Replayer) SpectatorHead(ctx context.Context, id uuid.UUID, d engine.Delay, head uint64) (uint64, error) {
	if d.IsZero() {
		return head, nil
	}
	last, err := r.event(ctx, id, head)
	if err != nil {
		return 0, err
	}
	return r.spectatorHead(ctx, id, d, head, last.Type == engine.TypeSeedRevealed)
}

// spectatorHead is SpectatorHead knowing whether the game has ended: an
// ended game shows every step, whatever the delay (nothing is left to
// spoil). An events delay N holds spectators N events behind the head; a
// seconds delay S shows the events before the first one recorded less
// than S ago, as the hub releases them. Recorded times are each
// appending node's clock, so they may go back within a game (a node
// behind another): the log is read from its start until that first
// event, not searched by halves, which would stop on an old-dated event
// after newer ones and show them early. game_created is always visible,
// so the result is at least 1.
func (r *Replayer) spectatorHead(ctx context.Context, id uuid.UUID, d engine.Delay, head uint64, ended bool) (uint64, error) {
	if ended {
		return head, nil // nothing is left to spoil: the end releases every delay
	}
	switch {
	case d.Events > 0:
		switch {
		case head <= d.Events+1:
			return 1, nil
		}
		return head - d.Events, nil
	case d.Seconds > 0:
		cutoff := r.cfg.Now().Add(-d.Duration())
		for after := uint64(1); after < head; {
			page, err := r.cfg.Store.Read(ctx, id, after, int(min(head-after, eventstore.MaxReadLimit)))
			if err != nil {
				return 0, fmt.Errorf("replay %s: read after %d: %w", id, after, err)
			}
			if len(page) == 0 {
				return after, nil
			}
			for _, e := range page {
				if e.RecordedAt.After(cutoff) {
					return e.Seq - 1, nil
				}
			}
			after = page[len(page)-1].Seq
		}
		return head, nil
	}
	return head, nil
}

// Step is the game at one step as a viewer may see it.
type Step struct {
	At      uint64
	State   engine.State // the viewer's view of the state after event At
	Turn    []string
	Forced  *engine.Forced
	Outcome engine.Outcome
	Event   Entry
}

// StepAt returns the game after event n as v may see it. Errors:
// ErrBadStep for n outside 1..v.Head, the store's.
func (r *Replayer) StepAt(ctx context.Context, v View, n uint64) (Step, error) {
	if n < 1 || n > v.Head {
		return Step{}, fmt.Errorf("%w: step %d is not in 1 to %d", ErrBadStep, n, v.Head)
	}
	st, err := r.StateAt(ctx, v.Game, n)
	if err != nil {
		return Step{}, err
	}
	evs, err := r.Events(ctx, v, n, n)
	if err != nil {
		return Step{}, err
	}
	step := Step{At: n, State: v.Rules.View(st, v.Viewer), Turn: v.Rules.Turn(st), Outcome: st.Outcome(), Event: evs[0]}
	if f, ok := v.Rules.Forced(st); ok {
		step.Forced = &f
	}
	if step.Turn == nil {
		step.Turn = []string{}
	}
	return step, nil
}

// Entry is one event of a replay as a viewer may see it. Hash, PrevHash
// and Stored (what the hash covers) come only with an event before the
// first one the viewer does not see in full (so always for the auditor's
// view): each hash covers the one before, so the hash of any event after
// a hidden one would let its low-entropy secret (a hand of cards, a roll)
// be searched for, and a hidden event's own hash would too.
type Entry struct {
	engine.Rendered
	RecordedAt *time.Time       `json:"recorded_at,omitempty"`
	PrevHash   *eventstore.Hash `json:"prev_hash,omitempty"`
	Hash       *eventstore.Hash `json:"hash,omitempty"`
	Stored     *Stored          `json:"stored,omitempty"`
}

// Stored is an event's fields as the hash chain covers them, beside those
// of the rendering: its stored type and schema version (the rendering's
// are those of the event as this build reads it, after any upcast), the
// message id, the exact data bytes as a string, the recorded time.
type Stored struct {
	Type          string `json:"type"`
	SchemaVersion int    `json:"schema_version"`
	MessageID     string `json:"message_id"`
	Data          string `json:"data"`
	RecordedAtUS  int64  `json:"recorded_at_us"`
}

// firstHidden returns the seq of the first event up to to that v does not
// see in full, or 0 if there is none (always 0 for the auditor). What it
// finds is kept with the game's snapshots.
func (r *Replayer) firstHidden(ctx context.Context, v View, to uint64) (uint64, error) {
	if v.Viewer.Role == engine.RoleAuditor {
		return 0, nil
	}
	s, err := r.open(ctx, v.Game)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := s.hidden[v.Viewer]
	for sc.first == 0 && sc.scanned < to {
		page, err := r.cfg.Store.Read(ctx, v.Game, sc.scanned, int(min(to-sc.scanned, eventstore.MaxReadLimit)))
		if err != nil {
			return 0, fmt.Errorf("replay %s after %d: %w", v.Game, sc.scanned, err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			ren, err := v.Rules.RenderEvent(e.Seq, EngineEvent(e), v.Viewer)
			if err != nil {
				return 0, fmt.Errorf("replay %s: %w", v.Game, err)
			}
			if ren.Visibility != engine.Full {
				sc.first = e.Seq
				break
			}
			sc.scanned = e.Seq
		}
	}
	if s.hidden == nil {
		s.hidden = map[engine.Viewer]hiddenScan{}
	}
	s.hidden[v.Viewer] = sc
	return sc.first, nil
}

// MaxEvents bounds one Events call.
const MaxEvents = eventstore.MaxReadLimit

// Events returns events from to to (inclusive) as v may see them: at most
// MaxEvents. Errors: ErrBadStep for a range outside 1..v.Head or too long,
// the store's.
func (r *Replayer) Events(ctx context.Context, v View, from, to uint64) ([]Entry, error) {
	if from < 1 || to < from || to > v.Head || to-from >= MaxEvents {
		return nil, fmt.Errorf("%w: events %d to %d are not within 1 to %d, at most %d at a time", ErrBadStep, from, to, v.Head, MaxEvents)
	}
	hidden, err := r.firstHidden(ctx, v, to)
	if err != nil {
		return nil, err
	}
	after := from - 1
	out := make([]Entry, 0, to-from+1)
	for after < to {
		page, err := r.cfg.Store.Read(ctx, v.Game, after, int(to-after))
		if err != nil {
			return nil, fmt.Errorf("replay %s after %d: %w", v.Game, after, err)
		}
		if len(page) == 0 {
			return nil, fmt.Errorf("%w: %s ends at %d", ErrBadStep, v.Game, after)
		}
		for _, e := range page {
			ren, err := v.Rules.RenderEvent(e.Seq, EngineEvent(e), v.Viewer)
			if err != nil {
				return nil, fmt.Errorf("replay %s: %w", v.Game, err)
			}
			out = append(out, entry(e, ren, hidden == 0 || e.Seq < hidden))
			after = e.Seq
		}
	}
	return out, nil
}

// entry is e as rendered, with the chain's fields if chained.
func entry(e eventstore.Event, ren engine.Rendered, chained bool) Entry {
	en := Entry{Rendered: ren}
	if ren.Visibility == engine.Stub {
		return en
	}
	at := e.RecordedAt
	en.RecordedAt = &at
	if !chained {
		return en
	}
	hash, prev := e.Hash, e.PrevHash
	en.Hash, en.PrevHash = &hash, &prev
	en.Stored = &Stored{Type: e.Type, SchemaVersion: e.SchemaVersion, MessageID: e.MessageID, Data: string(e.Data), RecordedAtUS: e.RecordedAt.UnixMicro()}
	return en
}
