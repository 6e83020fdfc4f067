package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/internal/testkit/tamper"
	"github.com/playlog/playlog/replay"
)

// An attacker raises one stored schema_version of an ended, final-sealed
// game by 2^32: the audit calls it tampering. (The chain hash took the
// version's low 32 bits only: the chain was intact, the final seal good,
// and the audit blamed the server, "UNFAIR OR ILLEGAL".)
func TestSchemaVersionPast32BitsIsTampering(t *testing.T) {
	dir, finished, _ := playedGames(t)
	ctx := context.Background()
	s, err := jetstream.Open(ctx, jetstream.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	events, err := replay.ReadGame(ctx, s, finished)
	if err != nil {
		t.Fatal(err)
	}
	events[1].SchemaVersion += 1 << 32
	tool := tamper.JetStream(s.Conn(), s.StreamName(), s.SubjectPrefix())
	if err := tool.Replace(ctx, finished, events); err != nil {
		t.Fatal(err)
	}
	tool.Close(ctx)
	s.Close()

	var out, errOut bytes.Buffer
	code := run([]string{"audit", "--data", dir, "--game", finished.String(), "--public-key", auditPublicKey(t)}, func(string) string { return "" }, &out, &errOut)
	t.Logf("exit %d\n%s%s", code, out.String(), errOut.String())
	if code != 1 || !bytes.Contains(out.Bytes(), []byte("TAMPERED")) {
		t.Fatalf("a stored field changed, and the audit does not call it tampering")
	}
}
