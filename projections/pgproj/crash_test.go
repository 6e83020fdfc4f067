package pgproj_test

import (
	"testing"
	"time"

	"github.com/playlog/playlog/internal/testkit/pgtest"
	"github.com/playlog/playlog/projections/projtest"
)

// TestPostgresKilledUnderLoad: PostgreSQL (postmaster and backends) killed
// with SIGKILL while games are played, and restarted: the directory and
// the history resume by themselves, nothing skipped, nothing twice.
func TestPostgresKilledUnderLoad(t *testing.T) {
	cluster, err := pgtest.StartOwn()
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Stop()
	s := open(t, cluster.URL, "crash")
	defer s.Close()
	projtest.Outage(t, s, newModel(t, s), func(t *testing.T) {
		if err := cluster.Kill(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		if err := cluster.Restart(); err != nil {
			t.Fatal(err)
		}
	})
}
