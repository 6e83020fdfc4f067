package pig_test

import (
	"encoding/json"
	"testing"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/engine/enginetest"
	"github.com/playlog/playlog/engine/games/pig"
)

func given(t *testing.T, events ...engine.Payload) engine.State {
	t.Helper()
	evs := []engine.Event{enginetest.Created("pig", `{"target":10}`, "alice", "bob")}
	for _, e := range events {
		evs = append(evs, enginetest.Ev("alice", e))
	}
	return enginetest.Given(t, pig.Game(), evs...)
}

func TestHoldingBanksThePot(t *testing.T) {
	s := given(t, pig.Rolled{Player: "alice", Die: 5})
	evs, err := enginetest.When(pig.Game(), s, "alice", `{"type":"hold"}`)
	enginetest.Then(t, evs, err, pig.Held{Player: "alice"})
}

func TestReachingTheTargetWins(t *testing.T) {
	s := given(t, pig.Rolled{Player: "alice", Die: 5}, pig.Rolled{Player: "alice", Die: 6})
	evs, err := enginetest.When(pig.Game(), s, "alice", `{"type":"hold"}`)
	enginetest.Then(t, evs, err, append([]engine.Payload{pig.Held{Player: "alice"}}, enginetest.Ended(engine.Win("alice"))...)...)
}

func TestATimeoutHolds(t *testing.T) {
	s := given(t, pig.Rolled{Player: "alice", Die: 4})
	evs, err := enginetest.When(pig.Game(), s, engine.System, `{"type":"timeout","player":"alice"}`)
	enginetest.Then(t, evs, err, pig.Held{Player: "alice"})
}

func TestRandomGames(t *testing.T) {
	enginetest.Suite{Game: pig.Game(), PlayerCounts: []int{2, 3, 4}, Games: 1000,
		Configs: []json.RawMessage{nil, []byte(`{"target":5}`)}}.Run(t)
}

func FuzzDecode(f *testing.F) {
	enginetest.FuzzDecode(f, pig.Game(), `{"type":"roll"}`, `{"type":"hold"}`)
}

func FuzzDecide(f *testing.F) {
	enginetest.FuzzDecide(f, pig.Game(), nil, 2, `{"type":"roll"}`, `{"type":"hold"}`)
}

func FuzzEvents(f *testing.F) { enginetest.FuzzEvents(f, pig.Game(), nil, 2) }
