// Command playlog is playlog's command-line tool. Each subcommand lives in
// its own file and is listed in commands:
//
//	playlog token --user NAME [--ttl 24h] [--secret-file PATH] [--issuer X] [--audience Y]
//	playlog audit --game ID (--data DIR | --nats-url URL | --database-url URL)
//	playlog dump  --game ID (--data DIR | --nats-url URL | --database-url URL)
//	playlog bench [-url http://127.0.0.1:8080] [-games 10] [-duration 20s] [-warmup 2s] [-reuse] [-pid N,...] [-json]
//	playlog idle  [-url http://127.0.0.1:8080] [-conns 20000] [-games N] [-concurrency 64] [-hold 10s] [-pid N,...] [-json]
//	playlog projections rebuild history (--data DIR | --nats-url URL | --database-url URL) [--batch N] [--quiet]
//
// token prints a development HS256 token; audit verifies a game's log (hash
// chain, and for a finished game the seed and every decision); dump prints
// its events; bench loads a playlogd on this machine with tictactoe games
// and reports throughput, latencies, errors and the server's CPU and
// memory; idle holds many joined, idle WebSocket connections to one and
// reports what they cost it (KB of RSS per connection, CPU) and how fast
// they joined. bench and idle talk to loopback addresses only. Exit codes:
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
		{"audit", "verify a game's log: hash chain, seed commitment, every action re-decided", runAudit},
		{"dump", "print a game's events as JSON lines, secrets included", runDump},
		{"bench", "load a local playlogd with tictactoe games; report moves/s, latencies, CPU", runBench},
		{"idle", "hold many idle joined WebSockets on a local playlogd; report RSS per connection, join times", runIdle},
		{"projections", "rebuild a projection from the whole log: projections rebuild history", runProjections},
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
