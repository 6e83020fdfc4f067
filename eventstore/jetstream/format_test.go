package jetstream

import (
	"encoding/json"
	"flag"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
)

var update = flag.Bool("update", false, "rewrite testdata fixtures from the current encoder")

// fixture is a stored message as it sits in the stream: headers and payload.
type fixture struct {
	Subject   string            `json:"subject"`
	StreamSeq uint64            `json:"stream_seq"`
	Headers   map[string]string `json:"headers"`
	Payload   string            `json:"payload"` // the exact bytes, as a string
}

var fixtureGame = uuid.MustParse("0b5c7a42-5e0c-4c8e-9d2a-3f1e6f3b9a10")

func fixtureEvents() []eventstore.Event {
	at := time.Date(2026, 11, 22, 10, 30, 0, 123456000, time.UTC)
	return eventstore.Stamp(fixtureGame, 0, eventstore.Hash{}, at, []eventstore.Pending{
		{Type: "game_created", SchemaVersion: 1, Actor: "alice", MessageID: "m-1", Data: []byte(`{"rules":"tictactoe", "players":["alice","bob"]}`)},
		{Type: "mark_placed", SchemaVersion: 2, Actor: "alice", MessageID: "m-1", Data: []byte(`{"cell":4,"note":"<&> \"quoted\" é"}`)},
	})
}

// TestFormatV1Fixture decodes a message written by format version 1. The
// fixture is never rewritten once released: if this test fails, the code
// can no longer read logs that exist.
func TestFormatV1Fixture(t *testing.T) {
	const path = "testdata/format-v1.json"
	if *update {
		events := fixtureEvents()
		payload, _ := encodeMessage(fixtureGame, events)
		f := fixture{Subject: "playlog.game." + fixtureGame.String(), StreamSeq: 42, Headers: map[string]string{
			hdrIndex: indexHeader(events, "m-1"),
		}, Payload: string(payload)}
		b, _ := json.MarshalIndent(f, "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	events, err := decodeMessage(fixtureGame, f.StreamSeq, []byte(f.Payload))
	if err != nil {
		t.Fatal(err)
	}
	if err := eventstore.VerifyChain(eventstore.Hash{}, events); err != nil {
		t.Fatal(err)
	}
	want := fixtureEvents()
	for i := range want {
		g, w := events[i], want[i]
		if g.Hash != w.Hash || string(g.Data) != string(w.Data) || !g.RecordedAt.Equal(w.RecordedAt) ||
			g.Type != w.Type || g.SchemaVersion != w.SchemaVersion || g.MessageID != w.MessageID {
			t.Fatalf("event %d decoded as %+v, want %+v", i, g, w)
		}
		if g.Position != (eventstore.Position{Major: 42, Minor: uint64(i + 1)}) {
			t.Fatalf("event %d position %v", i, g.Position)
		}
	}
	ref, err := headerRef(f.Headers[hdrIndex], f.StreamSeq)
	if err != nil || ref.first != 1 || ref.last != 2 || ref.msgID != "m-1" || ref.lastHash != want[1].Hash {
		t.Fatalf("index headers: %+v, %v", ref, err)
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	events := fixtureEvents()
	payload, err := encodeMessage(fixtureGame, events)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeMessage(fixtureGame, 7, payload)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := encodeMessage(fixtureGame, got)
	if string(again) != string(payload) {
		t.Fatalf("re-encoding changed the message:\n%s\n%s", payload, again)
	}
}

func TestDecodeRejectsMalformed(t *testing.T) {
	good, _ := encodeMessage(fixtureGame, fixtureEvents())
	cases := map[string]string{
		"empty":         ``,
		"not json":      `nope`,
		"other version": `{"v":2,"game":"` + fixtureGame.String() + `","events":[]}`,
		"other game":    `{"v":1,"game":"` + uuid.NewString() + `","events":[{"seq":1,"type":"t","sv":1,"actor":"","at":0,"prev":"` + zeroHex + `","hash":"` + zeroHex + `","data":{}}]}`,
		"no events":     `{"v":1,"game":"` + fixtureGame.String() + `","events":[]}`,
		"seq gap":       `{"v":1,"game":"` + fixtureGame.String() + `","events":[{"seq":1,"type":"t","sv":1,"actor":"","at":0,"prev":"` + zeroHex + `","hash":"` + zeroHex + `","data":{}},{"seq":3,"type":"t","sv":1,"actor":"","at":0,"prev":"` + zeroHex + `","hash":"` + zeroHex + `","data":{}}]}`,
		"short hash":    `{"v":1,"game":"` + fixtureGame.String() + `","events":[{"seq":1,"type":"t","sv":1,"actor":"","at":0,"prev":"00","hash":"` + zeroHex + `","data":{}}]}`,
		"unknown field": `{"v":1,"game":"` + fixtureGame.String() + `","extra":1,"events":[]}`,
		"trailing data": string(good) + `{}`,
		"missing data":  `{"v":1,"game":"` + fixtureGame.String() + `","events":[{"seq":1,"type":"t","sv":1,"actor":"","at":0,"prev":"` + zeroHex + `","hash":"` + zeroHex + `"}]}`,
	}
	for name, payload := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := decodeMessage(fixtureGame, 1, []byte(payload)); err == nil {
				t.Fatal("decoded without error")
			}
		})
	}
}

const zeroHex = "0000000000000000000000000000000000000000000000000000000000000000"

// FuzzDecodeMessage: whatever the disk holds, decoding never panics, and
// what it accepts re-encodes to something that decodes to the same events.
func FuzzDecodeMessage(f *testing.F) {
	good, _ := encodeMessage(fixtureGame, fixtureEvents())
	f.Add(good)
	f.Add([]byte(`{"v":1,"game":"` + fixtureGame.String() + `","events":[]}`))
	f.Add([]byte(`{"v":1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		events, err := decodeMessage(fixtureGame, 1, payload)
		if err != nil {
			return
		}
		again, err := encodeMessage(fixtureGame, events)
		if err != nil {
			t.Fatal(err)
		}
		back, err := decodeMessage(fixtureGame, 1, again)
		if err != nil {
			t.Fatalf("re-encoded message does not decode: %v\n%s", err, again)
		}
		for i := range events {
			if back[i].Hash != events[i].Hash || back[i].Seq != events[i].Seq || string(back[i].Data) != string(events[i].Data) {
				t.Fatalf("event %d changed in a round trip", i)
			}
		}
	})
}
