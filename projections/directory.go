package projections

import (
	"context"
	"encoding/json"
	"sort"
	"sync"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore"
)

// GameSummary is what the directory knows of a game.
type GameSummary struct {
	ID      uuid.UUID `json:"game_id"`
	Rules   string    `json:"rules"`
	Players []string  `json:"players"`
	Ended   bool      `json:"ended"`
	Head    uint64    `json:"head"`
}

// Directory is the projection "which games exist, who plays them, which are
// still on": the answer to "list my active games". It is safe for
// concurrent use.
type Directory struct {
	feed Feeder

	mu     sync.RWMutex
	games  map[uuid.UUID]*GameSummary
	byUser map[string]map[uuid.UUID]struct{} // active games only
	pos    eventstore.Position
	seen   chan struct{} // closed and replaced whenever pos advances
}

// NewDirectory returns an empty directory over feed (the store, or a
// Shared over it); Run fills it.
func NewDirectory(feed Feeder) *Directory {
	return &Directory{
		feed: feed, games: map[uuid.UUID]*GameSummary{},
		byUser: map[string]map[uuid.UUID]struct{}{}, seen: make(chan struct{}),
	}
}

// Run keeps the directory up to date with the feed until ctx ends, and
// returns nil then. It runs the directory under a Runner: after a failure
// of the feed (a lost connection, a restarted database) it resumes where
// it stopped, with nothing skipped or applied twice, for as long as ctx
// lives. The checkpoint is held in memory with the model, under one lock:
// a new Directory starts from the start of the log. It returns early only
// when the store is closed (eventstore.ErrClosed). Call it once.
func (d *Directory) Run(ctx context.Context) error {
	return RunInMemory(ctx, d.feed, &d.mu, &d.pos, d.applyLocked, func() {
		close(d.seen)
		d.seen = make(chan struct{})
	}, RunnerOptions{Name: "directory"})
}

// applyLocked folds e into the directory; d.mu is held.
func (d *Directory) applyLocked(e eventstore.Event) {
	g := d.games[e.GameID]
	switch e.Type {
	case engine.TypeGameCreated:
		var c engine.GameCreated
		if json.Unmarshal(e.Data, &c) == nil && g == nil {
			g = &GameSummary{ID: e.GameID, Rules: c.Game, Players: c.Players}
			d.games[e.GameID] = g
			for _, p := range c.Players {
				if d.byUser[p] == nil {
					d.byUser[p] = map[uuid.UUID]struct{}{}
				}
				d.byUser[p][e.GameID] = struct{}{}
			}
		}
	case engine.TypeGameEnded:
		if g != nil {
			g.Ended = true
			for _, p := range g.Players {
				delete(d.byUser[p], e.GameID)
			}
		}
	}
	if g != nil && e.Seq > g.Head {
		g.Head = e.Seq
	}
}

// Active returns user's games that have not ended, in a stable order.
func (d *Directory) Active(user string) []GameSummary {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]GameSummary, 0, len(d.byUser[user]))
	for id := range d.byUser[user] {
		g := *d.games[id]
		g.Players = append([]string(nil), g.Players...)
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID.String() < out[j].ID.String() })
	return out
}

// Game returns the summary of one game.
func (d *Directory) Game(id uuid.UUID) (GameSummary, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	g, ok := d.games[id]
	if !ok {
		return GameSummary{}, false
	}
	return *g, true
}

// WaitFor blocks until the directory has applied game's event seq, or ctx
// ends: read-your-writes for callers that just appended.
func (d *Directory) WaitFor(ctx context.Context, game uuid.UUID, seq uint64) error {
	for {
		d.mu.RLock()
		g, seen := d.games[game], d.seen
		done := g != nil && g.Head >= seq
		d.mu.RUnlock()
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-seen:
		}
	}
}
