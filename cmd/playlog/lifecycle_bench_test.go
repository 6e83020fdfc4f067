package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/archive"
	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/postgres"
	"github.com/playlog/playlog/export"
	"github.com/playlog/playlog/internal/testkit/pgtest"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/seal"
)

// genGames writes an export of n finished tictactoe games, each decided by
// the engine with its real seed (play.DeriveSeed), one append per command
// a millisecond apart, and sealed final as playlogd seals them; and of
// running more games, two moves in and sealed at their head.
func genGames(tb testing.TB, path string, n, running int, signer *seal.Signer, secret []byte) (events int) {
	tb.Helper()
	g, err := games.Standard().Lookup("tictactoe")
	if err != nil {
		tb.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	w := export.NewWriter(f, "generated", time.Now())
	base := time.Now().Add(-time.Duration(n) * 10 * time.Millisecond).Truncate(time.Microsecond)
	players := []string{"alice", "bob"}
	for i := range n + running {
		id := uuid.New()
		moves, kind := []int{0, 3, 1, 4, 2}, eventstore.SealFinal
		if i >= n {
			moves, kind = moves[:2], eventstore.SealCheckpoint
		}
		seed := play.DeriveSeed(secret, id)
		at := base.Add(time.Duration(i) * 10 * time.Millisecond)
		var log []eventstore.Event
		stamp := func(evs []engine.Event, actor string) {
			p := make([]eventstore.Pending, len(evs))
			for j, ev := range evs {
				a := ev.Actor
				if a == "" {
					a = actor
				}
				p[j] = eventstore.Pending{Type: ev.Type, SchemaVersion: ev.Version, Actor: a, Data: ev.Data}
			}
			var head eventstore.Hash
			if len(log) > 0 {
				head = log[len(log)-1].Hash
			}
			log = append(log, eventstore.Stamp(id, uint64(len(log)), head, at, p)...)
			at = at.Add(time.Millisecond)
		}
		evs, err := g.Create(nil, players, seed)
		if err != nil {
			tb.Fatal(err)
		}
		s, _ := g.Apply(engine.State{}, evs...)
		stamp(evs, "alice")
		for j, cell := range moves {
			actor := players[j%2]
			evs, err := g.Decide(s, engine.Command{Actor: actor, Action: json.RawMessage(`{"type":"place","cell":` + strconv.Itoa(cell) + `}`)}, seed)
			if err != nil {
				tb.Fatal(err)
			}
			s, _ = g.Apply(s, evs...)
			stamp(evs, actor)
		}
		final, err := signer.Sign(log[len(log)-1], kind, at)
		if err != nil {
			tb.Fatal(err)
		}
		if err := w.WriteGame(log, []eventstore.Seal{final}); err != nil {
			tb.Fatal(err)
		}
		events += len(log)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return events
}

// BenchmarkLifecycle measures the log's life cycle on both backends, one
// run each: import of PLAYLOG_BENCH_GAMES finished games (default 100 000,
// and 1% more running) into JetStream, export from it, import into PostgreSQL, export from it
// (byte-identical past the header), a whole-store audit of each, and the
// hot store's size before and after archiving the finished ones.
//
//	PLAYLOG_BENCH_GAMES=100000 go test -run '^$' -bench Lifecycle -benchtime 1x -timeout 2h ./cmd/playlog
func BenchmarkLifecycle(b *testing.B) {
	n := 100_000
	if v := os.Getenv("PLAYLOG_BENCH_GAMES"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	dir := b.TempDir()
	key := ed25519.NewKeyFromSeed([]byte("lifecycle-bench-lifecycle-bench!"))
	signer := seal.NewSigner(key)
	pub := filepath.Join(dir, "seal.pub")
	seal.WritePublicKey(pub, signer.PublicKey())
	gen := filepath.Join(dir, "generated.jsonl")
	running := max(1, n/100)
	events := genGames(b, gen, n, running, signer, []byte("0123456789abcdef0123456789abcdef"))
	cluster, err := pgtest.StartOwn()
	if err != nil {
		b.Fatal(err)
	}
	defer cluster.Stop()
	js := []string{"--data", filepath.Join(dir, "js")}
	pg := []string{"--database-url", cluster.URL, "--database-schema", pgtest.NewSchema("lifecycle")}
	for b.Loop() {
		step := func(name, file string, args ...string) time.Duration {
			b.Helper()
			start := time.Now()
			code, stdout, stderr := runCLI(b, nil, append(args, "--quiet")...)
			took := time.Since(start)
			if code != 0 {
				b.Fatalf("%s: exit %d\n%.2000s\n%.2000s", name, code, stdout, stderr)
			}
			mb := 0.0
			if file != "" {
				if st, err := os.Stat(file); err == nil {
					mb = float64(st.Size()) / 1e6
				}
			}
			b.Logf("%-28s %8.1f s %9.0f events/s %7.1f MB %6.1f MB/s", name, took.Seconds(), float64(events)/took.Seconds(), mb, mb/took.Seconds())
			return took
		}
		fromJS, fromPG := filepath.Join(dir, "js.jsonl"), filepath.Join(dir, "pg.jsonl")
		b.Logf("%d finished games and %d running, %d events", n, running, events)
		step("import into JetStream", gen, append([]string{"import", "--in", gen, "--public-key", pub}, js...)...)
		step("export from JetStream", fromJS, append([]string{"export", "--out", fromJS}, js...)...)
		step("import into PostgreSQL", fromJS, append([]string{"import", "--in", fromJS, "--public-key", pub}, pg...)...)
		step("export from PostgreSQL", fromPG, append([]string{"export", "--out", fromPG}, pg...)...)
		if !sameBody(b, fromJS, fromPG) {
			b.Fatal("the exports from JetStream and PostgreSQL differ past their headers")
		}
		step("audit JetStream", "", append([]string{"audit", "--public-key", pub}, js...)...)
		step("audit PostgreSQL", "", append([]string{"audit", "--public-key", pub}, pg...)...)
		for _, args := range [][]string{js, pg} {
			code, stdout, stderr := runCLI(b, nil, append([]string{"archive", "--older-than", "0s"}, append(args, "--quiet")...)...)
			if code != 0 {
				b.Fatalf("archive: %d %s %s", code, stdout, stderr)
			}
			b.Logf("%s: %s", args[0], bytes.TrimSpace([]byte(stdout)))
		}
		sizes(b, pg)
	}
}

// sizes logs a PostgreSQL schema's hot tables after VACUUM FULL gives the
// removed rows' space back to the file system.
func sizes(b *testing.B, pg []string) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, postgres.Config{URL: pg[1], Schema: pg[3]})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Pool().Exec(ctx, `VACUUM FULL events, seals`); err != nil {
		b.Fatal(err)
	}
	size, records, err := archive.HotSize(ctx, s)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("postgres hot tables after VACUUM FULL: %d bytes, %d records", size, records)
}

// sameBody compares two exports past their header lines.
func sameBody(b *testing.B, x, y string) bool {
	bx, err := os.ReadFile(x)
	if err != nil {
		b.Fatal(err)
	}
	by, err := os.ReadFile(y)
	if err != nil {
		b.Fatal(err)
	}
	return bytes.Equal(bx[bytes.IndexByte(bx, '\n'):], by[bytes.IndexByte(by, '\n'):])
}
