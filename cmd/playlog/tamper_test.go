package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/eventstore/postgres"
	"github.com/playlog/playlog/internal/testkit/pgtest"
	"github.com/playlog/playlog/internal/testkit/tamper"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/replay"
	"github.com/playlog/playlog/seal"
)

// The tamper tests prove the audit's tamper evidence on both backends'
// real storage: games are played and sealed as playlogd plays and seals
// them, then rewritten behind the store's back (package tamper: rows
// edited in PostgreSQL, messages purged and published anew in JetStream),
// one game per case, and `playlog audit --json --public-key` over the
// whole store must find every tampered game and nothing in the untouched
// ones. Each test logs its figures: per case, how many games, how many the
// audit must find, how many it found, and how many are undetectable by
// design (asserted not found).
//
// Three kinds of game, tictactoe, sealed with seal.Policy{Every: 4}:
//
//   - ended: 5 moves, 13 events, checkpoints at 5 and 9, the final seal
//     at 13; recorded two hours ago.
//   - old running: 4 moves, 9 events, checkpoints at 5 and 9 (its head);
//     recorded two hours ago.
//   - running: 3 moves, 7 events, a checkpoint at 5; seqs 6 and 7 not
//     sealed yet (the Interval checkpoint, an hour away, is not due);
//     recorded now.
//
// The audit runs with --unsealed-after 1h: a running game whose newest
// event is two hours old must be sealed through its head.
//
// What is undetectable by design, and asserted so: in a running game,
// whatever lies after its last checkpoint and is recent. Nothing signed
// covers it: a tail cut there, or rewritten with its chain recomputed (or
// a forged event appended, linked as an append would be), is a log that
// simply has not been sealed yet. The checkpoint policy (Every, Interval)
// bounds it; --unsealed-after reports it once it is old (the old running
// games show that). With a running game's checkpoints deleted as well,
// all of a recent game is such a tail. And a game removed whole, seals
// and all, leaves nothing in the store to find (an export or an archive
// elsewhere is what would show it).
//
// Then rechecks: the same tampered games must be found by an audit with a
// selection (--rules), and when the log ends with a seal or with a
// tampered message (the end of the feed is found from the log's last
// message).

const tamperSeedSecret = "0123456789abcdef0123456789abcdef"

var tamperKey = ed25519.NewKeyFromSeed([]byte("playlog tamper test seal key 32b"))

// tamperBackend is one store's storage under test.
type tamperBackend struct {
	name string
	// open opens a store on the backend's data, stamping events with now.
	open func(t *testing.T, now func() time.Time) eventstore.Store
	// tool is the tamper tool for the storage of s (a store open on it).
	tool func(s eventstore.Store) tamper.Tool
	// flags name the data for playlog audit.
	flags []string
	// disorder: the storage can hold a log whose seqs do not increase
	// (JetStream's messages can; PostgreSQL's rows are read by seq).
	disorder bool
}

func TestTamperJetStream(t *testing.T) {
	t.Parallel() // with the package's other long tests: each waits on its own servers
	dir := t.TempDir()
	runTamper(t, tamperBackend{
		name: "jetstream",
		open: func(t *testing.T, now func() time.Time) eventstore.Store {
			s, err := jetstream.Open(context.Background(), jetstream.Config{Dir: dir, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		tool: func(s eventstore.Store) tamper.Tool {
			js := s.(*jetstream.Store)
			return tamper.JetStream(js.Conn(), js.StreamName(), "playlog.game")
		},
		flags:    []string{"--data", dir},
		disorder: true,
	})
}

func TestTamperPostgres(t *testing.T) {
	t.Parallel() // with the package's other long tests: each waits on its own servers
	cluster, err := pgtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Stop)
	schema := pgtest.NewSchema("tamper")
	runTamper(t, tamperBackend{
		name: "postgres",
		open: func(t *testing.T, now func() time.Time) eventstore.Store {
			s, err := postgres.Open(context.Background(), postgres.Config{URL: cluster.URL, Schema: schema, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		tool:  func(s eventstore.Store) tamper.Tool { return tamper.Postgres(s.(*postgres.Store).Pool()) },
		flags: []string{"--database-url", cluster.URL, "--database-schema", schema},
	})
}

// A game kind: how it is played and when.
type tamperKind struct {
	name  string
	moves []int         // tictactoe cells, alternately alice's and bob's
	age   time.Duration // how long ago its events are recorded
	// recentTail: the part of the game after its last checkpoint is
	// recent, hence undetectable by design when rewritten soundly.
	recentTail bool
}

var tamperKinds = []tamperKind{
	{name: "ended", moves: []int{0, 3, 1, 4, 2}, age: 2 * time.Hour},
	{name: "old running", moves: []int{0, 3, 1, 4}, age: 2 * time.Hour},
	{name: "running", moves: []int{0, 3, 1}, recentTail: true},
}

// controlsPerKind untouched games of each kind must pass the audit; the
// first of them also lends its events to the "replaced" cases.
const controlsPerKind = 2

// tamperCase is one tampered game.
type tamperCase struct {
	kind, what string
	game       uuid.UUID
	events     []eventstore.Event // the log stored in its place
	dropSeals  bool               // its seals deleted too
	// found: the audit must find it. Otherwise it is undetectable by
	// design, and the test asserts that the audit does not find it
	// (a finding there would mean the model of what is proved is wrong).
	found bool
}

// tamperSpec makes a case's log from the game's own (o) and, for a game
// replaced whole, another game's (other).
type tamperSpec struct {
	what      string
	dropSeals bool
	disorder  bool // needs a storage that keeps seqs out of order
	make      func(o, other []eventstore.Event) []eventstore.Event
}

// tamperSpecs are the cases for a game of n events.
func tamperSpecs(n int) []tamperSpec {
	var out []tamperSpec
	add := func(what string, drop, disorder bool, make func(o, other []eventstore.Event) []eventstore.Event) {
		out = append(out, tamperSpec{what: what, dropSeals: drop, disorder: disorder, make: make})
	}
	type E = []eventstore.Event
	copyFor := func(o E, i int) eventstore.Event { return o[max(i-1, 0)] }
	for _, drop := range []bool{false, true} {
		// With the seals kept, every single-event change, with its chain
		// recomputed or not. With them deleted, the rechained ones (the
		// others break the chain, which needs no seal to be found).
		sfx := ""
		if drop {
			sfx = ", seals deleted"
		}
		for i := range n {
			if !drop {
				add("edit", false, false, func(o, _ E) E { return tamper.Edit(o, i) })
			}
			add("edit, rechained"+sfx, drop, false, func(o, _ E) E { return tamper.Rechain(tamper.Edit(o, i)) })
		}
		for i := range n {
			if !drop {
				add("delete (seq gap)", false, false, func(o, _ E) E { return tamper.Delete(o, i) })
				add("delete, renumbered", false, false, func(o, _ E) E { return tamper.Renumber(tamper.Delete(o, i)) })
			}
			add("delete, rechained"+sfx, drop, false, func(o, _ E) E { return tamper.Rechain(tamper.Delete(o, i)) })
		}
		for i := range n - 1 {
			if !drop {
				add("swap (seqs out of order)", false, true, func(o, _ E) E { return tamper.Swap(o, i) })
				add("swap, renumbered", false, false, func(o, _ E) E { return tamper.Renumber(tamper.Swap(o, i)) })
			}
			add("swap, rechained"+sfx, drop, false, func(o, _ E) E { return tamper.Rechain(tamper.Swap(o, i)) })
		}
		for i := range n + 1 { // before each event, and after the last
			if !drop {
				add("insert copy (seq repeated)", false, true, func(o, _ E) E { return tamper.Insert(o, i, copyFor(o, i)) })
				add("insert copy, renumbered", false, false, func(o, _ E) E { return tamper.Renumber(tamper.Insert(o, i, copyFor(o, i))) })
				add("insert forged", false, false, func(o, _ E) E { return tamper.Renumber(tamper.Insert(o, i, tamper.Forge(o, i))) })
			}
			add("insert copy, rechained"+sfx, drop, false, func(o, _ E) E { return tamper.Rechain(tamper.Insert(o, i, copyFor(o, i))) })
			add("insert forged, rechained"+sfx, drop, false, func(o, _ E) E { return tamper.Rechain(tamper.Insert(o, i, tamper.Forge(o, i))) })
		}
		for keep := 1; keep < n; keep++ {
			// A prefix's chain is intact: rechaining it changes nothing.
			add("truncate"+sfx, drop, false, func(o, _ E) E { return tamper.Truncate(o, keep) })
			if !drop {
				add("truncate, rechained", false, false, func(o, _ E) E { return tamper.Rechain(tamper.Truncate(o, keep)) })
			}
		}
		add("replaced by another game, rechained"+sfx, drop, false, func(o, other E) E {
			return tamper.Rechain(tamper.Reassign(other, o[0].GameID))
		})
		add("removed whole"+sfx, drop, false, func(E, E) E { return nil })
	}
	return out
}

// expect says whether the audit must find a case, from what the seals
// prove (docs/lifecycle.md), not from how the audit works: the final
// seal covers all of an ended game; the checkpoints cover a running game
// up to the last of them; --unsealed-after covers an old game's unsealed
// tail. What is left is a recent running game's tail after its last
// checkpoint (or all of it, its checkpoints deleted), rewritten into a
// sound chain that begins with the game's creation and does not end it.
func expect(k tamperKind, o, tampered []eventstore.Event, seals []eventstore.Seal, dropSeals bool) bool {
	if len(tampered) == 0 {
		// Removed whole: the seals left behind prove the game was there;
		// removed with them, nothing is left to find.
		return !dropSeals
	}
	// The audit opens a game's rules from its first event, whatever the
	// seals: a log must begin with its game_created to pass.
	if !k.recentTail || !soundChain(tampered) || tampered[0].Type != engine.TypeGameCreated ||
		tampered[len(tampered)-1].Type == engine.TypeSeedRevealed {
		return true
	}
	if dropSeals {
		return false
	}
	var covered uint64
	for _, s := range seals {
		covered = max(covered, s.Seq)
	}
	if covered > 0 && (uint64(len(tampered)) < covered || tampered[covered-1].Hash != o[covered-1].Hash) {
		return true
	}
	return false
}

// soundChain: seqs 1, 2, ... and every hash linked and right.
func soundChain(events []eventstore.Event) bool {
	for i, e := range events {
		if e.Seq != uint64(i+1) {
			return false
		}
	}
	return eventstore.VerifyChain(eventstore.Hash{}, events) == nil
}

func runTamper(t *testing.T, b tamperBackend) {
	start := time.Now()
	ctx := context.Background()
	var offset atomic.Int64 // the stores' clock, from now
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	pubFile := filepath.Join(t.TempDir(), "seal.pub")
	if err := os.WriteFile(pubFile, []byte(hex.EncodeToString(tamperKey.Public().(ed25519.PublicKey))+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	auditArgs := append(append([]string{"audit"}, b.flags...), "--json", "--public-key", pubFile, "--unsealed-after", "1h")

	// How many games each kind needs: one per case, and the controls.
	// Every game of a kind is the same moves, so the same length.
	lengths := map[string]int{}
	for _, k := range tamperKinds {
		lengths[k.name] = 1 + 2*len(k.moves)
		if len(k.moves) == 5 {
			lengths[k.name] += 2 // game_ended, seed_revealed
		}
	}
	need := map[string]int{}
	for _, k := range tamperKinds {
		for _, sp := range tamperSpecs(lengths[k.name]) {
			if !sp.disorder || b.disorder {
				need[k.name]++
			}
		}
		need[k.name] += controlsPerKind
	}

	// Play and seal them.
	s := b.open(t, now)
	sealer := seal.NewSealer(seal.NewSigner(tamperKey), s.(eventstore.Sealed), seal.Policy{Every: 4, Interval: time.Hour}, nil, nil)
	svc, err := play.New(play.Config{Store: s, Registry: games.Standard(), SeedSecret: []byte(tamperSeedSecret), Sealer: sealer})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string][]uuid.UUID{}
	for _, k := range tamperKinds {
		offset.Store(int64(-k.age))
		ids[k.name] = playTamperGames(t, svc, k.moves, need[k.name])
	}
	offset.Store(0)
	// The log ends with an event (a game created last, too new to seal),
	// not a seal: see the rechecks at the end of this test.
	fresh := createGame(t, svc)
	if n := sealer.Failed(); n != 0 {
		t.Fatalf("%d seals failed to store", n)
	}
	s.Close()
	played := 1
	for _, v := range ids {
		played += len(v)
	}
	t.Logf("%s: played and sealed %d games in %s", b.name, played, time.Since(start).Round(time.Millisecond))

	// Untouched, the store passes.
	code, report, out := auditJSON(t, auditArgs)
	if code != 0 {
		t.Fatalf("audit of the untouched store: exit %d, want 0\n%s", code, out)
	}
	if len(report) != played {
		t.Fatalf("audit of the untouched store reported %d games, %d played", len(report), played)
	}
	for id, fs := range report {
		if len(fs) > 0 {
			t.Fatalf("untouched game %s: findings %v", id, fs)
		}
	}

	// Read the games and make the cases.
	s = b.open(t, now)
	orig := map[uuid.UUID][]eventstore.Event{}
	seals := map[uuid.UUID][]eventstore.Seal{}
	for _, v := range ids {
		for _, id := range v {
			if orig[id], err = replay.ReadGame(ctx, s, id); err != nil {
				t.Fatal(err)
			}
			if seals[id], err = s.Seals(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
	}
	var cases []tamperCase
	var controls []uuid.UUID
	for _, k := range tamperKinds {
		v := ids[k.name]
		first := v[0]
		var sealSeqs []string
		for _, sl := range seals[first] {
			sealSeqs = append(sealSeqs, fmt.Sprintf("%s %d", sl.Kind, sl.Seq))
		}
		t.Logf("%s game: %d events, seals: %s", k.name, len(orig[first]), strings.Join(sealSeqs, ", "))
		for _, id := range v {
			if len(orig[id]) != lengths[k.name] || len(seals[id]) != len(seals[first]) {
				t.Fatalf("%s game %s: %d events and %d seals, unlike the others", k.name, id, len(orig[id]), len(seals[id]))
			}
		}
		controls = append(controls, v[:controlsPerKind]...)
		other := orig[v[0]]
		next := controlsPerKind
		for _, sp := range tamperSpecs(lengths[k.name]) {
			if sp.disorder && !b.disorder {
				continue
			}
			id := v[next]
			next++
			c := tamperCase{kind: k.name, what: sp.what, game: id, events: sp.make(orig[id], other), dropSeals: sp.dropSeals}
			c.found = expect(k, orig[id], c.events, seals[id], sp.dropSeals)
			cases = append(cases, c)
		}
	}

	// Tamper.
	tampering := time.Now()
	tool := b.tool(s)
	for _, c := range cases {
		if err := tool.Replace(ctx, c.game, c.events); err != nil {
			t.Fatalf("%s, %s: %v", c.kind, c.what, err)
		}
		if c.dropSeals {
			if err := tool.ReplaceSeals(ctx, c.game, nil); err != nil {
				t.Fatalf("%s, %s: %v", c.kind, c.what, err)
			}
		}
	}
	if err := tool.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
	t.Logf("%s: tampered with %d games in %s", b.name, len(cases), time.Since(tampering).Round(time.Millisecond))

	// A newly opened store serves exactly the tampered logs. A last
	// honest game is created, so that the log does not end with a
	// tampered message: JetStream's end of the feed (jsproj.FeedEnd) is
	// found by reading the last message's game, which fails for some
	// tampered logs and would fail the whole audit (it would exit 1, with
	// no report of any game: see the report).
	s = b.open(t, now)
	for _, c := range cases {
		checkTampered(t, ctx, s, c, seals[c.game], b.disorder)
	}
	svc, err = play.New(play.Config{Store: s, Registry: games.Standard(), SeedSecret: []byte(tamperSeedSecret)})
	if err != nil {
		t.Fatal(err)
	}
	controls = append(controls, fresh, createGame(t, svc))
	s.Close()

	// The audit finds every tampered game, and nothing in the others.
	auditing := time.Now()
	code, report, out = auditJSON(t, auditArgs)
	t.Logf("%s: audited the tampered store in %s", b.name, time.Since(auditing).Round(time.Millisecond))
	if code != 1 {
		t.Errorf("audit of the tampered store: exit %d, want 1", code)
	}
	for _, id := range controls {
		fs, ok := report[id]
		switch {
		case !ok:
			t.Errorf("untouched game %s: not audited", id)
		case len(fs) > 0:
			t.Errorf("untouched game %s: findings %v", id, fs)
		}
	}
	type row struct {
		kind, what                   string
		cases, must, found, undetect int
	}
	rows := map[[2]string]*row{}
	foundFirst := map[uuid.UUID]bool{} // the tampered games found
	var order [][2]string
	for _, c := range cases {
		key := [2]string{c.kind, c.what}
		r := rows[key]
		if r == nil {
			r = &row{kind: c.kind, what: c.what}
			rows[key] = r
			order = append(order, key)
		}
		fs := report[c.game]
		got := len(fs) > 0
		if got {
			foundFirst[c.game] = true
		}
		r.cases++
		switch {
		case c.found && got:
			r.must++
			r.found++
		case c.found:
			r.must++
			t.Errorf("%s, %s: game %s NOT FOUND by the audit (%d events stored, seals deleted: %v)", c.kind, c.what, c.game, len(c.events), c.dropSeals)
		case got:
			t.Errorf("%s, %s: game %s found, though nothing signed covers what changed: %v", c.kind, c.what, c.game, fs)
		default:
			r.undetect++
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i][0] < order[j][0] })
	var tab strings.Builder
	fmt.Fprintf(&tab, "%s: tamper evidence, %d tampered games, %d untouched\n", b.name, len(cases), len(controls))
	fmt.Fprintf(&tab, "%-12s %-52s %6s %6s %6s %6s\n", "game", "case", "cases", "must", "found", "design")
	var total row
	for _, key := range order {
		r := rows[key]
		fmt.Fprintf(&tab, "%-12s %-52s %6d %6d %6d %6d\n", r.kind, r.what, r.cases, r.must, r.found, r.undetect)
		total.cases += r.cases
		total.must += r.must
		total.found += r.found
		total.undetect += r.undetect
	}
	fmt.Fprintf(&tab, "%-12s %-52s %6d %6d %6d %6d\n", "all", "", total.cases, total.must, total.found, total.undetect)
	fmt.Fprintf(&tab, "(must: the audit must find it; found: it did; design: undetectable by design, and not found)\n")
	t.Log("\n" + tab.String())
	t.Logf("%s: %d of %d detectable cases found (%.1f%%)", b.name, total.found, total.must,
		100*float64(total.found)/float64(max(total.must, 1)))

	// Rechecks: the audit finds the same tampered games (foundFirst) when
	// the log is made to end otherwise, or a selection takes them all.
	// must picks, of those, the ones this audit must find.
	recheck := func(name string, args []string, must func(c tamperCase) bool) {
		t.Helper()
		code, report, out := auditJSON(t, args)
		audited, found, want := 0, 0, 0
		var missed []string
		for _, c := range cases {
			if _, ok := report[c.game]; ok {
				audited++
			}
			if !foundFirst[c.game] || !must(c) {
				continue
			}
			want++
			if len(report[c.game]) > 0 {
				found++
			} else if len(missed) < 5 {
				missed = append(missed, c.kind+", "+c.what)
			}
		}
		t.Logf("%s, %s: exit %d, %d games audited (%d of %d tampered ones), %d of %d tampered games found",
			b.name, name, code, len(report), audited, len(cases), found, want)
		if code != 1 || found != want {
			t.Errorf("%s: exit %d, %d of %d tampered games found (missed: %s)\n%.2000s", name, code, found, want, strings.Join(missed, "; "), out)
		}
	}
	if testing.Short() {
		// The race detector's pass: the three audits below run the same
		// code again, at about 12 s each under it.
		t.Logf("%s: -short: the rechecks (--rules, the log ending with a seal or a tampered message) run in the full pass", b.name)
		return
	}
	all := func(tamperCase) bool { return true }
	retamper := func(fn func(tool tamper.Tool)) {
		t.Helper()
		s := b.open(t, now)
		tool := b.tool(s)
		fn(tool)
		if err := tool.Close(ctx); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}

	// Every game here is tictactoe: --rules tictactoe takes them all
	// (those that lost their game_created included), but for those whose
	// game_created was altered: a selection reads what a game's first
	// event says (its rules, its time), which tampering can change too.
	// Tamper evidence is the whole audit's, not a selection's.
	recheck("--rules tictactoe", append(auditArgs[:len(auditArgs):len(auditArgs)], "--rules", "tictactoe"), func(c tamperCase) bool {
		o := orig[c.game][0]
		return !slices.ContainsFunc(c.events, func(e eventstore.Event) bool {
			return e.Seq == 1 && (e.Hash != o.Hash || !bytes.Equal(e.Data, o.Data))
		}) && (len(c.events) == 0 || c.events[0].Seq != 1 || c.events[0].Hash == o.Hash)
	})

	// The log ends with a seal message: an untouched game's seals, stored
	// again unchanged (as a copy of any seal would be). Nothing any audit
	// rule checks has changed. (The end of JetStream's feed used to be
	// the stream's last message: when a seal, the audit saw only the
	// games before its game's last event.)
	retamper(func(tool tamper.Tool) {
		if err := tool.ReplaceSeals(ctx, controls[0], seals[controls[0]]); err != nil {
			t.Fatal(err)
		}
	})
	recheck("the log ending with a seal", auditArgs, all)

	// The log ends with a tampered message: a game with a seq gap in its
	// middle, stored again.
	i := slices.IndexFunc(cases, func(c tamperCase) bool {
		return c.what == "delete (seq gap)" && c.events[0].Seq == 1 && c.events[len(c.events)-1].Seq != uint64(len(c.events))
	})
	retamper(func(tool tamper.Tool) {
		if err := tool.Replace(ctx, cases[i].game, cases[i].events); err != nil {
			t.Fatal(err)
		}
	})
	recheck("the log ending with a tampered message", auditArgs, all)
	t.Logf("%s: done in %s", b.name, time.Since(start).Round(time.Millisecond))
}

// createGame creates a tictactoe game and makes no move.
func createGame(t *testing.T, svc *play.Service) uuid.UUID {
	t.Helper()
	g, err := svc.Create(context.Background(), "tictactoe", []string{"alice", "bob"}, nil, "alice")
	if err != nil {
		t.Fatal(err)
	}
	return g.ID
}

// playTamperGames plays n tictactoe games of the given moves, a few at a
// time.
func playTamperGames(t *testing.T, svc *play.Service, moves []int, n int) []uuid.UUID {
	t.Helper()
	ctx := context.Background()
	ids := make([]uuid.UUID, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			g, err := svc.Create(ctx, "tictactoe", []string{"alice", "bob"}, nil, "alice")
			if err != nil {
				errs <- err
				return
			}
			ids[i] = g.ID
			for j, cell := range moves {
				who := []string{"alice", "bob"}[j%2]
				if _, err := svc.Execute(ctx, g.ID, who, json.RawMessage(`{"type":"place","cell":`+strconv.Itoa(cell)+`}`), ""); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return ids
}

// checkTampered reads a tampered game through a newly opened store: it
// holds exactly the tampered events (under the game's id) and the seals
// left to it.
func checkTampered(t *testing.T, ctx context.Context, s eventstore.Store, c tamperCase, seals []eventstore.Seal, disorder bool) {
	t.Helper()
	name := c.kind + ", " + c.what
	got, err := s.Read(ctx, c.game, 0, 0)
	switch {
	case len(c.events) == 0:
		if !errors.Is(err, eventstore.ErrGameNotFound) {
			t.Fatalf("%s: read of a removed game: %d events, %v", name, len(got), err)
		}
		return
	case disorder && c.events[0].Seq != 1:
		// JetStream's store serves a game from seq 1 only.
		if err == nil {
			t.Fatalf("%s: a log that does not begin at seq 1 was read", name)
		}
		return
	case err != nil:
		t.Fatalf("%s: read: %v", name, err)
	case len(got) != len(c.events):
		t.Fatalf("%s: read %d events, stored %d", name, len(got), len(c.events))
	}
	for i := range got {
		w, g := c.events[i], got[i]
		if g.GameID != c.game || g.Seq != w.Seq || g.Type != w.Type || g.SchemaVersion != w.SchemaVersion || g.Actor != w.Actor ||
			g.MessageID != w.MessageID || !bytes.Equal(g.Data, w.Data) || !g.RecordedAt.Equal(w.RecordedAt) ||
			g.PrevHash != w.PrevHash || g.Hash != w.Hash {
			t.Fatalf("%s: event %d read as\n%+v\nstored\n%+v", name, i, g, w)
		}
	}
	gotSeals, err := s.Seals(ctx, c.game)
	if err != nil {
		t.Fatalf("%s: seals: %v", name, err)
	}
	want := len(seals)
	if c.dropSeals {
		want = 0
	}
	if len(gotSeals) != want {
		t.Fatalf("%s: %d seals read, %d left", name, len(gotSeals), want)
	}
}

// auditJSON runs playlog audit and returns its exit code and each game's
// findings, from the --json report.
func auditJSON(t *testing.T, args []string) (int, map[uuid.UUID][]auditFinding, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, func(string) string { return "" }, &stdout, &stderr)
	report := map[uuid.UUID][]auditFinding{}
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if line == "" || strings.HasPrefix(line, `{"summary"`) {
			continue
		}
		var r gameAudit
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("audit --json line %q: %v", line, err)
		}
		if fs, dup := report[r.Game]; dup {
			// A log with two events at seq 1 is listed twice (see the
			// report: replay.Games lists a game at each seq 1 event).
			t.Logf("audit reported game %s twice (%d and %d findings)", r.Game, len(fs), len(r.Findings))
		}
		report[r.Game] = append(report[r.Game], r.Findings...)
	}
	return code, report, stdout.String() + stderr.String()
}
