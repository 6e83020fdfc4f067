package jetstream

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/internal/lru"
)

// gameIndex is this process's index of one game's messages. It may lag the
// log (another process appended); refresh brings it up to date, and every
// publish is guarded by the server, so a lagging index is never trusted to
// decide that a write is safe.
//
// An index is cached only once the log has shown that its game exists (see
// index and remember): lookups of games that do not exist never evict games
// that do. Two goroutines missing the same game at once may each build an
// index; the first remembered stays cached, the other serves only its own
// call, and the server's guard keeps both correct.
type gameIndex struct {
	mu       sync.Mutex // held across a refresh or an append of this game
	head     uint64     // seq of the last known event; 0: none known
	headHash eventstore.Hash
	lastSS   uint64   // stream sequence of the last known message
	msgs     []msgRef // known messages, in order
	ids      map[string]int
	offered  bool // remember has offered it to the cache
}

// locate returns the index of the message holding seq, or len(msgs).
func (g *gameIndex) locate(seq uint64) int {
	return sort.Search(len(g.msgs), func(i int) bool { return g.msgs[i].last >= seq })
}

func (g *gameIndex) add(r msgRef) {
	g.msgs = append(g.msgs, r)
	if r.msgID != "" {
		if g.ids == nil {
			g.ids = map[string]int{}
		}
		g.ids[r.msgID] = len(g.msgs) - 1
	}
	g.head, g.headHash, g.lastSS = r.last, r.lastHash, r.streamSeq
}

// reset empties g: the log lost the messages it indexed (Remove). The
// caller holds g.mu. A cached index stays cached, empty, which is what the
// log now holds for the game.
func (g *gameIndex) reset() {
	g.head, g.headHash, g.lastSS, g.msgs, g.ids = 0, eventstore.Hash{}, 0, nil, nil
}

func newGameCache(max int) *lru.Cache[uuid.UUID, *gameIndex] {
	return lru.New[uuid.UUID, *gameIndex](max)
}

func newGameIndex() *gameIndex { return &gameIndex{} }

// index returns this process's index of game: the cached one, or on a miss
// a new, empty one that is not cached. refresh and a stored append cache it
// once the log has shown the game exists.
func (s *Store) index(game uuid.UUID) *gameIndex {
	if g, ok := s.games.Get(game); ok {
		return g
	}
	return newGameIndex()
}

// remember caches g as game's index if the log holds the game (g knows an
// event) and no other index of it is cached; it is a no-op for an index
// already offered. The caller holds g.mu.
func (s *Store) remember(game uuid.UUID, g *gameIndex) {
	if g.offered || g.head == 0 {
		return
	}
	s.games.Add(game, g)
	g.offered = true
}

// refresh reads the index headers of every message of the game stored after
// g.lastSS, and caches g once it knows the game exists. On a replicated
// stream it reads on until it holds the game's last message as the leader
// knows it (caughtUp). The caller holds g.mu.
func (s *Store) refresh(ctx context.Context, game uuid.UUID, g *gameIndex) error {
	return s.refreshWith(ctx, game, g, nil)
}

// refreshWith is refresh, handing also each message it indexes (after
// indexing it), so that a read need not get it again. A message of seq 1
// after others means the game was stored anew: also must forget what it
// was handed before. also returns errFull to stop the refresh there, when
// it holds all a read asked for: the index then ends at that message,
// which it may (a lagging index is refreshed again before it is trusted),
// and the next refresh goes on from it.
func (s *Store) refreshWith(ctx context.Context, game uuid.UUID, g *gameIndex, also func(r msgRef, m *nats.Msg) error) error {
	fresh := g.lastSS == 0
	var before uint64 // the last message indexed before a start anew
	read := func() error {
		return s.directGet(ctx, game, g.lastSS+1, 0, func(m *nats.Msg, ss uint64) error {
			r, err := headerRef(m.Header.Get(hdrIndex), ss)
			if err != nil {
				return err
			}
			if r.first == 1 && g.head > 0 {
				// The game's first message after the ones indexed: they were
				// removed, and the game stored anew (Remove, then Import),
				// which purges the old log first. Read from the stream's
				// start, the old log is still there: a second log was
				// published around the append's guard.
				if fresh {
					return fmt.Errorf("%w at stream seq %d: game %s starts again at seq 1 after %d events still stored: a second log beside the first", errFormat, ss, game, g.head)
				}
				before = g.lastSS
				g.reset()
			}
			if r.first != g.head+1 {
				return fmt.Errorf("%w at stream seq %d: seq %d follows %d", errFormat, ss, r.first, g.head)
			}
			g.add(r)
			if also != nil {
				return also(r, m)
			}
			return nil
		})
	}
	err := read()
	if err == nil {
		err = s.caughtUp(ctx, game, func() uint64 { return g.lastSS }, read)
	}
	if err == errFull {
		// The read has a full page: what follows it is not asked for, so
		// a replica behind the leader misses nothing it must return.
		err = nil
	}
	if err == nil && before > 0 {
		if err = s.checkGone(ctx, game, before); err != nil {
			g.reset() // read afresh, the next refresh finds both logs again
		}
	}
	if err == nil {
		s.remember(game, g)
	}
	return err
}

// checkGone fails if the game's message at stream seq ss, indexed before
// the game started anew, is still stored: then the new log is a second one
// beside it, not a log stored after a removal (see refreshWith).
func (s *Store) checkGone(ctx context.Context, game uuid.UUID, ss uint64) error {
	m, _, found, err := s.directMsg(ctx, game.String(), map[string]any{"seq": ss})
	switch {
	case err != nil:
		return err
	case found && m.Header.Get("Nats-Subject") == s.subject(game):
		return fmt.Errorf("%w: game %s starts again at seq 1 while its message at stream seq %d is still stored: a second log beside the first", errFormat, game, ss)
	}
	return nil
}

// caughtUp makes a read on a replicated stream current. Direct gets are
// answered by any replica, and a follower applies what the leader committed
// a little after it was acknowledged: a read may miss the newest appends,
// even ones acknowledged to someone before it began (a player told of the
// other's move, whose node then reads the game). The leader says where the
// game ends; while what was read, at, ends before that, read is called
// again, with backoff, for at most RequestTimeout. On one replica it does
// nothing.
func (s *Store) caughtUp(ctx context.Context, game uuid.UUID, at func() uint64, read func() error) error {
	if !s.replicated() {
		return nil
	}
	last, found, err := s.leaderLast(ctx, game)
	if err != nil || !found {
		return err
	}
	return s.readAgain(ctx, func() bool { return at() < last.streamSeq }, read,
		func() string { return fmt.Sprintf("stream seq %d of %s", last.streamSeq, game) })
}

// readAgain calls read again, with backoff, while behind reports that what
// it read is short of what the leader holds, for at most RequestTimeout;
// then it fails with errLagging, saying what was missing.
func (s *Store) readAgain(ctx context.Context, behind func() bool, read func() error, missing func() string) error {
	deadline := time.Now().Add(s.cfg.RequestTimeout)
	for wait := time.Millisecond; behind(); wait = min(2*wait, 100*time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %s not read within %v", errLagging, missing(), s.cfg.RequestTimeout)
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
		if err := read(); err != nil {
			return err
		}
	}
	return nil
}

// errLagging: the replicas answering direct gets stayed behind the leader
// for RequestTimeout.
var errLagging = errors.New("the replicas answering direct gets lag behind the stream's leader")

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// current brings g up to the game's last message as the log holds it now,
// for an answer about the game's existence or head: it asks for that last
// message (one request, as a refresh that finds nothing new costs), then
// refreshes only if more came. A game another process removed since it was
// indexed leaves g empty, so that it is not found; one removed and stored
// anew is indexed afresh. (A refresh alone reads only what follows the
// indexed messages, and finds nothing either way.) The caller holds g.mu.
func (s *Store) current(ctx context.Context, game uuid.UUID, g *gameIndex) error {
	last, found, err := s.lastRef(ctx, game)
	switch {
	case err != nil:
		return err
	case !found:
		g.reset()
		return nil
	case last.streamSeq == g.lastSS:
		return nil
	case last.streamSeq < g.lastSS:
		g.reset()
	}
	return s.refresh(ctx, game, g)
}

// reindex rebuilds g from the log, for a game whose indexed messages are
// gone (errGone). The caller holds g.mu.
func (s *Store) reindex(ctx context.Context, game uuid.UUID, g *gameIndex) error {
	g.reset()
	return s.refresh(ctx, game, g)
}
