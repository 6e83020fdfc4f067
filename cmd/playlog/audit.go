package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/archive"
	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/eventstore/postgres"
	"github.com/playlog/playlog/projections/open"
	"github.com/playlog/playlog/replay"
)

// storeFlags are the flags that name a log to read.
type storeFlags struct {
	data, natsURL, databaseURL, schema string

	fs  *flag.FlagSet
	env func(string) string
}

func (f *storeFlags) register(fs *flag.FlagSet, env func(string) string) {
	f.fs, f.env = fs, env
	fs.StringVar(&f.data, "data", "", "embedded JetStream directory of an existing log that no playlogd runs on (refused if one does: use --nats-url)")
	fs.StringVar(&f.natsURL, "nats-url", "", "NATS server of a running playlog (playlogd -nats-listen, or a cluster); default $PLAYLOG_NATS_URL")
	fs.StringVar(&f.databaseURL, "database-url", "", "PostgreSQL of a running playlog; default $PLAYLOG_DATABASE_URL")
	fs.StringVar(&f.schema, "database-schema", "playlog", "PostgreSQL schema")
}

// usageError is a store flags' mistake: exit code 2, not 1.
type usageError struct{ error }

// storeFailed is the exit code for open's error: 2 for bad usage, 1 for a
// store that could not be opened.
func storeFailed(err error) int {
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}

// choose settles which log the flags name. A flag given on the command
// line wins over the environment, which playlogd's nodes share: with
// PLAYLOG_NATS_URL set, --data names that directory, not the live log.
// Two of them given at once are refused. Without any, PLAYLOG_DATABASE_URL
// and then PLAYLOG_NATS_URL name it, as they do for playlogd.
func (f *storeFlags) choose() error {
	var given []string
	f.fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "data", "nats-url", "database-url":
			given = append(given, "--"+fl.Name)
		}
	})
	switch {
	case len(given) > 1:
		return usageError{fmt.Errorf("%s name different logs: give one", strings.Join(given, " and "))}
	case len(given) == 1:
		return nil
	}
	if u := f.env("PLAYLOG_DATABASE_URL"); u != "" {
		f.databaseURL = u
	} else if u := f.env("PLAYLOG_NATS_URL"); u != "" {
		f.natsURL = u
	}
	return nil
}

// open opens the named log with its archive behind it (package archive),
// so that archived games read as if they were still in the log. A --data
// directory must hold a log already, unless create is set (import): a
// mistyped path is an error, not an empty log audited or exported.
func (f *storeFlags) open(ctx context.Context, create bool) (eventstore.Store, error) {
	if err := f.choose(); err != nil {
		return nil, err
	}
	var hot eventstore.Store
	var err error
	switch {
	case f.databaseURL != "":
		hot, err = postgres.Open(ctx, postgres.Config{URL: f.databaseURL, Schema: f.schema})
	case f.natsURL != "":
		hot, err = jetstream.Open(ctx, jetstream.Config{URL: f.natsURL})
	case f.data != "":
		if !create {
			if _, serr := os.Stat(filepath.Join(f.data, "jetstream")); serr != nil {
				return nil, usageError{fmt.Errorf("--data %s holds no playlog log (no %s)", f.data, filepath.Join(f.data, "jetstream"))}
			}
		}
		hot, err = jetstream.Open(ctx, jetstream.Config{Dir: f.data})
	default:
		return nil, usageError{errors.New("name the log with --data, --nats-url or --database-url")}
	}
	if err != nil {
		return nil, err
	}
	blobs, err := archive.OpenBlobs(ctx, hot)
	if err != nil {
		hot.Close()
		return nil, err
	}
	return archive.Wrap(hot, blobs, 0), nil
}

// listGames calls fn with the first event of every game in store, once:
// those in the log's feed up to its end now, then the archived ones. An
// archived game whose blob is unreadable (archive.ErrUnreadable) is
// listed with a first event that holds only its id (seq 0): the reader
// of the game then reports it, and the others are still listed.
func listGames(ctx context.Context, store eventstore.Store, fn func(first eventstore.Event) error) error {
	end, _, err := open.FeedEnd(ctx, store)
	if err != nil {
		return err
	}
	hot := map[uuid.UUID]bool{}
	if err := replay.Games(ctx, store, end, func(first eventstore.Event) error {
		hot[first.GameID] = true
		return fn(first)
	}); err != nil {
		return err
	}
	a := archiveOf(store)
	if a == nil {
		return nil
	}
	return a.Blobs().List(ctx, func(id uuid.UUID) error {
		if hot[id] {
			return nil // archived, not yet removed: the hot log's copy is what readers read
		}
		first, err := a.Read(ctx, id, 0, 1)
		if errors.Is(err, archive.ErrUnreadable) {
			return fn(eventstore.Event{GameID: id})
		}
		if err != nil {
			return err
		}
		if len(first) == 0 {
			return fmt.Errorf("archived game %s has no events", id)
		}
		return fn(first[0])
	})
}

// loadGame is the start of every command that reads one game: it parses
// --game and the store flags, opens the log and reads the game's events.
// A code >= 0 means stop with that exit code (the error is reported).
func loadGame(name string, args []string, env func(string) string, stderr io.Writer) (uuid.UUID, []eventstore.Event, int) {
	fs := flag.NewFlagSet("playlog "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.register(fs, env)
	game := fs.String("game", "", "the game's id")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return uuid.Nil, nil, 0
		}
		return uuid.Nil, nil, 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "playlog %s: unexpected arguments %q\n", name, fs.Args())
		return uuid.Nil, nil, 2
	}
	id, err := uuid.Parse(*game)
	if err != nil {
		fmt.Fprintln(stderr, "playlog "+name+": --game must be a game id (a UUID)")
		return uuid.Nil, nil, 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	store, err := sf.open(ctx, false)
	if err != nil {
		fmt.Fprintf(stderr, "playlog %s: %v\n", name, err)
		return id, nil, storeFailed(err)
	}
	defer store.Close()
	events, err := replay.ReadGame(ctx, store, id)
	if err != nil {
		fmt.Fprintf(stderr, "playlog %s: %v\n", name, err)
		return id, nil, 1
	}
	return id, events, -1
}

// clockSkew is how far play's clock, which times a timed game's commands,
// may run ahead of the store's, which records them.
const clockSkew = 2 * time.Second

// futureSkew is how far ahead of the audit's clock an event may be
// recorded (the nodes' clocks against the auditing host's).
const futureSkew = time.Minute

// checkTimes checks a timed game's command times against when the store
// recorded them: engine.Verify re-decides each timeout with its recorded
// time (so none is before its deadline), and here no command claims a
// time later than it was stored, so no timeout was stored before its
// deadline either.
func checkTimes(events []eventstore.Event) error {
	for _, e := range events {
		if e.Type != engine.TypeAction {
			continue
		}
		var a engine.ActionTaken
		if json.Unmarshal(e.Data, &a) != nil || a.At == nil {
			continue
		}
		if e.RecordedAt.Add(clockSkew).Before(*a.At) {
			return fmt.Errorf("seq %d: the command claims the time %s, after the store recorded it at %s",
				e.Seq, a.At.Format(time.RFC3339Nano), e.RecordedAt.Format(time.RFC3339Nano))
		}
	}
	return nil
}

// runDump prints a game's events as JSON lines, as stored (the auditor's
// view: everything, secrets included).
func runDump(args []string, env func(string) string, stdout, stderr io.Writer) int {
	_, events, code := loadGame("dump", args, env, stderr)
	if code >= 0 {
		return code
	}
	enc := json.NewEncoder(stdout)
	for _, e := range events {
		enc.Encode(e)
	}
	return 0
}

// archiveOf finds the archive.Store in store's wrappers, or nil.
func archiveOf(store eventstore.Store) *archive.Store {
	for {
		if a, ok := store.(*archive.Store); ok {
			return a
		}
		w, ok := store.(interface{ Unwrap() eventstore.Store })
		if !ok {
			return nil
		}
		store = w.Unwrap()
	}
}
