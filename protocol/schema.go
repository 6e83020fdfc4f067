package protocol

import (
	"bytes"
	_ "embed"
)

//go:embed websocket.schema.json
var webSocketSchema []byte

// WebSocketSchema returns the JSON Schema (draft 2020-12) of every
// WebSocket message, websocket.schema.json: $defs/ClientMessage is what a
// client may send, $defs/ServerMessage what the server sends, and each
// message type has a $defs entry named by its type. The game-specific
// parts (actions, events' data, the game's own state) are open objects.
// It returns a new copy on each call, so it is safe for concurrent use.
func WebSocketSchema() []byte { return bytes.Clone(webSocketSchema) }
