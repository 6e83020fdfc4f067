package main

import (
	"bytes"
	"strings"
	"testing"
)

// playlog archive moves the ended game out of the hot log; audit, dump and
// export still read it, and a second run moves nothing.
func TestArchiveCommand(t *testing.T) {
	dir, finished, unfinished := playedGames(t)
	noEnv := func(string) string { return "" }
	var out, errOut bytes.Buffer
	if code := run([]string{"archive", "--data", dir, "--older-than", "1h", "--quiet"}, noEnv, &out, &errOut); code != 0 ||
		!strings.Contains(out.String(), "archived 0 games") {
		t.Fatalf("archive of games younger than an hour: %d\n%s%s", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := run([]string{"archive", "--data", dir, "--older-than", "0s", "--quiet"}, noEnv, &out, &errOut); code != 0 ||
		!strings.Contains(out.String(), "archived 1 games") || !strings.Contains(out.String(), "archive holds 1 games") {
		t.Fatalf("archive: %d\n%s%s", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := run([]string{"audit", "--data", dir, "--public-key", auditPublicKey(t)}, noEnv, &out, &errOut); code != 0 ||
		!strings.Contains(out.String(), "audited 2 games (1 ended, 1 with a final seal)") {
		t.Fatalf("audit after archiving: %d\n%s%s", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := run([]string{"dump", "--data", dir, "--game", finished.String()}, noEnv, &out, &errOut); code != 0 ||
		!strings.Contains(out.String(), "seed_revealed") {
		t.Fatalf("dump of an archived game: %d\n%s%s", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := run([]string{"export", "--data", dir, "--quiet"}, noEnv, &out, &errOut); code != 0 ||
		!strings.Contains(out.String(), finished.String()) || !strings.Contains(out.String(), unfinished.String()) {
		t.Fatalf("export after archiving: %d\n%s", code, errOut.String())
	}
	out.Reset()
	if code := run([]string{"archive", "--data", dir, "--older-than", "0s", "--quiet"}, noEnv, &out, &errOut); code != 0 ||
		!strings.Contains(out.String(), "archived 0 games") {
		t.Fatalf("a second archive: %d\n%s%s", code, out.String(), errOut.String())
	}
	if code := run([]string{"archive", "--data", dir, "--older-than", "-1h"}, noEnv, &out, &errOut); code != 2 {
		t.Errorf("a negative --older-than: exit %d", code)
	}
}
