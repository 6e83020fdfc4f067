package gateway

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/protocol"
)

// What the gateway logs. Every line about a connection carries "conn" (its
// id, the prefix of its server message ids) and "user"; every line about
// a REST request "request" (an id of its own); every line about a game
// "game". At debug level each REST request and each client message gets
// one line when it has been answered. No line holds what a client sent
// beyond its method, route, message type, message id and game id: not a
// query string (access_token may be there), a header, a token, a body, an
// action, an error's message (it may quote the action), nor anything the
// server sent.

// requestNote is a REST request's response writer, which records what its
// log line says: the status, and what the handlers learned (the user, the
// game, the error answered).
type requestNote struct {
	http.ResponseWriter
	id     string
	status int
	user   string
	conn   string // the WebSocket's connection id, after an upgrade
	game   uuid.UUID
	err    error
}

// noteOf returns w's note, or nil if w is not one (its methods accept nil).
func noteOf(w http.ResponseWriter) *requestNote {
	n, _ := w.(*requestNote)
	return n
}

func (n *requestNote) setUser(user string) {
	if n != nil {
		n.user = user
	}
}

func (n *requestNote) setGame(game uuid.UUID) {
	if n != nil {
		n.game = game
	}
}

func (n *requestNote) setConn(id string) {
	if n != nil {
		n.conn = id
	}
}

func (n *requestNote) WriteHeader(status int) {
	if n.status == 0 {
		n.status = status
	}
	n.ResponseWriter.WriteHeader(status)
}

func (n *requestNote) Write(b []byte) (int, error) {
	if n.status == 0 {
		n.status = http.StatusOK
	}
	return n.ResponseWriter.Write(b)
}

// Hijack hands the connection to the WebSocket upgrader.
func (n *requestNote) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(n.ResponseWriter).Hijack()
	if err == nil {
		n.status = http.StatusSwitchingProtocols
	}
	return c, rw, err
}

// Unwrap lets http.ResponseController reach the server's writer.
func (n *requestNote) Unwrap() http.ResponseWriter { return n.ResponseWriter }

// logRequests serves h, giving each request an id and, at debug level, its
// line once answered; an internal error is logged at error level with the
// error itself.
func (s *Server) logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		n := &requestNote{ResponseWriter: w, id: s.deps.NewID().String()}
		h.ServeHTTP(n, r)
		var code string
		if n.err != nil {
			code = classify(n.err).code
		}
		internal := code == protocol.CodeInternalError
		level := slog.LevelDebug
		if internal {
			level = slog.LevelError
		}
		if !s.log.Enabled(r.Context(), level) {
			return
		}
		// The route that served it, never the path: a decoded path can hold
		// anything a client put there ("%3Faccess_token=..." decodes to a
		// query string), and the game id is logged on its own below.
		route := strings.TrimPrefix(r.Pattern, r.Method+" ")
		if route == "" {
			route = "?"
		}
		status := n.status
		if status == 0 {
			status = http.StatusOK
		}
		attrs := make([]slog.Attr, 0, 10)
		attrs = append(attrs, slog.String("request", n.id), slog.String("method", r.Method),
			slog.String("route", route), slog.Int("status", status), slog.Duration("duration", time.Since(start)))
		if n.user != "" {
			attrs = append(attrs, slog.String("user", n.user))
		}
		if n.conn != "" {
			attrs = append(attrs, slog.String("conn", n.conn))
		}
		if n.game == uuid.Nil {
			n.game, _ = uuid.Parse(r.PathValue("id"))
		}
		if n.game != uuid.Nil {
			attrs = append(attrs, slog.String("game", n.game.String()))
		}
		if code != "" {
			attrs = append(attrs, slog.String("code", code))
		}
		if internal {
			attrs = append(attrs, slog.Any("err", n.err))
			s.log.LogAttrs(r.Context(), level, "request failed", attrs...)
			return
		}
		s.log.LogAttrs(r.Context(), level, "http request", attrs...)
	})
}

// logMessage is the debug line of one client message, once answered:
// typ and messageID when they are well formed, the game, the outcome ("ok"
// or the error code answered) and how long it took.
func (c *conn) logMessage(typ, messageID string, game uuid.UUID, err error, start time.Time) {
	if !c.debugging() {
		return
	}
	attrs := make([]slog.Attr, 0, 5)
	attrs = append(attrs, slog.String("type", knownType(typ)))
	if messageID != "" && checkMessageID(messageID, true) == nil {
		attrs = append(attrs, slog.String("message_id", messageID))
	}
	if game != uuid.Nil {
		attrs = append(attrs, slog.String("game", game.String()))
	}
	attrs = append(attrs, slog.String("outcome", outcome(err)), slog.Duration("duration", time.Since(start)))
	c.logAttrs(slog.LevelDebug, "websocket message", attrs...)
}

// debugging reports whether the connection's debug lines are logged.
func (c *conn) debugging() bool { return c.s.log.Enabled(context.Background(), slog.LevelDebug) }

// logf logs a line about the connection: its id and user first, then args
// (key-value pairs, as slog.Logger.Log takes them). A connection keeps no
// logger of its own: slog.Logger.With allocates, and an idle connection
// logs nothing.
func (c *conn) logf(level slog.Level, msg string, args ...any) {
	if !c.s.log.Enabled(context.Background(), level) {
		return
	}
	c.s.log.Log(context.Background(), level, msg, append([]any{"conn", c.id, "user", c.user}, args...)...)
}

// logAttrs is logf with attributes.
func (c *conn) logAttrs(level slog.Level, msg string, attrs ...slog.Attr) {
	if !c.s.log.Enabled(context.Background(), level) {
		return
	}
	c.s.log.LogAttrs(context.Background(), level, msg,
		append([]slog.Attr{slog.String("conn", c.id), slog.String("user", c.user)}, attrs...)...)
}

// knownType is a client message's type if the protocol knows it, else "?":
// a type the client made up is not logged.
func knownType(typ string) string {
	switch typ {
	case protocol.TypeJoinGame, protocol.TypeSpectate, protocol.TypeLeaveGame, protocol.TypeLeaveSpectate,
		protocol.TypeAction, protocol.TypeResign, protocol.TypeHeartbeat:
		return typ
	}
	return "?"
}
