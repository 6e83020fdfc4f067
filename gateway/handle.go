package gateway

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/protocol"
)

// commandTimeout bounds one request's work against the store.
const commandTimeout = 15 * time.Second

// handle serves one client message.
func (c *conn) handle(data []byte) {
	req, perr := parse(data)
	if perr != nil {
		c.reply(req.MessageID, perr)
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, commandTimeout)
	defer cancel()
	game, _ := uuid.Parse(req.GameID)
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
	if err != nil {
		e := classify(err)
		if e.code == protocol.CodeInternalError && c.ctx.Err() == nil {
			c.s.log.Error("websocket request failed", "type", req.Type, "user", c.user, "err", err)
		}
		if req.Type == protocol.TypeAction || req.Type == protocol.TypeResign {
			no := false
			c.push(protocol.Message{Type: protocol.TypeActionResult, RequestMessageID: req.MessageID,
				GameID: req.GameID, Success: &no, Error: &protocol.Error{Code: e.code, Message: e.message}})
			return
		}
		c.push(protocol.Message{Type: protocol.TypeError, RequestMessageID: req.MessageID, GameID: req.GameID,
			Error: &protocol.Error{Code: e.code, Message: e.message}})
	}
}

// join starts delivering a game to this connection: from last_event_id if
// given (exactly the events after it), else a snapshot and then what follows.
func (c *conn) join(ctx context.Context, req protocol.Request, game uuid.UUID, role string) error {
	c.mu.Lock()
	_, already := c.sessions[game]
	c.mu.Unlock()
	if already {
		return errorf(protocol.CodeActionNotAllowed, 0, "this connection already follows that game; leave it first")
	}
	g, err := c.s.deps.Play.Load(ctx, game)
	if err != nil {
		return err
	}
	isPlayer := g.State.IsPlayer(c.user)
	viewer := engine.AsSpectator()
	switch {
	case role == protocol.RolePlayer && !isPlayer:
		return errorf(protocol.CodeNotInGame, 0, "you are not a player in this game; spectate it instead")
	case role == protocol.RolePlayer:
		viewer = engine.AsPlayer(c.user)
	case isPlayer:
		return errorf(protocol.CodeActionNotAllowed, 0, "players join their own game with join_game, not spectate")
	}
	head := g.Head()
	if req.LastEventID != nil && *req.LastEventID > head {
		return invalid("last_event_id " + strconv.FormatUint(*req.LastEventID, 10) +
			" is beyond the game's head " + strconv.FormatUint(head, 10))
	}
	from := head
	if req.LastEventID != nil {
		from = *req.LastEventID
	}
	ss := &session{c: c, game: game, role: role, viewer: viewer, rules: g.Rules}
	c.push(protocol.Message{Type: protocol.TypeJoined, RequestMessageID: req.MessageID,
		GameID: req.GameID, Role: role, Head: &head})
	if req.LastEventID == nil {
		c.push(c.snapshot(g, viewer, role))
	}
	if err := ss.start(from); err != nil {
		return err
	}
	c.mu.Lock()
	c.sessions[game] = ss
	c.mu.Unlock()
	c.s.presence.joined(game, c, role)
	return nil
}

func (c *conn) snapshot(g play.Snapshot, v engine.Viewer, role string) protocol.Message {
	state, _ := json.Marshal(g.Rules.View(g.State, v))
	head := g.Head()
	out := wireOutcome(g.State.Outcome())
	m := protocol.Message{
		Type: protocol.TypeGameState, GameID: g.ID.String(), EventID: &head, Role: role,
		Rules: g.Rules.Name(), Players: g.State.Players(), State: state,
		Turn: nonNil(g.Rules.Turn(g.State)), Outcome: &out,
	}
	if f, ok := g.Rules.Forced(g.State); ok {
		m.Forced = &protocol.Forced{Player: f.Player, Action: f.Action}
	}
	if role == protocol.RolePlayer {
		m.Legal = g.Rules.Legal(g.State, c.user)
	}
	return m
}

func (c *conn) leave(req protocol.Request, game uuid.UUID, role string) error {
	c.mu.Lock()
	ss, ok := c.sessions[game]
	if ok && ss.role == role {
		delete(c.sessions, game)
	}
	c.mu.Unlock()
	if !ok || ss.role != role {
		return errorf(protocol.CodeNotInGame, 0, "this connection does not follow that game as "+role)
	}
	ss.end()
	c.push(protocol.Message{Type: protocol.TypeLeft, RequestMessageID: req.MessageID, GameID: req.GameID})
	return nil
}

func (c *conn) act(ctx context.Context, req protocol.Request, game uuid.UUID, action json.RawMessage) error {
	c.mu.Lock()
	ss, ok := c.sessions[game]
	c.mu.Unlock()
	if ok && ss.role == protocol.RoleSpectator {
		return errorf(protocol.CodeActionNotAllowed, 0, "spectators cannot act")
	}
	players, err := c.s.deps.Play.Players(ctx, game)
	if err != nil {
		return err
	}
	if !contains(players, c.user) {
		return errorf(protocol.CodeNotInGame, 0, "you are not a player in this game")
	}
	res, err := c.s.deps.Play.Execute(ctx, game, c.user, action, req.MessageID)
	if err != nil {
		return err
	}
	yes := true
	c.push(protocol.Message{Type: protocol.TypeActionResult, RequestMessageID: req.MessageID, GameID: req.GameID,
		Success: &yes, EventIDs: seqs(res), Duplicate: res.Duplicate})
	return nil
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
