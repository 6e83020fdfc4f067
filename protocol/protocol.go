// Package protocol defines playlog's WebSocket wire protocol: the messages
// clients send, the messages the server sends, error codes and close codes.
// docs/protocol.md specifies it in prose with a worked session; the gateway
// speaks it and package client implements it.
//
// Every message is one JSON object in one text frame, with a "type".
// Client messages carry a client-chosen "message_id" (1 to 64 characters
// from [A-Za-z0-9._:-]); the server answers each one once with a message
// whose "request_message_id" echoes it (joined, left, action_result,
// heartbeat_ack or error), except messages the rate limit refuses past its
// answered few (docs/protocol.md, Limits). Server messages carry their own
// "message_id" and a "timestamp" (RFC 3339, UTC, from the server's clock).
package protocol

import (
	"encoding/json"
	"time"
)

// Client message types.
const (
	TypeJoinGame      = "join_game"
	TypeSpectate      = "spectate"
	TypeLeaveGame     = "leave_game"
	TypeLeaveSpectate = "leave_spectate"
	TypeAction        = "action"
	TypeResign        = "resign"
	TypeHeartbeat     = "heartbeat"
)

// Server message types.
const (
	TypeConnected      = "connected"
	TypeJoined         = "joined"
	TypeLeft           = "left"
	TypeGameState      = "game_state"
	TypeEvent          = "event"
	TypeActionResult   = "action_result"
	TypeError          = "error"
	TypeGameOver       = "game_over"
	TypeOpponentStatus = "opponent_status"
	TypeSpectatorCount = "spectator_count"
	TypeTurnTimeout    = "turn_timeout"
	TypeHeartbeatAck   = "heartbeat_ack"
)

// Error codes, in "error" messages, failed action results and REST errors.
const (
	CodeAuthenticationFailed = "authentication_failed"
	CodeRateLimited          = "rate_limited"
	CodeGameNotFound         = "game_not_found"
	CodeNotInGame            = "not_in_game"
	CodeGameFull             = "game_full"
	CodeGameEnded            = "game_ended"
	CodeInvalidAction        = "invalid_action"
	CodeNotYourTurn          = "not_your_turn"
	CodeActionNotAllowed     = "action_not_allowed"
	CodeInvalidMessage       = "invalid_message"
	CodeUnknownMessageType   = "unknown_message_type"
	CodeInternalError        = "internal_error"
	// CodeUnavailable: this node is shutting down (draining) and took no
	// new command, or the event log is not answering now and a command may
	// or may not have been stored. Retry on another node, or after
	// reconnecting, with the same message id.
	CodeUnavailable = "unavailable"
)

// CodeNotFound is REST's only code of its own (never on the WebSocket):
// no such endpoint, an unknown path or a method the path does not take.
const CodeNotFound = "not_found"

// Close codes the server uses besides the standard ones (1000 normal, 1001
// going away on shutdown, 1002 malformed frame, 1007 text not UTF-8, 1008
// policy violation for rate-limit abuse, 1009 message too big, 1011
// internal error).
const (
	// CloseSlowConsumer: the client read too slowly and its send queue
	// filled. Reconnect and resume with last_event_id; nothing is lost.
	CloseSlowConsumer = 4001
	// CloseIdle: no client message within the idle timeout (pongs do not
	// count: send heartbeats).
	CloseIdle = 4002
	// CloseTokenExpired: the token the connection was opened with has
	// expired (its exp, plus the clock leeway). Reconnect with a new token
	// and resume with last_event_id; nothing is lost.
	CloseTokenExpired = 4003
)

// Roles of a viewer in a joined game.
const (
	RolePlayer    = "player"
	RoleSpectator = "spectator"
)

// Request is a client message. Fields a type does not use must be absent.
type Request struct {
	Type        string          `json:"type"`
	MessageID   string          `json:"message_id"`
	GameID      string          `json:"game_id,omitempty"`
	LastEventID *uint64         `json:"last_event_id,omitempty"`
	Action      json.RawMessage `json:"action,omitempty"`
}

// Message is a server message. Which fields are set depends on Type (see
// docs/protocol.md); absent fields are omitted.
type Message struct {
	Type             string    `json:"type"`
	MessageID        string    `json:"message_id"`
	Timestamp        time.Time `json:"timestamp"`
	RequestMessageID string    `json:"request_message_id,omitempty"`
	GameID           string    `json:"game_id,omitempty"`

	// connected
	UserID      string         `json:"user_id,omitempty"`
	ActiveGames *[]GameSummary `json:"active_games,omitempty"` // always set on connected, [] for none

	// joined, game_state
	Role string  `json:"role,omitempty"`
	Head *uint64 `json:"head,omitempty"`

	// game_state, event, game_over: the event id (seq) it is at.
	EventID *uint64 `json:"event_id,omitempty"`

	// game_state
	Rules   string             `json:"rules,omitempty"`
	Players []string           `json:"players,omitempty"`
	State   json.RawMessage    `json:"state,omitempty"`
	Turn    *[]string          `json:"turn,omitempty"` // always set on game_state, [] when nobody may act
	Forced  *Forced            `json:"forced,omitempty"`
	Legal   *[]json.RawMessage `json:"legal,omitempty"` // always set for a player, [] when none

	// event
	Visibility string          `json:"visibility,omitempty"`
	EventType  string          `json:"event_type,omitempty"`
	Version    int             `json:"version,omitempty"`
	Actor      string          `json:"actor,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
	RecordedAt *time.Time      `json:"recorded_at,omitempty"`

	// action_result
	Success   *bool    `json:"success,omitempty"`
	EventIDs  []uint64 `json:"event_ids,omitempty"`
	Duplicate *bool    `json:"duplicate,omitempty"` // always set on success

	// error, and a failed action_result
	Error *Error `json:"error,omitempty"`

	// game_state, game_over
	Outcome *Outcome `json:"outcome,omitempty"`

	// opponent_status
	PlayerID string `json:"player_id,omitempty"`
	Status   string `json:"status,omitempty"`

	// spectator_count
	Count *int `json:"count,omitempty"`

	// turn_timeout (and PlayerID: the player to act); game_state of a
	// timed game: its running turn
	TurnNumber       *uint64    `json:"turn_number,omitempty"`
	Deadline         *time.Time `json:"deadline,omitempty"`
	RemainingSeconds *int       `json:"remaining_seconds,omitempty"` // always set on turn_timeout, 0 at the deadline
	IsWarning        *bool      `json:"is_warning,omitempty"`        // always set on turn_timeout
}

// Error is a code and a human-readable message.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// GameSummary lists one game, in connected.active_games and REST.
type GameSummary struct {
	GameID  string   `json:"game_id"`
	Rules   string   `json:"rules"`
	Players []string `json:"players"`
	Head    uint64   `json:"head"`
}

// Forced is a pending forced action: Player must send an Action-type action.
type Forced struct {
	Player string `json:"player"`
	Action string `json:"action"`
}

// Outcome is how a game stands: Ended, and then winners or a draw and why
// (normal, resignation, timeout, abandonment).
type Outcome struct {
	Ended   bool     `json:"ended"`
	Winners []string `json:"winners"`
	Draw    bool     `json:"draw"`
	Reason  string   `json:"reason,omitempty"`
}
