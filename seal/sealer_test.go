package seal_test

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/replay"
	"github.com/playlog/playlog/seal"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// The server seals as its policy says, on both stores: a final seal on the
// last event of an ended game, stored before the ending command returns; a
// checkpoint each time a game crosses a multiple of Every events; and a
// checkpoint of an idle game's head once Interval has passed. Check then
// finds every game sound, ended ones whole.
func TestSealerPolicy(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		store := b.Open(t)
		sealer := seal.NewSealer(signer, store, seal.Policy{Every: 4, Interval: 200 * time.Millisecond}, nil, nil)
		runCtx, stop := context.WithCancel(ctx)
		ran := make(chan struct{})
		go func() { defer close(ran); sealer.Run(runCtx) }()
		defer func() { stop(); <-ran }()
		svc, err := play.New(play.Config{Store: store, Registry: games.Standard(),
			SeedSecret: []byte("0123456789abcdef0123456789abcdef"), Sealer: sealer})
		if err != nil {
			t.Fatal(err)
		}
		move := func(g uuid.UUID, who string, cell int) {
			t.Helper()
			if _, err := svc.Execute(ctx, g, who, json.RawMessage(`{"type":"place","cell":`+strconv.Itoa(cell)+`}`), ""); err != nil {
				t.Fatal(err)
			}
		}
		finished, err := svc.Create(ctx, "tictactoe", []string{"alice", "bob"}, nil, "alice")
		if err != nil {
			t.Fatal(err)
		}
		for i, cell := range []int{0, 3, 1, 4, 2} {
			move(finished.ID, []string{"alice", "bob"}[i%2], cell)
		}
		// Stored before the last command returned.
		seals, err := store.Seals(ctx, finished.ID)
		if err != nil {
			t.Fatal(err)
		}
		events, _ := replay.ReadGame(ctx, store, finished.ID)
		head := events[len(events)-1]
		if len(seals) == 0 || seals[len(seals)-1].Kind != eventstore.SealFinal || seals[len(seals)-1].Seq != head.Seq {
			t.Fatalf("seals of an ended game of %d events: %+v", len(events), seals)
		}
		// Checkpoints: at the last event of each append that crossed a
		// multiple of 4, and only there.
		var want []uint64
		for _, app := range appends(events) {
			first, last := app[0].Seq, app[len(app)-1].Seq
			if (first-1)/4 != last/4 && last != head.Seq {
				want = append(want, last)
			}
		}
		var got []uint64
		for _, s := range seals[:len(seals)-1] {
			if s.Kind != eventstore.SealCheckpoint {
				t.Errorf("a %s seal before the final one", s.Kind)
			}
			got = append(got, s.Seq)
		}
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("checkpoints at %v, want %v", got, want)
		}
		v := seal.NewVerifier(signer.PublicKey())
		if r := seal.Check(events, seals, v, true); len(r.Findings) > 0 || !r.Final || r.Covered != head.Seq {
			t.Fatalf("Check of an honest ended game: %+v", r)
		}

		// An idle game: one move, then nothing. Its head is sealed after
		// Interval, by Run.
		idle, _ := svc.Create(ctx, "tictactoe", []string{"alice", "bob"}, nil, "alice")
		move(idle.ID, "alice", 4)
		idleHead, _ := store.Head(ctx, idle.ID)
		deadline := time.Now().Add(10 * time.Second)
		for {
			seals, err := store.Seals(ctx, idle.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(seals) > 0 && seals[len(seals)-1].Seq == idleHead && seals[len(seals)-1].Kind == eventstore.SealCheckpoint {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the idle game's head %d is not sealed after 10 s: %+v (pending %d, failed %d)", idleHead, seals, sealer.Pending(), sealer.Failed())
			}
			time.Sleep(50 * time.Millisecond)
		}
		if sealer.Failed() != 0 {
			t.Errorf("%d seals failed to store", sealer.Failed())
		}

		// Sealing again is idempotent: Ed25519 signs the same seal the same.
		before, _ := store.Seals(ctx, finished.ID)
		again, _ := signer.Sign(head, eventstore.SealFinal, time.Now())
		if err := store.PutSeal(ctx, again); err != nil {
			t.Fatal(err)
		}
		after, _ := store.Seals(ctx, finished.ID)
		if len(after) != len(before) {
			t.Errorf("sealing an event again stored a second seal: %d -> %d", len(before), len(after))
		}
	})
}

// appends splits a log into its appends: runs of one recorded time.
func appends(events []eventstore.Event) [][]eventstore.Event {
	var out [][]eventstore.Event
	for i, e := range events {
		if i == 0 || !e.RecordedAt.Equal(events[i-1].RecordedAt) {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], e)
	}
	return out
}

// A retried command's events, told again (play does so when a retry finds
// them stored), neither replace a newer event waiting for its checkpoint
// nor cancel it; the game is sealed through its newest head.
func TestSealerOlderEventsAgain(t *testing.T) {
	testenv.ForEachStore(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		store := b.Open(t)
		sealer := seal.NewSealer(signer, store, seal.Policy{Every: 4, Interval: time.Hour}, nil, nil)
		game := uuid.New()
		var log []eventstore.Event
		for i := range 6 { // six appends of one event: seqs 1..6
			res, err := store.Append(ctx, game, uint64(i), eventstore.Pending{Type: "e", SchemaVersion: 1, Actor: "a", Data: []byte(`{}`)})
			if err != nil {
				t.Fatal(err)
			}
			log = append(log, res.Events...)
			if i < 5 {
				sealer.Appended(ctx, res.Events, false)
			}
		}
		// Seq 4 crossed a multiple of 4 (sealed at once); seq 5 waits.
		// Seq 4's command, told again, must not cancel seq 5's wait, and
		// seq 2's must not replace it.
		sealer.Appended(ctx, log[3:4], false)
		sealer.Appended(ctx, log[1:2], false)
		if sealer.Pending() != 1 {
			t.Fatalf("%d games wait, want 1", sealer.Pending())
		}
		runCtx, stop := context.WithCancel(ctx)
		stop() // Run's last flush seals what waits
		sealer.Run(runCtx)
		seals, err := store.Seals(ctx, game)
		if err != nil {
			t.Fatal(err)
		}
		var got []uint64
		for _, s := range seals {
			got = append(got, s.Seq)
		}
		if !slices.Equal(got, []uint64{4, 5}) {
			t.Fatalf("checkpoints at %v, want [4 5]", got)
		}
	})
}
