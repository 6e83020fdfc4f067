package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/playlog/playlog/export"
	"github.com/playlog/playlog/internal/testkit/tamper"
)

// An ended game of the export is replaced by another ended game's log,
// rechained under its id, its seals left out: import --public-key refuses
// it, as the audit with the same key would, and writes nothing of it.
func TestImportWithKeyRefusesAnEndedGameWithoutItsFinalSeal(t *testing.T) {
	src := sourceLog(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "x.jsonl")
	exportCLI(t, src.logBackend, "--out", file)
	_, games := readExport(t, file)
	var victim, other export.Game
	for _, g := range games {
		switch g.ID {
		case src.finished[0]:
			victim = g
		case src.finished[1]:
			other = g
		}
	}
	forged := tamper.Rechain(tamper.Reassign(other.Events, victim.ID))
	f, err := os.Create(filepath.Join(dir, "forged.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	w := export.NewWriter(f, "forged", time.Now())
	if err := w.WriteGame(forged, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	dst := jetstreamLog(t)
	code, stdout, stderr := runCLI(t, nil, append(append([]string{"import"}, dst.args...), "--in", f.Name(), "--public-key", src.pubKey)...)
	if code != 1 || !strings.Contains(stdout, "REFUSED: the game has ended but has no final seal") {
		t.Fatalf("import --public-key of an ended game without its final seal: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, nil, append(append([]string{"dump"}, dst.args...), "--game", victim.ID.String())...)
	if code != 1 || !strings.Contains(stderr, "not found") {
		t.Errorf("the refused game was written: dump exit %d\n%s%s", code, stdout, stderr)
	}
	// Without the key, seals are not checked (and import says so): it is taken.
	if code, stdout, stderr := runCLI(t, nil, append(append([]string{"import"}, dst.args...), "--in", f.Name())...); code != 0 || !strings.Contains(stdout, "imported") {
		t.Errorf("import without a key: exit %d\n%s%s", code, stdout, stderr)
	}
}
