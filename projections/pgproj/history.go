package pgproj

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/projections"
)

// HistoryName is the history projection's name in projection_checkpoints.
const HistoryName = "history"

// History is the history projection on PostgreSQL: tables history_games
// and history_players (migration 002), checkpoint "history". It folds
// events as projections.EvolveHistory does, in SQL, and answers
// projections.HistoryReader. Safe for concurrent use.
type History struct {
	pool *pgxpool.Pool
	cp   *Checkpoints
}

var (
	_ projections.Projection[*Tx] = (*History)(nil)
	_ projections.HistoryReader   = (*History)(nil)
)

// NewHistory returns the history model in pool's database (see
// NewCheckpoints).
func NewHistory(pool *pgxpool.Pool) *History {
	return &History{pool: pool, cp: NewCheckpoints(pool, HistoryName)}
}

// Checkpoints is the model's checkpoint, for a projections.Runner.
func (h *History) Checkpoints() *Checkpoints { return h.cp }

// Reset empties the model and its checkpoint, in one transaction.
func (h *History) Reset(ctx context.Context) error {
	return h.cp.Reset(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `TRUNCATE history_players, history_games`)
		return err
	})
}

// Apply implements projections.Projection: at most one statement per
// event, queued on tx. Every statement changes a row only for an event
// after the row's events, as EvolveHistory does.
func (h *History) Apply(_ context.Context, tx *Tx, e eventstore.Event) error {
	switch e.Type {
	case engine.TypeGameCreated:
		var c engine.GameCreated
		if e.Seq != 1 || json.Unmarshal(e.Data, &c) != nil || c.Game == "" || len(c.Players) == 0 {
			return nil
		}
		tx.Queue(`INSERT INTO history_games (game_id, rules, players, started_at, events) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (game_id) DO NOTHING`, [16]byte(e.GameID), c.Game, c.Players, e.RecordedAt, int64(e.Seq))
	case engine.TypeGameEnded:
		var end engine.GameEnded
		if json.Unmarshal(e.Data, &end) != nil {
			return nil
		}
		if end.Winners == nil {
			end.Winners = []string{}
		}
		tx.Queue(endSQL, [16]byte(e.GameID), e.RecordedAt, end.Winners, end.Draw, string(end.Reason), int64(e.Seq))
	case engine.TypeSeedRevealed:
		// The event after game_ended; a finished game's last seq is its
		// event count. (Actions are not looked at: one statement per
		// move would cost the rebuild a round of work per event.) The two
		// come in one append, so usually in one commit: then the end's
		// statement writes the count.
		if q := tx.last(); q != nil && q.SQL == endSQL && q.Arguments[0] == [16]byte(e.GameID) && q.Arguments[5] == int64(e.Seq-1) {
			q.Arguments[5] = int64(e.Seq)
			return nil
		}
		tx.Queue(`UPDATE history_games SET events = $2 WHERE game_id = $1 AND ended_at IS NOT NULL AND events < $2`,
			[16]byte(e.GameID), int64(e.Seq))
	}
	return nil
}

// endSQL records a game's end ($6 its event count then) and writes its
// players' rows, only if it is the statement that ends the game.
const endSQL = `WITH ended AS (
		UPDATE history_games SET ended_at = $2, winners = $3, draw = $4, reason = $5, events = $6
		WHERE game_id = $1 AND ended_at IS NULL AND events < $6
		RETURNING game_id, players, ended_at)
	INSERT INTO history_players (player, ended_at, game_id)
	SELECT DISTINCT p, ended.ended_at, ended.game_id FROM ended, unnest(ended.players) AS p`

const historyColumns = `g.game_id, g.rules, g.players, g.started_at, g.ended_at, g.winners, g.draw, g.reason, g.events`

// History implements projections.HistoryReader: one indexed query.
func (h *History) History(ctx context.Context, user string, q projections.HistoryQuery) (projections.HistoryPage, error) {
	cur, after, err := projections.ParseCursor(q.Before)
	if err != nil {
		return projections.HistoryPage{}, err
	}
	n := q.PageSize()
	var rows pgx.Rows
	if after {
		rows, err = h.pool.Query(ctx, `SELECT `+historyColumns+`
			FROM history_players p JOIN history_games g ON g.game_id = p.game_id
			WHERE p.player = $1 AND (p.ended_at, p.game_id) < ($2, $3)
			ORDER BY p.ended_at DESC, p.game_id DESC LIMIT $4`, user, cur.EndedAt, cur.Game, n+1)
	} else {
		rows, err = h.pool.Query(ctx, `SELECT `+historyColumns+`
			FROM history_players p JOIN history_games g ON g.game_id = p.game_id
			WHERE p.player = $1
			ORDER BY p.ended_at DESC, p.game_id DESC LIMIT $2`, user, n+1)
	}
	if err != nil {
		return projections.HistoryPage{}, fmt.Errorf("pgproj: history of %q: %w", user, err)
	}
	games, err := pgx.CollectRows(rows, scanGame)
	if err != nil {
		return projections.HistoryPage{}, fmt.Errorf("pgproj: history of %q: %w", user, err)
	}
	return projections.Page(games, n), nil
}

// Game returns the model's record of one game (finished or not), and
// whether it has one.
func (h *History) Game(ctx context.Context, id uuid.UUID) (projections.HistoryGame, bool, error) {
	rows, err := h.pool.Query(ctx, `SELECT `+historyColumns+` FROM history_games g WHERE g.game_id = $1`, id)
	if err != nil {
		return projections.HistoryGame{}, false, fmt.Errorf("pgproj: game %s: %w", id, err)
	}
	games, err := pgx.CollectRows(rows, scanGame)
	if err != nil || len(games) == 0 {
		return projections.HistoryGame{}, false, err
	}
	return games[0], true, nil
}

func scanGame(row pgx.CollectableRow) (projections.HistoryGame, error) {
	var (
		g       projections.HistoryGame
		endedAt *time.Time
		reason  string
		events  int64
	)
	err := row.Scan(&g.ID, &g.Rules, &g.Players, &g.StartedAt, &endedAt, &g.Winners, &g.Draw, &reason, &events)
	g.StartedAt, g.Reason, g.Events = g.StartedAt.UTC(), engine.Reason(reason), uint64(events)
	if endedAt != nil {
		g.Ended, g.EndedAt = true, endedAt.UTC()
	}
	return g, err
}

// Runner returns a runner of the model over feed (opts.Name defaults to
// "history").
func (h *History) Runner(feed projections.Feeder, opts projections.RunnerOptions) (*projections.Runner[*Tx], error) {
	if opts.Name == "" {
		opts.Name = HistoryName
	}
	return projections.NewRunner[*Tx](feed, h, h.cp, opts)
}
