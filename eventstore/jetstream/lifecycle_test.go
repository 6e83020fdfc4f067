package jetstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/playlog/playlog/eventstore"
)

// TestStreamFromBeforeSeals: a stream made by an older playlog (game
// subjects only, deny_purge) is updated in place: it gains the seal
// subjects, so seals work; deny_purge, which JetStream cannot lift, stays,
// and Remove says it cannot work there, removing nothing.
func TestStreamFromBeforeSeals(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, Config{Dir: dir})
	if s.denyPurge {
		t.Fatal("a new stream denies purges")
	}
	old := streamConfig(s.cfg)
	old.Subjects, old.DenyPurge = []string{s.cfg.SubjectPrefix + ".*"}, true
	if err := s.js.DeleteStream(ctx, s.cfg.Stream); err != nil {
		t.Fatal(err)
	}
	// The server may still be removing the deleted stream's files: it
	// then refuses to create the store for a moment.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, err := s.js.CreateStream(ctx, old)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
	}
	game := uuid.New()
	res, err := s.Append(ctx, game, 0, pending("m1"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = openTest(t, Config{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() { s.Close() })
	info, err := s.stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(info.Config.Subjects, s.cfg.SubjectPrefix+".seal.*") || !info.Config.DenyPurge || !s.denyPurge {
		t.Fatalf("stream after the update: subjects %v, deny_purge %v", info.Config.Subjects, info.Config.DenyPurge)
	}
	last := res.Events[0]
	seal := eventstore.Seal{GameID: game, Seq: 1, Hash: last.Hash, Kind: eventstore.SealFinal, KeyID: "k", Signature: make([]byte, 64), SealedAt: time.Now()}
	if err := s.PutSeal(ctx, seal); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Seals(ctx, game); err != nil || len(got) != 1 {
		t.Fatalf("seals: %+v, %v", got, err)
	}
	// Snapshots too, kept without purging the older ones.
	for _, data := range []string{`{"n":1}`, `{"n":2}`} {
		if err := s.PutSnapshot(ctx, eventstore.Snapshot{GameID: game, Seq: 1, Hash: last.Hash, Data: []byte(data)}); err != nil {
			t.Fatal(err)
		}
	}
	if snap, ok, err := s.Snapshot(ctx, game); err != nil || !ok || string(snap.Data) != `{"n":1}` {
		t.Fatalf("snapshot on a deny_purge stream: %+v, %v, %v", snap, ok, err)
	}
	if err := s.Remove(ctx, game, 1, last.Hash); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("remove from a deny_purge stream: %v", err)
	}
	if got, err := s.Read(ctx, game, 0, 0); err != nil || len(got) != 1 {
		t.Fatalf("read after the refused remove: %+v, %v", got, err)
	}
}

// TestImportRefusesSpaceAroundData: data with white space around it cannot
// come back from the message format byte for byte, so Import refuses it
// rather than store a chain that would not verify.
func TestImportRefusesSpaceAroundData(t *testing.T) {
	s := openTest(t, Config{Dir: t.TempDir()})
	t.Cleanup(func() { s.Close() })
	game := uuid.New()
	for _, data := range []string{" {}", "{}\n", "\t1"} {
		events := eventstore.Stamp(game, 0, eventstore.Hash{}, time.Now(), []eventstore.Pending{{Type: "e", SchemaVersion: 1, Data: []byte(data)}})
		if _, err := s.Import(context.Background(), events); !errors.Is(err, eventstore.ErrInvalidData) {
			t.Fatalf("import of data %q: %v", data, err)
		}
	}
	if _, err := s.Head(context.Background(), game); !errors.Is(err, eventstore.ErrGameNotFound) {
		t.Fatalf("head: %v", err)
	}
}

// TestSealsOnTheirSubject: a seal is one message on "<prefix>.seal.<game>",
// which the feed's and the republish's "<prefix>.*" does not match.
func TestSealsOnTheirSubject(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Config{Dir: t.TempDir(), SubjectPrefix: "x.games"})
	t.Cleanup(func() { s.Close() })
	game := uuid.New()
	res, err := s.Append(ctx, game, 0, pending(""))
	if err != nil {
		t.Fatal(err)
	}
	seal := eventstore.Seal{GameID: game, Seq: 1, Hash: res.Events[0].Hash, Kind: eventstore.SealFinal, KeyID: "k", Signature: make([]byte, 64), SealedAt: time.Now()}
	for i := 0; i < 2; i++ {
		if err := s.PutSeal(ctx, seal); err != nil {
			t.Fatal(err)
		}
	}
	m, err := s.stream.GetLastMsgForSubject(ctx, "x.games.seal."+game.String())
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m.Sequence != 2 || info.State.Msgs != 2 {
		t.Fatalf("seal at stream seq %d, %d messages; want 2 and 2 (one seal stored once)", m.Sequence, info.State.Msgs)
	}
	if rp := info.Config.RePublish; rp == nil || rp.Source != "x.games.*" {
		t.Fatalf("republish %+v", rp)
	}
}

// TestOnlyTheLatestSnapshotStays: a put purges the game's older
// snapshots, and nothing else.
func TestOnlyTheLatestSnapshotStays(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Config{Dir: t.TempDir()})
	t.Cleanup(func() { s.Close() })
	game, other := uuid.New(), uuid.New()
	var last eventstore.Event
	for i, g := range []uuid.UUID{other, game, game, game} {
		head, _ := s.Head(ctx, g)
		res, err := s.Append(ctx, g, head, pending(fmt.Sprintf("m%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		last = res.Events[0]
		if err := s.PutSnapshot(ctx, eventstore.Snapshot{GameID: g, Seq: last.Seq, Hash: last.Hash, Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	for g, want := range map[uuid.UUID]uint64{game: 1, other: 1} {
		info, err := s.stream.Info(ctx, natsjs.WithSubjectFilter(s.snapSubject(g)))
		if err != nil {
			t.Fatal(err)
		}
		if got := info.State.Subjects[s.snapSubject(g)]; got != want {
			t.Fatalf("%d snapshots of %s kept, want %d", got, g, want)
		}
	}
	if snap, ok, err := s.Snapshot(ctx, game); err != nil || !ok || snap.Seq != last.Seq {
		t.Fatalf("latest snapshot: %+v, %v, %v", snap, ok, err)
	}
	if n, _ := s.Head(ctx, game); n != 3 {
		t.Fatalf("the game's events: head %d, want 3", n)
	}
}
