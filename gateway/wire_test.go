package gateway_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/protocol"
)

// Tests of the WebSocket framing seen by a client that package client
// would not be: one that writes without reading, writes binary frames or
// invalid UTF-8, and reads the close frame itself.

// dialRaw opens a WebSocket to n as user and reads the connected message.
// d may be nil.
func dialRaw(t testing.TB, n *node, user string, d *websocket.Dialer) *websocket.Conn {
	t.Helper()
	if d == nil {
		d = &websocket.Dialer{}
	}
	ws, _, err := d.Dial("ws"+strings.TrimPrefix(n.url, "http")+"/v1/ws",
		http.Header{"Authorization": {"Bearer " + token(t, user)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var m protocol.Message
	if err := ws.ReadJSON(&m); err != nil || m.Type != protocol.TypeConnected {
		t.Fatalf("first message %+v, %v; want connected", m, err)
	}
	ws.SetReadDeadline(time.Time{})
	return ws
}

func heartbeatFrame(id string) []byte {
	return []byte(`{"type":"heartbeat","message_id":"` + id + `"}`)
}

// writeHeartbeats writes count heartbeats named prefix0, prefix1, ...
// without reading, and stops at the first write error: the server may
// end the connection meanwhile.
func writeHeartbeats(ws *websocket.Conn, prefix string, count int) {
	for i := range count {
		if ws.WriteMessage(websocket.TextMessage, heartbeatFrame(prefix+strconv.Itoa(i))) != nil {
			return
		}
	}
}

// readToClose reads server messages until the connection ends and returns
// them with the close code: 1006 (abnormal closure) when the connection
// ended without a close frame, as when the server's socket was reset.
func readToClose(t testing.TB, ws *websocket.Conn, timeout time.Duration) ([]protocol.Message, int) {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(timeout))
	var got []protocol.Message
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return got, ce.Code
			}
			t.Logf("connection ended without a close frame: %v", err)
			return got, websocket.CloseAbnormalClosure
		}
		var m protocol.Message
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("undecodable server message %q: %v", data, err)
		}
		got = append(got, m)
	}
}

// countAnswers returns how many of ms are heartbeat_acks and rate_limited errors.
func countAnswers(ms []protocol.Message) (acks, limited int) {
	for _, m := range ms {
		switch {
		case m.Type == protocol.TypeHeartbeatAck:
			acks++
		case m.Type == protocol.TypeError && m.Error != nil && m.Error.Code == protocol.CodeRateLimited:
			limited++
		}
	}
	return acks, limited
}

// summarize lists messages as type(request id), at most ten of them.
func summarize(ms []protocol.Message) string {
	var b strings.Builder
	for i, m := range ms {
		if i == 10 {
			b.WriteString(" ... (" + strconv.Itoa(len(ms)) + " in all)")
			break
		}
		b.WriteString(" " + m.Type + "(" + m.RequestMessageID + ")")
	}
	return "[" + b.String() + " ]"
}

// TestCloseReachesAClientStillWriting: when the server ends a connection
// whose client is still writing, the client still gets the answers queued
// before the close and the close frame with its code; the server reads
// what the client sent until the client answers the close, since closing
// a socket with unread data resets it and the client's kernel throws away
// what the client had not read.
func TestCloseReachesAClientStillWriting(t *testing.T) {
	n := startNode(t, testenv.Stores(t)[0].Open(t), nil, gateway.Config{MaxFrameBytes: 1024, MessagesPerSecond: 20, Burst: 40})
	big := []byte(`{"type":"heartbeat","message_id":"big","pad":"` + strings.Repeat("x", 4000) + `"}`)

	t.Run("flood closed with 1008", func(t *testing.T) {
		ws := dialRaw(t, n, "alice", nil)
		writeHeartbeats(ws, "h", 400)
		got, code := readToClose(t, ws, 10*time.Second)
		acks, limited := countAnswers(got)
		if acks == 0 || limited == 0 || code != websocket.ClosePolicyViolation {
			t.Fatalf("%d heartbeat_acks, %d rate_limited, close %d; want some of each, then 1008", acks, limited, code)
		}
	})
	t.Run("protocol error closed with 1002", func(t *testing.T) {
		ws := dialRaw(t, n, "carol", nil)
		// A masked, empty frame of the reserved opcode 3, and in the same
		// write 64 KiB the server will not parse: a binary frame whose
		// payload is zeros under the mask key 0.
		frames := []byte{0x83, 0x80, 1, 2, 3, 4, 0x82, 0x80 | 127, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}
		frames = append(frames, make([]byte, 64<<10)...)
		if _, err := ws.NetConn().Write(frames); err != nil {
			t.Fatal(err)
		}
		if _, code := readToClose(t, ws, 10*time.Second); code != websocket.CloseProtocolError {
			t.Fatalf("close %d, want 1002", code)
		}
	})
	for _, tc := range []struct {
		name   string
		dialer *websocket.Dialer
	}{
		{"oversize frame closed with 1009", nil},
		// Frames of at most 512 bytes, each under the limit: the limit is on
		// the message.
		{"oversize fragmented message closed with 1009", &websocket.Dialer{WriteBufferSize: 512}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := dialRaw(t, n, "bob", tc.dialer)
			writeHeartbeats(ws, "h", 30)
			ws.WriteMessage(websocket.TextMessage, big)
			writeHeartbeats(ws, "after", 100)
			got, code := readToClose(t, ws, 10*time.Second)
			if acks, _ := countAnswers(got); acks != 30 || code != websocket.CloseMessageTooBig {
				t.Fatalf("%d heartbeat_acks and close %d; want the 30 heartbeats before the frame answered, then 1009", acks, code)
			}
		})
	}
}

// TestInvalidUTF8FailsTheConnection: a text frame that is not UTF-8 fails
// the connection with 1007 (RFC 6455 §8.1), after the answers to what came
// before it.
func TestInvalidUTF8FailsTheConnection(t *testing.T) {
	n := startNode(t, testenv.Stores(t)[0].Open(t), nil, gateway.Config{})
	ws := dialRaw(t, n, "alice", nil)
	ws.WriteMessage(websocket.TextMessage, heartbeatFrame("h1"))
	ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"heartbeat","message_id":"h2","x":"`+"\xff\xfe"+`"}`))
	writeHeartbeats(ws, "after", 50)
	got, code := readToClose(t, ws, 10*time.Second)
	if len(got) != 1 || got[0].Type != protocol.TypeHeartbeatAck || got[0].RequestMessageID != "h1" || code != websocket.CloseInvalidFramePayloadData {
		t.Fatalf("got %s and close %d; want the ack of h1, then 1007", summarize(got), code)
	}
}

// TestBinaryFrameIsRefusedByID: a binary frame is invalid_message, naming
// the message id when the frame's bytes have a readable one.
func TestBinaryFrameIsRefusedByID(t *testing.T) {
	n := startNode(t, testenv.Stores(t)[0].Open(t), nil, gateway.Config{})
	ws := dialRaw(t, n, "alice", nil)
	for _, tc := range []struct{ frame, echo string }{
		{`{"type":"heartbeat","message_id":"bin1"}`, "bin1"},
		{`not json`, ""},
	} {
		ws.WriteMessage(websocket.BinaryMessage, []byte(tc.frame))
		ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		var m protocol.Message
		if err := ws.ReadJSON(&m); err != nil {
			t.Fatal(err)
		}
		if m.Type != protocol.TypeError || m.Error == nil || m.Error.Code != protocol.CodeInvalidMessage || m.RequestMessageID != tc.echo {
			t.Fatalf("binary %s: got %+v (%+v); want invalid_message for %q", tc.frame, m, m.Error, tc.echo)
		}
	}
}
