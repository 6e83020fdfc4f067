package main

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/playlog/playlog/archive"
)

// One unreadable object in the archive does not stop the whole-store
// audit or export: the audit reports it as a finding beside every other
// game, and the export writes every other game, warns, and exits 1.
func TestAnUnreadableArchivedGameIsReportedNotFatal(t *testing.T) {
	src := sourceLog(t) // two ended games, one running, sealed; nothing archived
	s := src.open(t)
	blobs, err := archive.OpenBlobs(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	bad := uuid.New()
	if err := blobs.Put(context.Background(), bad, []byte("not a gzipped export")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	code, stdout, stderr := runCLI(t, nil, append(append([]string{"audit"}, src.args...), "--public-key", src.pubKey, "--json", "--quiet")...)
	if code != 1 {
		t.Errorf("audit: exit %d, want 1 (a finding)\n%s%s", code, stdout, stderr)
	}
	for _, id := range src.all {
		if !strings.Contains(stdout, id.String()) {
			t.Errorf("audit: game %s not reported\n%s%s", id, stdout, stderr)
		}
	}
	if !strings.Contains(stdout, bad.String()) || !strings.Contains(stdout, "unreadable") {
		t.Errorf("audit: the unreadable archived game is not a finding\n%s%s", stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, nil, append(append([]string{"export"}, src.args...), "--quiet")...)
	if code != 1 || !strings.Contains(stderr, "1 archived games are unreadable") {
		t.Errorf("export: exit %d, want 1 with a warning\n%s", code, stderr)
	}
	for _, id := range src.all {
		if !strings.Contains(stdout, id.String()) {
			t.Errorf("export: game %s not exported", id)
		}
	}
}
