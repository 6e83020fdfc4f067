package gateway

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/playlog/playlog/hub"
	"github.com/playlog/playlog/protocol"
)

// pipeHijacker is a ResponseWriter whose Hijack hands out one end of a
// net.Pipe: the server's socket, on which writes block until the client reads.
type pipeHijacker struct {
	http.ResponseWriter
	c net.Conn
}

func (h *pipeHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return h.c, bufio.NewReadWriter(bufio.NewReader(h.c), bufio.NewWriter(h.c)), nil
}

// pipeConn returns a server conn (no reader running) and the client's
// websocket over a net.Pipe.
func pipeConn(t *testing.T, cfg Config) (*conn, *websocket.Conn) {
	t.Helper()
	cfg.setDefaults()
	srvSide, cliSide := net.Pipe()
	s := &Server{cfg: cfg, now: time.Now, log: slog.New(slog.DiscardHandler)}
	type res struct {
		ws  *websocket.Conn
		err error
	}
	cli := make(chan res, 1)
	go func() {
		u, _ := url.Parse("ws://pipe/v1/ws")
		ws, _, err := websocket.NewClient(cliSide, u, nil, 1024, 1024)
		cli <- res{ws, err}
	}()
	req, err := http.ReadRequest(bufio.NewReader(srvSide)) // the client's handshake
	if err != nil {
		t.Fatal(err)
	}
	hj := &batchHijacker{ResponseWriter: &pipeHijacker{ResponseWriter: httptest.NewRecorder(), c: srvSide}}
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	ws, err := up.Upgrade(hj, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := <-cli
	if r.err != nil {
		t.Fatal(r.err)
	}
	c := &conn{s: s, ws: ws, sock: hj.conn, user: "sam", done: make(chan struct{}), id: "c", lastSeen: time.Now()}
	c.send.init(cfg.SendQueue, func() { go c.writeLoop() })
	c.closed.Add(1)
	t.Cleanup(func() { ws.Close(); r.ws.Close() })
	return c, r.ws
}

// docs/protocol.md: "After a slow-consumer cut (4001) the queued messages
// are discarded instead." A client reading slowly has a full queue, and the
// writer is blocked in a batch; the hub cuts it (Drop(ErrSlow)). The client
// then gets the close frame after the message being written, not every
// message queued at the cut (it used to get all 16, at its slow pace).
func TestSlowConsumerCutDiscardsWhatWaits(t *testing.T) {
	c, client := pipeConn(t, Config{SendQueue: 16})
	sink := connSink{c}
	sink.Send([]byte(`{"type":"event","n":0}`))
	time.Sleep(100 * time.Millisecond) // the writer has taken it and blocks writing it
	sent := 1
	for ; sent < 100; sent++ { // the writer blocks on the first (nobody reads); 16 more queue
		if !sink.Send([]byte(fmt.Sprintf(`{"type":"event","n":%d}`, sent))) {
			break
		}
	}
	if sent != 17 {
		t.Fatalf("queued %d before the queue was full, want 17 (one being written, 16 waiting)", sent)
	}
	sink.Drop(hub.ErrSlow) // what the feed does for the next event: cut with 4001

	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := 0
	var closeErr *websocket.CloseError
	for {
		_, _, err := client.ReadMessage()
		if err == nil {
			got++
			continue
		}
		if !errors.As(err, &closeErr) {
			t.Fatalf("after %d messages: %v, want a close frame", got, err)
		}
		break
	}
	if closeErr.Code != protocol.CloseSlowConsumer {
		t.Fatalf("close code %d, want 4001", closeErr.Code)
	}
	if got > 1 {
		t.Fatalf("the client read %d messages after its slow-consumer cut before the close frame: the %d queued at the cut were written, not discarded", got, sent-1)
	}
}
