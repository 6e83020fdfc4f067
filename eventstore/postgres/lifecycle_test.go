package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/postgres"
	"github.com/playlog/playlog/internal/testkit/pgtest"
)

// TestRemoveOnlyByRemove: the triggers refuse UPDATE of events and seals
// always, and DELETE unless the transaction says it is a Remove; Remove
// deletes a game's rows and no other game's.
func TestRemoveOnlyByRemove(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	schema := pgtest.NewSchema("rm")
	s, err := postgres.Open(ctx, postgres.Config{URL: databaseURL, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	game, other := uuid.New(), uuid.New()
	var last eventstore.Event
	for _, g := range []uuid.UUID{game, other} {
		res, err := s.Append(ctx, g, 0, eventstore.Pending{Type: "e", SchemaVersion: 1, Actor: "a", MessageID: "m", Data: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		last = res.Events[0]
		seal := eventstore.Seal{GameID: g, Seq: 1, Hash: last.Hash, Kind: eventstore.SealFinal, KeyID: "k", Signature: make([]byte, 64), SealedAt: time.Now()}
		if err := s.PutSeal(ctx, seal); err != nil {
			t.Fatal(err)
		}
	}

	cfg, _ := pgx.ParseConfig(databaseURL)
	cfg.RuntimeParams["search_path"] = schema
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	refused := func(stmts ...string) {
		t.Helper()
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		for i, stmt := range stmts {
			_, err := tx.Exec(ctx, stmt, game)
			if i < len(stmts)-1 && err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
			if i == len(stmts)-1 && err == nil {
				t.Fatalf("%v succeeded", stmts)
			}
		}
	}
	const removing = `SELECT set_config('playlog.removing', 'on', true), $1::uuid`
	for _, table := range []string{"events", "seals"} {
		refused(`DELETE FROM ` + table + ` WHERE game_id = $1`)
		refused(`UPDATE ` + table + ` SET game_id = game_id WHERE game_id = $1`)
		refused(removing, `UPDATE `+table+` SET game_id = game_id WHERE game_id = $1`)
		refused(`SELECT set_config('playlog.removing', 'off', true), $1::uuid`, `DELETE FROM `+table+` WHERE game_id = $1`)
	}
	// The setting is the transaction's: a later one is refused again.
	if _, err := conn.Exec(ctx, `BEGIN; SELECT set_config('playlog.removing', 'on', true); COMMIT`); err != nil {
		t.Fatal(err)
	}
	refused(`DELETE FROM events WHERE game_id = $1`)

	if err := s.Remove(ctx, game, 1, last.Hash); err == nil || !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("remove with the other game's hash: %v", err) // last is other's
	}
	h, _ := s.Read(ctx, game, 0, 0)
	if err := s.Remove(ctx, game, 1, h[0].Hash); err != nil {
		t.Fatal(err)
	}
	var events, seals int
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM seals)`).Scan(&events, &seals); err != nil {
		t.Fatal(err)
	}
	if events != 1 || seals != 1 {
		t.Fatalf("%d events and %d seals left, want the other game's one each", events, seals)
	}
}

// TestImportKeepsDataBytes: data is stored as given, white space inside it
// and escapes included (the json column keeps the text). White space
// around a value is refused by every store (eventstore.ValidateAppend).
func TestImportKeepsDataBytes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := postgres.Open(ctx, postgres.Config{URL: databaseURL, Schema: pgtest.NewSchema("bytes")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	game := uuid.New()
	events := eventstore.Stamp(game, 0, eventstore.Hash{}, time.Now(), []eventstore.Pending{
		{Type: "e", SchemaVersion: 1, Data: []byte("{\"a\" :\t1 ,\n \"b\": [ ]}")},
		{Type: "e", SchemaVersion: 1, Data: []byte(`"\u0000 \ud83d\ude00 é"`)},
	})
	if _, err := s.Import(ctx, events); err != nil {
		t.Fatal(err)
	}
	got, err := s.Read(ctx, game, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range events {
		if string(got[i].Data) != string(events[i].Data) {
			t.Fatalf("event %d data %q, want %q", i+1, got[i].Data, events[i].Data)
		}
	}
	if err := eventstore.VerifyChain(eventstore.Hash{}, got); err != nil {
		t.Fatal(err)
	}
}
