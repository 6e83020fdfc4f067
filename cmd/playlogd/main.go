// Command playlogd is the playlog server: the REST API and WebSocket
// gateway over the event log (embedded JetStream under -data by default, an
// external NATS server with -nats-url, or PostgreSQL with -database-url).
//
// Every flag has an environment variable (PLAYLOG_ + the flag in upper case,
// '-' as '_'); a flag given on the command line wins. Without -jwt-secret-file,
// -jwt-public-key-file or -seed-secret-file it generates development secrets
// under -data and says so: set them explicitly in production, and give
// every node of one store the same ones.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/archive"
	"github.com/playlog/playlog/auth"
	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/eventstore/postgres"
	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/hub"
	"github.com/playlog/playlog/metrics"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/projections"
	"github.com/playlog/playlog/projections/open"
	"github.com/playlog/playlog/replay"
	"github.com/playlog/playlog/seal"
	"github.com/playlog/playlog/timers"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal starts the drain; from then on a second one ends
	// the process at once (Go's default), as an operator expects.
	context.AfterFunc(ctx, stop)
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); errors.Is(err, flag.ErrHelp) {
		return // -h: the usage is printed, as asked
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "playlogd:", err)
		os.Exit(1)
	}
}

// idleTimeout is how long an HTTP keep-alive connection may wait for its
// next request (a variable for the test of it).
var idleTimeout = 2 * time.Minute

// config is everything playlogd can be told.
type config struct {
	http           string
	data           string
	natsURL        string
	natsListen     string
	natsReplicas   int
	durability     string
	databaseURL    string
	dbSchema       string
	jwtSecretFile  string
	jwtPublicKey   string
	jwtIssuer      string
	jwtAudience    string
	seedSecretFile string
	sealKeyFile    string
	sealEvery      uint64
	snapshotEvery  int
	sealInterval   time.Duration
	archiveAfter   time.Duration
	archiveEvery   time.Duration
	logFormat      string
	logLevel       slog.Level
	pprof          bool
	drainTimeout   time.Duration
}

func parse(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("playlogd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.http, "http", "127.0.0.1:8080", "address of the REST and WebSocket server")
	fs.StringVar(&c.data, "data", "./data", "directory of the embedded JetStream server's files and of generated development secrets")
	fs.StringVar(&c.natsURL, "nats-url", "", "external NATS server or cluster (instead of the embedded one)")
	fs.StringVar(&c.natsListen, "nats-listen", "", "address where the embedded NATS server accepts other processes, e.g. 127.0.0.1:4222 (default: in-process only)")
	fs.IntVar(&c.natsReplicas, "nats-replicas", 0, "replicas of the event stream on a NATS cluster, 1 to 5 (3 recommended): an append is acknowledged once a majority has it (default: an existing stream's, 1 for a new one)")
	fs.StringVar(&c.durability, "durability", string(jetstream.DurabilityFlush), "embedded JetStream: flush (survives a process kill) or sync (fsync every write; survives power loss)")
	fs.StringVar(&c.databaseURL, "database-url", "", "PostgreSQL connection string: use PostgreSQL as the event log instead of JetStream")
	fs.StringVar(&c.dbSchema, "database-schema", "playlog", "PostgreSQL schema of playlog's tables")
	fs.StringVar(&c.jwtSecretFile, "jwt-secret-file", "", "file holding the HS256 secret (at least 32 bytes) that signs tokens")
	fs.StringVar(&c.jwtPublicKey, "jwt-public-key-file", "", "PEM public key (RSA, ECDSA P-256 or Ed25519) that verifies tokens, instead of a secret")
	fs.StringVar(&c.jwtIssuer, "jwt-issuer", "", "required iss claim, if set")
	fs.StringVar(&c.jwtAudience, "jwt-audience", "", "required aud claim, if set")
	fs.StringVar(&c.seedSecretFile, "seed-secret-file", "", "file holding the secret (at least 32 bytes) every game's random seed derives from")
	fs.StringVar(&c.sealKeyFile, "seal-key-file", "", "PEM Ed25519 private key (PKCS #8) that signs games' seals (default: a development key generated in the data directory, dev-seal-key, its public key beside it)")
	fs.Uint64Var(&c.sealEvery, "seal-every", 100, "sign a checkpoint of a running game every this many events")
	fs.IntVar(&c.snapshotEvery, "snapshot-every", 100, "store a state snapshot of a game every this many events, from which a node new to the game loads it (0: none stored or read)")
	fs.DurationVar(&c.sealInterval, "seal-interval", time.Minute, "sign a checkpoint of a running game whose newest events have waited this long unsealed")
	fs.DurationVar(&c.archiveAfter, "archive-after", 30*24*time.Hour, "move games that ended longer ago than this out of the hot log into the archive beside it (0: never)")
	fs.DurationVar(&c.archiveEvery, "archive-every", 6*time.Hour, "how often to look for games to archive")
	fs.StringVar(&c.logFormat, "log-format", "text", "log lines on stderr as text (key=value) or json (one object a line)")
	fs.TextVar(&c.logLevel, "log-level", slog.LevelInfo, "the least severe level logged: debug, info, warn or error")
	fs.DurationVar(&c.drainTimeout, "drain-timeout", 20*time.Second, "on SIGTERM or interrupt, how long to wait for the commands running to be answered and the WebSockets to close (1001) before stopping")
	fs.BoolVar(&c.pprof, "pprof", false, "serve Go's profiler at /debug/pprof/ (for profiling; do not expose it)")
	envName := func(f *flag.Flag) string {
		return "PLAYLOG_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
	}
	fs.VisitAll(func(f *flag.Flag) { f.Usage += " [$" + envName(f) + "]" })
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	// A flag on the command line wins; the environment sets the others,
	// and a value it cannot parse is refused as the flag's would be (the
	// flag package would leave the zero value: archiving or snapshots off).
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	// The log is one store: the command line names at most one, and the
	// one it names wins over the other's variable, as in the tools.
	switch {
	case given["nats-url"] && given["database-url"]:
		return c, errors.New("-nats-url and -database-url name different logs: give one")
	case given["nats-url"]:
		given["database-url"] = true // its variable is not for this run
	case given["database-url"]:
		given["nats-url"] = true
	}
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if v, ok := os.LookupEnv(envName(f)); ok && !given[f.Name] && envErr == nil {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("invalid value %q for $%s: %v", v, envName(f), err)
			}
		}
	})
	if envErr != nil {
		return c, envErr
	}
	return c, c.validate()
}

// validate reports the first setting that cannot work.
func (c config) validate() error {
	switch {
	case c.logFormat != "text" && c.logFormat != "json":
		return fmt.Errorf("-log-format %q: want text or json", c.logFormat)
	case c.natsReplicas < 0 || c.natsReplicas > 5:
		return fmt.Errorf("-nats-replicas %d: want 1 to 5 (or 0: the stream's own)", c.natsReplicas)
	case c.natsReplicas > 1 && c.databaseURL != "":
		return fmt.Errorf("-nats-replicas %d applies to JetStream; -database-url makes PostgreSQL the log", c.natsReplicas)
	case c.natsReplicas > 1 && c.natsURL == "":
		return fmt.Errorf("-nats-replicas %d needs -nats-url naming a NATS cluster: the embedded server is one", c.natsReplicas)
	case c.drainTimeout <= 0:
		return errors.New("-drain-timeout must be positive")
	case c.sealEvery == 0:
		return errors.New("-seal-every must be at least 1")
	case c.snapshotEvery < 0:
		return errors.New("-snapshot-every must be 0 (none) or more")
	case c.sealInterval <= 0:
		return errors.New("-seal-interval must be positive")
	case c.archiveAfter < 0:
		return errors.New("-archive-after must not be negative (0: never archive)")
	case c.archiveAfter > 0 && c.archiveEvery <= 0:
		return errors.New("-archive-every must be positive")
	}
	return nil
}

func openStore(ctx context.Context, c config, logger *slog.Logger) (eventstore.Store, gateway.Bus, string, error) {
	if c.databaseURL != "" {
		s, err := postgres.Open(ctx, postgres.Config{URL: c.databaseURL, Schema: c.dbSchema, Logger: logger})
		if err != nil {
			return nil, nil, "", err
		}
		return s, s.Bus("presence"), "PostgreSQL, schema " + c.dbSchema, nil
	}
	cfg := jetstream.Config{URL: c.natsURL, Replicas: c.natsReplicas, Logger: logger}
	where := "external NATS at " + c.natsURL
	if c.natsURL == "" {
		cfg.Dir, cfg.Listen, cfg.Durability = c.data, c.natsListen, jetstream.Durability(c.durability)
		where = fmt.Sprintf("embedded JetStream in %s, durability %s", c.data, c.durability)
	}
	s, err := jetstream.Open(ctx, cfg)
	if err != nil {
		return nil, nil, "", err
	}
	if s.Replicas() > 1 {
		where += fmt.Sprintf(", stream replicated %d times", s.Replicas())
	}
	if s.ClientURL() != "" {
		where += ", accepting NATS clients at " + s.ClientURL()
	}
	return s, s.Bus("presence"), where, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parse(args, stderr)
	if err != nil {
		return err
	}
	logger := newLogger(c, stderr)
	secrets, err := loadSecrets(c, stdout)
	if err != nil {
		return err
	}
	verifier, err := auth.NewVerifier(auth.Config{
		Secret: secrets.jwt, PublicKeyFile: c.jwtPublicKey, Issuer: c.jwtIssuer, Audience: c.jwtAudience,
	})
	if err != nil {
		return err
	}
	hot, bus, where, err := openStore(ctx, c, logger)
	if err != nil {
		return err
	}
	defer hot.Close()
	blobs, err := archive.OpenBlobs(ctx, hot)
	if err != nil {
		return err
	}
	// Every reader sees archived games through store; only the archiver
	// and the metrics use the hot store itself.
	store := archive.Wrap(hot, blobs, 0)
	mx := metrics.New()
	sealer := seal.NewSealer(seal.NewSigner(secrets.seal), store,
		seal.Policy{Every: c.sealEvery, Interval: c.sealInterval}, nil, logger)
	stopSealer := startProjections(logger, map[string]func(context.Context) error{
		"sealer": func(ctx context.Context) error { sealer.Run(ctx); return nil }})
	defer stopSealer() // after the gateway and timers stop: the last seals are flushed
	snapshotEvery := c.snapshotEvery
	if snapshotEvery == 0 {
		snapshotEvery = -1 // play's "none"
	}
	svc, err := play.New(play.Config{Store: store, Registry: games.Standard(), SeedSecret: secrets.seed, Logger: logger, Observer: mx, Sealer: sealer,
		SnapshotEvery: snapshotEvery})
	if err != nil {
		return err
	}
	rp, err := replay.New(replay.Config{Store: store, Registry: games.Standard()})
	if err != nil {
		return err
	}
	// The directory, the history and the timers follow one store feed.
	feed := projections.NewShared(store)
	dir := projections.NewDirectory(feed)
	history, err := openHistory(ctx, store, feed, logger)
	if err != nil {
		return err
	}
	stopProjections := startProjections(logger, map[string]func(context.Context) error{"directory": dir.Run, "history": history.run})
	defer stopProjections()

	h, err := hub.New(hub.Config{Store: store, Logger: logger})
	if err != nil {
		return err
	}
	defer h.Close()
	gw, err := gateway.New(gateway.Deps{Play: svc, Directory: dir, Store: store, Hub: h, Replay: rp, History: history, Auth: verifier, Bus: bus, Logger: logger}, gateway.Config{})
	if err != nil {
		return err
	}
	// Every node runs the timer service: the log takes each timeout once.
	tm, err := timers.New(timers.Config{Store: feed, Logger: logger, FeedEnd: open.EndOf(store),
		Fire: func(ctx context.Context, game uuid.UUID, action json.RawMessage, id string) error {
			_, err := svc.System(ctx, game, action, id)
			return err
		},
		Warn: func(w timers.Warning) {
			gw.TurnTimeout(w.Game, w.Players[0], w.Turn, w.Deadline, w.Remaining, !w.Expired, w.Delayed)
		}})
	if err != nil {
		gw.Close()
		return err
	}
	stopTimers := startProjections(logger, map[string]func(context.Context) error{"timers": tm.Run})
	defer stopTimers()
	if c.archiveAfter > 0 {
		stopArchiver := startProjections(logger, map[string]func(context.Context) error{
			"archiver": func(ctx context.Context) error { return runArchiver(ctx, hot, blobs, c, logger) }})
		defer stopArchiver()
	}
	src := metrics.Sources{Gateway: gw, Hub: h}
	if ls, ok := hot.(interface{ LiveSubscriptions() int }); ok {
		src.Store = ls
	}
	mx.Watch(src)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", mx.Handler())
	if c.pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	mux.Handle("/", gw.Handler())
	ln, err := net.Listen("tcp", c.http)
	if err != nil {
		gw.Close()
		return err
	}
	// A keep-alive connection waits at most idleTimeout for its next
	// request, and a request's headers and body come within the read
	// timeouts: a client cannot hold a connection (a descriptor, a
	// goroutine, buffers) by saying nothing. A WebSocket, once hijacked,
	// keeps its own deadlines.
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		IdleTimeout: idleTimeout, MaxHeaderBytes: 64 << 10}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	url := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "playlogd: event log: %s\n", where)
	fmt.Fprintf(stdout, "playlogd: serving %s (REST under /v1, WebSocket at ws://%s/v1/ws, metrics at /metrics)\n", url, ln.Addr())
	if secrets.jwtFile != "" {
		fmt.Fprintf(stdout, "playlogd: get a token: go run ./cmd/playlog token --user alice --secret-file %s\n", secrets.jwtFile)
		fmt.Fprintf(stdout, "playlogd: then: curl -H \"Authorization: Bearer $TOKEN\" %s/v1/games?player=me\n", url)
	}

	select {
	case <-ctx.Done():
	case err = <-served:
		err = fmt.Errorf("http server: %w", err)
	}
	fmt.Fprintln(stdout, "playlogd: stopping")
	// A rolling restart: no new commands, /readyz 503, the running
	// commands answered, every WebSocket closed with 1001 (its client
	// resumes on another node).
	drain, cancelDrain := context.WithTimeout(context.Background(), c.drainTimeout)
	if derr := gw.Drain(drain); derr != nil {
		logger.Warn("drain cut short", "timeout", c.drainTimeout, "err", derr)
	}
	cancelDrain()
	gw.Close() // closes what is left (1001) and waits for the gateway's goroutines
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hs.Shutdown(shutdown)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// newLogger is the process's logger: text or JSON lines on w, from the
// configured level.
func newLogger(c config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.logLevel}
	if c.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
