package gateway

import (
	"encoding/json"
	"errors"
	"sync"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/protocol"
)

// session delivers one game to one connection: the store's subscription,
// rendered for the viewer, in seq order, gap-free (stubs where the viewer
// may see nothing).
type session struct {
	c      *conn
	game   uuid.UUID
	role   string
	viewer engine.Viewer
	rules  *engine.Game

	sub  eventstore.Subscription
	wg   sync.WaitGroup
	once sync.Once
}

// start subscribes after seq from and starts the delivery goroutine.
func (ss *session) start(from uint64) error {
	sub, err := ss.c.s.deps.Store.Subscribe(ss.c.ctx, ss.game, from)
	if err != nil {
		return err
	}
	ss.sub = sub
	ss.wg.Add(1)
	go func() {
		defer ss.wg.Done()
		ss.deliver()
	}()
	return nil
}

// end stops delivery and waits for it.
func (ss *session) end() {
	ss.once.Do(func() {
		ss.sub.Close()
		ss.wg.Wait()
		ss.c.s.presence.left(ss.game, ss.c, ss.role)
	})
}

func (ss *session) deliver() {
	for {
		e, err := ss.sub.Next(ss.c.ctx)
		if err != nil {
			if !errors.Is(err, eventstore.ErrClosed) && ss.c.ctx.Err() == nil {
				ss.c.s.log.Error("game subscription failed", "game", ss.game, "err", err)
				ss.c.kill(1011, "subscription failed; reconnect and resume")
			}
			return
		}
		m, err := ss.c.s.renderEvent(ss.rules, ss.game, e, ss.viewer)
		if err != nil {
			ss.c.s.log.Error("render event", "game", ss.game, "seq", e.Seq, "err", err)
			ss.c.kill(1011, "cannot render event")
			return
		}
		if !ss.c.push(m) {
			return
		}
		if e.Type == engine.TypeGameEnded {
			var end engine.GameEnded
			if json.Unmarshal(e.Data, &end) == nil {
				seq := e.Seq
				ss.c.push(protocol.Message{Type: protocol.TypeGameOver, GameID: ss.game.String(), EventID: &seq,
					Outcome: &protocol.Outcome{Ended: true, Winners: nonNil(end.Winners), Draw: end.Draw, Reason: string(end.Reason)}})
			}
		}
	}
}

// renderEvent is one stored event as viewer may see it.
func (s *Server) renderEvent(rules *engine.Game, game uuid.UUID, e eventstore.Event, viewer engine.Viewer) (protocol.Message, error) {
	r, err := rules.RenderEvent(e.Seq, play.EngineEvent(e), viewer)
	if err != nil {
		return protocol.Message{}, err
	}
	seq := e.Seq
	m := protocol.Message{Type: protocol.TypeEvent, GameID: game.String(), EventID: &seq, Visibility: r.Visibility.String()}
	if r.Visibility != engine.Stub {
		at := e.RecordedAt
		m.EventType, m.Version, m.Actor, m.Data, m.RecordedAt = r.Type, r.Version, r.Actor, r.Data, &at
	}
	return m, nil
}
