package protocol

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

func TestScanRequest(t *testing.T) {
	n := uint64(7)
	tests := []struct {
		data string
		want *Request // nil: left to encoding/json
	}{
		{`{"type":"action","message_id":"m1","game_id":"g","action":{"type":"place","cell":4}}`,
			&Request{Type: "action", MessageID: "m1", GameID: "g", Action: json.RawMessage(`{"type":"place","cell":4}`)}},
		{` {"type" : "join_game", "last_event_id": 7 }` + "\n", &Request{Type: "join_game", LastEventID: &n}},
		{`{}`, &Request{}},
		{`{"Type":"action"}`, nil},       // json matches keys in any case
		{`{"type":"a","type":"b"}`, nil}, // json takes the last
		{`{"type":"\u0061"}`, nil},       // an escape
		{`{"type":null}`, nil},           // null leaves a string alone
		{`{"last_event_id":-1}`, nil},    // json's error
		{`{"last_event_id":1e3}`, nil},   // json's error
		{`{"last_event_id":18446744073709551616}`, nil},
		{`{"last_event_id":null}`, nil},
		{`{"action":[1]}`, nil},
		{`{"action":null}`, nil},
		{`{"extra":1}`, nil},
		{`{"type":"a"} x`, nil},
	}
	for _, tt := range tests {
		got, ok := ScanRequest([]byte(tt.data))
		if ok != (tt.want != nil) || ok && !reflect.DeepEqual(got, *tt.want) {
			t.Errorf("ScanRequest(%s) = %+v, %v; want %+v", tt.data, got, ok, tt.want)
		}
	}
}

// FuzzScanRequest checks ScanRequest against json.Decoder with
// DisallowUnknownFields, the gateway's slow path: wherever the scan takes a
// request, the decoder takes it too and makes the same Request of it.
func FuzzScanRequest(f *testing.F) {
	for _, s := range []string{
		`{"type":"action","message_id":"m1","game_id":"g","action":{"type":"place","cell":4}}`,
		`{"type":"join_game","message_id":"m","game_id":"g","last_event_id":0}`,
		`{"type":"heartbeat","message_id":"h"}`, `{"last_event_id":01}`, `{"type":"é"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := ScanRequest(data)
		if !ok {
			return
		}
		var want Request
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&want); err != nil || dec.More() {
			t.Fatalf("ScanRequest took %q, which json refuses: %v", data, err)
		}
		if got.Type != want.Type || got.MessageID != want.MessageID || got.GameID != want.GameID ||
			!reflect.DeepEqual(got.LastEventID, want.LastEventID) || !bytes.Equal(got.Action, want.Action) {
			t.Fatalf("ScanRequest(%q) = %+v, json %+v", data, got, want)
		}
	})
}

var benchRequest = []byte(`{"type":"action","message_id":"m-000123","game_id":"0b5f8a3e-3c1e-4a57-9d59-0d7f0c9c2f11","action":{"type":"place","cell":4}}`)

func BenchmarkScanRequest(b *testing.B) {
	for b.Loop() {
		if _, ok := ScanRequest(benchRequest); !ok {
			b.Fatal("refused")
		}
	}
}

func BenchmarkDecodeRequest(b *testing.B) { // the slow path, for comparison
	for b.Loop() {
		var req Request
		dec := json.NewDecoder(bytes.NewReader(benchRequest))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			b.Fatal(err)
		}
	}
}
