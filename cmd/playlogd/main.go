// Command playlogd is the playlog server. Today it opens the event log
// (embedded JetStream under -data by default, an external NATS server with
// -nats-url, or PostgreSQL with -database-url) and holds it open until
// interrupted; the HTTP and WebSocket front end for live play comes next.
//
// Every flag has an environment variable (PLAYLOG_ + the flag in upper case,
// '-' as '_'); a flag given on the command line wins.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/eventstore/postgres"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "playlogd:", err)
		os.Exit(1)
	}
}

// config is everything playlogd can be told.
type config struct {
	data        string
	natsURL     string
	natsListen  string
	durability  string
	databaseURL string
	dbSchema    string
}

func parse(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("playlogd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.data, "data", "./data", "directory of the embedded JetStream server's files")
	fs.StringVar(&c.natsURL, "nats-url", "", "external NATS server or cluster (instead of the embedded one)")
	fs.StringVar(&c.natsListen, "nats-listen", "", "address where the embedded NATS server accepts other processes, e.g. 127.0.0.1:4222 (default: in-process only)")
	fs.StringVar(&c.durability, "durability", string(jetstream.DurabilityFlush), "embedded JetStream: flush (survives a process kill) or sync (fsync every write; survives power loss)")
	fs.StringVar(&c.databaseURL, "database-url", "", "PostgreSQL connection string: use PostgreSQL as the event log instead of JetStream")
	fs.StringVar(&c.dbSchema, "database-schema", "playlog", "PostgreSQL schema of playlog's tables")
	fs.VisitAll(func(f *flag.Flag) {
		env := "PLAYLOG_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			fs.Set(f.Name, v)
		}
		f.Usage += " [$" + env + "]"
	})
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return c, nil
}

func openStore(ctx context.Context, c config, logger *slog.Logger) (eventstore.Store, string, error) {
	if c.databaseURL != "" {
		s, err := postgres.Open(ctx, postgres.Config{URL: c.databaseURL, Schema: c.dbSchema, Logger: logger})
		return s, "PostgreSQL, schema " + c.dbSchema, err
	}
	cfg := jetstream.Config{URL: c.natsURL, Logger: logger}
	where := "external NATS at " + c.natsURL
	if c.natsURL == "" {
		cfg.Dir, cfg.Listen, cfg.Durability = c.data, c.natsListen, jetstream.Durability(c.durability)
		where = fmt.Sprintf("embedded JetStream in %s, durability %s", c.data, c.durability)
	}
	s, err := jetstream.Open(ctx, cfg)
	if err == nil && s.ClientURL() != "" {
		where += ", accepting NATS clients at " + s.ClientURL()
	}
	return s, where, err
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parse(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	store, where, err := openStore(ctx, c, logger)
	if err != nil {
		return err
	}
	defer store.Close()
	fmt.Fprintf(stdout, "playlogd: event log open (%s)\n", where)
	fmt.Fprintln(stdout, "playlogd: live play over HTTP and WebSocket is not built yet; this server only holds the log open. Ctrl-C stops it.")
	<-ctx.Done()
	fmt.Fprintln(stdout, "playlogd: stopping")
	return nil
}
