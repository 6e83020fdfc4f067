package replay_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/projections/projtest"
	"github.com/playlog/playlog/replay"
)

// A crazy eights game that is not public ends (a resignation). An outsider
// replays it in the spectators' view: neither the state at its last step
// nor its seed_revealed (a stub) carries the seed, from which the game's
// deal, the hands the view hides, could be made again. Its players, who
// replay it as the auditor, have the seed.
func TestOutsiderOfAPrivateEndedGameGetsNoSeed(t *testing.T) {
	ctx := context.Background()
	s := testenv.Stores(t)[0].Open(t)
	svc := projtest.Service(t, s)
	players := []string{"alice", "bob"}
	g, err := svc.Create(ctx, "crazyeights", players, nil, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Execute(ctx, g.ID, "bob", json.RawMessage(`{"type":"resign"}`), "r"); err != nil {
		t.Fatal(err)
	}
	reg := games.Standard()
	r, err := replay.New(replay.Config{Store: s, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	v, err := r.Access(ctx, g.ID, "mallory")
	if err != nil {
		t.Fatal(err)
	}
	if v.Viewer != engine.AsSpectator() || !v.Ended {
		t.Fatalf("outsider's view %+v", v)
	}
	step, err := r.StepAt(ctx, v, v.Head)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := step.State.Seed(); ok {
		t.Errorf("the outsider's state at step %d (spectators' view of a private game) carries the seed", v.Head)
	}
	evs, err := r.Events(ctx, v, 1, v.Head)
	if err != nil {
		t.Fatal(err)
	}
	// What the outsider can do with it: re-create the game from the seed.
	var seedHex string
	for _, e := range evs {
		if e.Type == engine.TypeSeedRevealed {
			var sr engine.SeedRevealed
			json.Unmarshal(e.Data, &sr)
			seedHex = sr.Seed
		}
	}
	if seedHex == "" {
		return
	}
	seed, _ := hex.DecodeString(seedHex)
	rules, _ := reg.Lookup("crazyeights")
	recreated, err := rules.Create(nil, players, seed)
	if err != nil {
		t.Fatal(err)
	}
	auditor, _ := r.Access(ctx, g.ID, "alice")
	full, err := r.Events(ctx, auditor, 1, uint64(len(recreated)))
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range recreated {
		if evs[i].Visibility != engine.Full && bytes.Equal(e.Data, full[i].Data) {
			t.Errorf("seq %d (%s) is %s to the outsider, who rebuilds it from the seed: %s",
				i+1, e.Type, evs[i].Visibility, e.Data)
		}
	}
}

func mustAccess(t *testing.T, r *replay.Replayer, game uuid.UUID, user string) replay.View {
	t.Helper()
	v, err := r.Access(context.Background(), game, user)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
