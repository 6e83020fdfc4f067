package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/seal"
)

// playedGames plays one finished and one unfinished tictactoe game into an
// embedded log in a fresh directory, closes it and returns the directory.
func playedGames(t *testing.T) (dir string, finished, unfinished uuid.UUID) {
	dir = t.TempDir()
	ctx := context.Background()
	s, err := jetstream.Open(ctx, jetstream.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	svc := sealedService(t, s)
	g1, _ := svc.Create(ctx, "tictactoe", []string{"alice", "bob"}, nil, "alice")
	for i, cell := range []int{0, 3, 1, 4, 2} {
		who := []string{"alice", "bob"}[i%2]
		if _, err := svc.Execute(ctx, g1.ID, who, json.RawMessage(`{"type":"place","cell":`+strconv.Itoa(cell)+`}`), ""); err != nil {
			t.Fatal(err)
		}
	}
	g2, _ := svc.Create(ctx, "tictactoe", []string{"alice", "bob"}, nil, "alice")
	return dir, g1.ID, g2.ID
}

// auditKey signs the seals of the games these tests play.
// sealedService plays on s and seals with auditKey, as playlogd would.
func sealedService(t *testing.T, s *jetstream.Store) *play.Service {
	t.Helper()
	svc, err := play.New(play.Config{Store: s, Registry: games.Standard(), SeedSecret: []byte("0123456789abcdef0123456789abcdef"),
		Sealer: seal.NewSealer(seal.NewSigner(auditKey), s, seal.Policy{}, nil, nil)})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

var auditKey = ed25519.NewKeyFromSeed([]byte("audit-key-audit-key-audit-key-au"))

// auditPublicKey writes auditKey's public key to a file for --public-key.
func auditPublicKey(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "seal.pub")
	if err := seal.WritePublicKey(path, auditKey.Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAuditAndDump(t *testing.T) {
	dir, finished, unfinished := playedGames(t)
	var out, errOut bytes.Buffer
	if code := run([]string{"audit", "--data", dir, "--game", finished.String(), "--public-key", auditPublicKey(t)}, func(string) string { return "" }, &out, &errOut); code != 0 {
		t.Fatalf("audit of an honest game: %d\n%s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "hash chain intact") || !strings.Contains(out.String(), "legal and fair") ||
		!strings.Contains(out.String(), "final seal over seq") || !strings.Contains(out.String(), "signatures verified") {
		t.Fatalf("audit said:\n%s", out.String())
	}
	// Another key does not verify the seals.
	otherKey := filepath.Join(t.TempDir(), "other.pub")
	seal.WritePublicKey(otherKey, ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey))
	out.Reset()
	if code := run([]string{"audit", "--data", dir, "--game", finished.String(), "--public-key", otherKey}, func(string) string { return "" }, &out, &errOut); code != 1 ||
		!strings.Contains(out.String(), "unknown key id") {
		t.Fatalf("audit with another key: %d\n%s", code, out.String())
	}
	out.Reset()
	if code := run([]string{"audit", "--data", dir, "--game", unfinished.String()}, func(string) string { return "" }, &out, &errOut); code != 0 ||
		!strings.Contains(out.String(), "not over") {
		t.Fatalf("audit of a running game: %d\n%s", code, out.String())
	}
	out.Reset()
	if code := run([]string{"dump", "--data", dir, "--game", finished.String()}, func(string) string { return "" }, &out, &errOut); code != 0 {
		t.Fatalf("dump: %d %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var last struct {
		Seq  uint64 `json:"seq"`
		Type string `json:"type"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Type != "seed_revealed" || last.Seq != uint64(len(lines)) {
		t.Fatalf("dump's last line %q (%v)", lines[len(lines)-1], err)
	}
	for _, args := range [][]string{
		{"audit", "--data", dir, "--game", "not-a-uuid"},
		{"audit", "--game", finished.String()},
	} {
		if code := run(args, func(string) string { return "" }, &out, &errOut); code != 2 {
			t.Fatalf("%q: exit %d, want 2", args, code)
		}
	}
	if code := run([]string{"audit", "--data", dir, "--game", uuid.NewString()}, func(string) string { return "" }, &out, &errOut); code != 1 {
		t.Fatalf("audit of an unknown game: exit %d, want 1", code)
	}
}

// A timed game whose commands claim times later than the store recorded
// them (a clock set ahead, or a forged record: a timeout timed after its
// deadline but stored before it) fails the audit, though its chain is
// intact and every decision re-decides; an honest timed game passes.
func TestAuditChecksCommandTimes(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := jetstream.Open(ctx, jetstream.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	timedGame := func(ahead time.Duration) uuid.UUID {
		svc, err := play.New(play.Config{Store: s, Registry: games.Standard(), SeedSecret: []byte("0123456789abcdef0123456789abcdef"),
			Now: func() time.Time { return time.Now().Add(ahead) }})
		if err != nil {
			t.Fatal(err)
		}
		g, err := svc.Create(ctx, "tictactoe", []string{"alice", "bob"}, json.RawMessage(`{"turn_timer":{"seconds":60}}`), "alice")
		if err != nil {
			t.Fatal(err)
		}
		for i, cell := range []int{0, 3, 1, 4, 2} {
			if _, err := svc.Execute(ctx, g.ID, []string{"alice", "bob"}[i%2], json.RawMessage(`{"type":"place","cell":`+strconv.Itoa(cell)+`}`), ""); err != nil {
				t.Fatal(err)
			}
		}
		return g.ID
	}
	honest, ahead := timedGame(0), timedGame(time.Hour)
	s.Close()
	var out, errOut bytes.Buffer
	if code := run([]string{"audit", "--data", dir, "--game", honest.String()}, func(string) string { return "" }, &out, &errOut); code != 0 {
		t.Fatalf("audit of an honest timed game: %d\n%s%s", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := run([]string{"audit", "--data", dir, "--game", ahead.String()}, func(string) string { return "" }, &out, &errOut); code != 1 ||
		!strings.Contains(out.String(), "after the store recorded it") {
		t.Fatalf("audit of commands timed an hour after they were stored: %d\n%s", code, out.String())
	}
}
