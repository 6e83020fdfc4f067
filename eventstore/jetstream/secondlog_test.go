package jetstream

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/playlog/playlog/eventstore"
)

// A game's subject that holds a second log from seq 1 after its first,
// with the first still there, was written around the append's guard (a
// publish without the expected sequence): a legitimate log stored anew
// (Remove, then Import) purges the first before. A process reading the
// game afresh refuses it as corrupt instead of taking the second log for
// the game's (which let anyone able to publish replace a game, the audit
// none the wiser).
func TestASecondLogBesideTheFirstIsCorrupt(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	s := openTest(t, Config{Dir: dir, Listen: "127.0.0.1:0"})
	t.Cleanup(func() { s.Close() })
	game := uuid.New()
	for i := 0; i < 3; i++ {
		if _, err := s.Append(ctx, game, uint64(i), pending("")); err != nil {
			t.Fatal(err)
		}
	}
	forged := eventstore.Stamp(game, 0, eventstore.Hash{}, time.Now(), []eventstore.Pending{pending("")})
	payload, err := encodeMessage(game, forged)
	if err != nil {
		t.Fatal(err)
	}
	m := nats.NewMsg(s.subject(game))
	m.Data = payload
	m.Header[hdrIndex] = []string{indexHeader(forged, "")}
	if _, err := s.js.PublishMsg(ctx, m); err != nil { // no expected sequence
		t.Fatal(err)
	}

	fresh := openTest(t, Config{URL: s.ClientURL()})
	t.Cleanup(func() { fresh.Close() })
	events, err := fresh.Read(ctx, game, 0, 0)
	if !errors.Is(err, errFormat) {
		t.Fatalf("a fresh read of a subject with two logs: %d events, %v; want it refused as corrupt", len(events), err)
	}
	// A process that indexed the game before the second log came (its
	// index then starts anew) finds the first still stored.
	for i := 0; i < 2; i++ { // and again: the refusal holds
		if _, err := s.Read(ctx, game, 0, 0); !errors.Is(err, errFormat) {
			t.Fatalf("read %d by the process that indexed the first log: %v; want it refused as corrupt", i+1, err)
		}
	}
}
