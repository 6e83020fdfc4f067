package eventstore_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
)

// vector is the worked example in docs/eventlog.md; outside tools check
// their implementation of the chain formula against it.
func vector() []eventstore.Event {
	game := uuid.MustParse("0b5c7a42-5e0c-4c8e-9d2a-3f1e6f3b9a10")
	at := time.Date(2026, 11, 22, 10, 30, 0, 123456789, time.UTC) // kept to the µs
	return eventstore.Stamp(game, 0, eventstore.Hash{}, at, []eventstore.Pending{
		{Type: "game_created", SchemaVersion: 1, Actor: "alice", MessageID: "m-1", Data: []byte(`{"rules":"tictactoe", "players":["alice","bob"]}`)},
		{Type: "mark_placed", SchemaVersion: 2, Actor: "alice", MessageID: "m-1", Data: []byte(`{"cell":4,"note":"<&> \"quoted\" é"}`)},
	})
}

func TestChainHashVector(t *testing.T) {
	events := vector()
	want := []string{
		"a5389c32ef42f4c0b78c6bb7db750ee6913595abd823984527165844d2d02e0e",
		"ba86cc85c96076f315ad64c9bc13a5c6db76108f812e99bfefebb14d8cdcf6d2",
	}
	for i, e := range events {
		if e.Hash.String() != want[i] {
			t.Fatalf("event %d hash %s, want %s (the documented formula changed?)", i+1, e.Hash, want[i])
		}
	}
	if events[0].RecordedAt.Nanosecond()%1000 != 0 {
		t.Fatalf("recorded time %v not truncated to the microsecond", events[0].RecordedAt)
	}
}

func TestVerifyChainFindsTampering(t *testing.T) {
	tamper := map[string]func([]eventstore.Event){
		"data":       func(e []eventstore.Event) { e[1].Data = []byte(`{"cell":5,"note":"<&> \"quoted\" é"}`) },
		"type":       func(e []eventstore.Event) { e[0].Type = "game_deleted" },
		"actor":      func(e []eventstore.Event) { e[1].Actor = "bob" },
		"message id": func(e []eventstore.Event) { e[0].MessageID = "m-2" },
		"time":       func(e []eventstore.Event) { e[1].RecordedAt = e[1].RecordedAt.Add(time.Microsecond) },
		"version":    func(e []eventstore.Event) { e[1].SchemaVersion = 1 },
		// Past 32 bits, or negative: no longer the same hash truncated.
		"version + 2^32":  func(e []eventstore.Event) { e[1].SchemaVersion += 1 << 32 },
		"version - 2^32":  func(e []eventstore.Event) { e[0].SchemaVersion -= 1 << 32 },
		"version negated": func(e []eventstore.Event) { e[1].SchemaVersion = -(1 << 32) + 2 },
		"seq":             func(e []eventstore.Event) { e[1].Seq = 3 },
		"prev hash":       func(e []eventstore.Event) { e[1].PrevHash[0] ^= 1 },
		"rehashed first event": func(e []eventstore.Event) {
			e[0].Data = []byte(`{}`)
			e[0].Hash = eventstore.ChainHash(e[0].PrevHash, &e[0]) // consistent alone, breaks the link
		},
	}
	if err := eventstore.VerifyChain(eventstore.Hash{}, vector()); err != nil {
		t.Fatalf("honest chain rejected: %v", err)
	}
	for name, f := range tamper {
		t.Run(name, func(t *testing.T) {
			events := vector()
			f(events)
			if err := eventstore.VerifyChain(eventstore.Hash{}, events); err == nil {
				t.Fatal("tampered chain verified")
			}
		})
	}
}

func TestPositionOrderAndText(t *testing.T) {
	a, b, c := eventstore.Position{Major: 1, Minor: 9}, eventstore.Position{Major: 2, Minor: 1}, eventstore.Position{Major: 2, Minor: 2}
	if !a.Less(b) || !b.Less(c) || c.Less(a) || a.Less(a) {
		t.Fatal("positions misordered")
	}
	p, err := eventstore.ParsePosition(c.String())
	if err != nil || p != c {
		t.Fatalf("round trip %v: %v, %v", c, p, err)
	}
	for _, bad := range []string{"", "1", "a.b", "1.-2", "1.2.3"} {
		if _, err := eventstore.ParsePosition(bad); !errors.Is(err, eventstore.ErrInvalidArgument) {
			t.Fatalf("ParsePosition(%q): %v", bad, err)
		}
	}
}

func TestConflictErrorMatchesSentinel(t *testing.T) {
	err := error(&eventstore.ConflictError{Expected: 3, Actual: 5})
	if !errors.Is(err, eventstore.ErrConflict) || errors.Is(err, eventstore.ErrGameNotFound) {
		t.Fatal("ConflictError does not match ErrConflict alone")
	}
	if !strings.Contains(err.Error(), "expected seq 3, head is 5") {
		t.Fatalf("message %q", err)
	}
}
