package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/eventstore/postgres"
	"github.com/playlog/playlog/replay"
)

// storeFlags are the flags that name a log to read.
type storeFlags struct {
	data, natsURL, databaseURL, schema string
}

func (f *storeFlags) register(fs *flag.FlagSet, env func(string) string) {
	fs.StringVar(&f.data, "data", "", "embedded JetStream directory (only while no playlogd uses it)")
	fs.StringVar(&f.natsURL, "nats-url", env("PLAYLOG_NATS_URL"), "NATS server of a running playlog (playlogd -nats-listen, or a cluster)")
	fs.StringVar(&f.databaseURL, "database-url", env("PLAYLOG_DATABASE_URL"), "PostgreSQL of a running playlog")
	fs.StringVar(&f.schema, "database-schema", "playlog", "PostgreSQL schema")
}

func (f *storeFlags) open(ctx context.Context) (eventstore.Store, error) {
	switch {
	case f.databaseURL != "":
		return postgres.Open(ctx, postgres.Config{URL: f.databaseURL, Schema: f.schema})
	case f.natsURL != "":
		return jetstream.Open(ctx, jetstream.Config{URL: f.natsURL})
	case f.data != "":
		return jetstream.Open(ctx, jetstream.Config{Dir: f.data})
	}
	return nil, errors.New("name the log with --data, --nats-url or --database-url")
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
	id, err := uuid.Parse(*game)
	if err != nil {
		fmt.Fprintln(stderr, "playlog "+name+": --game must be a game id (a UUID)")
		return uuid.Nil, nil, 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	store, err := sf.open(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "playlog %s: %v\n", name, err)
		return id, nil, 2
	}
	defer store.Close()
	events, err := replay.ReadGame(ctx, store, id)
	if err != nil {
		fmt.Fprintf(stderr, "playlog %s: %v\n", name, err)
		return id, nil, 1
	}
	return id, events, -1
}

// runAudit verifies one game's log: the hash chain, and for a finished game
// the seed against its commitment and every recorded action re-decided,
// which proves each action legal and each shuffle and roll honest.
func runAudit(args []string, env func(string) string, stdout, stderr io.Writer) int {
	id, events, code := loadGame("audit", args, env, stderr)
	if code >= 0 {
		return code
	}
	if err := eventstore.VerifyChain(eventstore.Hash{}, events); err != nil {
		fmt.Fprintf(stdout, "game %s: %d events: TAMPERED: %v\n", id, len(events), err)
		return 1
	}
	fmt.Fprintf(stdout, "game %s: %d events, hash chain intact (head %s)\n", id, len(events), events[len(events)-1].Hash)
	if err := checkTimes(events); err != nil {
		fmt.Fprintf(stdout, "TAMPERED: %v\n", err)
		return 1
	}
	ee := replay.EngineEvents(events)
	switch err := engine.Verify(games.Standard(), ee); {
	case errors.Is(err, engine.ErrSeedNotRevealed):
		fmt.Fprintln(stdout, "the game is not over: its seed is not revealed yet, so fairness can be audited when it ends")
	case err != nil:
		fmt.Fprintf(stdout, "UNFAIR OR ILLEGAL: %v\n", err)
		return 1
	default:
		fmt.Fprintln(stdout, "seed matches its commitment; every action re-decided to the byte: legal and fair")
	}
	return 0
}

// clockSkew is how far play's clock, which times a timed game's commands,
// may run ahead of the store's, which records them.
const clockSkew = 2 * time.Second

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
