package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/playlog/playlog/hub"
	"github.com/playlog/playlog/protocol"
)

// conn is one WebSocket connection of one user.
//
// What an idle joined connection holds is kept small, for a node serves
// tens of thousands: one goroutine (the reader, parked in a read, its
// stack small because each client message is served on a goroutine of its
// own), no writer goroutine (one runs only while something waits to be
// sent: see sendQueue), one runtime timer for pings, no context, no
// logger of its own, and gorilla's 256-byte read buffer.
//
// Locks: c.mu before the queue's (sendQueue.mu: pingDue); the queue
// starts a writer only once it has unlocked. kill takes c.mu, so it is
// never called under it. None of the connection's locks is held while
// calling into the hub or presence, which call into the connection (Send,
// offer, kill) under locks of their own.
type conn struct {
	s    *Server
	ws   *websocket.Conn
	sock *batchConn // ws's socket
	user string

	send   sendQueue      // bounded: full means the client is too slow
	done   chan struct{}  // closed by kill
	closed sync.WaitGroup // done once the last writer has sent the close

	closeOnce sync.Once
	closeCode int
	closeText string

	mu       sync.Mutex         // guards what follows, and the read deadline
	sessions []*session         // the games it follows: a few, looked up in turn
	lastSeen time.Time          // last client message, for the idle timeout
	expires  time.Time          // when the token stops being accepted (zero: never)
	pinger   *time.Timer        // due pings, until the connection ends
	cancel   context.CancelFunc // the command running, if any

	limit limiter // the reader's, and its served message's (offload)

	id    string        // prefix of this connection's server message ids
	sent  atomic.Uint64 // server messages so far
	start time.Time     // when it was accepted
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	user, expires, err := s.deps.Auth.AuthenticateHandshake(r)
	if err != nil {
		s.fail(w, errorf(protocol.CodeAuthenticationFailed, http.StatusUnauthorized, err.Error()))
		return
	}
	noteOf(w).setUser(user)
	if s.refuseDraining(w) {
		return
	}
	hj := &batchHijacker{ResponseWriter: w}
	ws, err := s.upgrader.Upgrade(hj, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	id := s.deps.NewID().String()
	c := &conn{
		s: s, ws: ws, sock: hj.conn, user: user, expires: expires,
		done: make(chan struct{}), lastSeen: s.now(), id: id,
		limit: newLimiter(s.cfg, s.now()), start: time.Now(),
	}
	c.send.init(s.cfg.SendQueue, func() { go c.writeLoop() })
	c.closed.Add(1)
	noteOf(w).setConn(id)
	s.mu.Lock()
	if s.ctx.Err() != nil || s.closing {
		s.mu.Unlock()
		ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, goingAway),
			time.Now().Add(time.Second))
		ws.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.stats.connections.Add(1)
	s.wg.Add(1)
	s.mu.Unlock()
	c.logf(slog.LevelDebug, "websocket connected")
	// The connection is hijacked: serve it on a goroutine of its own and
	// return, so that the HTTP request, its buffers and the handler's stack
	// are not kept for the connection's whole life.
	go func() {
		defer s.wg.Done()
		c.run()
	}()
}

// run serves the connection until it ends, then stops everything it started.
func (c *conn) run() {
	c.mu.Lock()
	c.pinger = time.AfterFunc(c.s.cfg.PingInterval, c.pingDue)
	c.mu.Unlock()
	c.offload(func() {
		active := c.s.activeGames(c.user)
		c.push(protocol.Message{Type: protocol.TypeConnected, UserID: c.user, ActiveGames: &active})
	})
	err := c.readLoop()

	c.kill(websocket.CloseNormalClosure, "")
	c.mu.Lock()
	c.pinger.Stop()
	sessions := c.sessions
	c.sessions = nil
	c.mu.Unlock()
	for _, ss := range sessions {
		c.end(ss)
	}
	c.drain(err)
	c.closed.Wait() // the writer has sent what it could, and the close
	c.ws.Close()
	c.logf(slog.LevelDebug, "websocket closed", "code", c.closeCode, "duration", time.Since(c.start))
	c.s.forget(c)
}

// offload runs f on one of the server's workers and waits for it. The
// reader serves each client message so: what serving needs (a join's
// catch-up, folding a game, encoding) grows the worker's stack, which
// serves the next message of any connection, while the reader's stays as
// small as reading needs for the connection's whole life. (The runtime
// shrinks an idle goroutine's stack only by halves, one per GC, and only
// while a quarter of it is used.)
func (c *conn) offload(f func()) {
	done := make(chan struct{})
	c.s.workers.run(func() {
		defer close(done)
		f()
	})
	<-done
}

// pingDue is the ping timer's: the writer is to ping the client (and check
// the idle timeout). It re-arms the timer until the connection ends.
func (c *conn) pingDue() {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.done:
		return // run stops the timer
	default:
	}
	c.send.ping()
	c.pinger.Reset(c.s.cfg.PingInterval)
}

// forget removes an ended connection; the last one to go while the server
// drains tells Drain.
func (s *Server) forget(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if s.closing && len(s.conns) == 0 {
		close(s.noConns)
	}
}

// kill ends the connection with a close code; the writer sends the close
// frame, and the command running, if any, is cancelled. Safe from any
// goroutine, any number of times, but not under c.mu.
func (c *conn) kill(code int, text string) {
	c.closeOnce.Do(func() {
		c.closeCode, c.closeText = code, text
		close(c.done)
		c.mu.Lock()
		if c.cancel != nil {
			c.cancel()
		}
		c.mu.Unlock()
		// What closeWrite would not flush is not written at all, even by
		// a writer blocked in a batch when the cut came.
		c.send.end(code == protocol.CloseSlowConsumer || code == websocket.CloseAbnormalClosure)
	})
}

// ending reports whether the connection has been killed.
func (c *conn) ending() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// closing reports whether the connection or the whole server is ending: a
// command that fails then fails because of it, which is no error to log
// nor a reason to close with another code than the close's own.
func (c *conn) closing() bool { return c.ending() || c.s.ctx.Err() != nil }

// commandContext returns the context of one command: it ends after
// commandTimeout, at Server.Close, or when the connection is killed.
// The caller calls cancel once the command is done. Called by the
// reader or the goroutine it serves a message on, which it waits for (one
// command runs at a time).
func (c *conn) commandContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(c.s.ctx, commandTimeout)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ending() {
		cancel() // kill has been and gone, or is waiting for c.mu to cancel nothing
		return ctx, cancel
	}
	c.cancel = cancel
	return ctx, func() {
		c.mu.Lock()
		c.cancel = nil
		c.mu.Unlock()
		cancel()
	}
}

// push queues a message for the client. If the queue stays full for
// SlowConsumerTimeout the client is too slow: it is disconnected (4001) and
// will resume from its last event. Only the caller (this connection's
// reader, answering or catching a join up) waits meanwhile.
func (c *conn) push(m protocol.Message) bool {
	b, ok := c.encode(m)
	if !ok {
		return false
	}
	return c.pushBytes(b) == nil
}

// errClosing: the connection is ending; nothing more reaches its client.
var errClosing = errors.New("connection closing")

// pushBytes queues an encoded message, waiting as push does. Errors:
// hub.ErrSlow if the client was too slow (it is cut, and counted),
// errClosing if the connection is ending anyway.
func (c *conn) pushBytes(b []byte) error {
	select {
	case <-c.done:
		return errClosing
	default:
	}
	queued, timedOut := c.send.put(b, c.done, c.s.cfg.SlowConsumerTimeout)
	switch {
	case queued:
		return nil
	case timedOut:
		c.s.stats.slowConsumers.Add(1)
		c.kill(protocol.CloseSlowConsumer, "send queue full: reconnect and resume with last_event_id")
		return hub.ErrSlow
	}
	return errClosing
}

// encode stamps a server message with its id and time and encodes it.
func (c *conn) encode(m protocol.Message) ([]byte, bool) {
	// Unique without a random draw per message: the connection's id and a count.
	m.MessageID = c.id + "-" + strconv.FormatUint(c.sent.Add(1), 10)
	m.Timestamp = c.s.now().UTC()
	b, err := protocol.Marshal(m)
	if err != nil {
		c.logf(slog.LevelError, "encode message", "type", m.Type, "game", m.GameID, "err", err)
		return nil, false
	}
	return b, true
}

// offer queues a message if there is room and never waits: for presence,
// whose updates are sent under a lock that every connection shares. A
// client whose queue is full loses the update; it is far behind already,
// and its event pushes will cut it (4001) if it stays there.
func (c *conn) offer(m protocol.Message) {
	b, ok := c.encode(m)
	if !ok {
		return
	}
	select {
	case <-c.done:
	default:
		c.send.tryPut(b)
	}
}

// writeLoop is a writer: it runs while something waits to be sent (see
// sendQueue), and the last one closes the connection.
func (c *conn) writeLoop() {
	for {
		switch c.send.next() {
		case stepStop:
			return
		case stepWrite:
			if err := c.writeQueued(); err != nil {
				c.kill(websocket.CloseAbnormalClosure, "")
				c.ws.Close() // unblock the reader
			}
		case stepPing:
			c.mu.Lock()
			idle := c.s.now().Sub(c.lastSeen) > c.s.cfg.IdleTimeout
			c.mu.Unlock()
			if idle {
				c.kill(protocol.CloseIdle, "idle timeout")
				continue
			}
			if !c.expires.IsZero() && !c.s.now().Before(c.expires) {
				c.kill(protocol.CloseTokenExpired, "token expired: reconnect with a new one and resume with last_event_id")
				continue
			}
			c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.s.cfg.WriteTimeout))
		case stepEnd:
			c.closeWrite()
			c.closed.Done()
			return
		}
	}
}

// writeQueued writes the messages waiting; several go out in one write.
// It returns early once a ping is due, which the writer sends first.
func (c *conn) writeQueued() error {
	batch := c.send.len() > 1
	if batch {
		c.sock.begin()
	}
	var err error
	for b, ok := c.send.takeUnlessPing(); ok && err == nil; b, ok = c.send.takeUnlessPing() {
		c.ws.SetWriteDeadline(time.Now().Add(c.s.cfg.WriteTimeout))
		err = c.ws.WriteMessage(websocket.TextMessage, b)
	}
	if batch {
		if ferr := c.sock.end(); err == nil {
			err = ferr
		}
	}
	return err
}

// closeWrite ends the connection's writing: the answers already queued
// (none after a slow-consumer cut or a failed write), then the close frame.
func (c *conn) closeWrite() {
	if c.closeCode != protocol.CloseSlowConsumer && c.closeCode != websocket.CloseAbnormalClosure {
		c.flush() // what was said before the close, such as the last error
	}
	if c.closeCode != websocket.CloseAbnormalClosure {
		c.ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(c.closeCode, c.closeText), time.Now().Add(time.Second))
	}
	// The reader drains until the client answers the close; give the
	// client closeGrace to do so. (The net.Conn's deadline: safe to set
	// beside the reader, unlike the library's.)
	c.mu.Lock()
	c.ws.NetConn().SetReadDeadline(time.Now().Add(closeGrace))
	c.mu.Unlock()
}

// flush writes the messages already queued, within one second.
func (c *conn) flush() {
	c.ws.SetWriteDeadline(time.Now().Add(time.Second))
	for b, ok := c.send.take(); ok; b, ok = c.send.take() {
		if c.ws.WriteMessage(websocket.TextMessage, b) != nil {
			return
		}
	}
}

// closeGrace is how long the server reads on, after its close frame, for
// the client's (see drain).
const closeGrace = 2 * time.Second

// errTooBig is a client message over Config.MaxFrameBytes.
var errTooBig = errors.New("message over the size limit")

// readLoop serves the client's messages until the client goes or the
// connection is killed. It returns the error that ended it, nil if the
// connection was killed. Only the reader reads; what it calls runs on it
// or on the goroutine it serves a message on and waits for (offload).
func (c *conn) readLoop() error {
	c.extendRead()
	c.ws.SetPongHandler(func(string) error { c.extendRead(); return nil })
	for {
		typ, data, err := c.next()
		start := time.Now()
		switch {
		case errors.Is(err, errTooBig):
			c.kill(websocket.CloseMessageTooBig, "message over the size limit")
			return nil
		case err != nil:
			return err
		}
		select {
		case <-c.done:
			return nil
		default:
		}
		c.extendRead()
		c.mu.Lock()
		c.lastSeen = c.s.now()
		c.mu.Unlock()
		if typ == websocket.TextMessage && !utf8.Valid(data) {
			// RFC 6455 §8.1: fail the connection, 1007.
			c.kill(websocket.CloseInvalidFramePayloadData, "text frame is not valid UTF-8")
			return nil
		}
		c.offload(func() { c.serveMessage(typ, data, start) })
	}
}

// serveMessage serves one client message, read at start: off the
// reader's stack (see offload), but in the reader's stead, which waits.
func (c *conn) serveMessage(typ int, data []byte, start time.Time) {
	if refused := c.allow(data); refused != nil {
		if c.debugging() {
			c.logMessage("", probeMessageID(data), uuid.Nil, refused, start)
		}
		return
	}
	if typ != websocket.TextMessage {
		id, e := probeMessageID(data), invalid("messages are JSON in text frames")
		c.reply(id, e)
		c.logMessage("", id, uuid.Nil, e, start)
		return
	}
	c.handle(data, start)
}

// next reads the next client message, at most MaxFrameBytes over all its
// fragments; a longer one is errTooBig. The limit is kept here rather than
// with the websocket library's read limit, which writes its own close
// frame at once, ahead of the answers still queued, and leaves the
// connection unreadable, so that it could not be drained.
func (c *conn) next() (int, []byte, error) {
	typ, r, err := c.ws.NextReader()
	if err != nil {
		return 0, nil, err
	}
	data, err := io.ReadAll(io.LimitReader(r, c.s.cfg.MaxFrameBytes+1))
	if err != nil {
		return 0, nil, err
	}
	if int64(len(data)) > c.s.cfg.MaxFrameBytes {
		return 0, nil, errTooBig
	}
	return typ, data, nil
}

// extendRead moves the read deadline a ping period and its pong ahead.
// Once the connection is killed the writer sets the deadline (closeGrace)
// and extendRead leaves it: c.mu orders the two.
func (c *conn) extendRead() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ending() {
		c.ws.NetConn().SetReadDeadline(time.Now().Add(c.s.cfg.PingInterval + c.s.cfg.PongTimeout))
	}
}

// drain reads and throws away what the client still sends after the
// connection is killed, until the client answers the close frame, hangs
// up, or closeGrace after the close frame. Closing a socket with unread
// data resets the connection, and the client's kernel then discards what
// the client had not read yet: the last answers and the close frame with
// its code. readErr is what ended readLoop.
func (c *conn) drain(readErr error) {
	for readErr == nil {
		var r io.Reader
		if _, r, readErr = c.ws.NextReader(); readErr == nil {
			io.Copy(io.Discard, r) // an error returns from NextReader
		}
	}
	var closed *websocket.CloseError
	var failed net.Error
	if errors.As(readErr, &closed) || errors.As(readErr, &failed) || errors.Is(readErr, io.EOF) {
		return // the client answered or went, or the deadline passed
	}
	// The library reads no more after a protocol error (it has sent 1002
	// itself): read the socket.
	io.Copy(io.Discard, c.ws.NetConn())
}

// allow applies the rate limit (see limiter) to a message: a refused one
// is dropped, answered rate_limited while Config.RateLimitReplies lasts,
// and the AbuseLimit-th refusal within AbuseWindow closes the connection
// (1008). It returns nil for a message admitted, else errRateLimited.
func (c *conn) allow(data []byte) error {
	switch c.limit.check(c.s.now()) {
	case admit:
		return nil
	case refuseWithAnswer:
		c.reply(probeMessageID(data), errRateLimited)
	case closeForAbuse:
		c.s.stats.rateLimitCloses.Add(1)
		c.kill(websocket.ClosePolicyViolation, "rate limit exceeded repeatedly")
	}
	return errRateLimited
}

var errRateLimited = errorf(protocol.CodeRateLimited, 0, "too many messages: this one was ignored; slow down and resend it (further refusals may go unanswered)")

// reply sends an error for the request requestID.
func (c *conn) reply(requestID string, e *apiError) {
	c.push(protocol.Message{Type: protocol.TypeError, RequestMessageID: requestID,
		Error: &protocol.Error{Code: e.code, Message: e.message}})
}

// parse decodes a client message strictly: unknown fields, trailing data,
// a missing or malformed message_id, and fields the type does not use are
// invalid_message; an unknown type is unknown_message_type.
func parse(data []byte) (protocol.Request, *apiError) {
	req, ok := protocol.ScanRequest(data)
	if !ok {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			req.MessageID = probeMessageID(data)
			return req, invalid("malformed message: " + err.Error())
		}
		if dec.More() {
			return req, invalid("malformed message: data after the object")
		}
	}
	if err := checkMessageID(req.MessageID, true); err != nil {
		id := req.MessageID
		if len(id) > 64 {
			id = ""
		}
		req.MessageID = id
		return req, err.(*apiError)
	}
	needsGame := true
	switch req.Type {
	case protocol.TypeJoinGame, protocol.TypeSpectate:
	case protocol.TypeLeaveGame, protocol.TypeLeaveSpectate, protocol.TypeResign, protocol.TypeAction:
		if req.LastEventID != nil {
			return req, invalid("last_event_id is only for join_game and spectate")
		}
	case protocol.TypeHeartbeat:
		needsGame = false
		if req.LastEventID != nil || req.GameID != "" {
			return req, invalid("heartbeat takes only type and message_id")
		}
	case "":
		return req, invalid("type is required")
	default:
		return req, errorf(protocol.CodeUnknownMessageType, 0, "unknown message type "+quote(req.Type))
	}
	if (req.Type == protocol.TypeAction) != present(req.Action) {
		if req.Type == protocol.TypeAction {
			return req, invalid("action is required")
		}
		return req, invalid("action is only for type action")
	}
	if needsGame {
		if _, ok := parseGameID(req.GameID); !ok {
			return req, badGameID("game_id", req.GameID)
		}
	}
	return req, nil
}

// probeMessageID returns the message's message_id if one can be read and is
// well formed, so that an error can name the request it answers.
func probeMessageID(data []byte) string {
	var probe struct {
		MessageID string `json:"message_id"`
	}
	json.Unmarshal(data, &probe)
	if checkMessageID(probe.MessageID, true) != nil {
		return ""
	}
	return probe.MessageID
}

func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	b, _ := json.Marshal(s)
	return string(b)
}
