package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/hub"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/projections"
	"github.com/playlog/playlog/protocol"
	"github.com/playlog/playlog/replay"
	"github.com/playlog/playlog/replay/web"
)

// Authenticator turns a request's credentials into a user id: a REST
// request's (Authenticate) or a WebSocket handshake's, which may carry them
// in its query (AuthenticateHandshake), with the time the credentials
// stop being accepted, when the connection ends (zero: never). Errors
// mean authentication_failed; their text is shown to the client.
type Authenticator interface {
	Authenticate(r *http.Request) (userID string, err error)
	AuthenticateHandshake(r *http.Request) (userID string, expires time.Time, err error)
}

// Deps are the parts the gateway serves from, built by cmd/playlogd.
type Deps struct {
	Play      *play.Service
	Directory *projections.Directory
	Store     eventstore.Store
	// Hub delivers games' events to this node's connections.
	Hub *hub.Hub
	// Replay reads games' pasts: the replay endpoints, spectator delays.
	Replay *replay.Replayer
	// History lists users' finished games.
	History projections.HistoryReader
	Auth    Authenticator
	// Bus carries presence between nodes. Default: this process only.
	Bus    Bus
	Logger *slog.Logger
	Now    func() time.Time
	// NewID names this node (for presence) and its connections (the
	// prefix of their server message ids). Default uuid.New.
	NewID func() uuid.UUID
}

// Server serves REST and WebSocket. Create it with New, serve Handler,
// and Close it to end every connection.
type Server struct {
	cfg      Config
	deps     Deps
	log      *slog.Logger
	now      func() time.Time
	presence *presence
	upgrader websocket.Upgrader
	mux      *http.ServeMux
	handler  http.Handler // mux, each request logged
	gate     *gate        // commands, until Drain
	workers  *workers     // serve client messages

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // connections and their goroutines

	mu      sync.Mutex
	conns   map[*conn]struct{}
	closing bool          // Drain began: no new connection is accepted
	noConns chan struct{} // closed once closing and conns is empty

	stats struct {
		connections, slowConsumers, rateLimitCloses atomic.Int64
		joins, joinFailures                         atomic.Int64
		commands                                    codeCounts
	}
}

// Stats counts what happened to connections since the server started, and
// what stands now.
type Stats struct {
	Connections     int64 // accepted WebSocket connections
	Open            int   // open WebSocket connections now
	Queued          int   // messages waiting in connections' send queues now
	SlowConsumers   int64 // closed (4001) because their send queue filled
	RateLimitCloses int64 // closed (1008) for repeated rate-limit violations
	Joins           int64 // join_game and spectate requests
	JoinFailures    int64 // of which were answered with an error
	// Commands counts actions and resignations (WebSocket and REST) by
	// outcome: "ok", or the error code they were answered with.
	Commands map[string]int64
}

// Stats returns the counters. Safe for concurrent use.
func (s *Server) Stats() Stats {
	st := Stats{
		Connections:     s.stats.connections.Load(),
		SlowConsumers:   s.stats.slowConsumers.Load(),
		RateLimitCloses: s.stats.rateLimitCloses.Load(),
		Joins:           s.stats.joins.Load(),
		JoinFailures:    s.stats.joinFailures.Load(),
		Commands:        s.stats.commands.snapshot(),
	}
	s.mu.Lock()
	st.Open = len(s.conns)
	for c := range s.conns {
		st.Queued += c.send.len()
	}
	s.mu.Unlock()
	return st
}

// codeCounts counts outcomes by code. Safe for concurrent use.
type codeCounts struct {
	mu sync.Mutex
	n  map[string]int64
}

func (c *codeCounts) add(code string) {
	c.mu.Lock()
	if c.n == nil {
		c.n = map[string]int64{}
	}
	c.n[code]++
	c.mu.Unlock()
}

func (c *codeCounts) snapshot() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

// outcome is the Commands key of a command's result.
func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	return classify(err).code
}

// New returns a Server. It starts the presence loop, which Close stops.
func New(deps Deps, cfg Config) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Play == nil || deps.Directory == nil || deps.Store == nil || deps.Hub == nil || deps.Replay == nil || deps.History == nil || deps.Auth == nil {
		return nil, errors.New("gateway: Play, Directory, Store, Hub, Replay, History and Auth are required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Bus == nil {
		deps.Bus = NewLocalBus()
	}
	if deps.NewID == nil {
		deps.NewID = uuid.New
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg: cfg, deps: deps, log: deps.Logger, now: deps.Now, ctx: ctx, cancel: cancel,
		conns: map[*conn]struct{}{}, noConns: make(chan struct{}), gate: newGate(),
		upgrader: websocket.Upgrader{
			// A small read buffer of gorilla's own, so the HTTP server's
			// 4 KB one is let go after the hijack: 256 bytes hold a client
			// message of the usual size (a join, an action) in one read,
			// and larger frames are read all the same, in more reads.
			// Writes borrow from a pool, so an idle connection holds no
			// write buffer.
			ReadBufferSize: 256, WriteBufferPool: &sync.Pool{},
			// Tokens, not cookies, authenticate: any origin may connect.
			CheckOrigin: func(*http.Request) bool { return true },
		},
	}
	s.workers = newWorkers(ctx, &s.wg, workerIdle)
	s.presence = newPresence(deps.Now, cfg.PresenceDebounce, deps.Logger, deps.Bus, deps.NewID().String())
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.presence.run(ctx) }()
	s.routes()
	s.handler = s.logRequests(s.mux)
	return s, nil
}

// TurnTimeout tells this node's connections following game that a timed
// turn's deadline is near (warning) or has passed: a turn_timeout message
// naming the player to act. If delayed (the game has a spectator delay)
// its spectators are not told: the turn is the present, which they may
// not see yet. It does not wait: a full queue misses it.
func (s *Server) TurnTimeout(game uuid.UUID, player string, turn uint64, deadline time.Time, remaining time.Duration, warning, delayed bool) {
	secs := int((remaining + time.Second - 1) / time.Second) // rounded up: "1 s left" until it is 0
	s.presence.announce(game, protocol.Message{Type: protocol.TypeTurnTimeout, GameID: game.String(),
		PlayerID: player, TurnNumber: &turn, Deadline: &deadline, RemainingSeconds: &secs, IsWarning: &warning},
		delayed)
}

// Handler is the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Close ends every connection at once (close code 1001) and waits for all
// of the server's goroutines. Drain first to let commands running end and
// be answered.
func (s *Server) Close() error {
	s.cancel()
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.kill(websocket.CloseGoingAway, goingAway)
	}
	s.wg.Wait()
	return nil
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	m.HandleFunc("GET /readyz", s.ready)
	m.HandleFunc("GET /v1/ws", s.serveWS)
	m.HandleFunc("GET /v1/openapi.json", serveOpenAPI)
	m.HandleFunc("POST /v1/games", s.authed(s.createGame))
	m.HandleFunc("GET /v1/games", s.authed(s.listGames))
	m.HandleFunc("GET /v1/games/{id}", s.authed(s.getGame))
	m.HandleFunc("POST /v1/games/{id}/actions", s.authed(s.postAction))
	m.HandleFunc("POST /v1/games/{id}/resign", s.authed(s.resign))
	m.HandleFunc("GET /v1/games/{id}/events", s.authed(s.getEvents))
	m.HandleFunc("GET /v1/users/me/history", s.authed(s.getHistory))
	m.HandleFunc("GET /v1/games/{id}/replay", s.authed(s.getReplay))
	m.HandleFunc("GET /v1/games/{id}/replay/events", s.authed(s.getReplayEvents))
	m.Handle("GET /replay/", web.Handler())
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errorf(protocol.CodeNotFound, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path))
	})
	s.mux = m
}

// ready answers 200 when the store answers, 503 once the server drains.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	if s.draining() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.deps.Store.Ping(ctx); err != nil {
		s.log.Warn("readiness: store not answering", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "store unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) authed(h func(w http.ResponseWriter, r *http.Request, user string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, err := s.deps.Auth.Authenticate(r)
		if err != nil {
			s.fail(w, errorf(protocol.CodeAuthenticationFailed, http.StatusUnauthorized, err.Error()))
			return
		}
		noteOf(w).setUser(user)
		h(w, r, user)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, map[string]any{"error": protocol.Error{Code: e.code, Message: e.message}})
}

// fail writes the classified error. The request's log line (logRequests)
// names its code, and an unexpected error is logged in full.
func (s *Server) fail(w http.ResponseWriter, err error) {
	e := classify(err)
	if n := noteOf(w); n != nil {
		n.err = err
	} else if e.code == protocol.CodeInternalError {
		s.log.Error("request failed", "err", err)
	}
	writeError(w, e)
}
