package gateway

import (
	"errors"
	"net"
	"testing"
)

// countingConn records each write that reaches the socket.
type countingConn struct {
	net.Conn
	writes [][]byte
	fail   error
}

func (c *countingConn) Write(p []byte) (int, error) {
	if c.fail != nil {
		return 0, c.fail
	}
	c.writes = append(c.writes, append([]byte(nil), p...))
	return len(p), nil
}

func TestBatchConnGathersWrites(t *testing.T) {
	sock := &countingConn{}
	b := &batchConn{Conn: sock}
	b.Write([]byte("a")) // outside a batch: straight through
	b.begin()
	b.Write([]byte("bb"))
	b.Write([]byte("ccc"))
	if len(sock.writes) != 1 {
		t.Fatalf("%d writes reached the socket inside a batch, want 1", len(sock.writes))
	}
	if err := b.end(); err != nil {
		t.Fatal(err)
	}
	if len(sock.writes) != 2 || string(sock.writes[1]) != "bbccc" {
		t.Fatalf("writes %q, want [a bbccc]", sock.writes)
	}
	if b.buf != nil {
		t.Fatal("an idle connection keeps its batch buffer")
	}
	// A batch larger than maxBatch is written as it fills, in order.
	b.begin()
	big := make([]byte, maxBatch-1)
	b.Write(big)
	b.Write([]byte("xy"))
	b.end()
	if n := len(sock.writes); n != 4 || len(sock.writes[2]) != maxBatch-1 || string(sock.writes[3]) != "xy" {
		t.Fatalf("%d writes after an overfull batch", n)
	}
	// A failed write fails every later one.
	sock.fail = errors.New("broken pipe")
	b.begin()
	b.Write([]byte("z"))
	if err := b.end(); err == nil {
		t.Fatal("a failed flush reported no error")
	}
	sock.fail = nil
	if _, err := b.Write([]byte("w")); err == nil {
		t.Fatal("a write after a failed flush succeeded")
	}
}
