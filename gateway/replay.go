package gateway

import (
	"net/http"
	"strconv"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/protocol"
	"github.com/playlog/playlog/replay"
)

// viewName is how REST names a viewer's role.
func viewName(v engine.Viewer) string {
	switch v.Role {
	case engine.RolePlayer:
		return "player"
	case engine.RoleAuditor:
		return "auditor"
	}
	return "spectator"
}

// stepParam reads a step number from the query: def when absent.
func stepParam(r *http.Request, name string, def uint64) (uint64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, invalid(name + " must be a positive integer")
	}
	return n, nil
}

// access is what user may see of the request's game, as replay decides.
func (s *Server) access(r *http.Request, user string) (replay.View, error) {
	id, err := gameID(r)
	if err != nil {
		return replay.View{}, err
	}
	return s.deps.Replay.Access(r.Context(), id, user)
}

func (s *Server) getReplay(w http.ResponseWriter, r *http.Request, user string) {
	v, err := s.access(r, user)
	if err != nil {
		s.fail(w, err)
		return
	}
	at, err := stepParam(r, "at", v.Head)
	if err != nil {
		s.fail(w, err)
		return
	}
	step, err := s.deps.Replay.StepAt(r.Context(), v, at)
	if err != nil {
		s.fail(w, err)
		return
	}
	var forced *protocol.Forced
	if step.Forced != nil {
		forced = &protocol.Forced{Player: step.Forced.Player, Action: step.Forced.Action}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"game_id": v.Game.String(), "rules": v.Rules.Name(), "players": v.Players,
		"view": viewName(v.Viewer), "head": v.Head, "ended": v.Ended, "at": step.At,
		"state": step.State, "turn": step.Turn, "forced": forced,
		"outcome": wireOutcome(step.Outcome), "event": step.Event,
	})
}

func (s *Server) getReplayEvents(w http.ResponseWriter, r *http.Request, user string) {
	v, err := s.access(r, user)
	if err != nil {
		s.fail(w, err)
		return
	}
	from, err := stepParam(r, "from", 1)
	if err != nil {
		s.fail(w, err)
		return
	}
	to, err := stepParam(r, "to", min(v.Head, from+replay.MaxEvents-1))
	if err != nil {
		s.fail(w, err)
		return
	}
	events, err := s.deps.Replay.Events(r.Context(), v, from, to)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"game_id": v.Game.String(), "head": v.Head, "view": viewName(v.Viewer), "events": events,
	})
}
