// Package migrations holds playlog's PostgreSQL schema as ordered SQL files,
// embedded in the binary, and the runner that applies them.
//
// Files are named NNN_description.sql and applied in order, each in its own
// transaction together with its row in schema_migrations, so a migration is
// applied entirely or not at all, and exactly once. Concurrent runners (two
// playlogd starting at once) serialize on an advisory lock. Every object is
// created in one schema (default "playlog"); the store connects with that
// schema as its search_path. Applied files must never change: add a new one.
package migrations

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"

	"github.com/jackc/pgx/v5"
)

//go:embed *.sql
var files embed.FS

// Migration is one embedded SQL file.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

var fileName = regexp.MustCompile(`^(\d{3})_([a-z0-9_]+)\.sql$`)

// All returns the embedded migrations in order.
func All() ([]Migration, error) {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migrations: file %q is not named NNN_name.sql", e.Name())
		}
		sql, err := fs.ReadFile(files, e.Name())
		if err != nil {
			return nil, err
		}
		v, _ := strconv.Atoi(m[1])
		out = append(out, Migration{Version: v, Name: m[2], SQL: string(sql)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrations: versions must run 1, 2, 3, ...; found %d at place %d", m.Version, i+1)
		}
	}
	return out, nil
}

// schemaName: at most 56 bytes, so that the notification channels named
// after the schema ("<schema>_events", "<schema>_bus") fit PostgreSQL's
// 63: LISTEN cuts a longer name short, and pg_notify refuses it.
var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,55}$`)

// Apply applies every migration not yet recorded in schema.schema_migrations
// and returns the versions it applied.
func Apply(ctx context.Context, conn *pgx.Conn, schema string) ([]int, error) {
	if !schemaName.MatchString(schema) {
		return nil, fmt.Errorf("migrations: schema name %q: use lower-case letters, digits and '_', at most 56 of them", schema)
	}
	all, err := All()
	if err != nil {
		return nil, err
	}
	var applied []int
	for _, m := range all {
		done, err := applyOne(ctx, conn, schema, m)
		if err != nil {
			return applied, fmt.Errorf("migrations: %03d_%s: %w", m.Version, m.Name, err)
		}
		if done {
			applied = append(applied, m.Version)
		}
	}
	return applied, nil
}

func applyOne(ctx context.Context, conn *pgx.Conn, schema string, m Migration) (bool, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(ctx)
	ident := pgx.Identifier{schema}.Sanitize()
	stmts := []string{
		// One runner at a time, per database.
		`SELECT pg_advisory_xact_lock(7012345678901234)`,
		`CREATE SCHEMA IF NOT EXISTS ` + ident,
		`SET LOCAL search_path TO ` + ident,
		`CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`,
	}
	for _, s := range stmts {
		if _, err := tx.Exec(ctx, s); err != nil {
			return false, err
		}
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.Version).Scan(&exists); err != nil {
		return false, err
	}
	if exists {
		return false, nil
	}
	if _, err := tx.Exec(ctx, m.SQL); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
		return false, err
	}
	return true, tx.Commit(ctx)
}
