// Package client is a Go client of playlog's WebSocket protocol (package
// protocol, docs/protocol.md), for bots, load tests and the project's own
// end-to-end tests.
//
// A Client is not safe for concurrent use, except Close. One goroutine
// reads the connection into a bounded buffer; Next returns messages in
// arrival order, and Request sends a message and returns the server's
// answer to it, keeping everything else for Next.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/protocol"
)

// Client is one WebSocket connection.
type Client struct {
	ws      *websocket.Conn
	in      chan received
	pending []received // read by Request, not yet by Next
	done    chan struct{}
	err     error // why the reader stopped; valid after done
	nextID  atomic.Uint64
	bytes   atomic.Int64 // payload bytes of the messages read
	once    sync.Once
}

// BytesRead is the size of the server messages read so far (their JSON).
// Safe for concurrent use.
func (c *Client) BytesRead() int64 { return c.bytes.Load() }

// received is a message and when the reader took it off the connection.
type received struct {
	m  protocol.Message
	at time.Time
}

// Options tune Dial.
type Options struct {
	// Buffer is how many unread server messages the client keeps before it
	// stops reading (and the server, eventually, disconnects it). Default
	// 4096.
	Buffer int
	// Dialer overrides the WebSocket dialer.
	Dialer *websocket.Dialer
}

// Dial connects to url (ws://host/v1/ws) with a bearer token.
func Dial(ctx context.Context, url, token string, opts Options) (*Client, error) {
	if opts.Buffer == 0 {
		opts.Buffer = 4096
	}
	d := opts.Dialer
	if d == nil {
		d = websocket.DefaultDialer
	}
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	ws, resp, err := d.DialContext(ctx, url, h)
	if err != nil {
		if resp != nil {
			var body struct {
				Error protocol.Error `json:"error"`
			}
			if json.NewDecoder(resp.Body).Decode(&body) == nil && body.Error.Code != "" {
				return nil, &body.Error
			}
			return nil, fmt.Errorf("dial %s: %s", url, resp.Status)
		}
		return nil, err
	}
	c := &Client{ws: ws, in: make(chan received, opts.Buffer), done: make(chan struct{})}
	go c.read()
	return c, nil
}

func (c *Client) read() {
	defer close(c.done)
	defer close(c.in)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			c.err = err
			return
		}
		c.bytes.Add(int64(len(data)))
		var m protocol.Message
		if err := json.Unmarshal(data, &m); err != nil {
			c.err = fmt.Errorf("client: undecodable server message: %w", err)
			return
		}
		c.in <- received{m: m, at: time.Now()}
	}
}

// Send sends a request as is.
func (c *Client) Send(req protocol.Request) error {
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	return c.SendRaw(b)
}

// SendRaw sends bytes as one text frame: for tests of malformed input.
func (c *Client) SendRaw(b []byte) error {
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

// Next returns the next server message. After the connection ends it
// returns the reason, a *websocket.CloseError when the server closed it.
func (c *Client) Next(ctx context.Context) (protocol.Message, error) {
	m, _, err := c.NextTimed(ctx)
	return m, err
}

// NextTimed is Next, with the time the message came off the connection.
func (c *Client) NextTimed(ctx context.Context) (protocol.Message, time.Time, error) {
	if len(c.pending) > 0 {
		r := c.pending[0]
		c.pending = c.pending[1:]
		return r.m, r.at, nil
	}
	select {
	case r, ok := <-c.in:
		if !ok {
			return protocol.Message{}, time.Time{}, c.err
		}
		return r.m, r.at, nil
	case <-ctx.Done():
		return protocol.Message{}, time.Time{}, ctx.Err()
	}
}

// Request sends req (giving it a message id if it has none) and returns the
// server's answer: the message whose request_message_id matches. Other
// messages that arrive meanwhile are kept for Next. An error answer
// (type error, or a failed action_result) is returned as the message and a
// *protocol.Error.
func (c *Client) Request(ctx context.Context, req protocol.Request) (protocol.Message, error) {
	if req.MessageID == "" {
		req.MessageID = "c" + strconv.FormatUint(c.nextID.Add(1), 10)
	}
	if err := c.Send(req); err != nil {
		return protocol.Message{}, err
	}
	for {
		var r received
		select {
		case got, ok := <-c.in:
			if !ok {
				return protocol.Message{}, c.err
			}
			r = got
		case <-ctx.Done():
			return protocol.Message{}, ctx.Err()
		}
		m := r.m
		if m.RequestMessageID != req.MessageID {
			c.pending = append(c.pending, r)
			continue
		}
		if m.Error != nil {
			return m, m.Error
		}
		return m, nil
	}
}

// Close closes the connection and waits for the reader.
func (c *Client) Close() error {
	c.once.Do(func() {
		c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
		c.ws.Close()
	})
	for range c.in { // let the reader finish
	}
	<-c.done
	return nil
}

// Drop cuts the connection without a close handshake, as a network failure
// would.
func (c *Client) Drop() {
	c.once.Do(func() { c.ws.UnderlyingConn().Close() })
	for range c.in {
	}
	<-c.done
}

// Rendered converts an event message to the engine's rendered event, for a
// client-side fold with engine.Game.ApplyRendered.
func Rendered(m protocol.Message) (engine.Rendered, error) {
	if m.Type != protocol.TypeEvent || m.EventID == nil {
		return engine.Rendered{}, errors.New("client: not an event message")
	}
	r := engine.Rendered{Seq: *m.EventID, Type: m.EventType, Version: m.Version, Actor: m.Actor, Data: m.Data}
	if err := r.Visibility.UnmarshalText([]byte(m.Visibility)); err != nil {
		return engine.Rendered{}, err
	}
	return r, nil
}
