package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/postgres"
	"github.com/playlog/playlog/internal/testkit/pgtest"
)

// A schema name the store accepts carries NOTIFY wake-ups to other
// processes: "<schema>_events" past 63 bytes was cut short by LISTEN and
// refused by pg_notify ("channel name too long"), so with a 57-63 byte
// schema another process's subscriber learnt of an append only at its
// TailCheck. Names are now at most 56 bytes; the longest works.
func TestLongestSchemaWakesOtherProcess(t *testing.T) {
	ctx := context.Background()
	schema := pgtest.NewSchema("l")
	if _, err := postgres.Open(ctx, postgres.Config{URL: databaseURL, Schema: schema + strings.Repeat("x", 57-len(schema))}); err == nil || !strings.Contains(err.Error(), "at most 56") {
		t.Fatalf("a 57-byte schema: %v", err)
	}
	schema += strings.Repeat("x", 56-len(schema))
	a := openStore(t, postgres.Config{Schema: schema, TailCheck: time.Minute})
	b := openStore(t, postgres.Config{Schema: schema, TailCheck: time.Minute})
	game, subs := watched(t, a, b)
	sub := subs[0]
	if _, err := a.Append(ctx, game, 1, pending(1)); err != nil {
		t.Fatal(err)
	}
	wait, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	e, err := sub.Next(wait)
	if err != nil {
		t.Fatalf("schema of %d bytes: the other process's subscriber got nothing within 3s (TailCheck 1m): %v", len(schema), err)
	}
	if e.Seq != 2 {
		t.Fatalf("got seq %d", e.Seq)
	}
}

// A pg_restore onto another server (a lost machine) carries the txid
// column as stored, but not the old server's transaction counter: every
// restored event sat above the new server's snapshot xmin, so the global
// feed (directory, history, timers) delivered none of them, and new
// appends sorted before them. Opening such a log is refused, saying how to
// advance the counter.
func TestRestoreOntoAnotherServerIsRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	schema := pgtest.NewSchema("restore")
	src := openStore(t, postgres.Config{Schema: schema})
	// A server that has been in use: its transaction counter has moved on.
	for i := 0; i < 3000; i++ {
		if _, err := src.Pool().Exec(ctx, `SELECT pg_current_xact_id()`); err != nil {
			t.Fatal(err)
		}
	}
	game := uuid.New()
	if _, err := src.Append(ctx, game, 0, pending(0), pending(0)); err != nil {
		t.Fatal(err)
	}
	rows, err := src.Pool().Query(ctx, `SELECT game_id, seq, txid, type, schema_version, actor, message_id,
		command_size, data::text, recorded_at, prev_hash, hash FROM events ORDER BY txid, seq`)
	if err != nil {
		t.Fatal(err)
	}
	var dump [][]any
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		dump = append(dump, v)
	}
	rows.Close()

	// The new server: an empty database, restored (as pg_restore does:
	// the schema, then COPY of the rows as they were).
	cluster, err := pgtest.StartOwn()
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Stop()
	dst, err := postgres.Open(ctx, postgres.Config{URL: cluster.URL, Schema: schema, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	for _, v := range dump {
		if _, err := dst.Pool().Exec(ctx, `INSERT INTO events (game_id, seq, txid, type, schema_version, actor, message_id,
			command_size, data, recorded_at, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9::json,$10,$11,$12)`, v...); err != nil {
			t.Fatal(err)
		}
	}
	dst.Close()
	_, err = postgres.Open(ctx, postgres.Config{URL: cluster.URL, Schema: schema})
	if err == nil || !strings.Contains(err.Error(), "restored from another server") || !strings.Contains(err.Error(), "pg_resetwal") {
		t.Fatalf("opening a log restored onto another server: %v; want a refusal saying how to mend it", err)
	}
}

// TestListenBackoffResets: eventlog.md: "When the LISTEN connection
// is lost, every subscription is woken and the connection is remade
// (backoff 100 ms doubling to 5 s)". The backoff was never reset after a
// connection that held, so a long-lived process that has lost its LISTEN
// connection a few times (PostgreSQL restarts, failovers, idle-session
// killers) waited 5 s at every later loss, during which no other
// process's appends woke its subscribers.
func TestListenBackoffResets(t *testing.T) {
	ctx := context.Background()
	schema := pgtest.NewSchema("backoff")
	s := openStore(t, postgres.Config{Schema: schema})
	listenQuery := `LISTEN "` + schema + `_bus"`
	listener := func() int32 {
		var pid int32
		err := s.Pool().QueryRow(ctx, `SELECT pid FROM pg_stat_activity WHERE query = $1`, listenQuery).Scan(&pid)
		if err != nil {
			return 0
		}
		return pid
	}
	waitListener := func(old int32) (int32, time.Duration) {
		start := time.Now()
		for time.Since(start) < 15*time.Second {
			if pid := listener(); pid != 0 && pid != old {
				return pid, time.Since(start)
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatal("the listener did not come back within 15s")
		return 0, 0
	}
	pid, _ := waitListener(0)
	for i := 1; i <= 7; i++ {
		time.Sleep(500 * time.Millisecond) // LISTEN holds a while
		if _, err := s.Pool().Exec(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
			t.Fatal(err)
		}
		var took time.Duration
		pid, took = waitListener(pid)
		t.Logf("loss %d: LISTEN back after %v", i, took.Round(time.Millisecond))
		if took > 2*time.Second {
			t.Fatalf("loss %d of a connection that held: LISTEN back only after %v (want ~100ms backoff)", i, took.Round(time.Millisecond))
		}
	}
}

// TestCloseSendsPendingNotifications: "Other processes therefore
// learn of an append up to NotifyDelay late" (eventlog.md). An append
// acknowledged just before its process closes the store (a node drained
// for a rolling restart) was never announced: the notifier dropped what
// it gathered when its context ended, and other processes' viewers got
// the event only at TailCheck.
func TestCloseSendsPendingNotifications(t *testing.T) {
	ctx := context.Background()
	schema := pgtest.NewSchema("closenotify")
	a, err := postgres.Open(ctx, postgres.Config{URL: databaseURL, Schema: schema, NotifyDelay: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b := openStore(t, postgres.Config{Schema: schema, TailCheck: time.Minute})
	game, subs := watched(t, a, b)
	sub := subs[0]
	if _, err := a.Append(ctx, game, 1, pending(1)); err != nil {
		t.Fatal(err)
	}
	a.Close() // the node stops right after answering
	start := time.Now()
	wait, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	e, err := sub.Next(wait)
	t.Logf("got %d after %v: %v", e.Seq, time.Since(start), err)
	if err != nil {
		t.Fatalf("an append acknowledged before Close never reached the other process's subscriber in 3s (TailCheck 1m): %v", err)
	}
}

// TestRetriedAppendWakesItsViewers: a client whose append timed out
// after the server had taken it retries with the same message id, as the
// protocol tells it to; the store answers Duplicate. That answer used to
// hand the events to no local subscriber and announce them to no other
// process: live viewers got the move only at TailCheck.
//
// The first try is committed here by a session of its own, as the store
// writes it, announced to no one: a try whose client gave up, or whose
// node died between its commit and its answer. (Cancelling a real append
// while it waits on a lock does not reliably commit it: pgx also sends
// PostgreSQL a cancel request, which sometimes lands first.)
func TestRetriedAppendWakesItsViewers(t *testing.T) {
	ctx := context.Background()
	schema := pgtest.NewSchema("retried")
	a := openStore(t, postgres.Config{Schema: schema, TailCheck: time.Minute})
	b := openStore(t, postgres.Config{Schema: schema, TailCheck: time.Minute})
	game, subs := watched(t, a, a, b)
	local, remote := subs[0], subs[1]

	first, err := b.Read(ctx, game, 0, 1)
	if err != nil || len(first) != 1 {
		t.Fatalf("reading seq 1: %v, %v", first, err)
	}
	stored := eventstore.Stamp(game, 1, first[0].Hash, time.Now(), []eventstore.Pending{pending(1)})[0]
	if _, err := b.Pool().Exec(ctx, `INSERT INTO events (game_id, seq, type, schema_version, actor, message_id, command_size, data, recorded_at, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, 1, $7::json, $8, $9, $10)`,
		game, int64(stored.Seq), stored.Type, int32(stored.SchemaVersion), stored.Actor, stored.MessageID,
		string(stored.Data), stored.RecordedAt, stored.PrevHash[:], stored.Hash[:]); err != nil {
		t.Fatal(err)
	}
	res, err := a.Append(ctx, game, 1, pending(1)) // the client's retry
	if err != nil || !res.Duplicate {
		t.Fatalf("retry: %+v, %v; want a duplicate", res, err)
	}
	for name, sub := range map[string]eventstore.Subscription{"local": local, "remote": remote} {
		wait, cancel := context.WithTimeout(ctx, 2*time.Second)
		e, err := sub.Next(wait)
		cancel()
		if err != nil || e.Seq != 2 {
			t.Errorf("%s subscriber: %v (seq %d) within 2s of the retry's answer; TailCheck is 1m", name, err, e.Seq)
		}
	}
}

// watched is a game whose first event a has appended, followed after it
// through each of stores (settled): a store's own subscription or another
// process's.
func watched(t *testing.T, a *postgres.Store, stores ...*postgres.Store) (uuid.UUID, []eventstore.Subscription) {
	t.Helper()
	ctx := context.Background()
	game := uuid.New()
	if _, err := a.Append(ctx, game, 0, pending(0)); err != nil {
		t.Fatal(err)
	}
	var subs []eventstore.Subscription
	for _, s := range stores {
		sub, err := s.Subscribe(ctx, game, 1)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sub.Close() })
		subs = append(subs, sub)
	}
	settle(t, subs...)
	return game, subs
}

// settle waits for the stores' LISTEN to be in place, then takes the
// wake-ups of the subscriptions' start, which deliver nothing: an event
// read later was delivered by what the test does next.
func settle(t *testing.T, subs ...eventstore.Subscription) {
	t.Helper()
	time.Sleep(500 * time.Millisecond)
	for _, sub := range subs {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		e, err := sub.Next(ctx)
		cancel()
		if err == nil {
			t.Fatalf("unexpected event %d before the test appended it", e.Seq)
		}
	}
}

// A store's notifications are marked with the id its Config.NewID made
// (its own listener skips them by it), not one it draws itself.
func TestNotificationsCarryTheInjectedOrigin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	schema := pgtest.NewSchema("origin")
	origin := uuid.MustParse("0190c0de-0000-7000-8000-000000000042")
	s := openStore(t, postgres.Config{Schema: schema, NewID: func() uuid.UUID { return origin }})
	conn, err := s.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `LISTEN "`+schema+`_events"`); err != nil {
		t.Fatal(err)
	}
	game := uuid.New()
	if _, err := s.Append(ctx, game, 0, pending(0)); err != nil {
		t.Fatal(err)
	}
	n, err := conn.Conn().WaitForNotification(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := "@" + origin.String() + "," + game.String(); n.Payload != want {
		t.Fatalf("notification %q; want %q", n.Payload, want)
	}
}
