package jscluster

import (
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
)

// proxy forwards TCP connections from its own loopback port to a server's
// port, until cut. Safe for concurrent use.
type proxy struct {
	t    testing.TB
	addr string // where it listens: 127.0.0.1:port
	to   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup // the accept loop and the copies
}

// newProxy starts a proxy on a free port forwarding to the local port to.
func newProxy(t testing.TB, to int) *proxy {
	p := &proxy{t: t, addr: "127.0.0.1:" + strconv.Itoa(freePort(t)), to: "127.0.0.1:" + strconv.Itoa(to),
		conns: map[net.Conn]struct{}{}}
	p.resume()
	return p
}

// resume listens again after a cut (or for the first time).
func (p *proxy) resume() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("jscluster: proxy %s: %v", p.addr, err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			in, err := ln.Accept()
			if err != nil {
				return // cut
			}
			out, err := net.Dial("tcp", p.to)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			if p.ln != ln { // cut meanwhile
				p.mu.Unlock()
				in.Close()
				out.Close()
				return
			}
			p.conns[in], p.conns[out] = struct{}{}, struct{}{}
			p.mu.Unlock()
			p.wg.Add(2)
			go p.pipe(in, out)
			go p.pipe(out, in)
		}
	}()
}

// pipe copies from one side to the other until either fails, then closes
// both.
func (p *proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	io.Copy(dst, src)
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// cut stops listening and resets every connection (no FIN: an RST, as a
// host gone), and waits for its goroutines.
func (p *proxy) cut() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
