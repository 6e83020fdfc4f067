package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/eventstore/postgres"
	"github.com/playlog/playlog/export"
	"github.com/playlog/playlog/internal/testkit/pgtest"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/replay"
	"github.com/playlog/playlog/seal"
)

// logBackend is a log the CLI reaches with args and the test with open.
// A store from open is closed before the CLI runs (an embedded JetStream
// directory has one user at a time).
type logBackend struct {
	name string
	args []string
	open func(t *testing.T) eventstore.Store
}

func jetstreamLog(t *testing.T) logBackend {
	dir := t.TempDir()
	return logBackend{name: "jetstream", args: []string{"--data", dir}, open: func(t *testing.T) eventstore.Store {
		t.Helper()
		s, err := jetstream.Open(context.Background(), jetstream.Config{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}}
}

func postgresLog(t *testing.T, url string) logBackend {
	schema := pgtest.NewSchema("export")
	return logBackend{name: "postgres", args: []string{"--database-url", url, "--database-schema", schema}, open: func(t *testing.T) eventstore.Store {
		t.Helper()
		s, err := postgres.Open(context.Background(), postgres.Config{URL: url, Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}}
}

// source is a log with real games and seals.
type source struct {
	logBackend
	finished []uuid.UUID // ended (seed revealed), final seal and a checkpoint
	active   uuid.UUID   // running, a checkpoint at its head
	all      []uuid.UUID // in creation order
	signer   *seal.Signer
	pubKey   string // file holding the signer's public key
}

// sourceLog plays two finished tictactoe games and leaves one running, in
// a fresh embedded log, seals them as playlogd would (a final seal on each
// ended game, checkpoints), and closes the log.
func sourceLog(t *testing.T) source {
	t.Helper()
	src := source{logBackend: jetstreamLog(t)}
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	src.signer = seal.NewSigner(priv)
	src.pubKey = filepath.Join(t.TempDir(), "seal.pub")
	if err := seal.WritePublicKey(src.pubKey, src.signer.PublicKey()); err != nil {
		t.Fatal(err)
	}
	s := src.open(t)
	defer s.Close()
	ctx := context.Background()
	svc, err := play.New(play.Config{Store: s, Registry: games.Standard(), SeedSecret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	game := func(cells ...int) uuid.UUID {
		g, err := svc.Create(ctx, "tictactoe", []string{"alice", "bob"}, nil, "alice")
		if err != nil {
			t.Fatal(err)
		}
		for i, cell := range cells {
			who := []string{"alice", "bob"}[i%2]
			if _, err := svc.Execute(ctx, g.ID, who, json.RawMessage(`{"type":"place","cell":`+strconv.Itoa(cell)+`}`), "m"+strconv.Itoa(i)); err != nil {
				t.Fatal(err)
			}
		}
		src.all = append(src.all, g.ID)
		return g.ID
	}
	src.finished = []uuid.UUID{game(0, 3, 1, 4, 2), game(0, 1, 3, 4, 6)}
	src.active = game(4, 0)
	put := func(id uuid.UUID, seq uint64, kind eventstore.SealKind) {
		evs, err := replay.ReadGame(ctx, s, id)
		if err != nil {
			t.Fatal(err)
		}
		if seq == 0 {
			seq = uint64(len(evs))
		}
		sl, err := src.signer.Sign(evs[seq-1], kind, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := s.PutSeal(ctx, sl); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range src.finished {
		put(id, 3, eventstore.SealCheckpoint)
		put(id, 0, eventstore.SealFinal)
	}
	put(src.active, 0, eventstore.SealCheckpoint)
	return src
}

func exportCLI(t *testing.T, b logBackend, args ...string) (stdout string) {
	t.Helper()
	code, stdout, stderr := runCLI(t, nil, append(append([]string{"export"}, b.args...), args...)...)
	if code != 0 {
		t.Fatalf("export from %s: exit %d\nstdout: %s\nstderr: %s", b.name, code, stdout, stderr)
	}
	if !strings.Contains(stdout, "exported 0 games") && (!strings.Contains(stderr, "exporting") || !strings.Contains(stderr, "100%")) {
		t.Fatalf("no finished progress bar on stderr: %q", stderr)
	}
	return stdout
}

func importCLI(t *testing.T, b logBackend, wantCode int, args ...string) (stdout string) {
	t.Helper()
	code, stdout, stderr := runCLI(t, nil, append(append([]string{"import"}, b.args...), args...)...)
	if code != wantCode {
		t.Fatalf("import into %s: exit %d, want %d\nstdout: %s\nstderr: %s", b.name, code, wantCode, stdout, stderr)
	}
	if !strings.Contains(stderr, "importing") {
		t.Fatalf("no progress bar on stderr: %q", stderr)
	}
	return stdout
}

// outcomes maps each game of an import's output to what happened to it
// (the word after "game <id>: ").
func outcomes(t *testing.T, stdout string) map[uuid.UUID]string {
	t.Helper()
	m := map[uuid.UUID]string{}
	for _, l := range strings.Split(stdout, "\n") {
		rest, ok := strings.CutPrefix(l, "game ")
		if !ok {
			continue
		}
		id, what, _ := strings.Cut(rest, ": ")
		word, _, _ := strings.Cut(what, ":")
		m[uuid.MustParse(id)] = word
	}
	return m
}

func wantOutcomes(t *testing.T, stdout string, want map[uuid.UUID]string) {
	t.Helper()
	if got := outcomes(t, stdout); !mapsEqual(got, want) {
		t.Fatalf("outcomes %v, want %v\n%s", got, want, stdout)
	}
}

func mapsEqual(a, b map[uuid.UUID]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func all(ids []uuid.UUID, what string) map[uuid.UUID]string {
	m := map[uuid.UUID]string{}
	for _, id := range ids {
		m[id] = what
	}
	return m
}

// readExport reads a whole export file.
func readExport(t *testing.T, path string) (export.Header, []export.Game) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := export.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var gs []export.Game
	for {
		g, err := r.Next()
		if err == io.EOF {
			return r.Header(), gs
		}
		if err != nil {
			t.Fatal(err)
		}
		gs = append(gs, g)
	}
}

func gameIDsOf(gs []export.Game) []uuid.UUID {
	var ids []uuid.UUID
	for _, g := range gs {
		ids = append(ids, g.ID)
	}
	return ids
}

// body is an export file without its header line.
func body(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := bytes.Cut(b, []byte("\n"))
	if !ok {
		t.Fatalf("%s: one line", path)
	}
	return rest
}

func auditCLI(t *testing.T, b logBackend, src source, ids []uuid.UUID) {
	t.Helper()
	for _, id := range ids {
		code, stdout, stderr := runCLI(t, nil, append(append([]string{"audit"}, b.args...), "--game", id.String(), "--public-key", src.pubKey)...)
		if code != 0 {
			t.Fatalf("audit of %s in %s: exit %d\n%s%s", id, b.name, code, stdout, stderr)
		}
	}
}

// storedGame is a game's events and seals as a store holds them.
func storedGame(t *testing.T, s eventstore.Store, id uuid.UUID) ([]eventstore.Event, []eventstore.Seal) {
	t.Helper()
	ctx := context.Background()
	evs, err := replay.ReadGame(ctx, s, id)
	if err != nil {
		t.Fatal(err)
	}
	seals, err := s.Seals(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return evs, seals
}

// TestExportImportRoundTrip: JetStream -> export -> PostgreSQL -> export
// -> a fresh JetStream -> export: the three files are the same bytes
// (their headers aside), every imported game audits, seals verified;
// importing again skips every game, and a gzipped export reads the same.
func TestExportImportRoundTrip(t *testing.T) {
	cluster, err := pgtest.StartOwn()
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Stop()
	src := sourceLog(t)
	files := t.TempDir()
	file1, file2, file3 := filepath.Join(files, "js.jsonl"), filepath.Join(files, "pg.jsonl"), filepath.Join(files, "js2.jsonl")

	out := exportCLI(t, src.logBackend, "--out", file1)
	if !strings.HasPrefix(out, "exported 3 games, ") {
		t.Fatalf("export summary %q", out)
	}
	h, gs := readExport(t, file1)
	if h.Source != "jetstream:PLAYLOG" || !slices.Equal(gameIDsOf(gs), src.all) {
		t.Fatalf("header %+v, games %v, want %v", h, gameIDsOf(gs), src.all)
	}
	for _, g := range gs {
		if err := export.VerifyGame(g, seal.NewVerifier(src.signer.PublicKey()).Verify); err != nil || len(g.Seals) == 0 {
			t.Fatalf("%s: %d seals, %v", g.ID, len(g.Seals), err)
		}
	}

	pg := postgresLog(t, cluster.URL)
	wantOutcomes(t, importCLI(t, pg, 0, "--in", file1, "--public-key", src.pubKey), all(src.all, "imported"))
	exportCLI(t, pg, "--out", file2)
	js2 := jetstreamLog(t)
	wantOutcomes(t, importCLI(t, js2, 0, "--in", file2, "--public-key", src.pubKey), all(src.all, "imported"))
	exportCLI(t, js2, "--out", file3)

	b1, b2, b3 := body(t, file1), body(t, file2), body(t, file3)
	if !bytes.Equal(b1, b2) || !bytes.Equal(b1, b3) {
		t.Fatalf("exports differ:\njetstream:\n%s\npostgres:\n%s\njetstream again:\n%s", b1, b2, b3)
	}
	if h, _ := readExport(t, file2); !strings.HasPrefix(h.Source, "postgres:export_") {
		t.Fatalf("postgres export's source %q", h.Source)
	}

	// The stores hold what the source held, to the byte, seals included.
	s := src.open(t)
	want := map[uuid.UUID][2]any{}
	for _, id := range src.all {
		evs, seals := storedGame(t, s, id)
		want[id] = [2]any{evs, seals}
	}
	s.Close()
	for _, b := range []logBackend{pg, js2} {
		s := b.open(t)
		for _, id := range src.all {
			evs, seals := storedGame(t, s, id)
			w := want[id]
			if !sameEvents(evs, w[0].([]eventstore.Event)) || !sameSeals(seals, w[1].([]eventstore.Seal)) {
				t.Fatalf("%s: game %s differs from the source", b.name, id)
			}
		}
		s.Close()
		auditCLI(t, b, src, src.all)
	}

	// Again: everything is there already.
	for _, b := range []logBackend{pg, js2} {
		out := importCLI(t, b, 0, "--in", file1, "--public-key", src.pubKey)
		wantOutcomes(t, out, all(src.all, "skipped"))
		if !strings.Contains(out, "3 games: 0 imported, 3 skipped, 0 refused, 0 failed; 0 events and 0 seals written") {
			t.Fatalf("summary:\n%s", out)
		}
	}

	// gzip: the same games, transparently.
	gzFile := filepath.Join(files, "pg.jsonl.gz")
	exportCLI(t, pg, "--out", gzFile, "--gzip")
	if b, _ := os.ReadFile(gzFile); len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatal("--gzip wrote no gzip")
	}
	if _, gs := readExport(t, gzFile); !slices.Equal(gameIDsOf(gs), src.all) {
		t.Fatalf("gzipped export holds %v", gameIDsOf(gs))
	}
	wantOutcomes(t, importCLI(t, js2, 0, "--in", gzFile), all(src.all, "skipped"))

	t.Run("conflict/postgres", func(t *testing.T) { testImportConflict(t, src, file1, postgresLog(t, cluster.URL)) })
	t.Run("resume/postgres", func(t *testing.T) { testImportResumes(t, src, file1, postgresLog(t, cluster.URL)) })
}

func sameEvents(a, b []eventstore.Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.GameID != y.GameID || x.Seq != y.Seq || x.Type != y.Type || x.SchemaVersion != y.SchemaVersion || x.Actor != y.Actor ||
			x.MessageID != y.MessageID || !bytes.Equal(x.Data, y.Data) || !x.RecordedAt.Equal(y.RecordedAt) || x.PrevHash != y.PrevHash || x.Hash != y.Hash {
			return false
		}
	}
	return true
}

func sameSeals(a, b []eventstore.Seal) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.GameID != y.GameID || x.Seq != y.Seq || x.Hash != y.Hash || x.Kind != y.Kind || x.KeyID != y.KeyID ||
			!bytes.Equal(x.Signature, y.Signature) || !x.SealedAt.Equal(y.SealedAt) {
			return false
		}
	}
	return true
}

func TestImportConflictJetStream(t *testing.T) {
	src := sourceLog(t)
	file := filepath.Join(t.TempDir(), "x.jsonl")
	exportCLI(t, src.logBackend, "--out", file)
	testImportConflict(t, src, file, jetstreamLog(t))
}

func TestImportResumesJetStream(t *testing.T) {
	src := sourceLog(t)
	file := filepath.Join(t.TempDir(), "x.jsonl")
	exportCLI(t, src.logBackend, "--out", file)
	testImportResumes(t, src, file, jetstreamLog(t))
}

// testImportConflict: a store that holds other events under one of the
// file's game ids refuses that game, names it, exits 1, leaves it as it
// was, and imports the others.
func testImportConflict(t *testing.T, src source, file string, dst logBackend) {
	victim := src.finished[1]
	s := dst.open(t)
	theirs, err := s.Append(context.Background(), victim, 0, eventstore.Pending{Type: "game_created", SchemaVersion: 1, Actor: "system", Data: json.RawMessage(`{"other":true}`)})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	for range 2 { // and again: the others are skipped, the victim still refused
		out := importCLI(t, dst, 1, "--in", file)
		if !strings.Contains(out, "game "+victim.String()+": REFUSED: the store holds other events for this game") {
			t.Fatalf("no refusal naming %s:\n%s", victim, out)
		}
		if !strings.Contains(out, "1 refused") {
			t.Fatalf("summary:\n%s", out)
		}
	}
	s = dst.open(t)
	defer s.Close()
	evs, seals := storedGame(t, s, victim)
	if !sameEvents(evs, theirs.Events) || len(seals) != 0 {
		t.Fatalf("the refused game changed: %d events, %d seals", len(evs), len(seals))
	}
	for _, id := range src.all {
		if id == victim {
			continue
		}
		if _, seals := storedGame(t, s, id); len(seals) == 0 {
			t.Fatalf("game %s imported without its seals", id)
		}
	}
}

// testImportResumes: an import cut short (a game stored up to an append,
// seals not yet) is finished by running it again.
func testImportResumes(t *testing.T, src source, file string, dst logBackend) {
	_, gs := readExport(t, file)
	cut := gs[0]
	// The end of the second append: an import stores appends whole.
	k, appends := 0, 0
	for k = 1; k < len(cut.Events); k++ {
		a, b := cut.Events[k-1], cut.Events[k]
		if a.MessageID != b.MessageID || !a.RecordedAt.Equal(b.RecordedAt) {
			if appends++; appends == 2 {
				break
			}
		}
	}
	if k >= len(cut.Events) {
		t.Fatalf("game %s: fewer than three appends", cut.ID)
	}
	s := dst.open(t)
	res, err := s.Import(context.Background(), cut.Events[:k])
	if err != nil || res.Written != k {
		t.Fatalf("import of a prefix: %+v, %v", res, err)
	}
	s.Close()
	out := importCLI(t, dst, 0, "--in", file, "--public-key", src.pubKey)
	wantOutcomes(t, out, all(src.all, "imported"))
	if want := fmt.Sprintf("game %s: imported: %s (the last %d of %d: resumed)", cut.ID, plural(len(cut.Events)-k, "event"), len(cut.Events)-k, len(cut.Events)); !strings.Contains(out, want) {
		t.Fatalf("want %q in\n%s", want, out)
	}
	wantOutcomes(t, importCLI(t, dst, 0, "--in", file), all(src.all, "skipped"))
	s = dst.open(t)
	defer s.Close()
	evs, seals := storedGame(t, s, cut.ID)
	if !sameEvents(evs, cut.Events) || !sameSeals(seals, cut.Seals) {
		t.Fatalf("resumed game %s differs", cut.ID)
	}
}

// TestImportRefusesWhatDoesNotVerify: a tampered event, a seal under a
// key other than --public-key's, a cut file: refused before anything of
// the game is written.
func TestImportRefusesWhatDoesNotVerify(t *testing.T) {
	src := sourceLog(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "x.jsonl")
	exportCLI(t, src.logBackend, "--out", file)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")

	// A move changed in the active game: the chain breaks.
	tamperedFile := filepath.Join(dir, "tampered.jsonl")
	tampered := slices.Clone(lines)
	n := 0
	for i, l := range tampered {
		if strings.Contains(l, `"game_id":"`+src.active.String()+`"`) && strings.Contains(l, `"cell":4`) {
			tampered[i] = strings.Replace(l, `"cell":4`, `"cell":8`, 1)
			n++
		}
	}
	if n == 0 {
		t.Fatal("nothing to tamper with")
	}
	os.WriteFile(tamperedFile, []byte(strings.Join(tampered, "")), 0o644)
	dst := jetstreamLog(t)
	out := importCLI(t, dst, 1, "--in", tamperedFile)
	want := all(src.finished, "imported")
	want[src.active] = "REFUSED"
	wantOutcomes(t, out, want)
	if !strings.Contains(out, "chain broken") {
		t.Fatalf("no reason:\n%s", out)
	}
	s := dst.open(t)
	if _, err := s.Head(context.Background(), src.active); !errors.Is(err, eventstore.ErrGameNotFound) {
		t.Fatalf("the tampered game was written: %v", err)
	}
	s.Close()

	// Seals signed by another key.
	otherKey := filepath.Join(dir, "other.pub")
	pub, _, _ := ed25519.GenerateKey(nil)
	seal.WritePublicKey(otherKey, pub)
	dst = jetstreamLog(t)
	out = importCLI(t, dst, 1, "--in", file, "--public-key", otherKey)
	wantOutcomes(t, out, all(src.all, "REFUSED"))
	if !strings.Contains(out, "unknown key id") {
		t.Fatalf("no reason:\n%s", out)
	}

	// A file cut inside its last game: the games before it are imported,
	// and the import fails, saying the file is truncated.
	cutFile := filepath.Join(dir, "cut.jsonl")
	os.WriteFile(cutFile, []byte(strings.Join(lines[:len(lines)-4], "")), 0o644)
	dst = jetstreamLog(t)
	code, stdout, stderr := runCLI(t, nil, append(append([]string{"import"}, dst.args...), "--in", cutFile)...)
	if code != 1 || !strings.Contains(stderr, "truncated") {
		t.Fatalf("cut file: exit %d\n%s%s", code, stdout, stderr)
	}
	wantOutcomes(t, stdout, all(src.all[:2], "imported"))

	// Not an export at all.
	code, _, stderr = runCLI(t, nil, append(append([]string{"import"}, dst.args...), "--in", otherKey)...)
	if code != 1 || !strings.Contains(stderr, "not a playlog export") {
		t.Fatalf("a key as an export: exit %d %s", code, stderr)
	}
}

func TestExportFilters(t *testing.T) {
	src := sourceLog(t)
	dir := t.TempDir()
	n := 0
	exported := func(args ...string) []uuid.UUID {
		t.Helper()
		n++
		file := filepath.Join(dir, fmt.Sprintf("%d.jsonl", n))
		exportCLI(t, src.logBackend, append([]string{"--out", file}, args...)...)
		_, gs := readExport(t, file)
		return gameIDsOf(gs)
	}
	f0, f1, a := src.finished[0], src.finished[1], src.active
	for _, c := range []struct {
		args []string
		want []uuid.UUID
	}{
		{nil, src.all},
		{[]string{"--game", a.String()}, []uuid.UUID{a}},
		{[]string{"--game", a.String() + "," + f0.String()}, []uuid.UUID{a, f0}},
		{[]string{"--game", f1.String(), "--game", a.String(), "--game", f1.String()}, []uuid.UUID{f1, a}},
		{[]string{"--ended"}, src.finished},
		{[]string{"--ended", "--game", a.String() + "," + f1.String()}, []uuid.UUID{f1}},
		{[]string{"--since", time.Now().Add(time.Hour).Format(time.RFC3339)}, nil},
		{[]string{"--until", time.Now().Add(time.Hour).Format(time.RFC3339), "--ended"}, src.finished},
		{[]string{"--until", time.Now().Add(-time.Hour).Format(time.RFC3339)}, nil},
	} {
		if got := exported(c.args...); !slices.Equal(got, c.want) {
			t.Errorf("%q: exported %v, want %v", c.args, got, c.want)
		}
	}

	// To stdout: the export, and its summary on stderr.
	code, stdout, stderr := runCLI(t, nil, append(append([]string{"export"}, src.args...), "--game", a.String(), "--quiet")...)
	if code != 0 || !strings.Contains(stderr, "exported 1 games, ") || strings.Contains(stderr, "exporting") {
		t.Fatalf("to stdout: exit %d, stderr %q", code, stderr)
	}
	r, err := export.NewReader(strings.NewReader(stdout))
	if err != nil {
		t.Fatal(err)
	}
	if g, err := r.Next(); err != nil || g.ID != a {
		t.Fatalf("stdout export: %v %v", g.ID, err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatal(err)
	}

	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--game", uuid.NewString(), "--out", filepath.Join(dir, "none.jsonl")}, 1, "not found"},
		{[]string{"--game", "nope"}, 2, "not a game id"},
		{[]string{"--since", "yesterday"}, 2, "--since must be an RFC 3339 time"},
	} {
		code, _, stderr := runCLI(t, nil, append(append([]string{"export"}, src.args...), c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q", c.args, code, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "none.jsonl")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a failed export left its file: %v", err)
	}
	if code, _, _ := runCLI(t, nil, "export", "--out", "x"); code != 2 {
		t.Fatalf("export without a store: exit %d", code)
	}
}
