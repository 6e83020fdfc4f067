package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/playlog/playlog/auth"
)

// secretEnv names the environment variable holding the HS256 secret when
// --secret-file is not given.
const secretEnv = "PLAYLOG_JWT_SECRET"

// runToken implements "playlog token": it mints an HS256 token that the
// server, configured with the same secret, issuer and audience, accepts.
func runToken(args []string, env func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("playlog token", flag.ContinueOnError)
	var parseOut bytes.Buffer // help goes to stdout, errors to stderr
	fs.SetOutput(&parseOut)
	user := fs.String("user", "", "user id to put in the token's subject (required)")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token stays valid")
	secretFile := fs.String("secret-file", "", "file holding the HS256 secret (default: $"+secretEnv+")")
	issuer := fs.String("issuer", "", "iss claim; must match the server's issuer if it has one")
	audience := fs.String("audience", "", "aud claim; must match the server's audience if it has one")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: playlog token --user NAME [--ttl 24h] [--secret-file PATH] [--issuer X] [--audience Y]")
		fmt.Fprintln(fs.Output(), "\nPrints a development HS256 token. The secret comes from --secret-file")
		fmt.Fprintf(fs.Output(), "(trailing newline trimmed) or else $%s, at least %d bytes.\n\n", secretEnv, auth.MinSecretLen)
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args, &parseOut, stdout, stderr); done {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "playlog token: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() > 0 {
		return fail("unexpected arguments %q", fs.Args())
	}
	if *user == "" {
		return fail("--user is required")
	}
	secret, err := readSecret(*secretFile, env)
	if err != nil {
		return fail("%v", err)
	}
	if len(secret) < auth.MinSecretLen {
		return fail("secret is %d bytes, want at least %d", len(secret), auth.MinSecretLen)
	}
	tok, err := auth.Mint(secret, *user, *ttl, *issuer, *audience, time.Now())
	if err != nil {
		return fail("%v", err)
	}
	fmt.Fprintln(stdout, tok)
	return 0
}

// readSecret returns the contents of path without trailing line endings
// or, when path is empty, the environment variable as given.
func readSecret(path string, env func(string) string) ([]byte, error) {
	if path == "" {
		s := env(secretEnv)
		if s == "" {
			return nil, fmt.Errorf("no secret: give --secret-file or set $%s", secretEnv)
		}
		return []byte(s), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read secret: %w", err)
	}
	return []byte(strings.TrimRight(string(b), "\r\n")), nil
}
