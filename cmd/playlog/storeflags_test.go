package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/export"
)

// The store flags: one given on the command line wins over the
// environment playlogd's nodes share, two are refused, a --data that holds
// no log is an error (and is not created), stray words are refused, and a
// store that cannot be reached is a failure (1), not bad usage (2).
func TestStoreFlags(t *testing.T) {
	dir, finished, _ := playedGames(t)
	unreachable := func(name string) string {
		switch name {
		case "PLAYLOG_NATS_URL":
			return "nats://127.0.0.1:1"
		case "PLAYLOG_DATABASE_URL":
			return "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"
		}
		return ""
	}
	noEnv := func(string) string { return "" }
	missing := filepath.Join(t.TempDir(), "typo")
	for _, c := range []struct {
		name string
		args []string
		env  func(string) string
		code int
		out  string // in stdout when code is 0, else in stderr
	}{
		{"--data wins over the environment", []string{"audit", "--data", dir, "--quiet"}, unreachable, 0, "audited 2 games"},
		{"--data wins for dump", []string{"dump", "--data", dir, "--game", finished.String()}, unreachable, 0, "seed_revealed"},
		{"--data wins for export", []string{"export", "--data", dir, "--quiet", "--out", filepath.Join(t.TempDir(), "x.jsonl")}, unreachable, 0, "exported 2 games"},
		{"--data wins for archive", []string{"archive", "--data", dir, "--older-than", "1h", "--quiet"}, unreachable, 0, "archived 0 games"},
		{"two logs named", []string{"audit", "--data", dir, "--nats-url", "nats://127.0.0.1:1"}, noEnv, 2, "--data and --nats-url name different logs"},
		{"a --data without a log", []string{"audit", "--data", missing, "--quiet"}, noEnv, 2, "holds no playlog log"},
		{"export from a --data without a log", []string{"export", "--data", missing, "--quiet"}, noEnv, 2, "holds no playlog log"},
		{"archive of a --data without a log", []string{"archive", "--data", missing, "--quiet"}, noEnv, 2, "holds no playlog log"},
		{"the environment when no flag names the log", []string{"audit", "--quiet"}, unreachable, 1, "postgres"},
		{"no log named", []string{"audit", "--quiet"}, noEnv, 2, "name the log with"},
		{"an unreachable server is a failure", []string{"audit", "--nats-url", "nats://127.0.0.1:1", "--quiet"}, noEnv, 1, "no servers available"},
		{"a stray word in audit", []string{"audit", "--data", dir, "extra", "--quiet"}, noEnv, 2, `unexpected arguments ["extra" "--quiet"]`},
		{"a stray word in archive", []string{"archive", "--data", dir, "extra", "--older-than", "8760h"}, noEnv, 2, "unexpected arguments"},
		{"a stray word in dump", []string{"dump", "--data", dir, "--game", finished.String(), "extra"}, noEnv, 2, "unexpected arguments"},
		{"a stray word in projections", []string{"projections", "rebuild", "history", "--data", dir, "extra"}, noEnv, 2, "unexpected arguments"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(c.args, c.env, &out, &errOut)
			got := out.String()
			if c.code != 0 {
				got = errOut.String()
			}
			if code != c.code || !strings.Contains(got, c.out) {
				t.Errorf("%q: exit %d, want %d with %q\nstdout: %s\nstderr: %s", c.args, code, c.code, c.out, out.String(), errOut.String())
			}
		})
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("a --data without a log was created: %v", err)
	}
	// import may create a log: restoring a backup into a new directory.
	export := filepath.Join(t.TempDir(), "all.jsonl")
	var out, errOut bytes.Buffer
	if code := run([]string{"export", "--data", dir, "--quiet", "--out", export}, noEnv, &out, &errOut); code != 0 {
		t.Fatalf("export: %d %s", code, errOut.String())
	}
	fresh := filepath.Join(t.TempDir(), "restored")
	if code := run([]string{"import", "--data", fresh, "--quiet", "--in", export}, unreachable, &out, &errOut); code != 0 {
		t.Fatalf("import into a new --data: %d %s", code, errOut.String())
	}
}

// Each command's help goes to stdout, with its flags ("playlog help
// projections" printed a usage line only).
func TestHelpToStdout(t *testing.T) {
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"archive", "-h"}, "-older-than"},
		{[]string{"help", "projections"}, "-batch"},
		{[]string{"projections", "-h"}, "-database-url"},
	} {
		var out, errOut bytes.Buffer
		if code := run(c.args, func(string) string { return "" }, &out, &errOut); code != 0 ||
			!strings.Contains(out.String(), c.flag) || errOut.Len() != 0 {
			t.Errorf("%q: exit %d\nstdout: %s\nstderr: %s", c.args, code, out.String(), errOut.String())
		}
	}
}

// A tool given the --data of a node that runs is refused, exit 1, naming
// the way to reach it: a second embedded server on the directory would
// take the node's files for its own (an import so reported success and
// was gone after the node's restart).
func TestDataInUseIsRefused(t *testing.T) {
	dir, finished, _ := playedGames(t)
	node, err := jetstream.Open(context.Background(), jetstream.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	in := filepath.Join(t.TempDir(), "empty.jsonl")
	var file bytes.Buffer
	w := export.NewWriter(&file, "test", time.Now())
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, file.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"audit", "--data", dir, "--quiet"},
		{"dump", "--data", dir, "--game", finished.String()},
		{"import", "--data", dir, "--in", in},
	} {
		var out, errOut bytes.Buffer
		code := run(args, func(string) string { return "" }, &out, &errOut)
		if code != 1 || !strings.Contains(errOut.String(), "in use by another process") || !strings.Contains(errOut.String(), "--nats-url") {
			t.Errorf("%s on a directory a node uses: exit %d, %q", args[0], code, errOut.String())
		}
	}
}

// A seed secret shorter than any server's is refused (2) before anything
// is read: with it every running game failed its commitment and was
// reported as tampered.
func TestShortSeedSecretIsRefused(t *testing.T) {
	dir, _, _ := playedGames(t)
	short := filepath.Join(t.TempDir(), "short")
	if err := os.WriteFile(short, []byte("12345\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := run([]string{"audit", "--data", dir, "--quiet", "--seed-secret-file", short}, func(string) string { return "" }, &out, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), "5 bytes") || out.Len() != 0 {
		t.Fatalf("a 5-byte seed secret: exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
}

// Flags out of their range are bad usage (2), naming the range.
func TestFlagsOutOfRange(t *testing.T) {
	dir, _, _ := playedGames(t)
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"audit", "--data", dir, "--quiet", "--max-events-per-second", "-5"}, "--max-events-per-second must be 0"},
		{[]string{"projections", "rebuild", "history", "--data", dir, "--batch", "0"}, "--batch must be at least 1"},
		{[]string{"idle", "-url", "http://127.0.0.1:1", "-secret-file", secret, "-conns", "20", "-games", "5"}, "want 10 to 20"},
	} {
		var out, errOut bytes.Buffer
		if code := run(c.args, func(string) string { return "" }, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%q: exit %d, %q; want 2 and %q", c.args, code, errOut.String(), c.want)
		}
	}
}
