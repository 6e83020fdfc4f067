package jetstream

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/playlog/playlog/eventstore"
)

// canonicalSeeds are payloads near the canonical layout: each either takes
// the fast path or is left to encoding/json, and either way decodes as
// encoding/json alone would.
func canonicalSeeds(t testing.TB) [][]byte {
	good, err := encodeMessage(fixtureGame, fixtureEvents())
	if err != nil {
		t.Fatal(err)
	}
	plain := eventstore.Stamp(fixtureGame, 6, eventstore.Hash{7}, fixtureEvents()[0].RecordedAt, []eventstore.Pending{
		{Type: "mark_placed", SchemaVersion: 1, Actor: "bob", Data: []byte(`{"cell":0}`)},
		{Type: "game_ended", SchemaVersion: 1, Actor: "", Data: []byte(`[1,"}",{"a":"\"]"}]`)},
		{Type: "n", SchemaVersion: 1, Actor: "x", Data: []byte(`12`)},
		{Type: "s", SchemaVersion: 1, Actor: "x", Data: []byte(`"a,}"`)},
	})
	second, err := encodeMessage(fixtureGame, plain)
	if err != nil {
		t.Fatal(err)
	}
	g := string(second)
	return [][]byte{good, second,
		[]byte(strings.Replace(g, `"seq":7`, `"seq":07`, 1)),
		[]byte(strings.Replace(g, `"seq":7`, `"SEQ":7`, 1)),
		[]byte(strings.Replace(g, `"sv":1`, `"sv":-1`, 1)),
		[]byte(strings.Replace(g, `"at":`, `"at":-`, 1)),
		[]byte(strings.Replace(g, `"data":12`, `"data":12 `, 1)),
		[]byte(strings.Replace(g, `"data":12`, `"data":1.5e3`, 1)),
		[]byte(strings.Replace(g, `"data":{"cell":0}`, `"data":{"cell":0`, 1)),
		[]byte(strings.Replace(g, `"data":{"cell":0}`, `"data":{"cell":}`, 1)),
		[]byte(strings.Replace(g, `"actor":"bob"`, `"actor":"b\u006fb"`, 1)),
		[]byte(strings.Replace(g, `"actor":"bob"`, `"actor":"bob","mid":""`, 1)),
		[]byte(strings.Replace(g, fixtureGame.String(), strings.ToUpper(fixtureGame.String()), 1)),
		[]byte(strings.Replace(g, `"prev":"07`, `"prev":"0G`, 1)),
		[]byte(strings.Replace(g, `"seq":8`, `"seq":99999999999999999999`, 1)),
		[]byte(g + " "),
		[]byte(g[:len(g)-1]),
		bytes.ReplaceAll(second, []byte(`,`), []byte(`, `)),
	}
}

// TestFastPathAgreesWithEncodingJSON: the fast path never accepts what
// encoding/json refuses, and what it accepts it reads the same.
func TestFastPathAgreesWithEncodingJSON(t *testing.T) {
	fast := 0
	for i, payload := range canonicalSeeds(t) {
		if agree(t, payload) {
			fast++
		} else if i < 2 {
			t.Fatalf("seed %d, written by encodeMessage, missed the fast path:\n%s", i, payload)
		}
	}
	if fast < 3 {
		t.Fatalf("only %d seeds took the fast path", fast)
	}
}

// agree checks one payload and reports whether it took the fast path.
func agree(t testing.TB, payload []byte) bool {
	m, ok := parseCanonical(fixtureGame, payload)
	if !ok {
		return false
	}
	want, err := decodeJSON(payload)
	if err != nil {
		t.Fatalf("fast path accepted what encoding/json refuses (%v):\n%s", err, payload)
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("fast path read\n%+v\nencoding/json read\n%+v\nfrom\n%s", m, want, payload)
	}
	return true
}

func FuzzFastPath(f *testing.F) {
	for _, s := range canonicalSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload []byte) { agree(t, payload) })
}

func BenchmarkDecodeMessage(b *testing.B) {
	payload, _ := encodeMessage(fixtureGame, fixtureEvents())
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := decodeMessage(fixtureGame, 1, payload); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := decodeJSON(payload); err != nil {
				b.Fatal(err)
			}
		}
	})
}
