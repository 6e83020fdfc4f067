package protocol_test

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/playlog/playlog/protocol"
)

// compiler returns a function that compiles the WebSocket schema's $defs
// entries, each once.
func compiler(t *testing.T) func(def string) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(protocol.WebSocketSchema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("websocket.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	compiled := map[string]*jsonschema.Schema{}
	return func(def string) *jsonschema.Schema {
		t.Helper()
		if s, ok := compiled[def]; ok {
			return s
		}
		s, err := c.Compile("websocket.schema.json#/$defs/" + def)
		if err != nil {
			t.Fatalf("%s: %v", def, err)
		}
		compiled[def] = s
		return s
	}
}

// constants returns the string constants of protocol.go's const block
// whose comment starts with doc, by name.
func constants(t *testing.T, doc string) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "protocol.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST || !strings.HasPrefix(gen.Doc.Text(), doc) {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("%s is not a string literal", name.Name)
				}
				out[name.Name], _ = strconv.Unquote(lit.Value)
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("protocol.go has no constants under %q", doc)
	}
	return out
}

// unionTypes returns the message types $defs/union lists (its oneOf of
// references to $defs entries named by type), and checks that each entry
// is that type's.
func unionTypes(t *testing.T, union string) []string {
	t.Helper()
	doc, _ := jsonschema.UnmarshalJSON(bytes.NewReader(protocol.WebSocketSchema()))
	defs := doc.(map[string]any)["$defs"].(map[string]any)
	var out []string
	for _, ref := range defs[union].(map[string]any)["oneOf"].([]any) {
		typ := strings.TrimPrefix(ref.(map[string]any)["$ref"].(string), "#/$defs/")
		def, ok := defs[typ].(map[string]any)
		if !ok {
			t.Fatalf("%s names %s, which has no schema", union, typ)
		}
		if c := def["properties"].(map[string]any)["type"].(map[string]any)["const"]; c != typ {
			t.Fatalf("$defs/%s is the schema of type %v", typ, c)
		}
		out = append(out, typ)
	}
	return out
}

func values(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// Every message type of the protocol has a schema, on the side that sends
// it, and the schema has no type the protocol lacks; every error code is
// in the schema's list.
func TestSchemaCoversEveryMessageType(t *testing.T) {
	for _, side := range []struct{ doc, union string }{
		{"Client message types", "ClientMessage"},
		{"Server message types", "ServerMessage"},
	} {
		want := values(constants(t, side.doc))
		got := unionTypes(t, side.union)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s lists %v; protocol.go's %s are %v", side.union, got, side.doc, want)
		}
	}
	codes := values(constants(t, "Error codes"))
	doc, _ := jsonschema.UnmarshalJSON(bytes.NewReader(protocol.WebSocketSchema()))
	var enum []string
	for _, c := range doc.(map[string]any)["$defs"].(map[string]any)["ErrorCode"].(map[string]any)["enum"].([]any) {
		enum = append(enum, c.(string))
	}
	slices.Sort(enum)
	if !slices.Equal(enum, codes) {
		t.Errorf("ErrorCode lists %v; protocol.go's error codes are %v", enum, codes)
	}
}

// The schemas accept the protocol's messages and refuse wrong shapes: a
// field missing, mistyped or unknown, a field of another type or state.
func TestSchemaRefusesWrongShapes(t *testing.T) {
	const (
		game = `"game_id":"9f1c2e7a-4b1d-4e8a-9c55-0d6f1b2a3c4d"`
		head = `"message_id":"c-1","timestamp":"2026-12-01T20:36:54.871431Z"`
		ev   = `"message_id":"9f1c2e7a-4b1d-4e8a-9c55-0d6f1b2a3c4d:2:event","timestamp":"2026-12-01T20:36:54Z",` + game + `,"event_id":2`
		snap = `"type":"game_state",` + head + `,` + game + `,"event_id":1,"rules":"tictactoe","players":["alice","bob"],` +
			`"state":{"seq":1,"game":"tictactoe","players":["alice","bob"],"config":{},"commitment":"4ae6d5569fc008e9a5bc8d43792ecf69e52b46dd25f0f8738ee4c9640c446ae7","outcome":{"ended":false,"winners":null,"draw":false},"state":{}},` +
			`"turn":["alice"],"outcome":{"ended":false,"winners":[],"draw":false}`
	)
	schema := compiler(t)
	for _, tc := range []struct {
		def, msg string
		ok       bool
	}{
		{"ClientMessage", `{"type":"join_game","message_id":"j1",` + game + `}`, true},
		{"ClientMessage", `{"type":"join_game","message_id":"j1",` + game + `,"last_event_id":3}`, true},
		{"ClientMessage", `{"type":"join_game","message_id":"j1",` + game + `,"last_event_id":-1}`, false},
		{"ClientMessage", `{"type":"join_game","message_id":"j1"}`, false},
		{"ClientMessage", `{"type":"join_game","message_id":"not an id",` + game + `}`, false},
		{"ClientMessage", `{"type":"join_game","message_id":"j1","game_id":"9f1c"}`, false},
		{"ClientMessage", `{"type":"join_game","message_id":"j1","game_id":"00000000-0000-0000-0000-000000000000"}`, false},
		{"ClientMessage", `{"type":"leave_game","message_id":"l1",` + game + `,"last_event_id":3}`, false},
		{"ClientMessage", `{"type":"action","message_id":"m1",` + game + `,"action":{"type":"place","cell":4}}`, true},
		{"ClientMessage", `{"type":"action","message_id":"m1",` + game + `,"action":{"cell":4}}`, false},
		{"ClientMessage", `{"type":"action","message_id":"m1",` + game + `}`, false},
		{"ClientMessage", `{"type":"resign","message_id":"m1",` + game + `,"action":{"type":"resign"}}`, false},
		{"ClientMessage", `{"type":"heartbeat","message_id":"h1"}`, true},
		{"ClientMessage", `{"type":"heartbeat","message_id":"h1",` + game + `}`, false},
		{"ClientMessage", `{"type":"heartbeat"}`, false},
		{"ClientMessage", `{"type":"dance","message_id":"d1"}`, false},
		{"ServerMessage", `{"type":"heartbeat_ack",` + head + `,"request_message_id":"h1"}`, true},
		{"ServerMessage", `{"type":"heartbeat_ack",` + head + `}`, false},
		{"ServerMessage", `{"type":"heartbeat_ack","message_id":"c-1","timestamp":"yesterday","request_message_id":"h1"}`, false},
		{"ServerMessage", `{"type":"connected",` + head + `,"user_id":"alice","active_games":[]}`, true},
		{"ServerMessage", `{"type":"connected",` + head + `,"user_id":"alice"}`, false},
		{"ServerMessage", `{` + snap + `,"role":"player","legal":[{"type":"place","cell":0}]}`, true},
		{"ServerMessage", `{` + snap + `,"role":"player"}`, false},
		{"ServerMessage", `{` + snap + `,"role":"spectator"}`, true},
		{"ServerMessage", `{` + snap + `,"role":"spectator","legal":[]}`, false},
		{"ServerMessage", `{` + snap + `,"role":"spectator","turn_number":1}`, false},
		{"ServerMessage", `{"type":"event",` + ev + `,"visibility":"full","event_type":"placed","version":1,"actor":"alice","data":{"cell":4},"recorded_at":"2026-12-01T20:36:54Z"}`, true},
		{"ServerMessage", `{"type":"event",` + ev + `,"visibility":"full","event_type":"placed","version":1,"actor":"alice","recorded_at":"2026-12-01T20:36:54Z"}`, false},
		{"ServerMessage", `{"type":"event",` + ev + `,"visibility":"stub"}`, true},
		{"ServerMessage", `{"type":"event",` + ev + `,"visibility":"stub","data":{}}`, false},
		{"ServerMessage", `{"type":"event",` + ev + `,"visibility":"hidden"}`, false},
		{"ServerMessage", `{"type":"action_result",` + head + `,"request_message_id":"m1",` + game + `,"success":true,"event_ids":[2,3],"duplicate":false}`, true},
		{"ServerMessage", `{"type":"action_result",` + head + `,"request_message_id":"m1",` + game + `,"success":true,"event_ids":[2,3]}`, false},
		{"ServerMessage", `{"type":"action_result",` + head + `,"request_message_id":"m1",` + game + `,"success":false,"error":{"code":"not_your_turn","message":"not your turn"}}`, true},
		{"ServerMessage", `{"type":"action_result",` + head + `,"request_message_id":"m1",` + game + `,"success":false,"event_ids":[2],"error":{"code":"not_your_turn","message":"not your turn"}}`, false},
		{"ServerMessage", `{"type":"error",` + head + `,"error":{"code":"invalid_message","message":"malformed"}}`, true},
		{"ServerMessage", `{"type":"error",` + head + `,"error":{"code":"oops","message":"malformed"}}`, false},
		{"ServerMessage", `{"type":"game_over","message_id":"9f1c2e7a-4b1d-4e8a-9c55-0d6f1b2a3c4d:9:over","timestamp":"2026-12-01T20:36:54Z",` + game + `,"event_id":9,"outcome":{"ended":true,"winners":["alice"],"draw":false,"reason":"normal"}}`, true},
		{"ServerMessage", `{"type":"game_over","message_id":"9f1c2e7a-4b1d-4e8a-9c55-0d6f1b2a3c4d:9:over","timestamp":"2026-12-01T20:36:54Z",` + game + `,"event_id":9,"outcome":{"ended":false,"winners":[],"draw":false}}`, false},
		{"ServerMessage", `{"type":"opponent_status",` + head + `,` + game + `,"player_id":"bob","status":"away"}`, false},
		{"ServerMessage", `{"type":"spectator_count",` + head + `,` + game + `,"count":-1}`, false},
		{"ServerMessage", `{"type":"turn_timeout",` + head + `,` + game + `,"player_id":"alice","turn_number":1,"deadline":"2026-12-01T20:37:54Z","remaining_seconds":30,"is_warning":true}`, true},
		{"ServerMessage", `{"type":"turn_timeout",` + head + `,` + game + `,"player_id":"alice","turn_number":1,"deadline":"2026-12-01T20:37:54Z","remaining_seconds":30}`, false},
		{"ServerMessage", `{"type":"left",` + head + `,"request_message_id":"l1",` + game + `,"extra":1}`, false},
		{"ServerMessage", `{"type":"join_game","message_id":"j1",` + game + `}`, false},
	} {
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(tc.msg))
		if err != nil {
			t.Fatalf("%s: %v", tc.msg, err)
		}
		if err := schema(tc.def).Validate(inst); (err == nil) != tc.ok {
			t.Errorf("%s %s: valid %v, want %v (%v)", tc.def, tc.msg, err == nil, tc.ok, err)
		}
	}
}
