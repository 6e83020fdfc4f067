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
	// The events asked for among them are kept as the refresh goes, not
	// got a second time, and the refresh stops once it holds the last of
	// them: a long game read from its start in pages gets each message
	// once. Only the events the index held before (up to known) are got
	// below.
	known := g.head
	want := after + uint64(limit) // the last seq asked for
	var got []eventstore.Event
	keep := func(r msgRef, m *nats.Msg) error {
		if r.first == 1 {
			got, known = got[:0], 0 // the game's start (or its start anew)
		}
		if r.last <= after {
			return nil
		}
		events, err := decodeMessage(game, r.streamSeq, m.Data)
		if err != nil {
			return err
		}
		for _, e := range events {
			if e.Seq > after && e.Seq <= want {
				got = append(got, e)
			}
		}
		if r.last >= want {
			return errFull
		}
		return nil
	}
	if known >= want {
		keep = nil // the index holds them all: get them below
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
	if known <= after {
		g.mu.Unlock() // all of them came with the refresh
		if len(got) == 0 || got[0].Seq != after+1 {
			return nil, fmt.Errorf("jetstream: read %s after %d: %w: log does not continue at %d", game, after, errFormat, after+1)
		}
		return got, nil
	}
	// The messages holding seqs after+1 .. known (or want), which the
	// index held before the refresh; got follows them.
	first := g.locate(after + 1)
	last := g.locate(min(known, want))
	if last == len(g.msgs) {
		last-- // the game was stored anew, shorter
	}
	seqs := make([]uint64, 0, last-first+1)
	for _, m := range g.msgs[first : last+1] {
		seqs = append(seqs, m.streamSeq)
	}
	g.mu.Unlock()

	out, err := s.decodeMessages(game, after, limit, 0, func(fn func(*nats.Msg, uint64) error) error {
		return s.directGetSeqs(ctx, game, seqs, fn)
	})
	if err != nil {
		return nil, err
	}
	for _, e := range got {
		if len(out) == limit {
			break
		}
		if e.Seq == out[len(out)-1].Seq+1 {
			out = append(out, e)
		}
	}
	return out, nil
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
