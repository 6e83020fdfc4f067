package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/hub"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/protocol"
)

// commandTimeout bounds one request's work against the store.
const commandTimeout = 15 * time.Second

// handle serves one client message, read at start.
func (c *conn) handle(data []byte, start time.Time) {
	req, perr := parse(data)
	game, _ := uuid.Parse(req.GameID)
	if perr != nil {
		// Answered as any refusal of its type, as far as it was read: a
		// malformed action is a failed action_result too.
		c.answerError(req, game, perr)
		c.logMessage(req.Type, req.MessageID, game, perr, start)
		return
	}
	err := c.serve(req, game)
	c.logMessage(req.Type, req.MessageID, game, err, start)
}

// serve runs a well-formed client message and answers it. It returns the
// error it answered with, if any.
func (c *conn) serve(req protocol.Request, game uuid.UUID) error {
	var err error
	if isCommand(req.Type) {
		// None starts once the server drains; Drain waits for those
		// running to be answered.
		var done func()
		if done, err = c.s.startCommand(); err == nil {
			defer done()
		}
	}
	if err == nil {
		err = c.do(req, game)
	}
	c.count(req, err)
	if err != nil {
		c.answerError(req, game, err)
	}
	return err
}

// isCommand tells the client messages that Drain refuses: those that
// change a game or start following one.
func isCommand(typ string) bool {
	switch typ {
	case protocol.TypeJoinGame, protocol.TypeSpectate, protocol.TypeAction, protocol.TypeResign:
		return true
	}
	return false
}

// do does what a client message asks and answers it, but for an error,
// which it returns.
func (c *conn) do(req protocol.Request, game uuid.UUID) error {
	ctx, cancel := c.commandContext()
	defer cancel()
	var err error
	switch req.Type {
	case protocol.TypeHeartbeat:
		c.push(protocol.Message{Type: protocol.TypeHeartbeatAck, RequestMessageID: req.MessageID})
	case protocol.TypeJoinGame:
		err = c.join(ctx, req, game, protocol.RolePlayer)
	case protocol.TypeSpectate:
		err = c.join(ctx, req, game, protocol.RoleSpectator)
	case protocol.TypeLeaveGame:
		err = c.leave(req, game, protocol.RolePlayer)
	case protocol.TypeLeaveSpectate:
		err = c.leave(req, game, protocol.RoleSpectator)
	case protocol.TypeAction:
		err = c.act(ctx, req, game, req.Action)
	case protocol.TypeResign:
		err = c.act(ctx, req, game, json.RawMessage(`{"type":"resign"}`))
	}
	return err
}

// count adds a message's outcome to the server's counters.
func (c *conn) count(req protocol.Request, err error) {
	switch req.Type {
	case protocol.TypeJoinGame, protocol.TypeSpectate:
		c.s.stats.joins.Add(1)
		if err != nil {
			c.s.stats.joinFailures.Add(1)
		}
	case protocol.TypeAction, protocol.TypeResign:
		c.s.stats.commands.add(outcome(err))
	}
}

// answerError answers a client message with the error it failed with; an
// unexpected one is logged in full.
func (c *conn) answerError(req protocol.Request, game uuid.UUID, err error) {
	e := classify(err)
	if e.code == protocol.CodeInternalError && !c.closing() {
		c.logf(slog.LevelError, "websocket request failed", "type", req.Type, "message_id", req.MessageID, "game", game, "err", err)
	}
	var gameID string // the game refused, when its id was one
	if game != uuid.Nil {
		gameID = game.String()
	}
	if req.Type == protocol.TypeAction || req.Type == protocol.TypeResign {
		no := false
		c.push(protocol.Message{Type: protocol.TypeActionResult, RequestMessageID: req.MessageID,
			GameID: gameID, Success: &no, Error: &protocol.Error{Code: e.code, Message: e.message}})
		return
	}
	c.push(protocol.Message{Type: protocol.TypeError, RequestMessageID: req.MessageID, GameID: gameID,
		Error: &protocol.Error{Code: e.code, Message: e.message}})
}

// join starts delivering a game to this connection: from last_event_id if
// given (exactly the events after it), else a snapshot and then what
// follows. It answers joined only once the viewer is live on the node's
// hub; a failure before that is its one answer, an error; a failure after
// it cuts the connection, and the client resumes.
func (c *conn) join(ctx context.Context, req protocol.Request, game uuid.UUID, role string) error {
	c.mu.Lock()
	already, followed := c.sessionLocked(game) >= 0, len(c.sessions)
	c.mu.Unlock()
	switch {
	case already:
		return errorf(protocol.CodeActionNotAllowed, 0, "this connection already follows that game; leave it first")
	case followed >= c.s.cfg.MaxGames:
		return errorf(protocol.CodeActionNotAllowed, 0, "this connection follows "+strconv.Itoa(followed)+" games, the most it may; leave one first")
	}
	// A resume needs only what never changes (rules, players) and the head:
	// no fold of the game's log. A fresh join needs the state for its
	// snapshot: the one this node holds, with no store read (whatever
	// another node appended since comes next, by the hub's catch-up), but
	// for a delayed spectator, whose view is counted back from the head.
	var (
		g      play.Snapshot // a fresh join's state, for its snapshot
		viewer engine.Viewer
		head   uint64
		delay  engine.Delay
	)
	spectate := role == protocol.RoleSpectator
	if req.LastEventID == nil {
		var err error
		if g, err = c.s.deps.Play.Known(ctx, game); err != nil {
			return err
		}
		if spectate && !g.State.Settings().SpectatorDelay.IsZero() {
			// How far behind a spectator is shown is counted from the head.
			if g, err = c.s.deps.Play.Load(ctx, game); err != nil {
				return err
			}
		}
		if viewer, err = g.Viewer(c.user, spectate); err != nil {
			return err
		}
		head, delay = g.Head(), g.State.Settings().SpectatorDelay
	} else {
		h, err := c.s.deps.Play.Header(ctx, game)
		if err != nil {
			return err
		}
		if viewer, err = h.Viewer(c.user, spectate); err != nil {
			return err
		}
		if head, err = c.s.deps.Store.Head(ctx, game); err != nil {
			return err
		}
		g.ID, g.Rules, delay = game, h.Rules, h.Created.Settings().SpectatorDelay
	}
	// A delayed game's spectators see it as it stood the delay ago: their
	// head, their snapshot. Every join of it tells the hub where they
	// stand, in case it opens the game's feed.
	specHead, shown := head, head
	if !delay.IsZero() {
		var err error
		if specHead, err = c.s.deps.Replay.SpectatorHead(ctx, game, delay, head); err != nil {
			return err
		}
		if viewer.Role == engine.RoleSpectator {
			shown = specHead
			if req.LastEventID == nil {
				if g.State, err = c.s.deps.Replay.StateAt(ctx, game, specHead); err != nil {
					return err
				}
			}
		}
	}
	hidden := spectate && !delay.IsZero() // the present head, from this viewer
	if req.LastEventID != nil && *req.LastEventID > resumeLimit(hidden, delay, head, specHead) {
		beyond := "last_event_id " + strconv.FormatUint(*req.LastEventID, 10) + " is beyond the game's head"
		if !hidden {
			beyond += " " + strconv.FormatUint(head, 10)
		}
		return invalid(beyond)
	}
	var snap *protocol.Message
	if req.LastEventID == nil {
		m := c.snapshot(g, viewer, role)
		snap = &m
	}
	from := shown
	if req.LastEventID != nil {
		from = *req.LastEventID // a spectator past its head (another node's clock) waits for it
	}
	answered := false
	hg := hub.Game{ID: game, Rules: g.Rules, Head: head, Delay: delay, SpectatorHead: specHead}
	w, err := c.s.deps.Hub.Watch(ctx, hg, viewer, from, connSink{c}, func() {
		answered = true
		c.push(protocol.Message{Type: protocol.TypeJoined, RequestMessageID: req.MessageID,
			GameID: req.GameID, Role: role, Head: &shown})
		if snap != nil {
			c.push(*snap)
		}
	})
	if err != nil {
		if !answered {
			return err
		}
		c.s.stats.joinFailures.Add(1) // answered joined, then cut
		// A slow client has been cut and counted by Push; a closing one
		// needs nothing.
		if !errors.Is(err, hub.ErrSlow) && !errors.Is(err, errClosing) && !c.closing() {
			c.logf(slog.LevelError, "join: catching up failed", "game", game, "err", err)
			c.kill(1011, "catching up failed; reconnect and resume")
		}
		return nil
	}
	c.mu.Lock()
	c.sessions = append(c.sessions, &session{game: game, role: role, watch: w})
	c.mu.Unlock()
	c.s.presence.joined(game, c, role)
	if viewer.Role == engine.RolePlayer {
		// A timed game may owe a returning player grace: play decides.
		if err := c.s.deps.Play.Reconnected(ctx, game, c.user); err != nil {
			c.logf(slog.LevelWarn, "join: reconnect grace failed", "game", game, "err", err)
		}
	}
	return nil
}

func (c *conn) snapshot(g play.Snapshot, v engine.Viewer, role string) protocol.Message {
	state, _ := json.Marshal(g.Rules.View(g.State, v))
	head := g.Head()
	out := wireOutcome(g.State.Outcome())
	m := protocol.Message{
		Type: protocol.TypeGameState, GameID: g.ID.String(), EventID: &head, Role: role,
		Rules: g.Rules.Name(), Players: g.State.Players(), State: state,
		Turn: ptr(nonNil(g.Rules.Turn(g.State))), Outcome: &out,
	}
	if f, ok := g.Rules.Forced(g.State); ok {
		m.Forced = &protocol.Forced{Player: f.Player, Action: f.Action}
	}
	if t, ok := g.State.Turn(); ok { // a timed game's running turn
		m.TurnNumber, m.Deadline = &t.Number, &t.Deadline
	}
	if role == protocol.RolePlayer {
		m.Legal = ptr(nonNilRaw(g.Rules.Legal(g.State, c.user)))
	}
	return m
}

func (c *conn) leave(req protocol.Request, game uuid.UUID, role string) error {
	c.mu.Lock()
	var ss *session
	if i := c.sessionLocked(game); i >= 0 && c.sessions[i].role == role {
		ss = c.sessions[i]
		c.sessions = slices.Delete(c.sessions, i, i+1) // clears the tail: the watch goes
		if len(c.sessions) == 0 {
			c.sessions = nil
		}
	}
	c.mu.Unlock()
	if ss == nil {
		return errorf(protocol.CodeNotInGame, 0, "this connection does not follow that game as "+role)
	}
	c.end(ss)
	c.push(protocol.Message{Type: protocol.TypeLeft, RequestMessageID: req.MessageID, GameID: req.GameID})
	return nil
}

// end stops delivering a game to this connection.
func (c *conn) end(ss *session) {
	ss.watch.Close()
	c.s.presence.left(ss.game, c, ss.role)
}

// sessionLocked returns the index of game's session in c.sessions, or -1.
// The caller holds c.mu.
func (c *conn) sessionLocked(game uuid.UUID) int {
	for i, ss := range c.sessions {
		if ss.game == game {
			return i
		}
	}
	return -1
}

// act runs a command. Who may act (players only, spectators included in
// "not a player") is play's decision, as is everything about the action.
func (c *conn) act(ctx context.Context, req protocol.Request, game uuid.UUID, action json.RawMessage) error {
	res, err := c.s.deps.Play.Execute(ctx, game, c.user, action, req.MessageID)
	if err != nil {
		return err
	}
	yes := true
	c.push(protocol.Message{Type: protocol.TypeActionResult, RequestMessageID: req.MessageID, GameID: req.GameID,
		Success: &yes, EventIDs: seqs(res), Duplicate: &res.Duplicate})
	return nil
}

// resumeLimit is the last id a viewer may resume from without being
// refused: the head, unless the head is hidden from it (a spectator of a
// delayed game), whom a refusal must tell nothing of the present head
// that its own head does not. A seconds delay hides the head entirely:
// every id is taken and waited for. An events delay N shows a running
// game's head as the spectator head plus N, but the spectator head stays
// at 1 (game_created) while the head is at most N+1: until then ids up to
// N+1 are waited for, not refused, a game with only its game_created
// (head 1) too. An ended game shows everything (its spectator head is its
// head, and it has more than game_created).
func resumeLimit(hidden bool, d engine.Delay, head, specHead uint64) uint64 {
	running := specHead < head || head == 1
	switch {
	case !hidden:
		return head
	case d.Seconds > 0:
		return math.MaxUint64
	case running && head <= d.Events+1:
		return d.Events + 1
	}
	return head
}
