package gateway

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/playlog/playlog/protocol"
)

// docs/protocol.md: a WebSocket whose token has expired is closed with
// 4003 at its next ping, "busy or not". A queue that never empties (large
// messages that keep coming, a client that reads them steadily) kept the
// writer in its batch loop for good: no ping step, so no ping, no idle
// check and no token check. The writer now leaves the batch when a ping
// is due.
func TestBusyWriterStillPingsAndEndsAnExpiredToken(t *testing.T) {
	c, client := pipeConn(t, Config{SendQueue: 4})
	c.expires = time.Now().Add(-time.Second)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(stop); wg.Wait() }()
	// loop runs f until the test or the connection ends.
	loop := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-c.done:
					return
				default:
				}
				f()
			}
		}()
	}
	msg := []byte(`{"type":"event","pad":"` + strings.Repeat("x", 8<<10) + `"}`)
	for range 8 { // producers that keep the queue full
		loop(func() { c.send.put(msg, c.done, time.Second) })
	}
	loop(func() { // the ping timer's part (pingDue)
		time.Sleep(20 * time.Millisecond)
		c.send.ping()
	})
	client.SetReadDeadline(time.Now().Add(3 * time.Second))
	for {
		_, _, err := client.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			if ce.Code != protocol.CloseTokenExpired {
				t.Fatalf("closed with %d %q, want %d", ce.Code, ce.Text, protocol.CloseTokenExpired)
			}
			return
		}
		if err != nil {
			t.Fatalf("a busy connection with an expired token was not closed with 4003: %v", err)
		}
		time.Sleep(200 * time.Microsecond) // a client that reads slowly, but reads
	}
}
