package hub

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/protocol"
	"github.com/playlog/playlog/replay"
)

// EventMessage is one stored event as viewer may see it: the wire `event`,
// a bare stub when the viewer may see nothing of it.
func EventMessage(rules *engine.Game, game uuid.UUID, e eventstore.Event, viewer engine.Viewer) (protocol.Message, error) {
	r, err := rules.RenderEvent(e.Seq, replay.EngineEvent(e), viewer)
	if err != nil {
		return protocol.Message{}, err
	}
	return eventMessage(game, e, r), nil
}

func eventMessage(game uuid.UUID, e eventstore.Event, r engine.Rendered) protocol.Message {
	seq := e.Seq
	m := protocol.Message{Type: protocol.TypeEvent, GameID: game.String(), EventID: &seq, Visibility: r.Visibility.String()}
	if r.Visibility != engine.Stub {
		at := e.RecordedAt
		m.EventType, m.Version, m.Actor, m.Data, m.RecordedAt = r.Type, r.Version, r.Actor, r.Data, &at
	}
	return m
}

// GameOver is the wire `game_over` that follows a game_ended event, and
// whether e is one.
func GameOver(game uuid.UUID, e eventstore.Event) (protocol.Message, bool) {
	if e.Type != engine.TypeGameEnded {
		return protocol.Message{}, false
	}
	var end engine.GameEnded
	if json.Unmarshal(e.Data, &end) != nil {
		return protocol.Message{}, false
	}
	seq := e.Seq
	winners := end.Winners
	if winners == nil {
		winners = []string{}
	}
	return protocol.Message{Type: protocol.TypeGameOver, GameID: game.String(), EventID: &seq,
		Outcome: &protocol.Outcome{Ended: true, Winners: winners, Draw: end.Draw, Reason: string(end.Reason)}}, true
}

// encoder stamps and encodes the messages of one game. Their message ids
// are the game, the event id and the kind, the same on every node and every
// delivery, so a client may use them to drop what it has seen.
type encoder struct {
	game uuid.UUID
	now  func() time.Time
}

func (en encoder) encode(m protocol.Message, kind string) ([]byte, error) {
	m.MessageID = MessageID(en.game, *m.EventID, kind)
	m.Timestamp = en.now().UTC()
	return protocol.Marshal(m)
}

// MessageID is the server message id of what the hub sends about event seq
// of game: "<game>:<seq>:event", or ":over" for the game_over after it.
func MessageID(game uuid.UUID, seq uint64, kind string) string {
	return game.String() + ":" + strconv.FormatUint(seq, 10) + ":" + kind
}

// rendering renders one event for every view of a feed: the event is
// decoded once, and each distinct rendering (most events look the same to
// everyone) is encoded once.
type rendering struct {
	en    encoder
	rules *engine.Game
	e     eventstore.Event

	decoded bool
	d       engine.Decoded
	err     error
	out     map[string][][]byte // by visibility and data
}

func (r *rendering) forView(view engine.Viewer) ([][]byte, error) {
	if !r.decoded {
		r.decoded = true
		if r.d, r.err = r.rules.Decode(replay.EngineEvent(r.e)); r.err != nil {
			r.err = fmt.Errorf("seq %d: %w", r.e.Seq, r.err)
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	rendered, err := r.rules.RenderDecoded(r.e.Seq, r.e.Type, r.d, view)
	if err != nil {
		return nil, err
	}
	key := rendered.Visibility.String() + string(rendered.Data)
	if msgs, ok := r.out[key]; ok {
		return msgs, nil
	}
	b, err := r.en.encode(eventMessage(r.en.game, r.e, rendered), "event")
	if err != nil {
		return nil, err
	}
	msgs := [][]byte{b}
	if over, ok := GameOver(r.en.game, r.e); ok {
		ob, err := r.en.encode(over, "over")
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, ob)
	}
	if r.out == nil {
		r.out = map[string][][]byte{}
	}
	r.out[key] = msgs
	return msgs, nil
}
