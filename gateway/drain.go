package gateway

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Drain ends the server's service gracefully, for a rolling restart. From
// its start the server takes no new command: join_game, spectate, action
// and resign on a WebSocket, and REST writes, are answered unavailable; a
// new WebSocket is refused (503 unavailable) and /readyz answers 503, so a
// load balancer stops sending. Heartbeats, leaves and REST reads are still
// served. Drain waits for the commands already running to end and be
// answered, then closes every connection with 1001 (going away), after the
// answers queued for it, and waits for the connections to end: their
// clients resume on another node.
//
// ctx bounds both waits: once it ends Drain closes the connections at
// once and returns ctx.Err(). Call Close afterwards, which stops the rest.
// Safe for concurrent use; a second call waits as the first does.
func (s *Server) Drain(ctx context.Context) error {
	start := time.Now()
	idle, running := s.gate.close()
	s.mu.Lock()
	if !s.closing {
		s.closing = true
		if len(s.conns) == 0 {
			close(s.noConns)
		}
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	s.log.Info("draining: taking no new commands", "commands_running", running, "connections", len(conns))
	select {
	case <-idle:
	case <-ctx.Done():
		s.log.Warn("draining: commands still running at the deadline", "err", ctx.Err())
	}
	// Every connection is in conns: none is accepted once closing is set.
	for _, c := range conns {
		c.kill(websocket.CloseGoingAway, goingAway)
	}
	select {
	case <-s.noConns:
	case <-ctx.Done():
		s.log.Warn("draining: connections still open at the deadline", "err", ctx.Err())
		return ctx.Err()
	}
	s.log.Info("drained", "duration", time.Since(start))
	return ctx.Err()
}

// goingAway is the text of the close frame (1001) of Drain and Close.
const goingAway = "server shutting down: reconnect (to another node) and resume with last_event_id"

// startCommand lets a command run, unless the server is draining (errDraining).
// The caller calls done once the command is answered.
func (s *Server) startCommand() (done func(), err error) {
	if err := s.gate.enter(); err != nil {
		return nil, err
	}
	return s.gate.leave, nil
}

// draining reports whether Drain has begun.
func (s *Server) draining() bool { return s.gate.isShut() }

// refuseDraining answers a request that needs a server not draining: 503
// unavailable. It reports whether it answered.
func (s *Server) refuseDraining(w http.ResponseWriter) bool {
	if !s.draining() {
		return false
	}
	s.fail(w, errDraining)
	return true
}

// gate admits commands until it is shut, then tells when the commands it
// admitted have all ended. Safe for concurrent use.
type gate struct {
	mu      sync.Mutex
	shut    bool
	running int
	idle    chan struct{} // closed once shut with nothing running
}

func newGate() *gate { return &gate{idle: make(chan struct{})} }

// enter admits a command: errDraining once the gate is shut. After nil,
// the caller calls leave when the command has ended.
func (g *gate) enter() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.shut {
		return errDraining
	}
	g.running++
	return nil
}

func (g *gate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.running--
	if g.shut && g.running == 0 {
		close(g.idle)
	}
}

// close shuts the gate (once; later calls change nothing) and returns a
// channel closed once no admitted command runs, and how many run now.
func (g *gate) close() (<-chan struct{}, int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.shut {
		g.shut = true
		if g.running == 0 {
			close(g.idle)
		}
	}
	return g.idle, g.running
}

func (g *gate) isShut() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.shut
}
