package gateway

import (
	"errors"

	"github.com/google/uuid"

	"github.com/playlog/playlog/hub"
	"github.com/playlog/playlog/protocol"
)

// session is one game this connection follows: its watch on the node's
// hub, which delivers the game's events rendered for this viewer.
type session struct {
	game  uuid.UUID
	role  string
	watch *hub.Watch
}

// connSink is a connection as the hub sees it: its bounded send queue.
// Send (live events) never waits; a full queue means the client is too
// slow, and the hub drops it (Drop cuts the connection with 4001; the
// client resumes with last_event_id).
type connSink struct{ c *conn }

var _ hub.Sink = connSink{}

func (s connSink) Send(b []byte) bool {
	select {
	case <-s.c.done:
		return true // closing: nothing more reaches the client anyway
	default:
	}
	return s.c.send.tryPut(b)
}

// Push queues a message of a joiner's catch-up, waiting up to
// SlowConsumerTimeout for room as the connection's own answers do; a
// client still too slow then is cut (4001) and counted, once.
func (s connSink) Push(b []byte) error { return s.c.pushBytes(b) }

func (s connSink) Drop(err error) {
	select {
	case <-s.c.done:
		return // going already, and counted if it was slow
	default:
	}
	if errors.Is(err, hub.ErrSlow) {
		s.c.s.stats.slowConsumers.Add(1)
		s.c.kill(protocol.CloseSlowConsumer, "send queue full: reconnect and resume with last_event_id")
		return
	}
	s.c.kill(1011, "game subscription failed; reconnect and resume")
}
