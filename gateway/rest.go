package gateway

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/hub"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/projections"
	"github.com/playlog/playlog/protocol"
)

const maxBody = 64 << 10

// readBody reads a request body of at most maxBody bytes.
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, invalid("cannot read the request body")
	}
	if len(body) > maxBody {
		return nil, errorf(protocol.CodeInvalidMessage, http.StatusRequestEntityTooLarge, "the request body is over 64 KiB")
	}
	return body, nil
}

// decodeBody decodes a JSON body strictly into v: unknown fields refused,
// and a field given twice (encoding/json would keep the last of two, where
// another reader might take the first).
func decodeBody(r *http.Request, v any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	if key, dup := engine.DuplicateKey(body); dup {
		return invalid("malformed JSON body: duplicate field " + strconv.Quote(key))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalid("malformed JSON body: " + err.Error())
	}
	if dec.More() {
		return invalid("malformed JSON body: data after the object")
	}
	return nil
}

func gameID(r *http.Request) (uuid.UUID, error) {
	id, ok := parseGameID(r.PathValue("id"))
	if !ok {
		return uuid.Nil, badGameID("game id", r.PathValue("id"))
	}
	return id, nil
}

// parseGameID parses a game id as the schemas define it: a UUID in its
// hyphenated form (36 characters, either case), not the nil UUID;
// uuid.Parse alone also takes braces, "urn:uuid:" and 32 bare digits.
func parseGameID(s string) (uuid.UUID, bool) {
	id, err := uuid.Parse(s)
	return id, err == nil && len(s) == 36 && id != uuid.Nil
}

// badGameID is the refusal of a game id parseGameID refused; what names it
// ("game id", "game_id").
func badGameID(what, s string) *apiError {
	if s == uuid.Nil.String() {
		return invalid(what + " is the nil UUID, which is no game's id")
	}
	return invalid(what + " must be a UUID in its canonical hyphenated form")
}

type createRequest struct {
	Rules   string          `json:"rules"`
	Players []string        `json:"players"`
	Config  json.RawMessage `json:"config"`
}

func (s *Server) createGame(w http.ResponseWriter, r *http.Request, user string) {
	var req createRequest
	if err := decodeBody(r, &req); err != nil {
		s.fail(w, err)
		return
	}
	if req.Rules == "" || len(req.Players) == 0 {
		s.fail(w, invalid("rules and players are required"))
		return
	}
	done, err := s.startCommand()
	if err != nil {
		s.fail(w, err)
		return
	}
	defer done()
	g, err := s.deps.Play.Create(r.Context(), req.Rules, req.Players, req.Config, user)
	if err != nil {
		s.fail(w, err)
		return
	}
	noteOf(w).setGame(g.ID)
	w.Header().Set("Location", "/v1/games/"+g.ID.String())
	writeJSON(w, http.StatusCreated, s.gameInfo(g, user))
}

// gameInfo is a game as REST shows it to user.
func (s *Server) gameInfo(g play.Snapshot, user string) map[string]any {
	out := g.State.Outcome()
	status := "active"
	if out.Ended {
		status = "ended"
	}
	info := map[string]any{
		"game_id": g.ID.String(), "rules": g.Rules.Name(), "players": g.State.Players(),
		"status": status, "head": g.Head(), "turn": nonNil(g.Rules.Turn(g.State)),
		"outcome": wireOutcome(out),
	}
	if f, ok := g.Rules.Forced(g.State); ok {
		info["forced"] = protocol.Forced{Player: f.Player, Action: f.Action}
	}
	if t, ok := g.State.Turn(); ok { // a timed game's running turn
		info["turn_number"], info["deadline"] = t.Number, t.Deadline
	}
	if g.State.IsPlayer(user) {
		info["legal"] = nonNilRaw(g.Rules.Legal(g.State, user))
	}
	return info
}

func (s *Server) getGame(w http.ResponseWriter, r *http.Request, user string) {
	id, err := gameID(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	g, err := s.deps.Play.Load(r.Context(), id)
	if err != nil {
		s.fail(w, err)
		return
	}
	if !g.State.Settings().SpectatorDelay.IsZero() {
		// Spectators of a delayed game see it as it stood the delay ago.
		v, err := s.deps.Replay.Access(r.Context(), id, user)
		if err == nil && v.Head < g.Head() {
			g.State, err = s.deps.Replay.StateAt(r.Context(), id, v.Head)
		}
		if err != nil {
			s.fail(w, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, s.gameInfo(g, user))
}

func (s *Server) listGames(w http.ResponseWriter, r *http.Request, user string) {
	q := r.URL.Query()
	if q.Get("player") != "me" {
		s.fail(w, invalid("list games with ?player=me"))
		return
	}
	switch q.Get("status") {
	case "", "active":
		writeJSON(w, http.StatusOK, map[string]any{"games": s.activeGames(user)})
	case "ended":
		page, err := s.history(r, user)
		if err != nil {
			s.fail(w, err)
			return
		}
		games := page.Summaries()
		out := make([]protocol.GameSummary, len(games))
		for i, g := range games {
			out[i] = protocol.GameSummary{GameID: g.ID.String(), Rules: g.Rules, Players: g.Players, Head: g.Head}
		}
		writeJSON(w, http.StatusOK, map[string]any{"games": out, "next": page.Next})
	default:
		s.fail(w, invalid("status is active or ended"))
	}
}

// history reads a page of user's finished games, newest first, as the
// request's limit and before ask.
func (s *Server) history(r *http.Request, user string) (projections.HistoryPage, error) {
	q := projections.HistoryQuery{Before: r.URL.Query().Get("before")}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return projections.HistoryPage{}, invalid("limit must be 1 to 100")
		}
		q.Limit = n
	}
	return s.deps.History.History(r.Context(), user, q)
}

func (s *Server) getHistory(w http.ResponseWriter, r *http.Request, user string) {
	page, err := s.history(r, user)
	if err != nil {
		s.fail(w, err)
		return
	}
	games := make([]map[string]any, len(page.Games))
	for i, g := range page.Games {
		winners := g.Winners
		if winners == nil {
			winners = []string{}
		}
		games[i] = map[string]any{
			"game_id": g.ID.String(), "rules": g.Rules, "players": g.Players,
			"outcome":    protocol.Outcome{Ended: true, Winners: winners, Draw: g.Draw, Reason: string(g.Reason)},
			"started_at": g.StartedAt, "ended_at": g.EndedAt, "duration_ms": g.Duration().Milliseconds(), "events": g.Events,
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"games": games, "next": page.Next})
}

func (s *Server) activeGames(user string) []protocol.GameSummary {
	games := s.deps.Directory.Active(user)
	out := make([]protocol.GameSummary, len(games))
	for i, g := range games {
		out[i] = protocol.GameSummary{GameID: g.ID.String(), Rules: g.Rules, Players: g.Players, Head: g.Head}
	}
	return out
}

type actionRequest struct {
	MessageID string          `json:"message_id"`
	Action    json.RawMessage `json:"action"`
}

func (s *Server) postAction(w http.ResponseWriter, r *http.Request, user string) {
	id, err := gameID(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	var req actionRequest
	if err := decodeBody(r, &req); err != nil {
		s.fail(w, err)
		return
	}
	if err := checkMessageID(req.MessageID, false); err != nil {
		s.fail(w, err)
		return
	}
	if !present(req.Action) {
		s.fail(w, invalid("action is required"))
		return
	}
	s.execute(w, r, user, id, req.Action, req.MessageID)
}

// present reports whether a raw JSON field was given: null counts as
// absent, as for every other field, over REST and WebSocket alike.
func present(raw json.RawMessage) bool { return len(raw) > 0 && string(raw) != "null" }

func (s *Server) resign(w http.ResponseWriter, r *http.Request, user string) {
	id, err := gameID(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	body, err := readBody(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	if b := bytes.TrimSpace(body); len(b) > 0 && string(b) != "{}" {
		if o, err := engine.ParseObject(b); err == nil && o.Has("message_id") {
			s.fail(w, invalid("a resign takes its message id in the Idempotency-Key header, not in the body"))
			return
		}
		s.fail(w, invalid("a resign takes no body (or {}); its message id goes in the Idempotency-Key header"))
		return
	}
	msgID := r.Header.Get("Idempotency-Key")
	if err := checkMessageID(msgID, false); err != nil {
		s.fail(w, err)
		return
	}
	s.execute(w, r, user, id, json.RawMessage(`{"type":"resign"}`), msgID)
}

func (s *Server) execute(w http.ResponseWriter, r *http.Request, user string, id uuid.UUID, action json.RawMessage, msgID string) {
	var res play.Result
	done, err := s.startCommand()
	if err == nil {
		defer done()
		res, err = s.deps.Play.Execute(r.Context(), id, user, action, msgID)
	}
	s.stats.commands.add(outcome(err))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"game_id": id.String(), "event_ids": seqs(res), "duplicate": res.Duplicate, "head": res.Game.Head(),
	})
}

func (s *Server) getEvents(w http.ResponseWriter, r *http.Request, user string) {
	id, err := gameID(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	q := r.URL.Query()
	after, limit := uint64(0), 100
	if v := q.Get("after"); v != "" {
		if after, err = strconv.ParseUint(v, 10, 64); err != nil {
			s.fail(w, invalid("after must be a non-negative integer"))
			return
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 1000 {
			s.fail(w, invalid("limit must be 1 to 1000"))
			return
		}
	}
	// A page of events needs no fold of the game; replay decides what the
	// caller sees of it and how far (a delayed game's spectators).
	v, err := s.deps.Replay.Access(r.Context(), id, user)
	if err != nil {
		s.fail(w, err)
		return
	}
	head := v.Head
	if after > head {
		s.fail(w, invalid("after is beyond the game's head "+strconv.FormatUint(head, 10)))
		return
	}
	var events []eventstore.Event
	if after < head {
		if events, err = s.deps.Store.Read(r.Context(), id, after, int(min(uint64(limit), head-after))); err != nil {
			s.fail(w, err)
			return
		}
	}
	out := make([]protocol.Message, 0, len(events))
	now := s.now().UTC()
	for _, e := range events {
		m, err := hub.EventMessage(v.Rules, id, e, v.Viewer)
		if err != nil {
			s.fail(w, err)
			return
		}
		m.MessageID, m.Timestamp = hub.MessageID(id, e.Seq, "event"), now
		out = append(out, m)
	}
	writeJSON(w, http.StatusOK, map[string]any{"game_id": id.String(), "head": head, "events": out})
}

func seqs(res play.Result) []uint64 {
	out := make([]uint64, len(res.Events))
	for i, e := range res.Events {
		out[i] = e.Seq
	}
	return out
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

func nonNilRaw(xs []json.RawMessage) []json.RawMessage {
	if xs == nil {
		return []json.RawMessage{}
	}
	return xs
}

func ptr[T any](v T) *T { return &v }

func wireOutcome(o engine.Outcome) protocol.Outcome {
	return protocol.Outcome{Ended: o.Ended, Winners: nonNil(o.Winners), Draw: o.Draw, Reason: string(o.Reason)}
}

var errBadMessageID = invalid("message_id must be 1 to 64 characters from A-Z a-z 0-9 . _ : -")

func checkMessageID(id string, required bool) error {
	if id == "" {
		if required {
			return errBadMessageID
		}
		return nil
	}
	if len(id) > play.MaxMessageIDLen {
		return errBadMessageID
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return errBadMessageID
		}
	}
	return nil
}
