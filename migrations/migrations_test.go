package migrations_test

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/playlog/playlog/internal/testkit/pgtest"
	"github.com/playlog/playlog/migrations"
)

var databaseURL string

func TestMain(m *testing.M) { pgtest.Main(m, func(url string) { databaseURL = url }) }

func connect(t *testing.T) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestApplyRecordsAndAppliesOnce(t *testing.T) {
	ctx := context.Background()
	conn := connect(t)
	schema := pgtest.NewSchema("mig")
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	var want []int
	for _, m := range all {
		want = append(want, m.Version)
	}
	applied, err := migrations.Apply(ctx, conn, schema)
	if err != nil || !slices.Equal(applied, want) {
		t.Fatalf("first apply: %v, %v; want %v", applied, err, want)
	}
	applied, err = migrations.Apply(ctx, conn, schema)
	if err != nil || len(applied) != 0 {
		t.Fatalf("second apply: %v, %v; want nothing applied", applied, err)
	}
	var recorded []int
	rows, _ := conn.Query(ctx, `SELECT version FROM `+schema+`.schema_migrations ORDER BY version`)
	recorded, err = pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil || !slices.Equal(recorded, want) {
		t.Fatalf("recorded %v, %v; want %v", recorded, err, want)
	}
}

func TestLogIsAppendOnly(t *testing.T) {
	ctx := context.Background()
	conn := connect(t)
	schema := pgtest.NewSchema("ro")
	if _, err := migrations.Apply(ctx, conn, schema); err != nil {
		t.Fatal(err)
	}
	_, err := conn.Exec(ctx, `INSERT INTO `+schema+`.events (game_id, seq, type, schema_version, actor, message_id, data, recorded_at, prev_hash, hash)
		VALUES (gen_random_uuid(), 1, 't', 1, '', '', '{}', now(), decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex'))`)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE ` + schema + `.events SET data = '{"x":1}'`,
		`DELETE FROM ` + schema + `.events`,
	} {
		if _, err := conn.Exec(ctx, stmt); err == nil {
			t.Fatalf("%s succeeded on the append-only log", stmt)
		}
	}
}

func TestBadSchemaName(t *testing.T) {
	conn := connect(t)
	if _, err := migrations.Apply(context.Background(), conn, `x"; DROP TABLE y; --`); err == nil {
		t.Fatal("an unsafe schema name was accepted")
	}
}
