package gateway

import (
	"testing"

	"github.com/google/uuid"

	"github.com/playlog/playlog/protocol"
)

// FuzzParse: whatever a client sends, parsing never panics; what it accepts
// has a valid message id, a known type and, where the type needs one, a
// game id; what it refuses carries a known code.
func FuzzParse(f *testing.F) {
	g := uuid.NewString()
	for _, s := range []string{
		`{"type":"heartbeat","message_id":"h1"}`,
		`{"type":"join_game","message_id":"j1","game_id":"` + g + `","last_event_id":3}`,
		`{"type":"action","message_id":"a1","game_id":"` + g + `","action":{"type":"place","cell":4}}`,
		`{"type":"spectate","message_id":"s1","game_id":"` + g + `"}`,
		`{"type":"resign","message_id":"r1","game_id":"` + g + `"}`,
		`{"type":"leave_game","message_id":"l1","game_id":"` + g + `"}`,
		`{"type":"teleport","message_id":"x"}`, `{}`, `[]`, `null`, ``, `{"type":"heartbeat","message_id":"h1"}{}`,
	} {
		f.Add([]byte(s))
	}
	known := map[string]bool{protocol.CodeInvalidMessage: true, protocol.CodeUnknownMessageType: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := parse(data)
		if err != nil {
			if !known[err.code] || err.message == "" {
				t.Fatalf("refusal %+v", err)
			}
			if len(req.MessageID) > 64 {
				t.Fatalf("echoes a %d-byte message id", len(req.MessageID))
			}
			return
		}
		if checkMessageID(req.MessageID, true) != nil {
			t.Fatalf("accepted message id %q", req.MessageID)
		}
		if req.Type != protocol.TypeHeartbeat {
			if id, err := uuid.Parse(req.GameID); err != nil || id == uuid.Nil {
				t.Fatalf("accepted %s without a game id", req.Type)
			}
		}
	})
}
