package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The whole-store audit: every game, a summary, the JSON report, the
// selection flags, running games re-decided with the seed secret, and bad
// flags refused.
func TestAuditWholeStore(t *testing.T) {
	dir, finished, unfinished := playedGames(t)
	noEnv := func(string) string { return "" }
	pub := auditPublicKey(t)
	var out, errOut bytes.Buffer
	if code := run([]string{"audit", "--data", dir, "--public-key", pub}, noEnv, &out, &errOut); code != 0 {
		t.Fatalf("audit of an honest store: %d\n%s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "audited 2 games (1 ended, 1 with a final seal)") || !strings.Contains(out.String(), "0 findings") {
		t.Fatalf("summary: %s", out.String())
	}

	secret := filepath.Join(t.TempDir(), "seed")
	os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef\n"), 0o600)
	out.Reset()
	if code := run([]string{"audit", "--data", dir, "--public-key", pub, "--json", "--seed-secret-file", secret}, noEnv, &out, &errOut); code != 0 {
		t.Fatalf("audit --json: %d\n%s%s", code, out.String(), errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 2 game lines and a summary, got:\n%s", out.String())
	}
	seen := map[string]gameAudit{}
	for _, l := range lines[:2] {
		var g gameAudit
		if err := json.Unmarshal([]byte(l), &g); err != nil {
			t.Fatal(err)
		}
		seen[g.Game.String()] = g
	}
	if g := seen[finished.String()]; !g.Ended || !g.Decided || !g.Final || g.Sealed != uint64(g.Events) || g.Rules != "tictactoe" {
		t.Errorf("the finished game's report: %+v", g)
	}
	if g := seen[unfinished.String()]; g.Ended || !g.Decided || len(g.Findings) > 0 {
		t.Errorf("the running game, audited with the seed secret: %+v", g)
	}
	var sum struct{ Summary auditSummary }
	if err := json.Unmarshal([]byte(lines[2]), &sum); err != nil || sum.Summary.Games != 2 || !sum.Summary.Verified {
		t.Errorf("summary line %s (%v)", lines[2], err)
	}

	// A wrong seed secret: the running game's shuffles and rolls are not
	// its seed's (tictactoe has none, but the commitment does not match).
	os.WriteFile(secret, []byte("another-secret-another-secret-another\n"), 0o600)
	out.Reset()
	if code := run([]string{"audit", "--data", dir, "--seed-secret-file", secret}, noEnv, &out, &errOut); code != 1 ||
		!strings.Contains(out.String(), unfinished.String()) || !strings.Contains(out.String(), "decisions") {
		t.Errorf("audit with a wrong seed secret: %d\n%s", code, out.String())
	}

	// Selection.
	for _, c := range []struct {
		args  []string
		games int
	}{
		{[]string{"--since", time.Now().Add(time.Hour).Format(time.RFC3339)}, 0},
		{[]string{"--since", time.Now().Add(-time.Hour).Format(time.RFC3339)}, 2},
		{[]string{"--rules", "crazyeights"}, 0},
		{[]string{"--rules", "liarsdice,tictactoe"}, 2},
	} {
		out.Reset()
		if code := run(append([]string{"audit", "--data", dir, "--json"}, c.args...), noEnv, &out, &errOut); code != 0 {
			t.Fatalf("%q: %d %s", c.args, code, errOut.String())
		}
		if n := strings.Count(out.String(), "\n") - 1; n != c.games {
			t.Errorf("%q: %d games, want %d", c.args, n, c.games)
		}
	}
	for _, args := range [][]string{
		{"--since", "yesterday"},
		{"--rules", "chess"},
		{"--public-key", filepath.Join(dir, "missing")},
		{"--parallel", "0"},
		{"--seed-secret-file", filepath.Join(dir, "missing")},
	} {
		if code := run(append([]string{"audit", "--data", dir}, args...), noEnv, &out, &errOut); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}
