package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/seal"
)

// playedBetween is the store as an audit or export sees it while playlogd
// plays on: the game gets one more command, and its seal, right after the
// first of the tool's two reads (the events to their end, or the seals).
type playedBetween struct {
	eventstore.Store
	once sync.Once
	move func()
}

func (p *playedBetween) Seals(ctx context.Context, game uuid.UUID) ([]eventstore.Seal, error) {
	seals, err := p.Store.Seals(ctx, game)
	p.once.Do(p.move)
	return seals, err
}

func (p *playedBetween) Read(ctx context.Context, game uuid.UUID, after uint64, limit int) ([]eventstore.Event, error) {
	events, err := p.Store.Read(ctx, game, after, limit)
	if err == nil && len(events) == 0 { // the reader has seen the end
		p.once.Do(p.move)
	}
	return events, err
}

// An honest game whose winning move and final seal land while the audit
// reads it audits clean: a seal past the events read sends the tools back
// to read the game again.
func TestGamePlayedOnWhileReadAuditsClean(t *testing.T) {
	ctx := context.Background()
	s, err := jetstream.Open(ctx, jetstream.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	svc := sealedService(t, s)
	g, err := svc.Create(ctx, "tictactoe", []string{"alice", "bob"}, nil, "alice")
	if err != nil {
		t.Fatal(err)
	}
	for i, cell := range []string{"0", "3", "1", "4"} {
		if _, err := svc.Execute(ctx, g.ID, []string{"alice", "bob"}[i%2], json.RawMessage(`{"type":"place","cell":`+cell+`}`), ""); err != nil {
			t.Fatal(err)
		}
	}
	var moveErr error
	store := &playedBetween{Store: s, move: func() {
		_, moveErr = svc.Execute(ctx, g.ID, "alice", json.RawMessage(`{"type":"place","cell":2}`), "")
	}}
	a := auditor{registry: games.Standard(), verifier: seal.NewVerifier(auditKey.Public().(ed25519.PublicKey)),
		unsealedAfter: 10 * time.Minute, now: time.Now()}
	r := a.read(ctx, store, g.ID, newPacer(0, time.Now()))
	if moveErr != nil {
		t.Fatal(moveErr)
	}
	if len(r.Findings) > 0 {
		t.Fatalf("an honest game, played on while audited, reported: %v", r.Findings)
	}
	if seals, _ := s.Seals(ctx, g.ID); len(seals) == 0 {
		t.Fatal("the game has no final seal: the test tests nothing")
	}
}

// A game that has just ended, read before the sealer has stored its final
// seal, is read again for a moment instead of being reported unsealed.
func TestJustEndedGameWaitsForItsFinalSeal(t *testing.T) {
	ctx := context.Background()
	s, err := jetstream.Open(ctx, jetstream.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	svc, err := play.New(play.Config{Store: s, Registry: games.Standard(), SeedSecret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	g, err := svc.Create(ctx, "tictactoe", []string{"alice", "bob"}, nil, "alice")
	if err != nil {
		t.Fatal(err)
	}
	var res play.Result
	for i, cell := range []string{"0", "3", "1", "4", "2"} {
		if res, err = svc.Execute(ctx, g.ID, []string{"alice", "bob"}[i%2], json.RawMessage(`{"type":"place","cell":`+cell+`}`), ""); err != nil {
			t.Fatal(err)
		}
	}
	// The sealer runs right after the end's append; here a little later.
	sealer := seal.NewSealer(seal.NewSigner(auditKey), s, seal.Policy{}, nil, nil)
	sealed := make(chan struct{})
	go func() {
		defer close(sealed)
		time.Sleep(20 * time.Millisecond)
		sealer.Appended(ctx, res.Events, true)
	}()
	a := auditor{registry: games.Standard(), verifier: seal.NewVerifier(auditKey.Public().(ed25519.PublicKey)),
		unsealedAfter: 10 * time.Minute, now: time.Now()}
	r := a.read(ctx, s, g.ID, newPacer(0, time.Now()))
	<-sealed
	if len(r.Findings) > 0 || !r.Final {
		t.Fatalf("a game sealed 20 ms after its end: %+v", r)
	}
}

// A running game left two hours ago, sealed through its head. Someone
// with write access appends a move to it, chained as an append would be,
// dated far in the future: --unsealed-after never reports the tail.
func TestFutureDatedTailIsFound(t *testing.T) {
	ctx := context.Background()
	past := func() time.Time { return time.Now().Add(-2 * time.Hour) }
	s, err := jetstream.Open(ctx, jetstream.Config{Dir: t.TempDir(), Now: past})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	svc, err := play.New(play.Config{Store: s, Registry: games.Standard(), SeedSecret: []byte("0123456789abcdef0123456789abcdef"), Now: past,
		Sealer: seal.NewSealer(seal.NewSigner(auditKey), s, seal.Policy{Every: 1}, past, nil)})
	if err != nil {
		t.Fatal(err)
	}
	g, err := svc.Create(ctx, "tictactoe", []string{"alice", "bob"}, nil, "alice")
	if err != nil {
		t.Fatal(err)
	}
	for i, cell := range []string{"0", "3", "1"} {
		if _, err := svc.Execute(ctx, g.ID, []string{"alice", "bob"}[i%2], json.RawMessage(`{"type":"place","cell":`+cell+`}`), ""); err != nil {
			t.Fatal(err)
		}
	}
	events, err := s.Read(ctx, g.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	seals, err := s.Seals(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	a := auditor{registry: games.Standard(), verifier: seal.NewVerifier(auditKey.Public().(ed25519.PublicKey)),
		unsealedAfter: time.Hour, now: time.Now()}
	if r := a.audit(g.ID, events, seals); len(r.Findings) > 0 || r.Sealed != uint64(len(events)) {
		t.Fatalf("the honest game: %+v", r)
	}

	// Control: the forged tail dated like its neighbour is found.
	forge := func(at time.Time) []eventstore.Event {
		last := events[len(events)-1]
		e := eventstore.Event{GameID: g.ID, Seq: last.Seq + 1, Type: "action", SchemaVersion: 1, Actor: "bob",
			MessageID: "bob/forged", Data: json.RawMessage(`{"actor":"bob","action":{"type":"place","cell":8}}`),
			RecordedAt: at.UTC().Truncate(time.Microsecond), PrevHash: last.Hash}
		e.Hash = eventstore.ChainHash(e.PrevHash, &e)
		return append(append([]eventstore.Event(nil), events...), e)
	}
	if r := a.audit(g.ID, forge(events[len(events)-1].RecordedAt), seals); len(r.Findings) == 0 {
		t.Fatalf("control: the old forged tail is not found")
	}
	r := a.audit(g.ID, forge(time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)), seals)
	if len(r.Findings) != 1 || r.Findings[0].Check != "times" || r.Findings[0].Seq != uint64(len(events)+1) {
		t.Fatalf("a forged move dated 2999, after a game idle for 2 h: %+v, want one times finding at its seq", r.Findings)
	}
}
