// Package storetest is the conformance suite every eventstore backend must
// pass. Backends call Run from their own tests against a real server (an
// embedded NATS server, a real PostgreSQL); nothing here is mocked.
package storetest

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
)

// Options configure a store opened by a Backend.
type Options struct {
	// Now is the store's clock.
	Now func() time.Time
}

// Backend opens stores on one persistent data set. Open may be called again
// after the previous store was closed; the new store must see the same data,
// as a restarted process would.
type Backend interface {
	Open(t *testing.T, opts Options) eventstore.Store
	// DedupeWindow is how long the backend's own duplicate detection lasts
	// (JetStream's duplicate window), or 0 if it has none. The suite waits it
	// out to prove idempotency does not depend on it.
	DedupeWindow() time.Duration
	// OpenPeer opens a second store on the same data while first is open,
	// as another playlogd process would.
	OpenPeer(t *testing.T, first eventstore.Store, opts Options) eventstore.Store
}

// Run runs the whole suite. newBackend must return a Backend on fresh,
// empty storage each time it is called.
func Run(t *testing.T, newBackend func(t *testing.T) Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b Backend)
	}{
		{"AppendThenReadBack", testAppendThenReadBack},
		{"ReadPages", testReadPages},
		{"StaleExpectedConflicts", testStaleExpectedConflicts},
		{"AppendToUnknownGame", testAppendToUnknownGame},
		{"RacingAppendersOneWinnerPerSeq", testRacingAppenders},
		{"RacingFirstAppend", testRacingFirstAppend},
		{"DuplicateMessageIDReturnsStoredEvents", testDuplicateMessageID},
		{"RacingDuplicateMessageID", testRacingDuplicateMessageID},
		{"DuplicateAfterRestartAndDedupeWindow", testDuplicateAfterRestart},
		{"SurvivesCloseAndReopen", testSurvivesReopen},
		{"SubscribeWhileWriting", testSubscribeWhileWriting},
		{"SubscriptionEndsOnCancelAndClose", testSubscriptionEnds},
		// The same, read through Poll where the backend's subscriptions
		// are eventstore.Pollers (and through Next where not).
		{"PolledSubscribeWhileWriting", func(t *testing.T, b Backend) { testSubscribeWhileWriting(t, polledBackend{b}) }},
		{"PolledSubscriptionEnds", func(t *testing.T, b Backend) { testSubscriptionEnds(t, polledBackend{b}) }},
		{"FeedDeliversEveryEventOnce", testFeed},
		{"FeedResumesFromPosition", testFeedResume},
		{"BadInputChangesNothing", testBadInput},
		{"UnknownGame", testUnknownGame},
		{"ClosedStore", testClosedStore},
		{"Ping", testPing},
		{"TwoStoresShareOneLog", testTwoStores},
		{"DuplicateAfterRemoveAndImportElsewhere", testDuplicateAfterRemoveAndImportElsewhere},
		{"SealsKeptInOrderOnce", testSeals},
		{"BadSealsChangeNothing", testBadSeals},
		{"SealsAreNotDelivered", testSealsNotDelivered},
		{"SnapshotsKeepTheLatest", testSnapshots},
		{"BadSnapshotsChangeNothing", testBadSnapshots},
		{"RacingSnapshots", testRacingSnapshots},
		{"ImportCopiesAGame", func(t *testing.T, b Backend) { testImportCopy(t, b, newBackend(t)) }},
		{"ImportResumesAndIsIdempotent", testImportResume},
		{"ImportConflictChangesNothing", testImportConflict},
		{"BadImportChangesNothing", testBadImport},
		{"RacingImportsAndSeals", testRacingImportsAndSeals},
		{"RemoveGame", testRemove},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newBackend(t))
		})
	}
}

// Clock returns a deterministic clock that advances one millisecond per call.
func Clock() func() time.Time {
	var n atomic.Int64
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return func() time.Time { return base.Add(time.Duration(n.Add(1)) * time.Millisecond) }
}

func open(t *testing.T, b Backend) eventstore.Store {
	t.Helper()
	s := b.Open(t, Options{Now: Clock()})
	t.Cleanup(func() { s.Close() })
	return s
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func ev(typ, msgID, data string) eventstore.Pending {
	return eventstore.Pending{Type: typ, SchemaVersion: 1, Actor: "alice", MessageID: msgID, Data: []byte(data)}
}

func mustAppend(t *testing.T, s eventstore.Store, game uuid.UUID, expected uint64, events ...eventstore.Pending) eventstore.Appended {
	t.Helper()
	res, err := s.Append(ctxT(t), game, expected, events...)
	if err != nil {
		t.Fatalf("append to %s after %d: %v", game, expected, err)
	}
	return res
}

func readAll(t *testing.T, s eventstore.Store, game uuid.UUID) []eventstore.Event {
	t.Helper()
	var all []eventstore.Event
	for {
		page, err := s.Read(ctxT(t), game, uint64(len(all)), 0)
		if err != nil {
			t.Fatalf("read %s: %v", game, err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
	}
}

func head(t *testing.T, s eventstore.Store, game uuid.UUID) uint64 {
	t.Helper()
	h, err := s.Head(ctxT(t), game)
	if err != nil {
		t.Fatalf("head %s: %v", game, err)
	}
	return h
}

// checkLog asserts the game's log is dense from 1, chained, and n long.
func checkLog(t *testing.T, events []eventstore.Event, n int) {
	t.Helper()
	if len(events) != n {
		t.Fatalf("log has %d events, want %d", len(events), n)
	}
	for i, e := range events {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d", i, e.Seq)
		}
	}
	if err := eventstore.VerifyChain(eventstore.Hash{}, events); err != nil {
		t.Fatal(err)
	}
}

func sameEvents(t *testing.T, got, want []eventstore.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Seq != w.Seq || g.Hash != w.Hash || g.Type != w.Type || g.MessageID != w.MessageID ||
			string(g.Data) != string(w.Data) || !g.RecordedAt.Equal(w.RecordedAt) {
			t.Fatalf("event %d differs:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func testAppendThenReadBack(t *testing.T, b Backend) {
	s := open(t, b)
	game := uuid.New()
	res := mustAppend(t, s, game, 0,
		ev("game_created", "m1", `{"rules":"tictactoe","players":["alice","bob"]}`),
		ev("seat_taken", "m1", `{"player":"alice"}`))
	if res.Duplicate || len(res.Events) != 2 || res.Last() != 2 {
		t.Fatalf("append result %+v", res)
	}
	mustAppend(t, s, game, 2, eventstore.Pending{Type: "mark.placed", SchemaVersion: 3, Actor: "bob", Data: []byte(`{"cell": 4}`)})

	got := readAll(t, s, game)
	checkLog(t, got, 3)
	sameEvents(t, got[:2], res.Events)
	e := got[2]
	if e.GameID != game || e.Type != "mark.placed" || e.SchemaVersion != 3 || e.Actor != "bob" ||
		e.MessageID != "" || string(e.Data) != `{"cell": 4}` {
		t.Fatalf("read back %+v", e)
	}
	if e.RecordedAt.IsZero() || !e.RecordedAt.After(got[0].RecordedAt) {
		t.Fatalf("recorded time %v not from the injected clock after %v", e.RecordedAt, got[0].RecordedAt)
	}
	if e.RecordedAt.Year() != 2026 || e.RecordedAt.Month() != time.January {
		t.Fatalf("recorded time %v is not the injected clock's", e.RecordedAt)
	}
	if h := head(t, s, game); h != 3 {
		t.Fatalf("head %d, want 3", h)
	}
	// Positions are increasing within a game.
	for i := 1; i < len(got); i++ {
		if !got[i-1].Position.Less(got[i].Position) {
			t.Fatalf("positions not increasing: %v then %v", got[i-1].Position, got[i].Position)
		}
	}
}

func testReadPages(t *testing.T, b Backend) {
	s := open(t, b)
	game := uuid.New()
	var expected uint64
	for i := 0; i < 7; i++ { // batches of 1..7 events: 28 in all
		batch := make([]eventstore.Pending, i+1)
		for j := range batch {
			batch[j] = ev("tick", "", `{}`)
		}
		expected = mustAppend(t, s, game, expected, batch...).Last()
	}
	all := readAll(t, s, game)
	checkLog(t, all, 28)
	for _, after := range []uint64{0, 1, 2, 5, 6, 13, 27, 28, 40} {
		for _, limit := range []int{1, 3, 10} {
			page, err := s.Read(ctxT(t), game, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			if after < 28 {
				want = min(limit, int(28-after))
			}
			if len(page) != want {
				t.Fatalf("read after %d limit %d: %d events, want %d", after, limit, len(page), want)
			}
			if want > 0 {
				sameEvents(t, page, all[after:after+uint64(want)])
			}
		}
	}
}

func testStaleExpectedConflicts(t *testing.T, b Backend) {
	s := open(t, b)
	game := uuid.New()
	mustAppend(t, s, game, 0, ev("a", "", `1`))
	mustAppend(t, s, game, 1, ev("b", "", `2`))
	for _, expected := range []uint64{0, 1, 3, 9} {
		_, err := s.Append(ctxT(t), game, expected, ev("x", "", `3`))
		if !errors.Is(err, eventstore.ErrConflict) {
			t.Fatalf("expected %d: err %v, want ErrConflict", expected, err)
		}
		var ce *eventstore.ConflictError
		if !errors.As(err, &ce) || ce.Actual != 2 || ce.Expected != expected || ce.Game != game {
			t.Fatalf("expected %d: conflict detail %+v", expected, ce)
		}
	}
	checkLog(t, readAll(t, s, game), 2)
}

func testAppendToUnknownGame(t *testing.T, b Backend) {
	s := open(t, b)
	game := uuid.New()
	_, err := s.Append(ctxT(t), game, 3, ev("x", "", `{}`))
	if !errors.Is(err, eventstore.ErrGameNotFound) {
		t.Fatalf("append after 3 to a new game: %v, want ErrGameNotFound", err)
	}
	if _, err := s.Head(ctxT(t), game); !errors.Is(err, eventstore.ErrGameNotFound) {
		t.Fatalf("head after failed append: %v", err)
	}
}

// testRacingAppenders: 50 goroutines append to one game, each retrying on
// conflict with the head it reads. Every seq is taken exactly once, every
// loser sees ErrConflict, and nothing is lost.
func testRacingAppenders(t *testing.T, b Backend) {
	s := open(t, b)
	game := uuid.New()
	mustAppend(t, s, game, 0, ev("created", "", `{}`))
	const writers, each = 50, 4
	var conflicts atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := ctxT(t)
			for i := 0; i < each; {
				h, err := s.Head(ctx, game)
				if err != nil {
					errs <- err
					return
				}
				_, err = s.Append(ctx, game, h, ev("move", "", `{"w":`+itoa(w)+`,"i":`+itoa(i)+`}`))
				switch {
				case err == nil:
					i++
				case errors.Is(err, eventstore.ErrConflict):
					conflicts.Add(1)
				default:
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	all := readAll(t, s, game)
	checkLog(t, all, 1+writers*each)
	seen := map[string]bool{}
	for _, e := range all[1:] {
		if seen[string(e.Data)] {
			t.Fatalf("move %s stored twice", e.Data)
		}
		seen[string(e.Data)] = true
	}
	if conflicts.Load() == 0 {
		t.Fatalf("50 racing writers saw no conflict: the race did not happen")
	}
}

// testRacingFirstAppend: 50 goroutines all append with expected 0 at once.
// Exactly one wins; the other 49 get ErrConflict.
func testRacingFirstAppend(t *testing.T, b Backend) {
	s := open(t, b)
	game := uuid.New()
	const n = 50
	var wins, conflicts atomic.Int64
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := s.Append(ctxT(t), game, 0, ev("created", "", `{"by":`+itoa(i)+`}`))
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, eventstore.ErrConflict):
				conflicts.Add(1)
			default:
				t.Errorf("racer %d: %v", i, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if wins.Load() != 1 || conflicts.Load() != n-1 {
		t.Fatalf("%d wins and %d conflicts, want 1 and %d", wins.Load(), conflicts.Load(), n-1)
	}
	checkLog(t, readAll(t, s, game), 1)
}

func testDuplicateMessageID(t *testing.T, b Backend) {
	s := open(t, b)
	game := uuid.New()
	first := mustAppend(t, s, game, 0, ev("created", "cmd-1", `{}`), ev("dealt", "cmd-1", `[1,2]`))
	mustAppend(t, s, game, 2, ev("moved", "cmd-2", `{}`))

	// The same command retried with its original expected seq, with the
	// current head, and with a seq from the future: always the stored events.
	for _, expected := range []uint64{0, 3, 7} {
		res, err := s.Append(ctxT(t), game, expected, ev("created", "cmd-1", `{"different":true}`))
		if err != nil {
			t.Fatalf("retry with expected %d: %v", expected, err)
		}
		if !res.Duplicate {
			t.Fatalf("retry with expected %d not reported as duplicate", expected)
		}
		sameEvents(t, res.Events, first.Events)
	}
	checkLog(t, readAll(t, s, game), 3)
}

func testRacingDuplicateMessageID(t *testing.T, b Backend) {
	s := open(t, b)
	game := uuid.New()
	mustAppend(t, s, game, 0, ev("created", "", `{}`))
	const n = 20
	results := make([]eventstore.Appended, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := s.Append(ctxT(t), game, 1, ev("moved", "same-command", `{"cell":1}`))
			if err != nil {
				t.Errorf("racer %d: %v", i, err)
			}
			results[i] = res
		}()
	}
	close(start)
	wg.Wait()
	fresh := 0
	for _, r := range results {
		if !r.Duplicate {
			fresh++
		}
		if r.Last() != 2 {
			t.Fatalf("racer got events ending at %d, want 2", r.Last())
		}
	}
	if fresh != 1 {
		t.Fatalf("%d racers stored the command, want exactly 1", fresh)
	}
	checkLog(t, readAll(t, s, game), 2)
}

func testDuplicateAfterRestart(t *testing.T, b Backend) {
	s := b.Open(t, Options{Now: Clock()})
	game := uuid.New()
	first := mustAppend(t, s, game, 0, ev("created", "cmd-a", `{}`), ev("dealt", "cmd-a", `{}`))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, b)
	res, err := s.Append(ctxT(t), game, 0, ev("created", "cmd-a", `{}`))
	if err != nil || !res.Duplicate {
		t.Fatalf("retry after restart: %+v, %v", res, err)
	}
	sameEvents(t, res.Events, first.Events)

	if w := b.DedupeWindow(); w > 0 {
		time.Sleep(w + w/2)
	}
	res, err = s.Append(ctxT(t), game, 2, ev("created", "cmd-a", `{}`))
	if err != nil || !res.Duplicate {
		t.Fatalf("retry after the dedupe window: %+v, %v", res, err)
	}
	sameEvents(t, res.Events, first.Events)
	checkLog(t, readAll(t, s, game), 2)
}

func testSurvivesReopen(t *testing.T, b Backend) {
	s := b.Open(t, Options{Now: Clock()})
	games := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	for _, g := range games {
		var h uint64
		for i := 0; i < 5; i++ {
			h = mustAppend(t, s, g, h, ev("e", "m"+itoa(i), `{"i":`+itoa(i)+`}`)).Last()
		}
	}
	before := map[uuid.UUID][]eventstore.Event{}
	for _, g := range games {
		before[g] = readAll(t, s, g)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, b)
	for _, g := range games {
		after := readAll(t, s, g)
		checkLog(t, after, 5)
		sameEvents(t, after, before[g])
		// The reopened store continues each chain.
		res := mustAppend(t, s, g, 5, ev("e", "", `{}`))
		if res.Events[0].PrevHash != after[4].Hash {
			t.Fatalf("chain not continued after reopen")
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
