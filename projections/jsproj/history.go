package jsproj

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/projections"
)

// HistoryBucket is the history projection's default bucket.
const HistoryBucket = "playlog_history"

// History is the history projection on JetStream, in one key-value bucket
// (a Bucket): under the generation's prefix, "game.<id>" holds each game's
// projections.HistoryGame, and "user.<base64url(user)>.<end>.<id>" (end:
// the end time in Unix microseconds, 16 digits) a copy of it for each
// player of a finished game. It folds events with
// projections.EvolveHistory and answers projections.HistoryReader. Safe
// for concurrent use.
type History struct {
	b *Bucket
}

var (
	_ projections.Projection[*Tx] = (*History)(nil)
	_ projections.HistoryReader   = (*History)(nil)
)

// OpenHistory opens (or creates) the history bucket over nc; cfg.Bucket
// defaults to HistoryBucket.
func OpenHistory(ctx context.Context, nc *nats.Conn, cfg Config) (*History, error) {
	if cfg.Bucket == "" {
		cfg.Bucket = HistoryBucket
	}
	b, err := OpenBucket(ctx, nc, cfg)
	if err != nil {
		return nil, err
	}
	return &History{b: b}, nil
}

// Checkpoints is the model's bucket, for a projections.Runner.
func (h *History) Checkpoints() *Bucket { return h.b }

// Reset starts an empty model at the zero checkpoint (Bucket.Reset).
func (h *History) Reset(ctx context.Context) error { return h.b.Reset(ctx) }

func gameKey(id uuid.UUID) string { return "game." + id.String() }

func userPrefix(user string) string {
	return "user." + base64.RawURLEncoding.EncodeToString([]byte(user)) + "."
}

func userKey(user string, end time.Time, id uuid.UUID) string {
	return fmt.Sprintf("%s%016d.%s", userPrefix(user), end.UnixMicro(), id)
}

// parseUserKey reads the end time and game of a key after its user prefix.
func parseUserKey(rest string) (projections.HistoryGame, bool) {
	end, id, ok := strings.Cut(rest, ".")
	micros, err1 := strconv.ParseInt(end, 10, 64)
	game, err2 := uuid.Parse(id)
	if !ok || err1 != nil || err2 != nil {
		return projections.HistoryGame{}, false
	}
	return projections.HistoryGame{ID: game, EndedAt: time.UnixMicro(micros).UTC()}, true
}

// Apply implements projections.Projection. Only game_created, game_ended
// and seed_revealed are looked at; game_created reads nothing (a commit
// never applies an event twice, see projections/doc.go), the others read
// the game's record, usually from memory.
func (h *History) Apply(ctx context.Context, tx *Tx, e eventstore.Event) error {
	var rec *projections.HistoryGame
	switch e.Type {
	case engine.TypeGameCreated:
	case engine.TypeGameEnded, engine.TypeSeedRevealed:
		v, ok, err := tx.Get(ctx, gameKey(e.GameID))
		if err != nil {
			return err
		}
		if ok {
			rec = new(projections.HistoryGame)
			if err := json.Unmarshal(v, rec); err != nil {
				return fmt.Errorf("jsproj: record of %s: %w", e.GameID, err)
			}
		}
	default:
		return nil
	}
	next, changed := projections.EvolveHistory(rec, e)
	if !changed {
		return nil
	}
	v, err := json.Marshal(next)
	if err != nil {
		return err
	}
	// A finished game's record is read once more, for its seed.
	tx.Put(gameKey(e.GameID), v, e.Type == engine.TypeSeedRevealed)
	if next.Ended {
		for _, p := range distinct(next.Players) {
			tx.Put(userKey(p, next.EndedAt, e.GameID), v, true)
		}
	}
	return nil
}

func distinct(xs []string) []string {
	out := slices.Clone(xs)
	slices.Sort(out)
	return slices.Compact(out)
}

// History implements projections.HistoryReader. It lists the keys of
// every finished game of the user (one watch, without values: the key
// holds the end time), sorts them, and reads the page's values. Its cost
// grows with the user's history, by a key per game.
func (h *History) History(ctx context.Context, user string, q projections.HistoryQuery) (projections.HistoryPage, error) {
	cur, after, err := projections.ParseCursor(q.Before)
	if err != nil {
		return projections.HistoryPage{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, h.b.cfg.RequestTimeout)
	defer cancel()
	gen, err := h.b.generation(ctx)
	if err != nil {
		return projections.HistoryPage{}, err
	}
	prefix := genPrefix(gen) + userPrefix(user)
	lister, err := h.b.kv.ListKeysFiltered(ctx, prefix+">")
	if err != nil {
		return projections.HistoryPage{}, fmt.Errorf("jsproj: history of %q: %w", user, err)
	}
	defer lister.Stop()
	var games []projections.HistoryGame
	for k := range lister.Keys() {
		g, ok := parseUserKey(strings.TrimPrefix(k, prefix))
		if ok && (!after || cur.Before(g)) {
			games = append(games, g)
		}
	}
	if ctx.Err() != nil { // the lister ends early, without an error, when ctx does
		return projections.HistoryPage{}, fmt.Errorf("jsproj: history of %q: %w", user, ctx.Err())
	}
	slices.SortFunc(games, projections.NewestFirst)
	n := q.PageSize()
	games = games[:min(len(games), n+1)]
	for i, g := range games[:min(len(games), n)] { // the extra one only says there is more
		e, err := h.b.kv.Get(ctx, prefix+fmt.Sprintf("%016d.%s", g.EndedAt.UnixMicro(), g.ID))
		if err != nil {
			return projections.HistoryPage{}, fmt.Errorf("jsproj: history of %q: %w", user, err)
		}
		if err := json.Unmarshal(e.Value(), &games[i]); err != nil {
			return projections.HistoryPage{}, fmt.Errorf("jsproj: history of %q: %w", user, err)
		}
	}
	return projections.Page(games, n), nil
}

// Game returns the model's record of one game (finished or not), and
// whether it has one.
func (h *History) Game(ctx context.Context, id uuid.UUID) (projections.HistoryGame, bool, error) {
	gen, err := h.b.generation(ctx)
	if err != nil {
		return projections.HistoryGame{}, false, err
	}
	v, ok, err := h.b.get(ctx, genPrefix(gen)+gameKey(id))
	if err != nil || !ok {
		return projections.HistoryGame{}, false, err
	}
	var g projections.HistoryGame
	err = json.Unmarshal(v, &g)
	return g, true, err
}

// Runner returns a runner of the model over feed (opts.Name defaults to
// "history").
func (h *History) Runner(feed projections.Feeder, opts projections.RunnerOptions) (*projections.Runner[*Tx], error) {
	if opts.Name == "" {
		opts.Name = "history"
	}
	return projections.NewRunner[*Tx](feed, h, h.b, opts)
}
