// Command playlog is playlog's command-line tool. Each subcommand lives in
// its own file and is listed in commands:
//
//	playlog token --user NAME [--ttl 24h] [--secret-file PATH] [--issuer X] [--audience Y]
//	playlog audit [--game ID] (--data DIR | --nats-url URL | --database-url URL) [--public-key F]... [--since T] [--rules R,...] [--seed-secret-file F] [--json]
//	playlog dump  --game ID (--data DIR | --nats-url URL | --database-url URL)
//	playlog bench [-url http://127.0.0.1:8080] [-games 10] [-duration 20s] [-warmup 2s] [-reuse] [-pid N,...] [-json]
//	playlog idle  [-url http://127.0.0.1:8080] [-conns 20000] [-games N] [-concurrency 64] [-hold 10s] [-pid N,...] [-json]
//	playlog projections rebuild history (--data DIR | --nats-url URL | --database-url URL) [--batch N] [--quiet]
//	playlog export (--data DIR | --nats-url URL | --database-url URL) [--out FILE] [--gzip] [--game ID,...] [--ended] [--since T] [--until T] [--quiet]
//	playlog import (--data DIR | --nats-url URL | --database-url URL) [--in FILE] [--public-key FILE] [--quiet]
//	playlog archive (--data DIR | --nats-url URL | --database-url URL) [--older-than 720h] [--quiet]
//
// token prints a development HS256 token; audit verifies one game's log or
// a whole store's (hash chain, command times, the seed and every decision
// of finished games, and with --public-key the seals); dump prints
// its events; bench loads a playlogd on this machine with tictactoe games
// and reports throughput, latencies, errors and the server's CPU and
// memory; idle holds many joined, idle WebSocket connections to one and
// reports what they cost it (KB of RSS per connection, CPU) and how fast
// they joined. export writes games, whole, with their hash chains and
// seals, in the format of package export (docs/eventlog.md, "Export
// format"); import stores an export's games in a log, JetStream or
// PostgreSQL, each verified before anything of it is written, and can be
// rerun to finish an interrupted import; archive moves games that ended
// long ago out of the hot log into its archive. Every command reads
// archived games as if they were in the log. bench and idle talk to loopback
// addresses only. Exit codes:
// 0 success, 1 failure while working, 2 bad usage.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// command is one subcommand. run gets the arguments after the subcommand
// name and returns the exit code.
type command struct {
	name    string
	summary string
	run     func(args []string, env func(string) string, stdout, stderr io.Writer) int
}

// commands lists the subcommands in the order usage shows them. Add new
// ones (audit, dump, load) here, each implemented in its own file.
func commands() []command {
	return []command{
		{"token", "print a development HS256 token for a user", runToken},
		{"audit", "verify a game's log or a whole store's: chain, seed, every action re-decided, seals", runAudit},
		{"dump", "print a game's events as JSON lines, secrets included", runDump},
		{"bench", "load a local playlogd with tictactoe games; report moves/s, latencies, CPU", runBench},
		{"idle", "hold many idle joined WebSockets on a local playlogd; report RSS per connection, join times", runIdle},
		{"projections", "rebuild a projection from the whole log: projections rebuild history", runProjections},
		{"export", "write games, whole, with their chains and seals, as JSON lines (for import)", runExport},
		{"import", "store the games of an export in a log, each verified first; resumable", runImport},
		{"archive", "move games that ended long ago out of the hot log into its archive", runArchive},
	}
}

// run is the whole program, minus the process: tests call it directly.
func run(args []string, env func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 {
			// "playlog help token" is "playlog token -h".
			return run([]string{rest[0], "-h"}, env, stdout, stderr)
		}
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(rest, env, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "playlog: unknown command %q\n\n", name)
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: playlog <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, `Run "playlog help <command>" for a command's flags.`)
}

// parseFlags parses a subcommand's flags, whose output fs writes to out:
// help goes to stdout (exit 0), a bad flag's error to stderr (exit 2).
// done reports that the subcommand should return code.
func parseFlags(fs *flag.FlagSet, args []string, out *bytes.Buffer, stdout, stderr io.Writer) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, flag.ErrHelp):
		stdout.Write(out.Bytes())
		return 0, true
	}
	stderr.Write(out.Bytes())
	return 2, true
}
