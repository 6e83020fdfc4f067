package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// The load tools (bench, idle) talk only to a playlogd on this machine:
// loopbackURL refuses any other -url before anything is sent, and their
// dialers refuse any address that is not loopback, whatever a name
// resolved to.

// loopbackURL parses -url and accepts only a base URL (no path, query or
// credentials) on this machine's loopback.
func loopbackURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("-url: %v", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("-url %q: want http://host:port", raw)
	}
	if !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("-url %q: refusing a host that is not this machine's loopback (localhost, 127.0.0.0/8, ::1)", raw)
	}
	u.Path = ""
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// loopbackOnly is the dialers' last check, after name resolution and before
// connecting: an address that is not loopback is refused, whatever a name
// resolved to.
func loopbackOnly(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !ap.Addr().Unmap().IsLoopback() {
		return fmt.Errorf("refusing to connect to %s: not a loopback address", address)
	}
	return nil
}

// writeBound makes every write on a connection end within timeout: the
// WebSocket client has no write deadline of its own.
type writeBound struct {
	net.Conn
	timeout time.Duration
}

func (c writeBound) Write(p []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(c.timeout))
	return c.Conn.Write(p)
}

// loopbackDialer returns a TCP dialer that connects only to loopback
// addresses, each dial within timeout.
func loopbackDialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, Control: loopbackOnly}
}

// wsDialer returns a WebSocket dialer over nd whose handshake, and every
// write after it, ends within timeout.
func wsDialer(nd *net.Dialer, timeout time.Duration) *websocket.Dialer {
	return &websocket.Dialer{
		HandshakeTimeout: timeout,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := nd.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return writeBound{c, timeout}, nil
		},
	}
}

// wsEndpoint is the WebSocket address of the playlogd at base.
func wsEndpoint(base *url.URL) string {
	return strings.Replace(base.String(), "http", "ws", 1) + "/v1/ws"
}
