package storetest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
)

// Seals, Import and Remove (eventstore.Sealed, eventstore.Importer).

// exportedGame is a game's log as another store stored it, built without a
// store: appends of one or more events, with and without message ids, two
// of them without one at the same instant (which Import stores as one), and
// data whose bytes any re-encoding would change. Import's append groups:
// seqs 1-2, 3, 4-5, 6-7, 8.
func exportedGame(game uuid.UUID) []eventstore.Event {
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
	p := func(typ string, version int, actor, msgID, data string) eventstore.Pending {
		return eventstore.Pending{Type: typ, SchemaVersion: version, Actor: actor, MessageID: msgID, Data: []byte(data)}
	}
	appends := []struct {
		at     time.Duration
		events []eventstore.Pending
	}{
		{0, []eventstore.Pending{
			p("game_created", 1, "system", "", `{"rules":"tictactoe", "players":["alice","bob"]}`),
			p("dealt", 1, "system", "", `{"hands": [ [1, 2], [3] ]}`)}},
		{time.Millisecond, []eventstore.Pending{p("moved", 1, "alice", "alice/m1", `{"cell":4,"note":"<&> \"quoted\" é \u00e9"}`)}},
		{2 * time.Millisecond, []eventstore.Pending{p("moved", 2, "bob", "bob/m1", `{"cell":0}`), p("scored", 1, "bob", "bob/m1", `{"points":1.50}`)}},
		{3 * time.Millisecond, []eventstore.Pending{p("tick", 1, "system", "", `{}`)}},
		{3 * time.Millisecond, []eventstore.Pending{p("tick", 1, "system", "", `{"n":2}`)}},
		{5*time.Millisecond + 7*time.Microsecond, []eventstore.Pending{p("ended", 1, "alice", "alice/m2", `[]`)}},
	}
	var out []eventstore.Event
	for _, a := range appends {
		var prev eventstore.Hash
		if len(out) > 0 {
			prev = out[len(out)-1].Hash
		}
		out = append(out, eventstore.Stamp(game, uint64(len(out)), prev, t0.Add(a.at), a.events)...)
	}
	return out
}

// rechain recomputes the chain of events as given (seqs untouched).
func rechain(events []eventstore.Event) []eventstore.Event {
	var prev eventstore.Hash
	for i := range events {
		events[i].PrevHash = prev
		events[i].Hash = eventstore.ChainHash(prev, &events[i])
		prev = events[i].Hash
	}
	return events
}

// edited is a copy of events, with fresh data slices, changed by edit.
func edited(events []eventstore.Event, edit func([]eventstore.Event) []eventstore.Event) []eventstore.Event {
	out := make([]eventstore.Event, len(events))
	for i, e := range events {
		e.Data = append([]byte(nil), e.Data...)
		out[i] = e
	}
	return edit(out)
}

// sameEnvelopes asserts that got are want, field for field, byte for byte
// (not the positions, which are each store's own).
func sameEnvelopes(t *testing.T, got, want []eventstore.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.GameID != w.GameID || g.Seq != w.Seq || g.Type != w.Type || g.SchemaVersion != w.SchemaVersion ||
			g.Actor != w.Actor || g.MessageID != w.MessageID || !bytes.Equal(g.Data, w.Data) ||
			!g.RecordedAt.Equal(w.RecordedAt) || g.PrevHash != w.PrevHash || g.Hash != w.Hash {
			t.Fatalf("event %d differs:\n got %+v (data %s)\nwant %+v (data %s)", i, g, g.Data, w, w.Data)
		}
	}
}

func mustImport(t *testing.T, s eventstore.Store, events []eventstore.Event, written int) {
	t.Helper()
	res, err := s.Import(ctxT(t), events)
	if err != nil {
		t.Fatalf("import of %d events: %v", len(events), err)
	}
	if res.Written != written {
		t.Fatalf("import of %d events wrote %d, want %d", len(events), res.Written, written)
	}
}

// wantConflict asserts err is a *ConflictError about game.
func wantConflict(t *testing.T, err error, game uuid.UUID) {
	t.Helper()
	var ce *eventstore.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, eventstore.ErrConflict) || ce.Game != game {
		t.Fatalf("err %v, want a *ConflictError about %s", err, game)
	}
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, eventstore.ErrGameNotFound) {
		t.Fatalf("%s: %v, want ErrGameNotFound", what, err)
	}
}

func testSeal(game uuid.UUID, seq uint64, hash eventstore.Hash, kind eventstore.SealKind, key string, sig byte) eventstore.Seal {
	return eventstore.Seal{
		GameID: game, Seq: seq, Hash: hash, Kind: kind, KeyID: key,
		Signature: bytes.Repeat([]byte{sig}, 64),
		SealedAt:  time.Date(2026, 5, 6, 7, 8, 9, int(sig)*1000, time.UTC),
	}
}

func sameSeals(t *testing.T, got, want []eventstore.Seal) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d seals, want %d:\n got %+v\nwant %+v", len(got), len(want), got, want)
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.GameID != w.GameID || g.Seq != w.Seq || g.Hash != w.Hash || g.Kind != w.Kind || g.KeyID != w.KeyID ||
			!bytes.Equal(g.Signature, w.Signature) || !g.SealedAt.Equal(w.SealedAt) {
			t.Fatalf("seal %d differs:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func seals(t *testing.T, s eventstore.Store, game uuid.UUID) []eventstore.Seal {
	t.Helper()
	got, err := s.Seals(ctxT(t), game)
	if err != nil {
		t.Fatalf("seals of %s: %v", game, err)
	}
	return got
}

func putSeal(t *testing.T, s eventstore.Store, seal eventstore.Seal) {
	t.Helper()
	if err := s.PutSeal(ctxT(t), seal); err != nil {
		t.Fatalf("put seal %+v: %v", seal, err)
	}
}

// testSeals: seals come back in the order stored, each once, per game, and
// survive a restart.
func testSeals(t *testing.T, b Backend) {
	s := b.Open(t, Options{Now: Clock()})
	game, other := uuid.New(), uuid.New()
	mustAppend(t, s, game, 0, ev("created", "", `{}`), ev("moved", "", `{"cell":1}`))
	mustAppend(t, s, game, 2, ev("ended", "m2", `{}`))
	mustAppend(t, s, other, 0, ev("created", "", `{}`))
	all := readAll(t, s, game)
	if got := seals(t, s, game); len(got) != 0 {
		t.Fatalf("a game without seals has %+v", got)
	}

	s1 := testSeal(game, 2, all[1].Hash, eventstore.SealCheckpoint, "k1", 1)
	s2 := testSeal(game, 3, all[2].Hash, eventstore.SealFinal, "k1", 2)
	s3 := testSeal(game, 2, all[1].Hash, eventstore.SealCheckpoint, "k2", 3) // another key
	s4 := testSeal(game, 2, all[1].Hash, eventstore.SealCheckpoint, "k1", 4) // another signature
	for _, seal := range []eventstore.Seal{s1, s2, s1, s3, s2, s4} {
		putSeal(t, s, seal)
	}
	// Equal but for what does not name a seal: not stored again.
	again := s3
	again.Hash, again.SealedAt = all[0].Hash, again.SealedAt.Add(time.Hour)
	putSeal(t, s, again)
	want := []eventstore.Seal{s1, s2, s3, s4}
	sameSeals(t, seals(t, s, game), want)
	if got := seals(t, s, other); len(got) != 0 {
		t.Fatalf("another game's seals show on %s: %+v", other, got)
	}
	o1 := testSeal(other, 1, readAll(t, s, other)[0].Hash, eventstore.SealCheckpoint, "k1", 1)
	putSeal(t, s, o1)
	sameSeals(t, seals(t, s, other), []eventstore.Seal{o1})

	// A seal without a time is stamped with the store's.
	untimed := testSeal(other, 1, o1.Hash, eventstore.SealFinal, "k1", 9)
	untimed.SealedAt = time.Time{}
	putSeal(t, s, untimed)
	if got := seals(t, s, other); len(got) != 2 || got[1].SealedAt.IsZero() {
		t.Fatalf("a seal stored without a time: %+v", got)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, b)
	sameSeals(t, seals(t, s, game), want)
	putSeal(t, s, s2) // still known after the restart
	sameSeals(t, seals(t, s, game), want)
	checkLog(t, readAll(t, s, game), 3) // seals are not events
}

// testBadSeals: seals of unknown games and malformed seals are refused and
// change nothing; a closed store refuses every lifecycle call.
func testBadSeals(t *testing.T, b Backend) {
	s := open(t, b)
	game := uuid.New()
	mustAppend(t, s, game, 0, ev("created", "", `{}`))
	h := readAll(t, s, game)[0].Hash
	good := testSeal(game, 1, h, eventstore.SealFinal, "k1", 1)
	putSeal(t, s, good)

	unknown := uuid.New()
	wantNotFound(t, "put seal of an unknown game", s.PutSeal(ctxT(t), testSeal(unknown, 1, h, eventstore.SealFinal, "k1", 1)))
	_, err := s.Seals(ctxT(t), unknown)
	wantNotFound(t, "seals of an unknown game", err)
	if _, err := s.Seals(ctxT(t), uuid.Nil); !errors.Is(err, eventstore.ErrInvalidArgument) {
		t.Fatalf("seals of the nil game: %v", err)
	}

	bad := map[string]func(*eventstore.Seal){
		"nil game":             func(s *eventstore.Seal) { s.GameID = uuid.Nil },
		"seq 0":                func(s *eventstore.Seal) { s.Seq = 0 },
		"no kind":              func(s *eventstore.Seal) { s.Kind = "" },
		"unknown kind":         func(s *eventstore.Seal) { s.Kind = "weekly" },
		"no key id":            func(s *eventstore.Seal) { s.KeyID = "" },
		"key id too long":      func(s *eventstore.Seal) { s.KeyID = strings.Repeat("k", 65) },
		"key id not UTF-8":     func(s *eventstore.Seal) { s.KeyID = "\xff" },
		"no signature":         func(s *eventstore.Seal) { s.Signature = nil },
		"short signature":      func(s *eventstore.Seal) { s.Signature = s.Signature[:63] },
		"long signature":       func(s *eventstore.Seal) { s.Signature = append(s.Signature, 0) },
		"unknown game, seq 0":  func(s *eventstore.Seal) { s.GameID, s.Seq = unknown, 0 },
		"sealed after 9999":    func(s *eventstore.Seal) { s.SealedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"sealed before year 1": func(s *eventstore.Seal) { s.SealedAt = time.Date(-5000, 1, 1, 0, 0, 0, 0, time.UTC) },
	}
	for name, edit := range bad {
		t.Run(name, func(t *testing.T) {
			seal := testSeal(game, 1, h, eventstore.SealCheckpoint, "k9", 7)
			edit(&seal)
			err := s.PutSeal(ctxT(t), seal)
			if !errors.Is(err, eventstore.ErrInvalidArgument) {
				t.Fatalf("err %v, want ErrInvalidArgument", err)
			}
			if err.Error() == eventstore.ErrInvalidArgument.Error() {
				t.Fatalf("error %q says no more than its sentinel", err)
			}
		})
	}
	sameSeals(t, seals(t, s, game), []eventstore.Seal{good})
	longest := testSeal(game, 1, h, eventstore.SealCheckpoint, strings.Repeat("k", 64), 2)
	putSeal(t, s, longest)
	sameSeals(t, seals(t, s, game), []eventstore.Seal{good, longest})

	closed := b.OpenPeer(t, s, Options{Now: Clock()}) // beside s: two stores on one directory are refused
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for name, err := range map[string]error{
		"put seal": closed.PutSeal(ctx, good),
		"seals":    func() error { _, err := closed.Seals(ctx, game); return err }(),
		"import":   func() error { _, err := closed.Import(ctx, exportedGame(uuid.New())); return err }(),
		"remove":   closed.Remove(ctx, game, 1, h),
	} {
		if !errors.Is(err, eventstore.ErrClosed) {
			t.Fatalf("%s on a closed store: %v", name, err)
		}
	}
	sameSeals(t, seals(t, s, game), []eventstore.Seal{good, longest})
}

// testSealsNotDelivered: seals are not events: neither the feed nor a game
// subscription delivers them.
func testSealsNotDelivered(t *testing.T, b Backend) {
	s := open(t, b)
	game := uuid.New()
	all := mustAppend(t, s, game, 0, ev("created", "m1", `{}`), ev("moved", "m1", `{}`)).Events
	feed, err := s.Feed(ctxT(t), eventstore.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	sub, err := s.Subscribe(ctxT(t), game, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	putSeal(t, s, testSeal(game, 2, all[1].Hash, eventstore.SealCheckpoint, "k1", 1))
	putSeal(t, s, testSeal(game, 2, all[1].Hash, eventstore.SealFinal, "k1", 2))
	mustAppend(t, s, game, 2, ev("after", "m2", `{"sealed":true}`))

	if got := collect(t, sub, 2, 3); got[0].Type != "after" {
		t.Fatalf("subscription delivered %+v after the seals, want the event appended", got[0])
	}
	got := collect(t, feed, 0, 3)
	for _, e := range got {
		if e.GameID != game {
			t.Fatalf("feed delivered %+v", e)
		}
	}
	if got[2].Type != "after" {
		t.Fatalf("feed delivered %+v, want the event appended after the seals", got[2])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	for name, sub := range map[string]eventstore.Subscription{"feed": feed, "subscription": sub} {
		if e, err := sub.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s after the last event: %+v, %v; want nothing", name, e, err)
		}
	}
}

// testImportCopy copies a game, with its seals, from one store to another
// on fresh storage of its own, as an export and import would: the copy
// reads back byte for byte, its message ids are idempotent there, also
// after a restart, and its chain goes on.
func testImportCopy(t *testing.T, src, dst Backend) {
	a := open(t, src)
	game := uuid.New()
	mustAppend(t, a, game, 0,
		ev("game_created", "", `{"rules":"tictactoe", "players":["alice","bob"]}`),
		ev("dealt", "", `{"hands": [ [1, 2], [3] ]}`))
	mustAppend(t, a, game, 2, ev("moved", "alice/m1", `{"cell":4,"note":"<&> \"quoted\" é \u00e9"}`))
	mustAppend(t, a, game, 3,
		eventstore.Pending{Type: "moved", SchemaVersion: 2, Actor: "bob", MessageID: "bob/m1", Data: []byte(`{"cell":0}`)},
		eventstore.Pending{Type: "scored", SchemaVersion: 1, Actor: "bob", MessageID: "bob/m1", Data: []byte(`{"points":1.50}`)})
	mustAppend(t, a, game, 5, ev("tick", "", `{}`))
	mustAppend(t, a, game, 6, ev("ended", "alice/m2", `[]`))
	exported := readAll(t, a, game)
	checkLog(t, exported, 7)
	putSeal(t, a, testSeal(game, 5, exported[4].Hash, eventstore.SealCheckpoint, "k1", 1))
	putSeal(t, a, testSeal(game, 7, exported[6].Hash, eventstore.SealFinal, "k1", 2))
	exportedSeals := seals(t, a, game)

	d := open(t, dst)
	mustImport(t, d, exported, 7)
	for _, seal := range exportedSeals {
		putSeal(t, d, seal)
	}
	sameEnvelopes(t, readAll(t, d, game), exported)
	sameSeals(t, seals(t, d, game), exportedSeals)
	if h := head(t, d, game); h != 7 {
		t.Fatalf("head %d after the import, want 7", h)
	}
	mustImport(t, d, exported, 0)

	res, err := d.Append(ctxT(t), game, 0, ev("moved", "alice/m1", `{"cell":5}`))
	if err != nil || !res.Duplicate {
		t.Fatalf("an imported message id appended again: %+v, %v; want a duplicate", res, err)
	}
	sameEnvelopes(t, res.Events, exported[2:3])

	// A restarted store knows the imported message ids from the log alone.
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = open(t, dst)
	res, err = d.Append(ctxT(t), game, 7, ev("moved", "bob/m1", `{}`))
	if err != nil || !res.Duplicate {
		t.Fatalf("an imported message id after a restart: %+v, %v; want a duplicate", res, err)
	}
	sameEnvelopes(t, res.Events, exported[3:5])
	next := mustAppend(t, d, game, 7, ev("rematch", "alice/m3", `{}`))
	if next.Events[0].PrevHash != exported[6].Hash {
		t.Fatal("an append after the import does not continue its chain")
	}
	checkLog(t, readAll(t, d, game), 8)
	sameEnvelopes(t, readAll(t, d, game)[:7], exported)
}

// testImportResume: an import cut short (a prefix of whole appends) is
// completed by the next; a complete one writes nothing; subscribers and the
// feed see imported events; imported message ids are duplicates.
func testImportResume(t *testing.T, b Backend) {
	s := open(t, b)
	game := uuid.New()
	events := exportedGame(game)
	mustImport(t, s, events[:3], 3)
	sameEnvelopes(t, readAll(t, s, game), events[:3])
	mustImport(t, s, events[:3], 0)

	// A subscriber waiting for the game is woken by the import, as by an
	// append (well before any periodic look at the game).
	sub, err := s.Subscribe(ctxT(t), game, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	woken := make(chan []eventstore.Event, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		var got []eventstore.Event
		for len(got) < len(events)-3 {
			e, err := sub.Next(ctx)
			if err != nil {
				break
			}
			got = append(got, e)
		}
		woken <- got
	}()
	time.Sleep(100 * time.Millisecond) // the subscriber waits
	mustImport(t, s, events, len(events)-3)
	sameEnvelopes(t, <-woken, events[3:])
	sameEnvelopes(t, readAll(t, s, game), events)
	mustImport(t, s, events, 0)

	// The store holds more than a prefix given: not the same game.
	_, err = s.Import(ctxT(t), events[:5])
	wantConflict(t, err, game)
	sameEnvelopes(t, readAll(t, s, game), events)

	res, err := s.Append(ctxT(t), game, 3, ev("ended", "alice/m2", `{}`))
	if err != nil || !res.Duplicate {
		t.Fatalf("an imported message id appended again: %+v, %v; want a duplicate", res, err)
	}
	sameEnvelopes(t, res.Events, events[7:])

	feed, err := s.Feed(ctxT(t), eventstore.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	sameEnvelopes(t, collect(t, feed, 0, uint64(len(events))), events)
}

// testImportConflict: a store holding something else under the game's id
// refuses the import with a conflict and keeps what it holds.
func testImportConflict(t *testing.T, b Backend) {
	s := open(t, b)
	game := uuid.New()
	mustAppend(t, s, game, 0, ev("created", "", `{}`), ev("moved", "", `{}`))
	stored := readAll(t, s, game)
	_, err := s.Import(ctxT(t), exportedGame(game))
	wantConflict(t, err, game)
	sameEnvelopes(t, readAll(t, s, game), stored)

	// A prefix that differs from the given events at seq 4.
	other := uuid.New()
	events := exportedGame(other)
	mustImport(t, s, events[:5], 5)
	changed := edited(events, func(e []eventstore.Event) []eventstore.Event {
		e[3].Data = []byte(`{"cell":1}`)
		return rechain(e)
	})
	_, err = s.Import(ctxT(t), changed)
	wantConflict(t, err, other)
	sameEnvelopes(t, readAll(t, s, other), events[:5])
	mustImport(t, s, events, 3) // the right one goes on
}

// testBadImport: an import that is not a whole, intact, valid game is
// refused before anything is written, into a new game or onto a prefix.
func testBadImport(t *testing.T, b Backend) {
	s := open(t, b)
	fresh, prefix := uuid.New(), uuid.New()
	mustImport(t, s, exportedGame(prefix)[:3], 3)
	for _, game := range []uuid.UUID{fresh, prefix} {
		events := exportedGame(game)
		oversized := make([]eventstore.Pending, eventstore.MaxAppendEvents+1)
		for i := range oversized {
			oversized[i] = ev("e", "one-command", `{}`)
		}
		cases := []struct {
			name   string
			events []eventstore.Event
			want   error
		}{
			{"no events", nil, eventstore.ErrInvalidArgument},
			{"nil game", exportedGame(uuid.Nil), eventstore.ErrInvalidArgument},
			{"not from seq 1", events[3:], eventstore.ErrInvalidArgument},
			{"gap", append(append([]eventstore.Event(nil), events[:4]...), events[5:]...), eventstore.ErrInvalidArgument},
			{"seq repeated", append(append([]eventstore.Event(nil), events[:4]...), events[3:]...), eventstore.ErrInvalidArgument},
			{"data changed, chain kept", edited(events, func(e []eventstore.Event) []eventstore.Event {
				e[4].Data = []byte(`{"cell":9}`)
				return e
			}), eventstore.ErrInvalidArgument},
			{"last hash wrong", edited(events, func(e []eventstore.Event) []eventstore.Event {
				e[len(e)-1].Hash[0] ^= 1
				return e
			}), eventstore.ErrInvalidArgument},
			{"prev hash wrong", edited(events, func(e []eventstore.Event) []eventstore.Event {
				e[5].PrevHash = e[3].Hash
				e[5].Hash = eventstore.ChainHash(e[5].PrevHash, &e[5])
				return e
			}), eventstore.ErrInvalidArgument},
			{"mixed games", edited(events, func(e []eventstore.Event) []eventstore.Event {
				e[5].GameID = uuid.New()
				return rechain(e)
			}), eventstore.ErrInvalidArgument},
			{"bad type", edited(events, func(e []eventstore.Event) []eventstore.Event {
				e[4].Type = "Bad Type"
				return rechain(e)
			}), eventstore.ErrInvalidArgument},
			{"schema version 0", edited(events, func(e []eventstore.Event) []eventstore.Event {
				e[4].SchemaVersion = 0
				return rechain(e)
			}), eventstore.ErrInvalidArgument},
			{"data not JSON", edited(events, func(e []eventstore.Event) []eventstore.Event {
				e[4].Data = []byte(`{"cell":`)
				return rechain(e)
			}), eventstore.ErrInvalidData},
			{"event data over limit", edited(events, func(e []eventstore.Event) []eventstore.Event {
				e[4].Data = []byte(`"` + strings.Repeat("x", eventstore.MaxEventData) + `"`)
				return rechain(e)
			}), eventstore.ErrTooLarge},
			{"one append over limit", append(events[:3:3], eventstore.Stamp(game, 3, events[2].Hash, events[2].RecordedAt.Add(time.Second), oversized)...),
				eventstore.ErrTooLarge},
			{"message id used twice", edited(events, func(e []eventstore.Event) []eventstore.Event {
				e[7].MessageID = e[2].MessageID
				return rechain(e)
			}), eventstore.ErrInvalidArgument},
			{"time finer than a microsecond", edited(events, func(e []eventstore.Event) []eventstore.Event {
				e[4].RecordedAt = e[4].RecordedAt.Add(time.Nanosecond)
				return rechain(e)
			}), eventstore.ErrInvalidArgument},
			{"time after 9999", edited(events, func(e []eventstore.Event) []eventstore.Event {
				e[len(e)-1].RecordedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
				return rechain(e)
			}), eventstore.ErrInvalidArgument},
			{"time before year 1", edited(events, func(e []eventstore.Event) []eventstore.Event {
				for i := range e {
					e[i].RecordedAt = time.Date(-5000, 1, 1, 0, 0, i, 0, time.UTC)
				}
				return rechain(e)
			}), eventstore.ErrInvalidArgument},
			{"invalid UTF-8 in data", edited(events, func(e []eventstore.Event) []eventstore.Event {
				e[4].Data = []byte("\"\xff\"")
				return rechain(e)
			}), eventstore.ErrInvalidData},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.Import(ctxT(t), tc.events)
				if !errors.Is(err, tc.want) {
					t.Fatalf("err %v, want %v", err, tc.want)
				}
				if err.Error() == tc.want.Error() {
					t.Fatalf("error %q says no more than its sentinel", err)
				}
			})
		}
	}
	_, err := s.Head(ctxT(t), fresh)
	wantNotFound(t, "head of a game whose imports were refused", err)
	sameEnvelopes(t, readAll(t, s, prefix), exportedGame(prefix)[:3])
	mustImport(t, s, exportedGame(prefix), 5)
}

// testRemove: Remove takes a game out, events and seals, only at the head
// it is told; the store, and another on the same data that had the game
// in memory, then know the game no more, and can take it back by Import;
// other games, and the feed, go on.
func testRemove(t *testing.T, b Backend) {
	s := open(t, b)
	p := b.OpenPeer(t, s, Options{Now: Clock()})
	t.Cleanup(func() { p.Close() })
	gone, appended, dup, restored, kept := uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New()
	logs := map[uuid.UUID][]eventstore.Event{}
	for _, game := range []uuid.UUID{gone, appended, dup, restored, kept} {
		mustAppend(t, s, game, 0, ev("created", "", `{}`))
		mustAppend(t, s, game, 1, ev("moved", "m1", `{"cell":1}`), ev("scored", "m1", `{}`))
		logs[game] = readAll(t, s, game)
		last := logs[game][2]
		putSeal(t, s, testSeal(game, 3, last.Hash, eventstore.SealFinal, "k1", 1))
		putSnapshot(t, s, eventstore.Snapshot{GameID: game, Seq: 3, Hash: last.Hash, Data: []byte(`{}`)})
		// The peer holds the game in memory, as a process serving it would.
		sameEnvelopes(t, readAll(t, p, game), logs[game])
		if res, err := p.Append(ctxT(t), game, 0, ev("moved", "m1", `{}`)); err != nil || !res.Duplicate {
			t.Fatalf("the peer knows the message id: %+v, %v", res, err)
		}
	}
	feed, err := s.Feed(ctxT(t), eventstore.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	collect(t, subOnly(feed, kept), 0, 3)

	h := logs[gone][2].Hash
	for name, err := range map[string]error{
		"an older head":       s.Remove(ctxT(t), gone, 2, logs[gone][1].Hash),
		"another hash":        s.Remove(ctxT(t), gone, 3, logs[gone][1].Hash),
		"a head beyond":       s.Remove(ctxT(t), gone, 4, h),
		"another game's head": s.Remove(ctxT(t), gone, 3, logs[kept][2].Hash),
	} {
		t.Run(name, func(t *testing.T) { wantConflict(t, err, gone) })
	}
	sameEnvelopes(t, readAll(t, s, gone), logs[gone])
	if got := seals(t, s, gone); len(got) != 1 {
		t.Fatalf("seals after refused removes: %+v", got)
	}
	if err := s.Remove(ctxT(t), uuid.Nil, 3, h); !errors.Is(err, eventstore.ErrInvalidArgument) {
		t.Fatalf("remove the nil game: %v", err)
	}
	if err := s.Remove(ctxT(t), gone, 0, eventstore.Hash{}); !errors.Is(err, eventstore.ErrInvalidArgument) {
		t.Fatalf("remove at head 0: %v", err)
	}
	wantNotFound(t, "remove an unknown game", s.Remove(ctxT(t), uuid.New(), 3, h))

	for _, game := range []uuid.UUID{gone, appended, dup, restored} {
		if err := s.Remove(ctxT(t), game, 3, logs[game][2].Hash); err != nil {
			t.Fatalf("remove %s: %v", game, err)
		}
	}
	// Remove leaves no seal behind; a game whose events go without it
	// does (the audit asks why).
	if ids, err := s.SealedWithoutEvents(ctxT(t)); err != nil || len(ids) != 0 {
		t.Fatalf("seals without events after Remove: %v, %v", ids, err)
	}
	ctx := ctxT(t)
	for _, st := range []eventstore.Store{s, p} {
		_, err := st.Read(ctx, gone, 0, 0)
		wantNotFound(t, "read from the start", err)
		_, err = st.Read(ctx, gone, 2, 0)
		wantNotFound(t, "read from seq 2", err)
		_, err = st.Head(ctx, gone)
		wantNotFound(t, "head", err)
		_, err = st.Seals(ctx, gone)
		wantNotFound(t, "seals", err)
		_, err = st.Subscribe(ctx, gone, 0)
		wantNotFound(t, "subscribe", err)
		wantNotFound(t, "put seal", st.PutSeal(ctx, testSeal(gone, 3, h, eventstore.SealFinal, "k1", 1)))
		wantNotFound(t, "remove again", st.Remove(ctx, gone, 3, h))
		if _, ok := snapshot(t, st, gone); ok {
			t.Fatal("a removed game's snapshot is left")
		}
	}
	_, err = s.Append(ctx, gone, 3, ev("moved", "m2", `{}`))
	wantNotFound(t, "append", err)
	// The peer appends to a removed game it holds in memory: by a message
	// id it knows, and by a new one.
	_, err = p.Append(ctx, appended, 3, ev("moved", "m2", `{}`))
	wantNotFound(t, "append by the peer", err)
	_, err = p.Append(ctx, dup, 3, ev("moved", "m1", `{}`))
	wantNotFound(t, "append by the peer, a message id it knows", err)

	// Taken back (an archive restored), with its seals again.
	mustImport(t, s, logs[restored], 3)
	putSeal(t, s, testSeal(restored, 3, logs[restored][2].Hash, eventstore.SealFinal, "k1", 1))
	sameEnvelopes(t, readAll(t, p, restored), logs[restored])
	sameEnvelopes(t, readAll(t, s, restored), logs[restored])
	if got := seals(t, p, restored); len(got) != 1 {
		t.Fatalf("seals of the restored game: %+v", got)
	}
	res, err := p.Append(ctx, restored, 0, ev("moved", "m1", `{}`))
	if err != nil || !res.Duplicate {
		t.Fatalf("the restored game's message id, by the peer: %+v, %v", res, err)
	}
	mustAppend(t, p, restored, 3, ev("rematch", "m9", `{}`))

	// The other games are untouched, and the feed goes on.
	sameEnvelopes(t, readAll(t, s, kept), logs[kept])
	if got := seals(t, s, kept); len(got) != 1 {
		t.Fatalf("seals of a game kept: %+v", got)
	}
	if _, ok := snapshot(t, s, kept); !ok {
		t.Fatal("the snapshot of a game kept went")
	}
	mustAppend(t, s, kept, 3, ev("moved", "m2", `{}`))
	collect(t, subOnly(feed, kept), 3, 4)
	// A feed from the start no longer has the removed games.
	again, err := s.Feed(ctxT(t), eventstore.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	seen := map[uuid.UUID]int{}
	for seen[kept] < 4 {
		e, err := again.Next(ctx)
		if err != nil {
			t.Fatalf("feed from the start after removals: %v (seen %v)", err, seen)
		}
		if e.GameID == gone || e.GameID == appended || e.GameID == dup {
			t.Fatalf("feed from the start delivered %s/%d, which was removed", e.GameID, e.Seq)
		}
		seen[e.GameID]++
	}
}

// subOnly is sub with the events of other games left out.
func subOnly(sub eventstore.Subscription, game uuid.UUID) eventstore.Subscription {
	return onlyGame{sub, game}
}

type onlyGame struct {
	eventstore.Subscription
	game uuid.UUID
}

func (o onlyGame) Next(ctx context.Context) (eventstore.Event, error) {
	for {
		e, err := o.Subscription.Next(ctx)
		if err != nil || e.GameID == o.game {
			return e, err
		}
	}
}

// testRacingImportsAndSeals: importers of one game on two stores at once
// store it once between them, and racing writers of one seal store it
// once.
func testRacingImportsAndSeals(t *testing.T, b Backend) {
	s := open(t, b)
	p := b.OpenPeer(t, s, Options{Now: Clock()})
	t.Cleanup(func() { p.Close() })
	game := uuid.New()
	events := exportedGame(game)
	const racers = 8
	var wg sync.WaitGroup
	written := make([]int, racers)
	start := make(chan struct{})
	for i := 0; i < racers; i++ {
		st := []eventstore.Store{s, p}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := st.Import(ctxT(t), events)
			if err != nil {
				t.Errorf("importer %d: %v", i, err)
			}
			written[i] = res.Written
		}()
	}
	close(start)
	wg.Wait()
	total := 0
	for _, n := range written {
		total += n
	}
	if total != len(events) {
		t.Fatalf("racing importers wrote %v, %d in all; want %d", written, total, len(events))
	}
	sameEnvelopes(t, readAll(t, s, game), events)

	seal := testSeal(game, 8, events[7].Hash, eventstore.SealFinal, "k1", 1)
	start = make(chan struct{})
	for i := 0; i < racers; i++ {
		st := []eventstore.Store{s, p}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if err := st.PutSeal(ctxT(t), seal); err != nil {
				t.Errorf("sealer %d: %v", i, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	sameSeals(t, seals(t, p, game), []eventstore.Seal{seal})
}
