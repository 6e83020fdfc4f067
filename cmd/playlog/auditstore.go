package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/replay"
	"github.com/playlog/playlog/seal"
)

// auditor checks games: what the audit was given to check them with.
type auditor struct {
	registry *engine.Registry
	verifier *seal.Verifier // nil: seals matched against the chain only
	seeds    []byte         // the server's seed secret, or nil
	// A running game whose newest event is older than unsealedAfter at
	// now must be sealed through its head (0: not checked).
	unsealedAfter time.Duration
	now           time.Time
}

// gameAudit is one game's audit, a line of the --json report.
type gameAudit struct {
	Game     uuid.UUID      `json:"game"`
	Rules    string         `json:"rules,omitempty"`
	Events   int            `json:"events"`
	Ended    bool           `json:"ended"`
	Decided  bool           `json:"decided"`        // every decision re-decided
	Sealed   uint64         `json:"sealed_through"` // last seq a sound seal covers
	Final    bool           `json:"final_seal"`     // the end carries a sound final seal
	Findings []auditFinding `json:"findings,omitempty"`
}

// auditFinding is one thing wrong: which check, at which seq.
type auditFinding struct {
	Check string `json:"check"` // chain, times, decisions, seal, read
	Seq   uint64 `json:"seq,omitempty"`
	What  string `json:"what"`
}

func (f auditFinding) String() string {
	if f.Seq == 0 {
		return f.Check + ": " + f.What
	}
	return fmt.Sprintf("%s at seq %d: %s", f.Check, f.Seq, f.What)
}

// audit checks one game's events and seals: dense seqs and the chain,
// command times against recorded times, the seed against its commitment
// and every decision re-decided (ended games; running ones too with the
// seed secret), and the seals.
func (a auditor) audit(id uuid.UUID, events []eventstore.Event, seals []eventstore.Seal) gameAudit {
	r := gameAudit{Game: id, Events: len(events)}
	add := func(check string, seq uint64, what string) {
		r.Findings = append(r.Findings, auditFinding{Check: check, Seq: seq, What: what})
	}
	if len(events) == 0 {
		add("read", 0, "the game has no events")
		return r
	}
	var prev eventstore.Hash
chain:
	for i, e := range events {
		switch {
		case e.GameID != id:
			add("chain", e.Seq, fmt.Sprintf("an event of game %s", e.GameID))
		case e.Seq != uint64(i+1):
			add("chain", uint64(i+1), fmt.Sprintf("seq %d stored where %d belongs", e.Seq, i+1))
		case e.PrevHash != prev:
			add("chain", e.Seq, "prev_hash is not the previous event's hash")
		case eventstore.ChainHash(prev, &e) != e.Hash:
			add("chain", e.Seq, "the hash does not match the event's contents")
		}
		if len(r.Findings) > 0 {
			break chain
		}
		prev = e.Hash
	}
	last := events[len(events)-1]
	r.Ended = last.Type == engine.TypeSeedRevealed
	if err := checkTimes(events); err != nil {
		add("times", 0, err.Error())
	}
	// A time the log cannot have yet: a forged tail dated ahead would
	// otherwise never grow old enough for --unsealed-after. "Now" is the
	// later of the audit's start and the clock: a long audit meets events
	// appended since it began.
	now := time.Now()
	if a.now.After(now) {
		now = a.now
	}
	for _, e := range events {
		if e.RecordedAt.After(now.Add(futureSkew)) {
			add("times", e.Seq, fmt.Sprintf("recorded at %s, later than the audit's clock (%s) by over %s",
				e.RecordedAt.Format(time.RFC3339Nano), now.Format(time.RFC3339), futureSkew))
			break
		}
	}
	ee := replay.EngineEvents(events)
	if g, err := a.registry.GameOf(ee[0]); err != nil {
		add("decisions", 1, err.Error())
	} else {
		r.Rules = g.Name()
		switch {
		case r.Ended:
			err = g.Verify(ee)
		case a.seeds != nil:
			err = g.VerifyWithSeed(ee, play.DeriveSeed(a.seeds, id))
		default:
			err = nil
		}
		if err != nil {
			add("decisions", 0, err.Error())
		}
		r.Decided = err == nil && (r.Ended || a.seeds != nil)
	}
	sr := seal.Check(events, seals, a.verifier, r.Ended)
	for _, f := range sr.Findings {
		add("seal", f.Seq, f.What)
	}
	r.Sealed, r.Final = sr.Covered, sr.Final
	if age := a.now.Sub(last.RecordedAt); !r.Ended && a.verifier != nil && a.unsealedAfter > 0 && r.Sealed < last.Seq && age > a.unsealedAfter {
		add("seal", r.Sealed+1, fmt.Sprintf("seqs %d to %d have waited %s unsealed, over --unsealed-after %s: the tail may have been cut, seals and all (or the node died before sealing it)",
			r.Sealed+1, last.Seq, age.Round(time.Second), a.unsealedAfter))
	}
	return r
}

// runAudit audits one game (--game) or a whole store.
func runAudit(args []string, env func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("playlog audit", flag.ContinueOnError)
	var parseOut bytes.Buffer
	fs.SetOutput(&parseOut)
	var sf storeFlags
	sf.register(fs, env)
	var keys publicKeys
	game := fs.String("game", "", "audit only this game (its id)")
	since := fs.String("since", "", "audit only games created at or after this time (RFC 3339)")
	rules := fs.String("rules", "", "audit only games of these rules (comma-separated, e.g. tictactoe,crazyeights)")
	fs.Var(&keys, "public-key", publicKeysUsage)
	seedFile := fs.String("seed-secret-file", "", "the server's seed secret: re-decide running games too, not only ended ones")
	asJSON := fs.Bool("json", false, "write a JSON report: one line per game, then a summary line")
	parallel := fs.Int("parallel", 2, "games audited at once")
	unsealedAfter := fs.Duration("unsealed-after", 10*time.Minute, "with --public-key: a running game whose newest event is older than this must be sealed through its head (playlogd seals idle games after -seal-interval); 0 to not check")
	quiet := fs.Bool("quiet", false, "no progress bar")
	maxRate := fs.Float64("max-events-per-second", 0, "read at most this many events per second (0: no limit), to spare a live store")
	if code, done := parseFlags(fs, args, &parseOut, stdout, stderr); done {
		return code
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "playlog audit: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected arguments %q", fs.Args())
	}
	verifier, err := keys.verifier()
	if err != nil {
		return usageErr("%v", err)
	}
	a := auditor{registry: games.Standard(), verifier: verifier, unsealedAfter: *unsealedAfter, now: time.Now()}
	if *seedFile != "" {
		b, err := os.ReadFile(*seedFile)
		if err != nil {
			return usageErr("%v", err)
		}
		a.seeds = []byte(strings.TrimRight(string(b), "\r\n"))
		if len(a.seeds) < play.MinSeedSecret {
			// No server runs with it (playlogd refuses it too): every
			// running game would be reported as tampered.
			return usageErr("the seed secret in %s is %d bytes; a server's is at least %d", *seedFile, len(a.seeds), play.MinSeedSecret)
		}
	}
	var sel selection
	if *since != "" {
		t, err := time.Parse(time.RFC3339Nano, *since)
		if err != nil {
			return usageErr("--since must be an RFC 3339 time: %v", err)
		}
		sel.since = t
	}
	if *rules != "" {
		sel.rules = map[string]bool{}
		for _, r := range strings.Split(*rules, ",") {
			if _, err := a.registry.Lookup(r); err != nil {
				return usageErr("--rules: %v", err)
			}
			sel.rules[r] = true
		}
	}
	var one uuid.UUID
	if *game != "" {
		id, err := uuid.Parse(*game)
		if err != nil {
			return usageErr("--game must be a game id (a UUID)")
		}
		one = id
	}
	if *parallel < 1 {
		return usageErr("--parallel must be at least 1")
	}
	if *maxRate < 0 {
		return usageErr("--max-events-per-second must be 0 (no limit) or more")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	store, err := sf.open(ctx, false)
	if err != nil {
		fmt.Fprintf(stderr, "playlog audit: %v\n", err)
		return storeFailed(err)
	}
	defer store.Close()
	if one != uuid.Nil {
		return auditOne(ctx, a, store, one, stdout)
	}
	progress := stderr
	if *quiet {
		progress = io.Discard
	}
	return auditStore(ctx, a, store, sel, *parallel, *maxRate, *asJSON, stdout, stderr, progress)
}

// auditOne audits one game and says what each check found, as sentences.
func auditOne(ctx context.Context, a auditor, store eventstore.Store, id uuid.UUID, stdout io.Writer) int {
	events, seals, err := readSealed(ctx, store, id)
	if err != nil {
		fmt.Fprintf(stdout, "game %s: %v\n", id, err)
		return 1
	}
	r := a.audit(id, events, seals)
	failed := map[string]bool{}
	for _, f := range r.Findings {
		failed[f.Check] = true
	}
	if failed["chain"] {
		fmt.Fprintf(stdout, "game %s: %d events: TAMPERED: %s\n", id, len(events), r.Findings[0])
		return 1
	}
	fmt.Fprintf(stdout, "game %s (%s): %d events, hash chain intact (head %s)\n", id, r.Rules, len(events), events[len(events)-1].Hash)
	for _, f := range r.Findings {
		switch f.Check {
		case "times", "seal":
			fmt.Fprintf(stdout, "TAMPERED: %s\n", f)
		case "decisions":
			fmt.Fprintf(stdout, "UNFAIR OR ILLEGAL: %s\n", f)
		}
	}
	switch {
	case failed["decisions"]:
	case r.Decided && r.Ended:
		fmt.Fprintln(stdout, "seed matches its commitment; every action re-decided to the byte: legal and fair")
	case r.Decided:
		fmt.Fprintln(stdout, "the game is not over; with the seed secret, every action so far re-decided to the byte: legal and fair")
	default:
		fmt.Fprintln(stdout, "the game is not over: its seed is not revealed yet, so fairness can be audited when it ends (or now, with --seed-secret-file)")
	}
	if !failed["seal"] {
		fmt.Fprintln(stdout, sealSentence(r, a.verifier != nil))
	}
	if len(r.Findings) > 0 {
		return 1
	}
	return 0
}

func sealSentence(r gameAudit, verified bool) string {
	how := "signatures verified"
	if !verified {
		how = "signatures NOT checked (give --public-key)"
	}
	switch {
	case r.Final:
		return fmt.Sprintf("final seal over seq %d: the log is whole and unaltered (%s)", r.Sealed, how)
	case r.Sealed > 0:
		return fmt.Sprintf("sealed through seq %d of %d by checkpoints (%s)", r.Sealed, r.Events, how)
	}
	return "no seal covers any event yet"
}

// selection is which games a whole-store audit takes.
type selection struct {
	since time.Time
	rules map[string]bool
}

func (s selection) takes(first eventstore.Event) bool {
	if !s.since.IsZero() && first.RecordedAt.Before(s.since) {
		return false
	}
	if s.rules == nil {
		return true
	}
	var c engine.GameCreated
	return json.Unmarshal(first.Data, &c) == nil && s.rules[c.Game]
}

// auditSummary is the last line of the --json report.
type auditSummary struct {
	Games         int     `json:"games"`
	Events        int64   `json:"events"`
	Ended         int     `json:"ended"`
	FinalSealed   int     `json:"final_sealed"`
	GamesWithFind int     `json:"games_with_findings"`
	Findings      int     `json:"findings"`
	Seconds       float64 `json:"seconds"`
	EventsPerSec  float64 `json:"events_per_second"`
	Verified      bool    `json:"signatures_verified"`
}

// auditStore audits every game the selection takes, parallel at a time,
// listing them from the feed, with a progress bar on stderr.
func auditStore(ctx context.Context, a auditor, store eventstore.Store, sel selection, parallel int, maxRate float64, asJSON bool, stdout, stderr, progress io.Writer) int {
	start := time.Now()
	pace := newPacer(maxRate, start)
	var ids []uuid.UUID
	// Listing reads the whole feed: it keeps to the pace too.
	if err := listGames(ctx, pacedFeed{store, pace}, func(first eventstore.Event) error {
		// A game whose log lost its seq 1 cannot say its rules or its
		// start: it is audited whatever the selection.
		if first.Seq != 1 || sel.takes(first) {
			ids = append(ids, first.GameID)
		}
		return nil
	}); err != nil {
		fmt.Fprintf(stderr, "playlog audit: %v\n", err)
		return 1
	}
	orphans, err := eventstore.Unwrap(store).SealedWithoutEvents(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "playlog audit: %v\n", err)
		return 1
	}
	if a := archiveOf(store); a != nil {
		// Removing a game from the hot store takes its events, then its
		// seals: a game archived in between is no orphan.
		orphans = slices.DeleteFunc(orphans, func(id uuid.UUID) bool {
			archived, err := a.Archived(ctx, id)
			return err == nil && archived
		})
	}
	bar := newBar(int64(len(ids)+len(orphans)), progress, "auditing", "games", false)
	work := make(chan uuid.UUID)
	results := make(chan gameAudit, parallel)
	var wg sync.WaitGroup
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				results <- a.read(ctx, store, id, pace)
			}
		}()
	}
	go func() {
		defer close(work)
		for _, id := range ids {
			select {
			case work <- id:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		defer close(results)
		for _, id := range orphans {
			results <- gameAudit{Game: id, Findings: []auditFinding{{Check: "read",
				What: "the store holds seals of this game but no events: its log was removed behind the store's back"}}}
		}
		wg.Wait()
	}()

	sum := auditSummary{Verified: a.verifier != nil}
	enc := json.NewEncoder(stdout)
	for r := range results {
		sum.Games++
		sum.Events += int64(r.Events)
		if r.Ended {
			sum.Ended++
		}
		if r.Final {
			sum.FinalSealed++
		}
		if len(r.Findings) > 0 {
			sum.GamesWithFind++
			sum.Findings += len(r.Findings)
		}
		switch {
		case asJSON:
			enc.Encode(r)
		case len(r.Findings) > 0:
			for _, f := range r.Findings {
				fmt.Fprintf(stdout, "game %s (%s, %d events): %s\n", r.Game, r.Rules, r.Events, f)
			}
		}
		bar.Add(1)
	}
	bar.Finish()
	took := time.Since(start)
	sum.Seconds = took.Seconds()
	if took > 0 {
		sum.EventsPerSec = float64(sum.Events) / took.Seconds()
	}
	if ctx.Err() != nil {
		fmt.Fprintf(stderr, "playlog audit: interrupted after %d of %d games\n", sum.Games, len(ids)+len(orphans))
		return 1
	}
	if asJSON {
		enc.Encode(map[string]auditSummary{"summary": sum})
	} else {
		how := "signatures verified"
		if !sum.Verified {
			how = "seal signatures NOT checked: give --public-key"
		}
		fmt.Fprintf(stdout, "audited %d games (%d ended, %d with a final seal), %d events in %s (%.0f events/s), %s: %d findings in %d games\n",
			sum.Games, sum.Ended, sum.FinalSealed, sum.Events, took.Round(time.Millisecond), sum.EventsPerSec, how, sum.Findings, sum.GamesWithFind)
	}
	if sum.Findings > 0 {
		return 1
	}
	return 0
}

// read reads a game and its seals, within the pace, and audits it.
func (a auditor) read(ctx context.Context, store eventstore.Store, id uuid.UUID, pace *pacer) gameAudit {
	events, seals, err := readSealed(ctx, store, id)
	if err != nil {
		return gameAudit{Game: id, Events: len(events), Findings: []auditFinding{{Check: "read", What: err.Error()}}}
	}
	pace.wait(ctx, len(events))
	return a.audit(id, events, seals)
}

// readSealed reads a game's events and its seals as one picture of a game
// that may be played on meanwhile. A seal is stored after the events it
// covers, so a seal past the events read means the game moved on between
// the reads: they are read again. So is an end whose final seal is not
// there yet, for a moment: the sealer stores it right after the end.
func readSealed(ctx context.Context, store eventstore.Store, id uuid.UUID) ([]eventstore.Event, []eventstore.Seal, error) {
	for round := 0; ; round++ {
		events, err := replay.ReadGame(ctx, store, id)
		if err != nil {
			return nil, nil, err
		}
		seals, err := store.Seals(ctx, id)
		if err != nil {
			return nil, nil, fmt.Errorf("seals: %w", err)
		}
		if round == readRounds-1 || len(events) == 0 || !movedOn(events, seals) {
			return events, seals, nil
		}
		select {
		case <-ctx.Done():
			return events, seals, nil
		case <-time.After(time.Duration(round+1) * 50 * time.Millisecond):
		}
	}
}

// readRounds bounds readSealed's reads of one game.
const readRounds = 4

// movedOn reports whether seals show the game further on than events: a
// seal past the last event, or an end just recorded whose final seal is
// yet to come.
func movedOn(events []eventstore.Event, seals []eventstore.Seal) bool {
	last := events[len(events)-1]
	final := false
	for _, s := range seals {
		if s.Seq > last.Seq {
			return true
		}
		final = final || s.Kind == eventstore.SealFinal
	}
	return last.Type == engine.TypeSeedRevealed && !final && time.Since(last.RecordedAt) < time.Minute
}

// pacer keeps reads at or under a rate: events read so far over the time
// since start.
type pacer struct {
	rate  float64
	start time.Time
	mu    sync.Mutex
	read  float64
}

func newPacer(rate float64, start time.Time) *pacer { return &pacer{rate: rate, start: start} }

func (p *pacer) wait(ctx context.Context, n int) {
	if p.rate <= 0 {
		return
	}
	p.mu.Lock()
	p.read += float64(n)
	due := p.start.Add(time.Duration(p.read / p.rate * float64(time.Second)))
	p.mu.Unlock()
	t := time.NewTimer(time.Until(due))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// pacedFeed is a store whose feed keeps to a pace: every feed event
// counts as a read.
type pacedFeed struct {
	eventstore.Store
	pace *pacer
}

func (p pacedFeed) Unwrap() eventstore.Store { return p.Store }

func (p pacedFeed) Feed(ctx context.Context, from eventstore.Position) (eventstore.Subscription, error) {
	sub, err := p.Store.Feed(ctx, from)
	if err != nil || p.pace.rate <= 0 {
		return sub, err
	}
	return &pacedSub{Subscription: sub, pace: p.pace}, nil
}

type pacedSub struct {
	eventstore.Subscription
	pace *pacer
	n    int // events since the last wait
}

func (s *pacedSub) Next(ctx context.Context) (eventstore.Event, error) {
	if s.n++; s.n == 100 {
		s.pace.wait(ctx, s.n)
		s.n = 0
	}
	return s.Subscription.Next(ctx)
}

// publicKeys is a repeatable --public-key flag: files of the Ed25519 keys
// that verify seals, several while keys rotate.
type publicKeys []string

const publicKeysUsage = "Ed25519 public key (PEM, or 32 bytes hex) that verifies seals; repeat it for keys being rotated. " +
	"Without it seals are only matched against the chain"

func (k *publicKeys) String() string { return strings.Join(*k, ",") }

func (k *publicKeys) Set(path string) error {
	*k = append(*k, path)
	return nil
}

// verifier loads the keys; nil (no error) when none was given.
func (k publicKeys) verifier() (*seal.Verifier, error) {
	if len(k) == 0 {
		return nil, nil
	}
	pubs := make([]ed25519.PublicKey, len(k))
	for i, path := range k {
		pub, err := seal.LoadPublicKey(path)
		if err != nil {
			return nil, err
		}
		pubs[i] = pub
	}
	return seal.NewVerifier(pubs...), nil
}
