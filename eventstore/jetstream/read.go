package jetstream

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/playlog/playlog/eventstore"
)

// Read implements eventstore.Store.
func (s *Store) Read(ctx context.Context, game uuid.UUID, after uint64, limit int) ([]eventstore.Event, error) {
	if err := s.check(game); err != nil {
		return nil, fmt.Errorf("read %s: %w", game, err)
	}
	limit = eventstore.ReadLimit(limit)
	g, ok := s.games.Get(game)
	if !ok && (after > 0 || limit <= coldReadMax) {
		// A resume of a game this process has not indexed, or a look at
		// its first events (its header): find the place without indexing
		// the game from its start (cold.go). A read of the whole game from
		// its start reads everything anyway, and builds the index.
		return s.readCold(ctx, game, after, limit)
	}
	if !ok {
		g = newGameIndex()
	}
	for attempt := 0; ; attempt++ {
		events, err := s.readIndexed(ctx, game, g, after, limit, attempt > 0)
		if !errors.Is(err, errGone) || attempt > 0 {
			return events, err
		}
		// The game was removed since this process indexed it (and maybe
		// stored again): read it afresh.
	}
}

// readIndexed is Read through g, rebuilt first if anew is set.
func (s *Store) readIndexed(ctx context.Context, game uuid.UUID, g *gameIndex, after uint64, limit int, anew bool) ([]eventstore.Event, error) {
	g.mu.Lock()
	if anew {
		g.reset()
	}
	// The refresh gets every message stored since the index was last
	// brought up to date (for a game new to this process, all of them).
	// When the events asked for start after what the index held, they are
	// among those: they are kept as the refresh goes, and not got a second
	// time.
	var got []eventstore.Event
	keep := func(r msgRef, m *nats.Msg) error {
		if r.first == 1 {
			got = got[:0] // the game's start (or its start anew)
		}
		if r.last <= after || len(got) >= limit {
			return nil
		}
		events, err := decodeMessage(game, r.streamSeq, m.Data)
		if err != nil {
			return err
		}
		for _, e := range events {
			if e.Seq > after && len(got) < limit {
				got = append(got, e)
			}
		}
		return nil
	}
	if g.head > after {
		keep = nil // the index has the first of them already: get them below
	}
	if err := s.refreshWith(ctx, game, g, keep); err != nil {
		g.mu.Unlock()
		return nil, s.errStore("read", game, err)
	}
	if g.head == 0 {
		g.mu.Unlock()
		return nil, fmt.Errorf("read %s: %w", game, eventstore.ErrGameNotFound)
	}
	if after >= g.head {
		g.mu.Unlock()
		return []eventstore.Event{}, nil
	}
	if n := len(got); n > 0 && got[0].Seq == after+1 && got[n-1].Seq == min(g.head, after+uint64(limit)) {
		g.mu.Unlock()
		return got, nil
	}
	// The messages holding seqs after+1 .. after+limit.
	first := g.locate(after + 1)
	last := g.locate(after + uint64(limit))
	if last == len(g.msgs) {
		last--
	}
	seqs := make([]uint64, 0, last-first+1)
	for _, m := range g.msgs[first : last+1] {
		seqs = append(seqs, m.streamSeq)
	}
	g.mu.Unlock()

	return s.decodeMessages(game, after, limit, 0, func(fn func(*nats.Msg, uint64) error) error {
		return s.directGetSeqs(ctx, game, seqs, fn)
	})
}

// readMessages reads up to count messages of game from stream sequence
// from on (stopping after stream sequence stop, if not 0) and returns up to
// limit of their events after seq after, which must continue at after+1.
func (s *Store) readMessages(ctx context.Context, game uuid.UUID, from uint64, count int, after uint64, limit int, stop uint64) ([]eventstore.Event, error) {
	return s.decodeMessages(game, after, limit, stop, func(fn func(*nats.Msg, uint64) error) error {
		return s.directGet(ctx, game, from, count, fn)
	})
}

// decodeMessages decodes the messages get hands it into up to limit events
// after seq after (which must continue at after+1), stopping after stream
// sequence stop if not 0.
func (s *Store) decodeMessages(game uuid.UUID, after uint64, limit int, stop uint64, get func(func(*nats.Msg, uint64) error) error) ([]eventstore.Event, error) {
	out := make([]eventstore.Event, 0, limit)
	err := get(func(m *nats.Msg, ss uint64) error {
		events, err := decodeMessage(game, ss, m.Data)
		if err != nil {
			return err
		}
		for _, e := range events {
			if e.Seq > after && len(out) < limit {
				out = append(out, e)
			}
		}
		if len(out) == limit || (stop > 0 && ss >= stop) {
			return errFull
		}
		return nil
	})
	if err != nil && err != errFull {
		return nil, s.errStore("read", game, err)
	}
	if len(out) == 0 || out[0].Seq != after+1 {
		return nil, fmt.Errorf("jetstream: read %s after %d: %w: log does not continue at %d", game, after, errFormat, after+1)
	}
	return out, nil
}
