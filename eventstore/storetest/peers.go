package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
)

// testTwoStores runs two stores on one data set, as two processes would:
// racing appends from both never fork the game, a subscription on one sees
// the other's events, and a command stored through one is a duplicate
// through the other.
func testTwoStores(t *testing.T, b Backend) {
	a := open(t, b)
	p := b.OpenPeer(t, a, Options{Now: Clock()})
	t.Cleanup(func() { p.Close() })
	game := uuid.New()
	mustAppend(t, a, game, 0, ev("created", "", `{}`))

	sub, err := p.Subscribe(ctxT(t), game, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	const perWriter = 15
	var wg sync.WaitGroup
	for w, s := range []eventstore.Store{a, p, a, p} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWriter; {
				h, err := s.Head(ctxT(t), game)
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				_, err = s.Append(ctxT(t), game, h, ev("move", "", `{"w":`+itoa(w)+`,"i":`+itoa(i)+`}`))
				if err == nil {
					i++
				} else if !errors.Is(err, eventstore.ErrConflict) {
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	const total = 1 + 4*perWriter
	fromA, fromP := readAll(t, a, game), readAll(t, p, game)
	checkLog(t, fromA, total)
	sameEvents(t, fromP, fromA)
	sameEvents(t, collect(t, sub, 0, total), fromA)

	first := mustAppend(t, a, game, total, ev("moved", "cmd-x", `{}`))
	res, err := p.Append(ctxT(t), game, total, ev("moved", "cmd-x", `{}`))
	if err != nil || !res.Duplicate {
		t.Fatalf("command stored through one store, retried through the other: %+v, %v", res, err)
	}
	sameEvents(t, res.Events, first.Events)
}

// testDuplicateAfterRemoveAndImportElsewhere: a process that indexed a
// message id keeps that index while another removes the game and imports
// another log for it, where that seq holds another command. The message
// id is then new: the index is not trusted over the log.
func testDuplicateAfterRemoveAndImportElsewhere(t *testing.T, b Backend) {
	a := open(t, b)
	p := b.OpenPeer(t, a, Options{Now: Clock()})
	t.Cleanup(func() { p.Close() })
	game := uuid.New()
	mustAppend(t, a, game, 0, ev("created", "", `{"v":0}`))
	res := mustAppend(t, a, game, 1, ev("e", "m", `{"v":1}`))
	if dup, err := p.Append(ctxT(t), game, 1, ev("e", "m", `{"v":1}`)); err != nil || !dup.Duplicate {
		t.Fatalf("the peer's duplicate: %+v %v", dup, err)
	}
	if err := a.Remove(ctxT(t), game, 2, res.Events[0].Hash); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	other := eventstore.Stamp(game, 0, eventstore.Hash{}, at, []eventstore.Pending{ev("created", "", `{"v":2}`)})
	other = append(other, eventstore.Stamp(game, 1, other[0].Hash, at.Add(time.Second), []eventstore.Pending{ev("e", "other", `{"v":2}`)})...)
	if _, err := a.Import(ctxT(t), other); err != nil {
		t.Fatal(err)
	}
	got, err := p.Append(ctxT(t), game, 2, ev("e", "m", `{"v":3}`))
	if err != nil {
		t.Fatalf("the peer's append: %v", err)
	}
	if got.Duplicate || got.Events[0].Seq != 3 {
		t.Fatalf("the peer answered message id m with seq %d (duplicate %v, message id %q, data %s), which the log does not hold for m",
			got.Events[0].Seq, got.Duplicate, got.Events[0].MessageID, got.Events[0].Data)
	}
}
