package projections

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore"
)

// HistoryGame is the history projection's record of one game: what
// game_created said, and once it has ended, what game_ended said. Events
// is the seq of the last event the record has taken in: for a finished
// game, its last seq (seed_revealed follows game_ended in the same
// append), which is its event count.
type HistoryGame struct {
	ID        uuid.UUID     `json:"game_id"`
	Rules     string        `json:"rules"`
	Players   []string      `json:"players"`
	StartedAt time.Time     `json:"started_at"` // recorded_at of game_created
	Ended     bool          `json:"ended"`
	EndedAt   time.Time     `json:"ended_at,omitzero"` // recorded_at of game_ended
	Winners   []string      `json:"winners"`
	Draw      bool          `json:"draw"`
	Reason    engine.Reason `json:"reason,omitempty"`
	Events    uint64        `json:"events"`
}

// Duration is how long the game lasted, from creation to end.
func (g HistoryGame) Duration() time.Duration { return g.EndedAt.Sub(g.StartedAt) }

// EvolveHistory folds e into rec (nil: the game has no record yet) and
// returns the new record and whether it changed. It is the history
// projection's whole logic, shared by its backends; it never fails: an
// event it cannot use leaves the record as it was. It changes a record
// only for an event after rec.Events, so a re-applied event is a no-op.
// Only game_created, game_ended and seed_revealed (which follows
// game_ended, in the same append) change it: a game's actions are not
// looked at, so a projection need not read the record for them.
func EvolveHistory(rec *HistoryGame, e eventstore.Event) (*HistoryGame, bool) {
	if rec != nil && e.Seq <= rec.Events {
		return rec, false
	}
	switch {
	case e.Type == engine.TypeGameCreated && rec == nil && e.Seq == 1:
		var c engine.GameCreated
		if json.Unmarshal(e.Data, &c) != nil || c.Game == "" || len(c.Players) == 0 {
			return nil, false
		}
		return &HistoryGame{ID: e.GameID, Rules: c.Game, Players: c.Players, StartedAt: e.RecordedAt.UTC(), Winners: []string{}, Events: e.Seq}, true
	case rec == nil:
		return nil, false
	case e.Type == engine.TypeGameEnded && !rec.Ended:
		var end engine.GameEnded
		if json.Unmarshal(e.Data, &end) != nil {
			return rec, false
		}
		g := *rec
		g.Ended, g.EndedAt, g.Draw, g.Reason, g.Events = true, e.RecordedAt.UTC(), end.Draw, end.Reason, e.Seq
		g.Winners = end.Winners
		if g.Winners == nil {
			g.Winners = []string{}
		}
		return &g, true
	case e.Type == engine.TypeSeedRevealed && rec.Ended:
		g := *rec
		g.Events = e.Seq
		return &g, true
	}
	return rec, false
}

// HistoryQuery asks for one page of a user's finished games, newest first.
type HistoryQuery struct {
	// Limit is the page's size: 0 means DefaultHistoryLimit; more than
	// MaxHistoryLimit is MaxHistoryLimit.
	Limit int
	// Before is the cursor of the last game of the previous page
	// (HistoryPage.Next); empty starts at the newest game.
	Before string
}

const (
	DefaultHistoryLimit = 20
	MaxHistoryLimit     = 100
)

// ErrBadCursor: HistoryQuery.Before is not a cursor a page gave.
var ErrBadCursor = errors.New("projections: malformed history cursor")

// HistoryPage is one page of a user's history.
type HistoryPage struct {
	Games []HistoryGame `json:"games"`
	// Next is the cursor of the page after this one; empty on the last page.
	Next string `json:"next,omitempty"`
}

// Summaries returns the page as directory summaries: the answer to "ended
// games of a user" (GET /v1/games?player=me&status=ended), Head being the
// game's last seq.
func (p HistoryPage) Summaries() []GameSummary {
	out := make([]GameSummary, len(p.Games))
	for i, g := range p.Games {
		out[i] = GameSummary{ID: g.ID, Rules: g.Rules, Players: g.Players, Ended: true, Head: g.Events}
	}
	return out
}

// HistoryReader answers history queries. pgproj.History and jsproj.History
// implement it; both are safe for concurrent use.
type HistoryReader interface {
	// History returns a page of user's finished games, newest first (by
	// end time, then game id). Errors: ErrBadCursor, the backend's.
	History(ctx context.Context, user string, q HistoryQuery) (HistoryPage, error)
}

// Cursor is a decoded HistoryQuery.Before: a place in a user's history,
// ordered by end time, then game id (as bytes).
type Cursor struct {
	EndedAt time.Time
	Game    uuid.UUID
}

// CursorOf is the cursor after g, in a page that is newest first.
func CursorOf(g HistoryGame) string {
	raw := strconv.FormatInt(g.EndedAt.UnixMicro(), 10) + "." + g.ID.String()
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// maxCursorMicros is the end of year 9999 in Unix microseconds: no game
// ends later, and PostgreSQL's timestamps end long before int64 does.
const maxCursorMicros = 253402300799999999

// ParseCursor decodes a HistoryQuery.Before; the zero Cursor and ok false
// mean "from the newest". Only a cursor CursorOf could have made is
// taken: a game's end time from 1970 to 9999, in canonical form.
func ParseCursor(s string) (c Cursor, ok bool, err error) {
	if s == "" {
		return Cursor{}, false, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, false, ErrBadCursor
	}
	t, id, found := strings.Cut(string(raw), ".")
	micros, err1 := strconv.ParseInt(t, 10, 64)
	game, err2 := uuid.Parse(id)
	if !found || err1 != nil || err2 != nil || micros < 0 || micros > maxCursorMicros {
		return Cursor{}, false, ErrBadCursor
	}
	c = Cursor{EndedAt: time.UnixMicro(micros).UTC(), Game: game}
	if CursorOf(HistoryGame{EndedAt: c.EndedAt, ID: c.Game}) != s {
		return Cursor{}, false, ErrBadCursor // not one CursorOf made
	}
	return c, true, nil
}

// Before reports whether g comes after c in a newest-first history, that
// is (g.EndedAt, g.ID) < (c.EndedAt, c.Game).
func (c Cursor) Before(g HistoryGame) bool {
	if !g.EndedAt.Equal(c.EndedAt) {
		return g.EndedAt.Before(c.EndedAt)
	}
	return bytes.Compare(g.ID[:], c.Game[:]) < 0
}

// NewestFirst orders finished games as every history page does.
func NewestFirst(a, b HistoryGame) int {
	if c := b.EndedAt.Compare(a.EndedAt); c != 0 {
		return c
	}
	return bytes.Compare(b.ID[:], a.ID[:])
}

// PageSize returns q's page size after defaults and the cap.
func (q HistoryQuery) PageSize() int {
	switch {
	case q.Limit <= 0:
		return DefaultHistoryLimit
	case q.Limit > MaxHistoryLimit:
		return MaxHistoryLimit
	}
	return q.Limit
}

// Page cuts a page of size n from games, sorted newest first and holding
// up to n+1 games: the extra one says that there is a next page.
func Page(games []HistoryGame, n int) HistoryPage {
	if len(games) <= n {
		if games == nil {
			games = []HistoryGame{}
		}
		return HistoryPage{Games: games}
	}
	games = games[:n]
	return HistoryPage{Games: games, Next: CursorOf(games[n-1])}
}

// String formats g for logs and test failures.
func (g HistoryGame) String() string {
	return fmt.Sprintf("%s %s %v ended=%v at %s winners=%v draw=%v %s events=%d",
		g.ID, g.Rules, g.Players, g.Ended, g.EndedAt.Format(time.RFC3339Nano), g.Winners, g.Draw, g.Reason, g.Events)
}
