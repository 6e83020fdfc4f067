package engine

import (
	"encoding/json"
	"fmt"
	"time"
)

// Command is a request to act: who sends it and the action as JSON, an
// object with a "type" field ({"type":"place","cell":4}).
//
// Three action types belong to the engine and work in every game:
//
//	{"type":"resign"}                   from a player in play: they lose, the
//	                                    others in play win (reason resignation)
//	{"type":"timeout","player":"bob"}   from System, for a player who must act
//	                                    now: the rules' TimeoutPolicy action if
//	                                    it has one, else bob loses like a
//	                                    resignation (reason timeout)
//	{"type":"abandon"}                  from System: the game ends with no
//	                                    winner (reason abandonment)
//
// In a game with a turn timer (docs/timers.md) a timeout also names the
// turn, {"type":"timeout","player":"bob","turn":7}, and the system may
// grant a reconnecting player grace: {"type":"grace","player":"bob","turn":7}.
type Command struct {
	Actor  string          `json:"actor"`
	Action json.RawMessage `json:"action"`
	// At is the command's time, from the caller's clock: a timed game's
	// deadlines count from it and its timeouts are checked against it.
	// The engine reads no clock.
	At time.Time `json:"at,omitzero"`
}

// Engine action types.
const (
	ActionResign  = "resign"
	ActionTimeout = "timeout"
	ActionAbandon = "abandon"
	ActionGrace   = "grace"
)

type typeOnly struct {
	Type string `json:"type"`
}

type timeoutAction struct {
	Type   string `json:"type"`
	Player string `json:"player"`
	Turn   uint64 `json:"turn,omitempty"` // a timed game's
}

// DecodeAction decodes an action strictly and returns it re-encoded in
// canonical form, without looking at any game state; the gateway can use
// it to reject malformed input early. Errors wrap ErrInvalidAction.
func (g *Game) DecodeAction(data []byte) (json.RawMessage, error) {
	o, typ, err := ParseAction(data)
	if err != nil {
		return nil, err
	}
	switch typ {
	case ActionResign, ActionAbandon:
		if err := o.Done(); err != nil {
			return nil, err
		}
		return json.Marshal(typeOnly{Type: typ})
	case ActionTimeout, ActionGrace:
		p, err := o.String("player")
		if err != nil {
			return nil, err
		}
		var turn uint64
		if typ == ActionGrace || o.Has("turn") {
			n, err := o.Int("turn", 1, 1<<62)
			if err != nil {
				return nil, err
			}
			turn = uint64(n)
		}
		if err := o.Done(); err != nil {
			return nil, err
		}
		if typ == ActionGrace {
			return json.Marshal(graceAction{Type: typ, Player: p, Turn: turn})
		}
		return json.Marshal(timeoutAction{Type: typ, Player: p, Turn: turn})
	}
	return g.k.decodeAction(data)
}

func notAllowed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrActionNotAllowed}, args...)...)
}
