package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/eventstore/postgres"
	"github.com/playlog/playlog/internal/testkit/pgtest"
	"github.com/playlog/playlog/projections"
	"github.com/playlog/playlog/projections/jsproj"
	"github.com/playlog/playlog/projections/pgproj"
	"github.com/playlog/playlog/projections/projtest"
)

// historyOf reads every user's whole history from h and checks that each
// of ids is in its players' histories, finished, with its last seq.
func checkRebuilt(t *testing.T, s eventstore.Store, h projections.HistoryReader, ids []uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	total := 0
	for _, u := range projtest.Users {
		q := projections.HistoryQuery{Limit: projections.MaxHistoryLimit}
		for {
			page, err := h.History(ctx, u, q)
			if err != nil {
				t.Fatal(err)
			}
			total += len(page.Games)
			for _, g := range page.Games {
				head, err := s.Head(ctx, g.ID)
				if err != nil || !g.Ended || g.Events != head {
					t.Fatalf("%s: %s; head %d (%v)", u, g, head, err)
				}
			}
			if page.Next == "" {
				break
			}
			q.Before = page.Next
		}
	}
	if total != 2*len(ids) {
		t.Fatalf("%d history entries for %d finished two-player games", total, len(ids))
	}
}

func rebuildCLI(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"projections", "rebuild", "history"}, args...), func(string) string { return "" }, &stdout, &stderr)
	if code != 0 || !strings.Contains(stdout.String(), "history rebuilt: ") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), "rebuilding history") || !strings.Contains(stderr.String(), "100%") {
		t.Fatalf("no finished progress bar on stderr: %q", stderr.String())
	}
	return stdout.String()
}

// TestRebuildHistoryJetStream: the command rebuilds an embedded log's
// history from nothing (no model yet), showing a progress bar.
func TestRebuildHistoryJetStream(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := jetstream.Open(ctx, jetstream.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ids := projtest.Play(t, ctx, projtest.Service(t, s), 0, 30)
	s.Close()
	rebuildCLI(t, "--data", dir, "--batch", "50")
	s, err = jetstream.Open(ctx, jetstream.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h, err := jsproj.OpenHistory(ctx, s.Conn(), jsproj.Config{})
	if err != nil {
		t.Fatal(err)
	}
	checkRebuilt(t, s, h, ids)
}

// TestRebuildHistoryPostgres: the command rebuilds a PostgreSQL log's
// history over a model that was already built once.
func TestRebuildHistoryPostgres(t *testing.T) {
	cluster, err := pgtest.StartOwn()
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Stop()
	ctx := context.Background()
	s, err := postgres.Open(ctx, postgres.Config{URL: cluster.URL, Schema: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ids := projtest.Play(t, ctx, projtest.Service(t, s), 0, 30)
	rebuildCLI(t, "--database-url", cluster.URL, "--database-schema", "cli")
	out := rebuildCLI(t, "--database-url", cluster.URL, "--database-schema", "cli", "--batch", "7")
	checkRebuilt(t, s, pgproj.NewHistory(s.Pool()), ids)
	if !strings.Contains(out, " events in ") {
		t.Fatalf("output %q", out)
	}
}
