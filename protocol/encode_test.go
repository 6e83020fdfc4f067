package protocol

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

// Values that json.Marshal treats each its own way.
var (
	strs = []string{"", "a", "alice", "game:12:event", `a"b`, `back\slash`, "<b>&amp;", "é", "tab\there", "\x01", "\u2028\u2029", "\xff\xfe", "日本"}
	raws = []json.RawMessage{nil, {}, json.RawMessage(`{"a":1}`), json.RawMessage(` { "a" : [1, 2] } `), json.RawMessage(`"<x>&"`),
		json.RawMessage("\"\u2028\""), json.RawMessage(`[1,2]`), json.RawMessage(`null`), json.RawMessage(`{`), json.RawMessage(`1 2`), json.RawMessage("\"\xff\"")}
	times = []time.Time{{}, time.Date(2026, 12, 2, 21, 42, 31, 123456789, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 100, time.FixedZone("x", 3600)), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("y", 25*3600))}
)

func pick[T any](r *rand.Rand, vs []T) T { return vs[r.IntN(len(vs))] }

func maybe[T any](r *rand.Rand, v T) *T {
	if r.IntN(3) == 0 {
		return nil
	}
	return &v
}

func randomMessage(r *rand.Rand) Message {
	strSlice := func() []string {
		switch r.IntN(3) {
		case 0:
			return nil
		case 1:
			return []string{}
		}
		return []string{pick(r, strs), pick(r, strs)}
	}
	m := Message{
		Type: pick(r, strs), MessageID: pick(r, strs), Timestamp: pick(r, times), RequestMessageID: pick(r, strs), GameID: pick(r, strs),
		UserID: pick(r, strs), Role: pick(r, strs), Head: maybe(r, r.Uint64()), EventID: maybe(r, uint64(r.IntN(3000))),
		Rules: pick(r, strs), Players: strSlice(), State: pick(r, raws), Visibility: pick(r, strs), EventType: pick(r, strs),
		Version: r.IntN(3) - 1, Actor: pick(r, strs), Data: pick(r, raws), RecordedAt: maybe(r, pick(r, times)),
		Success: maybe(r, r.IntN(2) == 0), Duplicate: maybe(r, r.IntN(2) == 0), PlayerID: pick(r, strs), Status: pick(r, strs),
		Count: maybe(r, r.IntN(100)-50), TurnNumber: maybe(r, uint64(r.IntN(9))), Deadline: maybe(r, pick(r, times)),
		RemainingSeconds: maybe(r, r.IntN(60)), IsWarning: maybe(r, r.IntN(2) == 0),
	}
	if r.IntN(2) == 0 {
		m.Turn = maybe(r, strSlice())
	}
	if r.IntN(2) == 0 {
		legal := []json.RawMessage{pick(r, raws), pick(r, raws)}
		if r.IntN(3) == 0 {
			legal = nil
		}
		m.Legal = &legal
	}
	if r.IntN(3) == 0 {
		m.EventIDs = []uint64{1, r.Uint64()}
	}
	if r.IntN(4) == 0 {
		m.ActiveGames = &[]GameSummary{}
	}
	if r.IntN(4) == 0 {
		m.Error = &Error{Code: CodeNotYourTurn, Message: pick(r, strs)}
	}
	return m
}

// TestMarshalIsJSONMarshal: Marshal gives json.Marshal's bytes for every
// field and every kind of value that encoding/json escapes, compacts,
// omits or refuses, and fails where it fails.
func TestMarshalIsJSONMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	fails := 0
	for i := range 20000 {
		m := randomMessage(r)
		want, werr := json.Marshal(m)
		got, err := Marshal(m)
		if (err != nil) != (werr != nil) {
			t.Fatalf("message %d: error %v, json.Marshal's %v\n%+v", i, err, werr, m)
		}
		if werr != nil {
			fails++
			continue
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("message %d:\n got %s\nwant %s", i, got, want)
		}
	}
	if fails == 0 || fails > 19000 {
		t.Fatalf("%d of 20000 messages failed to encode: the test does not cover both ways", fails)
	}
}

// FuzzMarshal: any string and any raw value give json.Marshal's bytes.
func FuzzMarshal(f *testing.F) {
	for i, s := range strs {
		f.Add(s, []byte(raws[i%len(raws)]), int64(i))
	}
	f.Fuzz(func(t *testing.T, s string, raw []byte, ns int64) {
		at := time.Unix(0, ns).UTC()
		legal := []json.RawMessage{raw}
		m := Message{Type: s, MessageID: s, Timestamp: at, GameID: s, Players: []string{s}, Data: raw, State: raw, Legal: &legal, RecordedAt: &at}
		want, werr := json.Marshal(m)
		got, err := Marshal(m)
		if (err != nil) != (werr != nil) || !bytes.Equal(got, want) {
			t.Fatalf("got %s (%v)\nwant %s (%v)", got, err, want, werr)
		}
	})
}

func BenchmarkMarshal(b *testing.B) {
	at := time.Date(2026, 12, 2, 21, 42, 31, 123456789, time.UTC)
	id := uint64(17)
	m := Message{Type: TypeEvent, MessageID: "7f6c5a44-9a1b-4c1e-8f0e-2b1d9a7c3e55:17:event", Timestamp: at, GameID: "7f6c5a44-9a1b-4c1e-8f0e-2b1d9a7c3e55",
		EventID: &id, Visibility: "public", EventType: "move_made", Version: 1, Actor: "alice", Data: json.RawMessage(`{"cell":4,"mark":"X"}`), RecordedAt: &at}
	b.Run("json.Marshal", func(b *testing.B) {
		for b.Loop() {
			json.Marshal(m)
		}
	})
	b.Run("Marshal", func(b *testing.B) {
		for b.Loop() {
			Marshal(m)
		}
	})
}
