package play

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/playlog/playlog/internal/userid"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/internal/lru"
	"github.com/playlog/playlog/replay"
)

// Config configures a Service.
type Config struct {
	Store    eventstore.Store
	Registry *engine.Registry
	// SeedSecret derives every game's seed; at least 32 bytes, the same on
	// every process serving the store.
	SeedSecret []byte
	// CachedGames bounds the games kept in memory. Default 10000.
	CachedGames int
	// MaxAttempts bounds the appends of one command that conflict with
	// another's (contention); catching up with a log that moved on counts
	// none. Default 8.
	MaxAttempts int
	// NewID makes game ids. Default uuid.New.
	NewID func() uuid.UUID
	// Logger for operational messages. Default slog.Default().
	Logger *slog.Logger
	// Observer is told of every append, for metrics. Default: none.
	Observer Observer
	// Now is the clock commands are decided with: a timed game's deadlines
	// count from it (engine.Command.At). Default time.Now.
	Now func() time.Time
	// Sealer is told of every append, to sign the game's seals
	// (seal.Sealer). Default: none, nothing is sealed.
	Sealer Sealer
	// SnapshotEvery is how many events apart the state snapshots of a
	// game are stored (docs/snapshots.md). Default 100; negative: none
	// stored and none read.
	SnapshotEvery int
}

// Sealer is told of the events of every append play makes, as stored, and
// whether they end the game.
type Sealer interface {
	Appended(ctx context.Context, events []eventstore.Event, ended bool)
}

type noSealer struct{}

func (noSealer) Appended(context.Context, []eventstore.Event, bool) {}

func (c *Config) setDefaults() {
	if c.CachedGames == 0 {
		c.CachedGames = 10000
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 8
	}
	if c.NewID == nil {
		c.NewID = uuid.New
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Observer == nil {
		c.Observer = noObserver{}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sealer == nil {
		c.Sealer = noSealer{}
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = 100
	}
}

// Validate reports the first invalid setting.
func (c *Config) Validate() error {
	switch {
	case c.Store == nil:
		return errors.New("play: Store is required")
	case c.Registry == nil:
		return errors.New("play: Registry is required")
	case len(c.SeedSecret) < MinSeedSecret:
		return fmt.Errorf("play: SeedSecret is %d bytes; need at least %d", len(c.SeedSecret), MinSeedSecret)
	case c.CachedGames < 1 || c.MaxAttempts < 1:
		return errors.New("play: CachedGames and MaxAttempts must be positive")
	}
	return nil
}

// Service runs commands. It is safe for concurrent use; commands to one game
// from this process run one at a time, commands to different games in
// parallel.
type Service struct {
	cfg     Config
	games   *lru.Cache[uuid.UUID, *entry]
	headers *lru.Cache[uuid.UUID, Header]
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, games: lru.New[uuid.UUID, *entry](cfg.CachedGames),
		headers: lru.New[uuid.UUID, Header](cfg.CachedGames)}, nil
}

// Snapshot is a game at one seq. It is a value: later commands do not
// change it.
type Snapshot struct {
	ID    uuid.UUID
	Rules *engine.Game
	State engine.State
}

// Head is the seq of the last event folded into the snapshot.
func (s Snapshot) Head() uint64 { return s.State.Seq() }

// Result is what a command stored: its events (Duplicate if an earlier
// command with the same message id stored them) and the game after them.
type Result struct {
	Events    []eventstore.Event
	Duplicate bool
	Game      Snapshot
}

// MinSeedSecret is the shortest SeedSecret: 256 bits.
const MinSeedSecret = 32

// entry is one game's state in this process. mu serializes this process's
// commands to it. A cached entry is always loaded: it is cached only once
// the store has shown the game exists.
type entry struct {
	id    uuid.UUID
	mu    sync.Mutex
	rules *engine.Game
	state engine.State
	ids   map[string][2]uint64 // stored message id -> first, last seq
	// idsAfter: ids holds the message ids of the events after this seq
	// only (an entry restored from a snapshot; 0: of every event).
	idsAfter uint64
	head     eventstore.Hash // the hash of event state.Seq()
	seed     []byte          // the game's secret seed, derived once
}

// entry returns the game's entry, locked and loaded, and whether it was
// loaded from the store just now (so it is current). A miss loads the game
// into a new entry aside and caches it only once the store has the game, so
// ids of games that do not exist never evict games that do. If another
// goroutine cached the game meanwhile, its entry is used instead, so this
// process's commands to one game share one mutex.
func (s *Service) entry(ctx context.Context, id uuid.UUID) (*entry, bool, error) {
	if e, ok := s.games.Get(id); ok {
		e.mu.Lock()
		return e, false, nil
	}
	e := &entry{id: id, ids: map[string][2]uint64{}, seed: s.Seed(id)}
	e.mu.Lock()
	restored := s.restore(ctx, e)
	if _, err := s.catchUp(ctx, e); err != nil {
		e.mu.Unlock()
		return nil, false, err
	}
	if !restored && s.cfg.SnapshotEvery > 0 && e.state.Seq() >= uint64(s.cfg.SnapshotEvery) {
		s.putSnapshot(ctx, e) // a game from before snapshots, or imported
	}
	cached, added := s.games.Add(id, e)
	if added {
		return e, true, nil
	}
	e.mu.Unlock()
	cached.mu.Lock()
	return cached, false, nil
}

// Seed returns the game's secret seed.
func (s *Service) Seed(id uuid.UUID) []byte { return DeriveSeed(s.cfg.SeedSecret, id) }

// DeriveSeed is game id's secret seed under the server's seed secret:
// HMAC-SHA256(secret, "playlog/seed/v1" || id). An auditor holding the
// secret re-decides running games with it.
func DeriveSeed(secret []byte, id uuid.UUID) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("playlog/seed/v1"))
	m.Write(id[:])
	return m.Sum(nil)
}

// StoreMessageID scopes a client's message id to its actor, so two users
// choosing the same message id never collide.
func StoreMessageID(actor, messageID string) string {
	if messageID == "" {
		return ""
	}
	return actor + "/" + messageID
}

// Limits on what callers pass in.
const (
	MaxMessageIDLen = 64
	MaxActorLen     = userid.MaxLen
)

// Create starts a game of rules for players and returns it; creator must be
// one of the players. Errors: ErrBadRequest (unknown rules, bad players or
// config), ErrNotInGame, store errors.
func (s *Service) Create(ctx context.Context, rules string, players []string, config json.RawMessage, creator string) (Snapshot, error) {
	g, err := s.cfg.Registry.Lookup(rules)
	if err != nil {
		return Snapshot{}, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	for _, p := range players {
		// Each seat must be one some token can take (package auth checks
		// subjects with the same rule).
		if err := userid.Check(p); err != nil {
			return Snapshot{}, fmt.Errorf("%w: player id %.20q: %v", ErrBadRequest, p, err)
		}
	}
	if !contains(players, creator) {
		return Snapshot{}, fmt.Errorf("%w: the creator %q must be one of the players", ErrNotInGame, creator)
	}
	if len(config) == 0 {
		config = json.RawMessage(`{}`)
	}
	id := s.cfg.NewID()
	events, err := g.CreateAt(config, players, s.Seed(id), s.cfg.Now())
	if err != nil {
		return Snapshot{}, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	res, err := s.cfg.Store.Append(ctx, id, 0, pending(events, creator, "")...)
	if errors.Is(err, eventstore.ErrTooLarge) {
		// The config made it so: the client's to mend, not the server's.
		return Snapshot{}, fmt.Errorf("%w: the game's setup is too large to store: %v", ErrBadRequest, err)
	}
	if err != nil {
		return Snapshot{}, fmt.Errorf("create %s: %w", id, err)
	}
	state, err := g.Apply(engine.State{}, events...)
	if err != nil {
		return Snapshot{}, fmt.Errorf("create %s: %w", id, err)
	}
	s.cfg.Sealer.Appended(ctx, res.Events, state.Ended())
	s.games.Add(id, &entry{id: id, rules: g, state: state, ids: map[string][2]uint64{}, seed: s.Seed(id)})
	// Every join asks for the header (Reconnected): the game is known to
	// exist now, so keep it rather than read it back.
	created := state
	if len(events) > 1 {
		if created, err = g.Apply(engine.State{}, events[0]); err != nil {
			return Snapshot{}, fmt.Errorf("create %s: %w", id, err)
		}
	}
	s.headers.Add(id, Header{ID: id, Rules: g, Created: created})
	return Snapshot{ID: id, Rules: g, State: state}, nil
}

// Load returns the game as the log has it now. Errors: ErrGameNotFound,
// store errors.
func (s *Service) Load(ctx context.Context, id uuid.UUID) (Snapshot, error) {
	return s.load(ctx, id, true)
}

// Known returns the game as this process knows it: without a store read
// when the process holds the game (a game new to it is loaded as by Load).
// Another process's latest events may then be missing from it. A join's
// snapshot can be that state, since the hub's catch-up sends the viewer
// every event after it. Errors: ErrGameNotFound, store errors.
func (s *Service) Known(ctx context.Context, id uuid.UUID) (Snapshot, error) {
	return s.load(ctx, id, false)
}

// load returns the game as this process holds it, caught up with the log
// first if current (a game just loaded is).
func (s *Service) load(ctx context.Context, id uuid.UUID, current bool) (Snapshot, error) {
	e, fresh, err := s.entry(ctx, id)
	if err != nil {
		return Snapshot{}, err
	}
	defer e.mu.Unlock()
	if current && !fresh {
		if _, err := s.catchUp(ctx, e); err != nil {
			return Snapshot{}, err
		}
	}
	return Snapshot{ID: id, Rules: e.rules, State: e.state}, nil
}

// Header is what never changes about a game: its rules, and its state
// right after creation (players, config, seed commitment).
type Header struct {
	ID      uuid.UUID
	Rules   *engine.Game
	Created engine.State
}

// Header returns the game's header. It reads only the game's first event,
// once: a player resuming a long game costs no fold of its log. Errors:
// ErrGameNotFound, store errors.
func (s *Service) Header(ctx context.Context, id uuid.UUID) (Header, error) {
	if h, ok := s.headers.Get(id); ok {
		return h, nil
	}
	events, err := s.cfg.Store.Read(ctx, id, 0, 1)
	if errors.Is(err, eventstore.ErrGameNotFound) || err == nil && len(events) == 0 {
		return Header{}, fmt.Errorf("game %s: %w", id, ErrGameNotFound)
	}
	if err != nil {
		return Header{}, fmt.Errorf("load %s: %w", id, err)
	}
	first := replay.EngineEvent(events[0])
	rules, err := s.cfg.Registry.GameOf(first)
	if err != nil {
		return Header{}, fmt.Errorf("load %s: %w", id, err)
	}
	created, err := rules.Apply(engine.State{}, first)
	if err != nil {
		return Header{}, fmt.Errorf("load %s: %w", id, err)
	}
	h, _ := s.headers.Add(id, Header{ID: id, Rules: rules, Created: created})
	return h, nil
}

// Viewer decides how user sees the game: as a player, or (spectate) as a
// spectator. Errors: ErrNotInGame if user joins as a player a game they do
// not play; engine.ErrActionNotAllowed if a player asks to spectate their
// own game.
func (h Header) Viewer(user string, spectate bool) (engine.Viewer, error) {
	return viewer(h.ID, h.Created, user, spectate)
}

// Viewer is Service.Viewer for a game already loaded: the same rules, no
// I/O.
func (g Snapshot) Viewer(user string, spectate bool) (engine.Viewer, error) {
	return viewer(g.ID, g.State, user, spectate)
}

func viewer(id uuid.UUID, s engine.State, user string, spectate bool) (engine.Viewer, error) {
	switch isPlayer := s.IsPlayer(user); {
	case !spectate && !isPlayer:
		return engine.Viewer{}, fmt.Errorf("%w; spectate it instead", notInGame(id, user))
	case !spectate:
		return engine.AsPlayer(user), nil
	case isPlayer:
		return engine.Viewer{}, fmt.Errorf("%w: %q plays game %s: players join their own game as players, not as spectators",
			engine.ErrActionNotAllowed, user, id)
	}
	return engine.AsSpectator(), nil
}

func notInGame(id uuid.UUID, user string) error {
	return fmt.Errorf("%q is %w %s", user, ErrNotInGame, id)
}

// Execute runs actor's action in game id. actor must be one of the game's
// players. messageID ("" for none) makes it idempotent: if actor already
// sent messageID to this game, Execute appends nothing and returns the
// events stored for it (Duplicate set) when the action is the same command,
// canonically, and ErrMessageIDReused when it is another one. Rejections
// wrap the engine's sentinels (engine.ErrNotYourTurn, ...); other errors:
// ErrBadRequest, ErrGameNotFound, ErrNotInGame, ErrMessageIDReused, ErrBusy,
// store errors.
func (s *Service) Execute(ctx context.Context, id uuid.UUID, actor string, action json.RawMessage, messageID string) (Result, error) {
	if len(messageID) > MaxMessageIDLen || len(actor) > MaxActorLen {
		return Result{}, fmt.Errorf("%w: message id or actor too long", ErrBadRequest)
	}
	return s.execute(ctx, id, actor, action, messageID, func(st engine.State) error {
		if !st.IsPlayer(actor) { // players never change: no need to catch up
			return notInGame(id, actor)
		}
		return nil
	})
}

// System executes a command of the system's (engine.System), not a
// player's: a timeout or a grace of a timed game. messageID should name
// the command deterministically (the game's turn), so that every node
// may send it and the log takes it once. Errors as Execute's.
func (s *Service) System(ctx context.Context, id uuid.UUID, action json.RawMessage, messageID string) (Result, error) {
	return s.execute(ctx, id, engine.System, action, messageID, func(engine.State) error { return nil })
}

// execute runs one command of actor, once allowed says actor may send it.
func (s *Service) execute(ctx context.Context, id uuid.UUID, actor string, action json.RawMessage, messageID string, allowed func(engine.State) error) (Result, error) {
	storeID := StoreMessageID(actor, messageID)
	e, _, err := s.entry(ctx, id)
	if err != nil {
		return Result{}, err
	}
	defer e.mu.Unlock()
	if err := allowed(e.state); err != nil {
		return Result{}, err
	}
	cmd := engine.Command{Actor: actor, Action: action, At: s.cfg.Now()}
	// attempt counts appends that conflicted; a round that only caught up
	// with the log (the state was behind, nothing was appended) is no
	// attempt, and is bounded by the log's own end.
	for attempt := 0; attempt < s.cfg.MaxAttempts; {
		if r, ok := e.ids[storeID]; ok && storeID != "" {
			return s.duplicate(ctx, e, r, cmd, messageID)
		}
		decided, err := e.rules.Decide(e.state, cmd, e.seed)
		if err != nil {
			// The state may be behind the log (another process moved the
			// game on, perhaps with this very command): look before refusing.
			moved, cerr := s.catchUp(ctx, e)
			if cerr != nil {
				return Result{}, cerr
			}
			if moved {
				continue
			}
			// Restored from a snapshot, e knows the newer message ids
			// only: this may be a retry of an older command.
			if storeID != "" && e.idsAfter > 0 {
				if err := s.learnIDs(ctx, e); err != nil {
					return Result{}, err
				}
				if _, ok := e.ids[storeID]; ok {
					continue
				}
			}
			return Result{}, err
		}
		start := time.Now()
		res, err := s.cfg.Store.Append(ctx, id, e.state.Seq(), pending(decided, actor, storeID)...)
		s.cfg.Observer.Appended(time.Since(start), attempt, err)
		switch {
		case err == nil && !res.Duplicate:
			next, aerr := e.rules.Apply(e.state, decided...)
			if aerr != nil {
				return Result{}, fmt.Errorf("apply own events to %s: %w", id, aerr)
			}
			e.state, e.head = next, res.Events[len(res.Events)-1].Hash
			if storeID != "" {
				e.ids[storeID] = [2]uint64{res.Events[0].Seq, res.Last()}
			}
			if every := uint64(s.cfg.SnapshotEvery); s.cfg.SnapshotEvery > 0 && (res.Events[0].Seq-1)/every != res.Last()/every {
				s.putSnapshot(ctx, e)
			}
			s.cfg.Sealer.Appended(ctx, res.Events, next.Ended())
			return Result{Events: res.Events, Game: Snapshot{ID: id, Rules: e.rules, State: e.state}}, nil
		case err == nil: // the store knew the message id: it ran elsewhere
			if err := sameCommand(e, res.Events, cmd, messageID); err != nil {
				return Result{}, err
			}
			if _, err := s.catchUp(ctx, e); err != nil {
				return Result{}, err
			}
			s.sealAgain(ctx, e, res.Events)
			return Result{Events: res.Events, Duplicate: true, Game: Snapshot{ID: id, Rules: e.rules, State: e.state}}, nil
		case errors.Is(err, eventstore.ErrConflict):
			attempt++
			if _, err := s.catchUp(ctx, e); err != nil {
				return Result{}, err
			}
		default:
			return Result{}, fmt.Errorf("execute in %s: %w", id, err)
		}
	}
	return Result{}, fmt.Errorf("%w: game %s after %d attempts", ErrBusy, id, s.cfg.MaxAttempts)
}

// duplicate answers a command whose message id e's log holds at seqs r: the
// stored events, if they are cmd's.
func (s *Service) duplicate(ctx context.Context, e *entry, r [2]uint64, cmd engine.Command, messageID string) (Result, error) {
	events, err := s.cfg.Store.Read(ctx, e.id, r[0]-1, int(r[1]-r[0]+1))
	if err != nil {
		return Result{}, fmt.Errorf("read command of %s: %w", e.id, err)
	}
	if err := sameCommand(e, events, cmd, messageID); err != nil {
		return Result{}, err
	}
	s.sealAgain(ctx, e, events)
	return Result{Events: events, Duplicate: true, Game: Snapshot{ID: e.id, Rules: e.rules, State: e.state}}, nil
}

// sealAgain tells the sealer of a command's stored events once more when a
// retry finds them: the append that stored them may have failed to answer
// (a lost acknowledgement), and then nobody sealed them. Seals are
// deterministic and stored once, so telling twice costs a store write at
// most. Only a command that ended the game, or crossed a checkpoint, is
// sealed at once; the others wait as any append does.
func (s *Service) sealAgain(ctx context.Context, e *entry, events []eventstore.Event) {
	if len(events) == 0 {
		return
	}
	ended := e.state.Ended() && events[len(events)-1].Seq == e.state.Seq()
	s.cfg.Sealer.Appended(ctx, events, ended)
}

// sameCommand checks that stored, the events a message id already stored in
// e's game, are cmd's: their first event, the engine's action record, holds
// cmd's actor and its action in canonical form. Errors: ErrMessageIDReused.
func sameCommand(e *entry, stored []eventstore.Event, cmd engine.Command, messageID string) error {
	if len(stored) > 0 && stored[0].Type == engine.TypeAction {
		var was engine.ActionTaken
		if json.Unmarshal(stored[0].Data, &was) == nil && was.Actor == cmd.Actor {
			now, err := e.rules.DecodeAction(cmd.Action)
			if err == nil && bytes.Equal(canonical(e.rules, was.Action), now) {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: message id %q in game %s", ErrMessageIDReused, messageID, e.id)
}

// canonical is a stored action in today's canonical form (it was canonical
// when stored; the rules' encoding may have changed since).
func canonical(rules *engine.Game, action json.RawMessage) json.RawMessage {
	if c, err := rules.DecodeAction(action); err == nil {
		return c
	}
	return action
}

// catchUp folds the events stored after e's state and reports whether there
// were any. The caller holds e.mu.
func (s *Service) catchUp(ctx context.Context, e *entry) (bool, error) {
	moved := false
	for {
		events, err := s.cfg.Store.Read(ctx, e.id, e.state.Seq(), 0)
		if errors.Is(err, eventstore.ErrGameNotFound) {
			return false, fmt.Errorf("game %s: %w", e.id, ErrGameNotFound)
		}
		if err != nil {
			return moved, fmt.Errorf("load %s: %w", e.id, err)
		}
		if len(events) == 0 {
			return moved, nil
		}
		if err := s.fold(e, events); err != nil {
			return moved, err
		}
		moved = true
	}
}

// fold folds events, the next after e's state, into e.
func (s *Service) fold(e *entry, events []eventstore.Event) error {
	var err error
	if e.rules == nil {
		if e.rules, err = s.cfg.Registry.GameOf(replay.EngineEvent(events[0])); err != nil {
			return fmt.Errorf("load %s: %w", e.id, err)
		}
	}
	batch := make([]engine.Event, len(events))
	for i, ev := range events {
		batch[i] = replay.EngineEvent(ev)
		addID(e.ids, ev)
	}
	next, err := e.rules.Apply(e.state, batch...)
	if err != nil {
		return fmt.Errorf("fold %s: %w", e.id, err)
	}
	e.state, e.head = next, events[len(events)-1].Hash
	return nil
}

func addID(ids map[string][2]uint64, ev eventstore.Event) {
	if ev.MessageID == "" {
		return
	}
	r := ids[ev.MessageID]
	if r[0] == 0 {
		r[0] = ev.Seq
	}
	r[1] = ev.Seq
	ids[ev.MessageID] = r
}

// restore loads e, new and empty, from the game's state snapshot, and
// reports whether it did: the snapshot's state, checked against the log
// by the hash of its event, and the events after it. Any doubt (no
// snapshot, a stale one, one of another log) leaves e empty, to be folded
// from the start. The caller holds e.mu.
func (s *Service) restore(ctx context.Context, e *entry) bool {
	if s.cfg.SnapshotEvery < 0 {
		return false
	}
	snap, ok, err := s.cfg.Store.Snapshot(ctx, e.id)
	if err != nil {
		s.cfg.Logger.Warn("play: reading a snapshot failed; folding the log", "game", e.id, "err", err)
	}
	if !ok {
		return false
	}
	events, err := s.cfg.Store.Read(ctx, e.id, snap.Seq-1, 0)
	if errors.Is(err, eventstore.ErrGameNotFound) {
		return false // a removed game's snapshot, left behind
	}
	if err == nil {
		err = eventstore.SnapshotOf(snap, events)
	}
	var rules *engine.Game
	var st engine.State
	if err == nil {
		rules, st, err = s.cfg.Registry.RestoreState(snap.Data)
	}
	if err == nil && st.Seq() != snap.Seq {
		err = fmt.Errorf("the snapshot's state is at seq %d", st.Seq())
	}
	if err != nil {
		s.cfg.Logger.Warn("play: snapshot not used; folding the log", "game", e.id, "seq", snap.Seq, "err", err)
		return false
	}
	// The events after the snapshot fold into a scratch entry, so that e
	// stays empty unless they do.
	r := &entry{id: e.id, rules: rules, state: st, head: snap.Hash, ids: map[string][2]uint64{}}
	if len(events) > 1 {
		if err := s.fold(r, events[1:]); err != nil {
			s.cfg.Logger.Warn("play: the events after a snapshot do not fold; folding the log", "game", e.id, "seq", snap.Seq, "err", err)
			return false
		}
	}
	e.rules, e.state, e.head, e.ids, e.idsAfter = r.rules, r.state, r.head, r.ids, snap.Seq
	return true
}

// putSnapshot stores e's state as the game's snapshot. A failure costs
// only time: it is logged, and the next snapshot tries again.
func (s *Service) putSnapshot(ctx context.Context, e *entry) {
	data, err := e.rules.EncodeState(e.state)
	if err != nil {
		s.cfg.Logger.Debug("play: no snapshot", "game", e.id, "err", err)
		return
	}
	snap := eventstore.Snapshot{GameID: e.id, Seq: e.state.Seq(), Hash: e.head, Data: data}
	if err := s.cfg.Store.PutSnapshot(ctx, snap); err != nil {
		s.cfg.Logger.Warn("play: storing a snapshot failed", "game", e.id, "seq", snap.Seq, "err", err)
	}
}

// learnIDs reads the message ids of the events up to e.idsAfter, which an
// entry restored from a snapshot does not know. The caller holds e.mu.
func (s *Service) learnIDs(ctx context.Context, e *entry) error {
	older := map[string][2]uint64{}
	for after := uint64(0); after < e.idsAfter; {
		events, err := s.cfg.Store.Read(ctx, e.id, after, int(min(e.idsAfter-after, eventstore.MaxReadLimit)))
		if err != nil {
			return fmt.Errorf("load %s: %w", e.id, err)
		}
		if len(events) == 0 {
			return fmt.Errorf("load %s: the log ends at seq %d, before its snapshot's seq %d", e.id, after, e.idsAfter)
		}
		for _, ev := range events {
			addID(older, ev)
		}
		after = events[len(events)-1].Seq
	}
	for id, r := range e.ids { // commands after the snapshot
		older[id] = r
	}
	e.ids, e.idsAfter = older, 0
	return nil
}

func pending(events []engine.Event, actor, messageID string) []eventstore.Pending {
	out := make([]eventstore.Pending, len(events))
	for i, ev := range events {
		a := ev.Actor
		if a == "" {
			a = actor
		}
		out[i] = eventstore.Pending{Type: ev.Type, SchemaVersion: ev.Version, Actor: a, MessageID: messageID, Data: ev.Data}
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// Reconnected tells play that player has come back to game. In a timed
// game whose running turn waits for them, the system asks for their grace
// (engine: a deadline_extended event when they have less than the grace
// left and the turn has graces to give); the engine decides, and a grace
// it refuses is no error. Untimed games cost only their cached header.
func (s *Service) Reconnected(ctx context.Context, id uuid.UUID, player string) error {
	h, err := s.Header(ctx, id)
	if err != nil || h.Created.Settings().TurnTimer == nil {
		return err
	}
	g, err := s.Load(ctx, id)
	if err != nil {
		return err
	}
	t, ok := g.State.Turn()
	if !ok || !contains(t.Players, player) {
		return nil
	}
	action, _ := json.Marshal(map[string]any{"type": engine.ActionGrace, "player": player, "turn": t.Number})
	_, err = s.System(ctx, id, action, fmt.Sprintf("grace/%d/%d", t.Number, t.Graces+1))
	if engine.IsRejection(err) {
		return nil
	}
	return err
}
