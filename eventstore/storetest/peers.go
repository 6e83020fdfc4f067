package storetest

import (
	"errors"
	"sync"
	"testing"

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
