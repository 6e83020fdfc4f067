package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/schollz/progressbar/v3"

	"github.com/playlog/playlog/archive"
	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/eventstore/postgres"
	"github.com/playlog/playlog/export"
)

const exportUsage = "Usage: playlog export (--data DIR | --nats-url URL | --database-url URL) [--out FILE] [--gzip] [--game ID,...] [--ended] [--since T] [--until T] [--quiet]"

const importUsage = "Usage: playlog import (--data DIR | --nats-url URL | --database-url URL) [--in FILE] [--public-key FILE] [--quiet]"

// gameIDs is a repeatable --game flag that also takes comma-separated lists.
type gameIDs []uuid.UUID

func (g *gameIDs) String() string {
	s := make([]string, len(*g))
	for i, id := range *g {
		s[i] = id.String()
	}
	return strings.Join(s, ",")
}

func (g *gameIDs) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		id, err := uuid.Parse(strings.TrimSpace(part))
		if err != nil {
			return fmt.Errorf("%q is not a game id (a UUID)", part)
		}
		*g = append(*g, id)
	}
	return nil
}

// source names where an export comes from, for its header: the backend
// and its stream or schema (never a URL, which may hold a password).
func (f *storeFlags) source(store eventstore.Store) string {
	switch s := eventstore.Unwrap(store).(type) {
	case *jetstream.Store:
		return "jetstream:" + s.StreamName()
	case *postgres.Store:
		return "postgres:" + f.schema
	}
	return fmt.Sprintf("%T", store)
}

func newBar(total int64, w io.Writer, desc, unit string, bytes bool) *progressbar.ProgressBar {
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200 * time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	}
	if bytes {
		opts = append(opts, progressbar.OptionShowBytes(true))
	} else {
		opts = append(opts, progressbar.OptionSetItsString(unit), progressbar.OptionShowCount(), progressbar.OptionShowIts())
	}
	return progressbar.NewOptions64(total, opts...)
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// exportFilter is which games an export takes.
type exportFilter struct {
	ended        bool
	since, until time.Time
}

// created reports whether a game whose first event is first was created in
// the --since/--until window.
func (f exportFilter) created(first eventstore.Event) bool {
	if !f.since.IsZero() && first.RecordedAt.Before(f.since) {
		return false
	}
	return f.until.IsZero() || first.RecordedAt.Before(f.until)
}

// runExport writes games of a store, whole, with their seals, in the
// format of package export: every game of the log as it stood when the
// export began (listed from the global feed, in feed order), or those
// given with --game, in that order; --ended, --since and --until narrow
// either.
func runExport(args []string, env func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("playlog export", flag.ContinueOnError)
	var parseOut bytes.Buffer
	fs.SetOutput(&parseOut)
	var sf storeFlags
	sf.register(fs, env)
	out := fs.String("out", "-", "file to write (- for stdout); written beside it, then renamed into place when complete")
	gz := fs.Bool("gzip", false, "gzip the output (import reads either)")
	var ids gameIDs
	fs.Var(&ids, "game", "export only this game; repeat it, or give a comma-separated list")
	ended := fs.Bool("ended", false, "only ended games (their last event is "+engine.TypeSeedRevealed+")")
	since := fs.String("since", "", "only games created (first event recorded) at or after this RFC 3339 time")
	until := fs.String("until", "", "only games created before this RFC 3339 time")
	quiet := fs.Bool("quiet", false, "no progress bar")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), exportUsage)
		fmt.Fprintln(fs.Output(), "\nWrites games, whole, with their hash chains and seals, as JSON lines")
		fmt.Fprintln(fs.Output(), "(docs/eventlog.md, \"Export format\"), for playlog import into any store.")
		fmt.Fprintln(fs.Output(), "The summary goes to stdout, or to stderr when the export does.")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args, &parseOut, stdout, stderr); done {
		return code
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "playlog export: "+format+"\n", a...)
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "playlog export: "+format+"\n", a...)
		return 1
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected arguments %q", fs.Args())
	}
	filter := exportFilter{ended: *ended}
	for _, t := range []struct {
		flag string
		in   string
		to   *time.Time
	}{{"since", *since, &filter.since}, {"until", *until, &filter.until}} {
		if t.in == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339Nano, t.in)
		if err != nil {
			return usageErr("--%s must be an RFC 3339 time: %v", t.flag, err)
		}
		*t.to = v
	}
	var progress io.Writer = stderr
	if *quiet {
		progress = io.Discard
	}
	summary := stdout
	if *out == "-" {
		summary = stderr
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	store, err := sf.open(ctx, false)
	if err != nil {
		fmt.Fprintf(stderr, "playlog export: %v\n", err)
		return storeFailed(err)
	}
	defer store.Close()
	start := time.Now()

	// The games: those named (each must exist), or the log's, listed from
	// the feed up to where it ended when the export began.
	var list []uuid.UUID
	if len(ids) > 0 {
		seen := map[uuid.UUID]bool{}
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			if _, err := store.Head(ctx, id); err != nil {
				return fail("game %s: %v", id, err)
			}
			list = append(list, id)
		}
	} else {
		listing := newBar(-1, progress, "listing games", "games", false)
		err = listGames(ctx, store, func(first eventstore.Event) error {
			listing.Add(1)
			if filter.created(first) {
				list = append(list, first.GameID)
			}
			return nil
		})
		listing.Finish()
		if err != nil {
			return fail("%v", err)
		}
	}

	var (
		dst     io.Writer
		tmp     *os.File
		counted *countingWriter
	)
	if *out == "-" {
		counted = &countingWriter{w: stdout}
	} else {
		tmp, err = os.CreateTemp(filepath.Dir(*out), "."+filepath.Base(*out)+".partial-*")
		if err != nil {
			return fail("%v", err)
		}
		defer func() {
			if tmp != nil { // not renamed into place: failed
				tmp.Close()
				os.Remove(tmp.Name())
			}
		}()
		counted = &countingWriter{w: tmp}
	}
	dst = counted
	var zw *gzip.Writer
	if *gz {
		zw = gzip.NewWriter(counted)
		dst = zw
	}
	w := export.NewWriter(dst, sf.source(store), time.Now())

	bar := newBar(int64(len(list)), progress, "exporting", "games", false)
	var games, events, broken, unreadable int
	for _, id := range list {
		if ctx.Err() != nil {
			if *out == "-" {
				return fail("interrupted after %d games: the output has no trailer, import will refuse its end", games)
			}
			return fail("interrupted after %d games: %s not written", games, *out)
		}
		evs, seals, err := readSealed(ctx, store, id)
		if errors.Is(err, eventstore.ErrGameNotFound) {
			bar.Add(1)
			fmt.Fprintf(stderr, "playlog export: game %s: gone since the listing (removed): not exported\n", id)
			continue
		}
		if errors.Is(err, archive.ErrUnreadable) {
			bar.Add(1)
			unreadable++
			fmt.Fprintf(stderr, "playlog export: WARNING: %v: not exported\n", err)
			continue
		}
		if err == nil && len(evs) == 0 {
			err = fmt.Errorf("game %s: no events", id)
		}
		if err != nil {
			return fail("%v", err)
		}
		bar.Add(1)
		last := evs[len(evs)-1]
		if !filter.created(evs[0]) || (filter.ended && last.Type != engine.TypeSeedRevealed) {
			continue
		}
		// Copied as stored, whatever it holds; a game that does not
		// verify is exported (import will refuse it) but reported.
		if err := export.VerifyGame(export.Game{ID: id, Events: evs, Seals: seals, HeadHash: last.Hash}, nil); err != nil {
			broken++
			fmt.Fprintf(stderr, "playlog export: WARNING: %v\n", err)
		}
		if err := w.WriteGame(evs, seals); err != nil {
			return fail("%v", err)
		}
		games++
		events += len(evs)
	}
	bar.Finish()
	err = w.Close()
	if err == nil && zw != nil {
		err = zw.Close()
	}
	if err == nil && tmp != nil {
		err = tmp.Sync()
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), *out)
		}
		if err == nil {
			tmp = nil
		}
	}
	if err != nil {
		return fail("write %s: %v", *out, err)
	}
	took := time.Since(start)
	fmt.Fprintf(summary, "exported %d games, %d events, %d bytes in %.2f s\n", games, events, counted.n, took.Seconds())
	if broken > 0 {
		fmt.Fprintf(stderr, "playlog export: %d games do not verify (see above): exported as stored; import will refuse them\n", broken)
	}
	if unreadable > 0 {
		fmt.Fprintf(stderr, "playlog export: %d archived games are unreadable (see above): not in the export\n", unreadable)
	}
	if broken > 0 || unreadable > 0 {
		return 1
	}
	return 0
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// importOutcome is what importing one game did.
type importOutcome int

const (
	imported importOutcome = iota
	skipped                // the store already held it all, seals included
	refused                // it does not verify, or the store holds other events for it
	failed                 // the store failed
)

// runImport reads an export and stores its games: each is verified
// (seqs, chain, seals; signatures with --public-key) before anything of it
// is written, then imported with its events' seqs, times and hashes kept,
// then its seals stored. A game the store already holds identically is
// skipped; one it holds differently is refused, and the others go on.
// Rerunning an import that was cut short finishes it: Import completes a
// game it holds a prefix of, and seals already stored are not stored again.
func runImport(args []string, env func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("playlog import", flag.ContinueOnError)
	var parseOut bytes.Buffer
	fs.SetOutput(&parseOut)
	var sf storeFlags
	sf.register(fs, env)
	in := fs.String("in", "-", "export to read (- for stdin), plain or gzipped")
	var keys publicKeys
	fs.Var(&keys, "public-key", publicKeysUsage+"; with it, every seal must verify and an ended game must have its final seal")
	quiet := fs.Bool("quiet", false, "no progress bar")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), importUsage)
		fmt.Fprintln(fs.Output(), "\nStores the games of an export (playlog export) in a log, each verified")
		fmt.Fprintln(fs.Output(), "before anything of it is written. Prints one line per game: imported,")
		fmt.Fprintln(fs.Output(), "skipped (already there, identical), REFUSED (does not verify, or the log")
		fmt.Fprintln(fs.Output(), "holds other events for it) or FAILED; exit 1 if any was refused or failed.")
		fmt.Fprintln(fs.Output(), "Run it again after an interruption: it finishes what was cut short.")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args, &parseOut, stdout, stderr); done {
		return code
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "playlog import: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected arguments %q", fs.Args())
	}
	var checkSeal func(eventstore.Seal) error
	if v, err := keys.verifier(); err != nil {
		return usageErr("%v", err)
	} else if v != nil {
		checkSeal = v.Verify
	}
	var progress io.Writer = stderr
	if *quiet {
		progress = io.Discard
	}

	var src io.Reader = os.Stdin
	size := int64(-1)
	if *in != "-" {
		f, err := os.Open(*in)
		if err != nil {
			return usageErr("%v", err)
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size()
		}
		src = f
	}
	counted := &countingReader{r: src}
	r, err := export.NewReader(counted)
	if err != nil {
		fmt.Fprintf(stderr, "playlog import: %s: %v\n", *in, err)
		return 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	store, err := sf.open(ctx, true)
	if err != nil {
		fmt.Fprintf(stderr, "playlog import: %v\n", err)
		return storeFailed(err)
	}
	defer store.Close()
	if checkSeal == nil {
		fmt.Fprintln(stderr, "playlog import: seal signatures NOT checked: give --public-key to check them")
	}

	start := time.Now()
	bar := newBar(size, progress, "importing", "", true)
	var counts [4]int
	var events, seals int
	var readErr error
	for {
		g, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		outcome, written, stored, msg := importGame(ctx, store, g, checkSeal)
		counts[outcome]++
		events += written
		seals += stored
		fmt.Fprintf(stdout, "game %s: %s\n", g.ID, msg)
		bar.Set64(counted.n)
		if ctx.Err() != nil {
			readErr = fmt.Errorf("interrupted: run the same import again to finish it")
			break
		}
	}
	if readErr == nil {
		bar.Finish()
	} else {
		fmt.Fprintln(progress)
	}
	took := time.Since(start)
	total := counts[imported] + counts[skipped] + counts[refused] + counts[failed]
	fmt.Fprintf(stdout, "import: %d games: %d imported, %d skipped, %d refused, %d failed; %d events and %d seals written; %d bytes read in %.2f s\n",
		total, counts[imported], counts[skipped], counts[refused], counts[failed], events, seals, counted.n, took.Seconds())
	if readErr != nil {
		fmt.Fprintf(stderr, "playlog import: %s: %v\n", *in, readErr)
		return 1
	}
	if counts[refused]+counts[failed] > 0 {
		return 1
	}
	return 0
}

// importGame verifies g, then stores its events and the seals the store
// does not hold yet. It returns what happened, how many events and seals
// it wrote, and a sentence saying so.
func importGame(ctx context.Context, store eventstore.Store, g export.Game, checkSeal func(eventstore.Seal) error) (importOutcome, int, int, string) {
	if err := export.VerifyGame(g, checkSeal); err != nil {
		return refused, 0, 0, fmt.Sprintf("REFUSED: %v", err)
	}
	// With the key, what the audit with it would find is refused here:
	// an ended game must carry its final seal (VerifyGame checked that
	// one is at its last event and signed), or a rewritten log with its
	// seals stripped would pass.
	if checkSeal != nil && g.Events[len(g.Events)-1].Type == engine.TypeSeedRevealed &&
		!slices.ContainsFunc(g.Seals, func(s eventstore.Seal) bool { return s.Kind == eventstore.SealFinal }) {
		return refused, 0, 0, "REFUSED: the game has ended but has no final seal (seals are checked with --public-key)"
	}
	res, err := store.Import(ctx, g.Events)
	switch {
	case errors.Is(err, eventstore.ErrConflict):
		return refused, 0, 0, fmt.Sprintf("REFUSED: the store holds other events for this game: %v", err)
	case errors.Is(err, eventstore.ErrInvalidArgument), errors.Is(err, eventstore.ErrInvalidData), errors.Is(err, eventstore.ErrTooLarge):
		return refused, 0, 0, fmt.Sprintf("REFUSED: the store cannot take it as it is: %v", err)
	case err != nil:
		return failed, 0, 0, fmt.Sprintf("FAILED: %v", err)
	}
	have, err := store.Seals(ctx, g.ID)
	if err != nil {
		return failed, res.Written, 0, fmt.Sprintf("FAILED: %d events written, then reading its seals: %v", res.Written, err)
	}
	stored := 0
	for _, s := range g.Seals {
		if slices.ContainsFunc(have, func(h eventstore.Seal) bool { return eventstore.SameSeal(h, s) }) {
			continue
		}
		if err := store.PutSeal(ctx, s); err != nil {
			return failed, res.Written, stored, fmt.Sprintf("FAILED: %d events and %d seals written, then: %v", res.Written, stored, err)
		}
		have = append(have, s)
		stored++
	}
	n := len(g.Events)
	switch {
	case res.Written == 0 && stored == 0:
		return skipped, 0, 0, fmt.Sprintf("skipped: the store holds it already, identical (%s, %s)", plural(n, "event"), plural(len(g.Seals), "seal"))
	case res.Written < n:
		return imported, res.Written, stored, fmt.Sprintf("imported: %s (the last %d of %d: resumed), %s", plural(res.Written, "event"), res.Written, n, plural(stored, "seal"))
	}
	return imported, res.Written, stored, fmt.Sprintf("imported: %s, %s", plural(n, "event"), plural(stored, "seal"))
}

// plural is "1 seal", "2 seals".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
