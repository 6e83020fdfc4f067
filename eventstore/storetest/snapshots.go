package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
)

// State snapshots (eventstore.Snapshots).

func snapshot(t *testing.T, s eventstore.Store, game uuid.UUID) (eventstore.Snapshot, bool) {
	t.Helper()
	snap, ok, err := s.Snapshot(ctxT(t), game)
	if err != nil {
		t.Fatalf("snapshot of %s: %v", game, err)
	}
	return snap, ok
}

func wantSnapshot(t *testing.T, s eventstore.Store, want eventstore.Snapshot) {
	t.Helper()
	got, ok := snapshot(t, s, want.GameID)
	if !ok || got.GameID != want.GameID || got.Seq != want.Seq || got.Hash != want.Hash || !bytes.Equal(got.Data, want.Data) {
		t.Fatalf("snapshot of %s: %+v (%v), want seq %d, data %q", want.GameID, got, ok, want.Seq, want.Data)
	}
}

func putSnapshot(t *testing.T, s eventstore.Store, snap eventstore.Snapshot) {
	t.Helper()
	if err := s.PutSnapshot(ctxT(t), snap); err != nil {
		t.Fatalf("put snapshot at %d: %v", snap.Seq, err)
	}
}

// testSnapshots: a game keeps its latest snapshot, a later seq replaces
// it and an earlier one does not, per game, through a restart and in
// every process; snapshots are not events.
func testSnapshots(t *testing.T, b Backend) {
	s := open(t, b)
	game, other := uuid.New(), uuid.New()
	mustAppend(t, s, game, 0, ev("created", "", `{}`), ev("moved", "", `{"cell":1}`))
	mustAppend(t, s, game, 2, ev("moved", "m2", `{"cell":2}`))
	mustAppend(t, s, other, 0, ev("created", "", `{}`))
	all := readAll(t, s, game)
	if _, ok := snapshot(t, s, game); ok {
		t.Fatal("a game without snapshots has one")
	}
	at := func(seq uint64, data string) eventstore.Snapshot {
		return eventstore.Snapshot{GameID: game, Seq: seq, Hash: all[seq-1].Hash, Data: []byte(data)}
	}
	putSnapshot(t, s, at(2, `{"at":2}`))
	wantSnapshot(t, s, at(2, `{"at":2}`))
	putSnapshot(t, s, at(3, `{"at":3}`))
	putSnapshot(t, s, at(1, `{"at":1}`))       // older: nothing changes
	putSnapshot(t, s, at(3, `{"at":3,"x":0}`)) // the same seq: nothing changes
	wantSnapshot(t, s, at(3, `{"at":3}`))
	if _, ok := snapshot(t, s, other); ok {
		t.Fatal("another game's snapshot shows")
	}
	p := b.OpenPeer(t, s, Options{Now: Clock()})
	t.Cleanup(func() { p.Close() })
	wantSnapshot(t, p, at(3, `{"at":3}`))

	mustAppend(t, s, game, 3, ev("moved", "m3", `{"cell":3}`))
	all = readAll(t, s, game)
	putSnapshot(t, p, at(4, `{"at":4}`)) // a process that did not append
	wantSnapshot(t, s, at(4, `{"at":4}`))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, b)
	wantSnapshot(t, s, at(4, `{"at":4}`))
	checkLog(t, readAll(t, s, game), 4)
	if seals := seals(t, s, game); len(seals) != 0 {
		t.Fatalf("snapshots show as seals: %+v", seals)
	}
}

// testBadSnapshots: a snapshot of an unknown game, past the head, with
// another hash or malformed is refused and changes nothing.
func testBadSnapshots(t *testing.T, b Backend) {
	s := open(t, b)
	game := uuid.New()
	mustAppend(t, s, game, 0, ev("created", "", `{}`), ev("moved", "", `{}`))
	all := readAll(t, s, game)
	good := eventstore.Snapshot{GameID: game, Seq: 1, Hash: all[0].Hash, Data: []byte(`{}`)}
	putSnapshot(t, s, good)
	wantNotFound(t, "put snapshot of an unknown game", s.PutSnapshot(ctxT(t), eventstore.Snapshot{GameID: uuid.New(), Seq: 1, Hash: all[0].Hash, Data: []byte(`{}`)}))
	bad := map[string]func(*eventstore.Snapshot){
		"nil game":     func(s *eventstore.Snapshot) { s.GameID = uuid.Nil },
		"seq 0":        func(s *eventstore.Snapshot) { s.Seq = 0 },
		"no data":      func(s *eventstore.Snapshot) { s.Data = nil },
		"data too big": func(s *eventstore.Snapshot) { s.Data = make([]byte, eventstore.MaxSnapshotData+1) },
		"past head":    func(s *eventstore.Snapshot) { s.Seq = 3 },
		"another hash": func(s *eventstore.Snapshot) { s.Hash = all[0].Hash },
	}
	for name, edit := range bad {
		t.Run(name, func(t *testing.T) {
			snap := eventstore.Snapshot{GameID: game, Seq: 2, Hash: all[1].Hash, Data: []byte(`{"bad":1}`)}
			edit(&snap)
			err := s.PutSnapshot(ctxT(t), snap)
			if !errors.Is(err, eventstore.ErrInvalidArgument) {
				t.Fatalf("err %v, want ErrInvalidArgument", err)
			}
			if err.Error() == eventstore.ErrInvalidArgument.Error() {
				t.Fatalf("error %q says no more than its sentinel", err)
			}
		})
	}
	wantSnapshot(t, s, good)
	if _, _, err := s.Snapshot(ctxT(t), uuid.Nil); !errors.Is(err, eventstore.ErrInvalidArgument) {
		t.Fatalf("snapshot of the nil game: %v", err)
	}
	largest := eventstore.Snapshot{GameID: game, Seq: 2, Hash: all[1].Hash, Data: bytes.Repeat([]byte("x"), eventstore.MaxSnapshotData)}
	putSnapshot(t, s, largest)
	wantSnapshot(t, s, largest)

	closed := b.OpenPeer(t, s, Options{Now: Clock()}) // beside s: two stores on one directory are refused
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := closed.PutSnapshot(ctx, good); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("put snapshot on a closed store: %v", err)
	}
	if _, _, err := closed.Snapshot(ctx, game); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("snapshot on a closed store: %v", err)
	}
}

// testRacingSnapshots: puts racing from two processes leave the latest
// seq stored.
func testRacingSnapshots(t *testing.T, b Backend) {
	s := open(t, b)
	p := b.OpenPeer(t, s, Options{Now: Clock()})
	t.Cleanup(func() { p.Close() })
	game := uuid.New()
	mustAppend(t, s, game, 0, ev("created", "", `{}`))
	for i := 1; i < 20; i++ {
		mustAppend(t, s, game, uint64(i), ev("moved", fmt.Sprintf("m%d", i), `{}`))
	}
	all := readAll(t, s, game)
	var wg sync.WaitGroup
	errs := make(chan error, len(all))
	for i, e := range all {
		st := s
		if i%2 == 1 {
			st = p
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- st.PutSnapshot(ctxT(t), eventstore.Snapshot{GameID: game, Seq: e.Seq, Hash: e.Hash, Data: fmt.Appendf(nil, `{"at":%d}`, e.Seq)})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	last := all[len(all)-1]
	wantSnapshot(t, s, eventstore.Snapshot{GameID: game, Seq: last.Seq, Hash: last.Hash, Data: fmt.Appendf(nil, `{"at":%d}`, last.Seq)})
}
