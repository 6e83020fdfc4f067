package gateway

import (
	"bufio"
	"net"
	"net/http"
	"sync"
)

// batchConn is a connection's socket, which can gather the frames of
// several queued messages into one write: a syscall per message was the
// largest single cost of a move. Outside a batch, writes go straight
// through. Safe for concurrent use (the writer, and gorilla's control frames
// from the reader).
type batchConn struct {
	net.Conn

	mu       sync.Mutex
	batching bool
	buf      *[]byte // gathered frames, from batchBufs; nil outside a batch
	err      error   // a failed flush: every later write fails
}

// maxBatch bounds what one batch gathers before it writes.
const maxBatch = 32 << 10

var batchBufs = sync.Pool{New: func() any { b := make([]byte, 0, maxBatch); return &b }}

func (b *batchConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return 0, b.err
	}
	if b.batching && len(*b.buf)+len(p) <= maxBatch {
		*b.buf = append(*b.buf, p...)
		return len(p), nil
	}
	if err := b.flushLocked(); err != nil {
		return 0, err
	}
	return b.Conn.Write(p)
}

// begin starts gathering writes; end writes what was gathered.
func (b *batchConn) begin() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.batching = true
	if b.buf == nil {
		b.buf = batchBufs.Get().(*[]byte)
	}
}

func (b *batchConn) end() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.batching = false
	err := b.flushLocked()
	if b.buf != nil {
		*b.buf = (*b.buf)[:0]
		batchBufs.Put(b.buf) // an idle connection holds no buffer
		b.buf = nil
	}
	return err
}

func (b *batchConn) flushLocked() error {
	if b.err != nil {
		return b.err
	}
	if b.buf == nil || len(*b.buf) == 0 {
		return nil
	}
	_, err := b.Conn.Write(*b.buf)
	*b.buf = (*b.buf)[:0]
	b.err = err
	return err
}

// batchHijacker hands the WebSocket upgrader a batchConn in place of the
// hijacked socket.
type batchHijacker struct {
	http.ResponseWriter
	conn *batchConn
}

func (h *batchHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.conn = &batchConn{Conn: c}
	return h.conn, rw, nil
}
