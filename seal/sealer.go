package seal

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
)

// Policy says when the server seals. The zero value means the defaults.
type Policy struct {
	// Every: an append that crosses a multiple of Every events is sealed
	// as a checkpoint at once. Default 100.
	Every uint64
	// Interval: a game with events no seal covers yet gets a checkpoint
	// once the oldest of them is Interval old, even if no more come.
	// Default 60 s.
	Interval time.Duration
	// MaxPending bounds the games waiting for an Interval checkpoint;
	// past it, a game that would wait is sealed at once instead. Default
	// 100 000 (about 300 bytes each: docs/performance.md, "Capacity").
	MaxPending int
}

func (p *Policy) setDefaults() {
	if p.Every == 0 {
		p.Every = 100
	}
	if p.Interval == 0 {
		p.Interval = time.Minute
	}
	if p.MaxPending == 0 {
		p.MaxPending = 100_000
	}
}

// Sealer signs and stores the server's seals as Policy says: a final seal
// right after the append that ends a game, checkpoints as the game goes
// on. Play tells it of every append (Appended); Run seals the games whose
// unsealed events have waited Interval. Safe for concurrent use.
//
// A seal that fails to store is logged and retried by Run (every
// Interval/4) until it is stored or the process stops. A process that
// dies first leaves the tail unsealed: the audit reports an ended game
// without its final seal (docs/lifecycle.md).
type Sealer struct {
	signer *Signer
	store  eventstore.Sealed
	policy Policy
	now    func() time.Time
	log    *slog.Logger

	mu      sync.Mutex
	pending map[uuid.UUID]waiting // guarded by mu
	failed  int                   // guarded by mu: seals that failed to store, for tests and metrics
}

// waiting is a game's newest unsealed event (only what a seal signs: its
// game, seq and hash) and since when the oldest of its unsealed events has
// waited.
type waiting struct {
	last  eventstore.Event // GameID, Seq and Hash only
	kind  eventstore.SealKind
	since time.Time
}

// NewSealer returns a Sealer that signs with signer and stores in store.
// now and log default to time.Now and slog.Default().
func NewSealer(signer *Signer, store eventstore.Sealed, p Policy, now func() time.Time, log *slog.Logger) *Sealer {
	p.setDefaults()
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Sealer{signer: signer, store: store, policy: p, now: now, log: log, pending: map[uuid.UUID]waiting{}}
}

// Policy is the sealer's policy, defaults filled in.
func (s *Sealer) Policy() Policy { return s.policy }

// Appended is told of every append this process made to a game: events as
// stored, and whether they end the game. A final seal or an Every
// checkpoint is signed and stored before it returns (one more store write
// for the command that ends a game, and one per Every events); any other
// append waits for Run.
func (s *Sealer) Appended(ctx context.Context, events []eventstore.Event, ended bool) {
	if len(events) == 0 {
		return
	}
	e := events[len(events)-1]
	last := eventstore.Event{GameID: e.GameID, Seq: e.Seq, Hash: e.Hash}
	first := events[0].Seq
	kind := eventstore.SealCheckpoint
	switch {
	case ended:
		kind = eventstore.SealFinal
	case (first-1)/s.policy.Every == last.Seq/s.policy.Every:
		s.wait(ctx, last)
		return
	}
	s.mu.Lock()
	if w, ok := s.pending[last.GameID]; ok && w.last.Seq <= last.Seq {
		delete(s.pending, last.GameID) // this seal covers what waited
	}
	s.mu.Unlock()
	if err := s.seal(ctx, last, kind); err != nil {
		s.retry(last, kind)
	}
}

// wait records that last is not sealed yet. With MaxPending games
// waiting already, a new one is sealed at once instead.
func (s *Sealer) wait(ctx context.Context, last eventstore.Event) {
	s.mu.Lock()
	w, ok := s.pending[last.GameID]
	if !ok && len(s.pending) >= s.policy.MaxPending {
		s.mu.Unlock()
		if err := s.seal(ctx, last, eventstore.SealCheckpoint); err != nil {
			s.retry(last, eventstore.SealCheckpoint)
		}
		return
	}
	if !ok {
		w.since = s.now()
	}
	if w.kind != eventstore.SealFinal && last.Seq >= w.last.Seq { // a retried command's older events change nothing
		w.last, w.kind = last, eventstore.SealCheckpoint
	}
	s.pending[last.GameID] = w
	s.mu.Unlock()
}

// retry keeps a seal that failed to store for Run to store again.
func (s *Sealer) retry(last eventstore.Event, kind eventstore.SealKind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failed++
	w, ok := s.pending[last.GameID]
	if ok && w.last.Seq > last.Seq && kind != eventstore.SealFinal {
		return // a later event waits already
	}
	s.pending[last.GameID] = waiting{last: last, kind: kind, since: s.now().Add(-s.policy.Interval)}
}

// seal signs and stores one seal.
func (s *Sealer) seal(ctx context.Context, last eventstore.Event, kind eventstore.SealKind) error {
	sl, err := s.signer.Sign(last, kind, s.now())
	if err == nil {
		err = s.store.PutSeal(ctx, sl)
	}
	if err != nil && !errors.Is(err, eventstore.ErrGameNotFound) {
		s.log.Warn("seal not stored; will retry", "game", last.GameID, "seq", last.Seq, "kind", kind, "err", err)
		return err
	}
	return nil
}

// Failed is how many seals failed to store (each is retried).
func (s *Sealer) Failed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed
}

// Pending is how many games wait for a checkpoint.
func (s *Sealer) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

// Run seals, every Interval/4, the games whose unsealed events have waited
// Interval, until ctx is done; then it seals everything still waiting
// (bounded by a few seconds), so a clean shutdown leaves nothing unsealed.
func (s *Sealer) Run(ctx context.Context) {
	tick := time.NewTicker(max(s.policy.Interval/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			flush, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			s.sealDue(flush, time.Time{})
			cancel()
			return
		case <-tick.C:
			s.sealDue(ctx, s.now().Add(-s.policy.Interval))
		}
	}
}

// sealDue seals the games waiting since before cutoff (all of them for the
// zero cutoff).
func (s *Sealer) sealDue(ctx context.Context, cutoff time.Time) {
	s.mu.Lock()
	var due []waiting
	for id, w := range s.pending {
		if cutoff.IsZero() || !w.since.After(cutoff) {
			due = append(due, w)
			delete(s.pending, id)
		}
	}
	s.mu.Unlock()
	for _, w := range due {
		// On a cancelled ctx seal fails at once and retry keeps the game
		// for Run's last flush.
		if err := s.seal(ctx, w.last, w.kind); err != nil {
			s.retry(w.last, w.kind)
		}
	}
}
