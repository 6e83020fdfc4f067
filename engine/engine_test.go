package engine_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/engine/enginetest"
	"github.com/playlog/playlog/engine/games/tictactoe"
)

var seed = enginetest.TestSeed

func coinGame() *engine.Game { return engine.Define(coin{}) }

// coinLog is a finished coin game: game_created, flipped, action, called,
// game_ended, seed_revealed.
func coinLog(t *testing.T) []engine.Event {
	t.Helper()
	g := coinGame()
	evs, err := g.Create(nil, []string{"alice", "bob"}, seed)
	if err != nil {
		t.Fatal(err)
	}
	s := enginetest.Given(t, g, evs...)
	more, err := enginetest.When(g, s, "alice", `{"type":"call","side":"heads"}`)
	if err != nil {
		t.Fatal(err)
	}
	return append(evs, more...)
}

func TestCoinConformance(t *testing.T) {
	enginetest.Suite{
		Game: coinGame(), PlayerCounts: []int{2}, Games: 300,
		Tamper: func(ev engine.Event, _ *rand.Rand) (engine.Event, bool) {
			if ev.Type != "flipped" {
				return ev, false
			}
			var f flipped
			json.Unmarshal(ev.Data, &f)
			f.Coin = map[string]string{"heads": "tails", "tails": "heads"}[f.Coin]
			return enginetest.Ev(ev.Actor, f), true
		},
	}.Run(t)
}

func TestEventsOfACommand(t *testing.T) {
	evs := coinLog(t)
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	want := []string{"game_created", "flipped", "action", "called", "game_ended", "seed_revealed"}
	if !slices.Equal(types, want) {
		t.Fatalf("types %v, want %v", types, want)
	}
	if evs[2].Actor != "alice" || evs[3].Actor != "alice" || evs[0].Actor != engine.System {
		t.Errorf("actors %q %q %q", evs[0].Actor, evs[2].Actor, evs[3].Actor)
	}
	if string(evs[2].Data) != `{"actor":"alice","action":{"type":"call","side":"heads"}}` {
		t.Errorf("action event %s", evs[2].Data)
	}
	if evs[3].Version != 2 {
		t.Errorf("called written at version %d, want 2", evs[3].Version)
	}
	if string(evs[5].Data) != `{"seed":"`+hex.EncodeToString(seed)+`"}` {
		t.Errorf("seed_revealed %s", evs[5].Data)
	}
}

func TestTheSeedAppearsOnlyAtTheEnd(t *testing.T) {
	evs := coinLog(t)
	h := []byte(hex.EncodeToString(seed))
	for i, e := range evs[:len(evs)-1] {
		if bytes.Contains(e.Data, h) || bytes.Contains(e.Data, seed) {
			t.Errorf("event %d (%s) contains the seed", i+1, e.Type)
		}
	}
	var gc engine.GameCreated
	json.Unmarshal(evs[0].Data, &gc)
	if gc.Commitment != engine.Commit(seed) {
		t.Errorf("commitment %s, want %s", gc.Commitment, engine.Commit(seed))
	}
}

func TestStubsKeepEveryViewerGapFree(t *testing.T) {
	g := coinGame()
	evs := coinLog(t)
	var full, view engine.State
	for i, ev := range evs {
		seq := uint64(i + 1)
		full, _ = g.Apply(full, ev)
		r, err := g.RenderEvent(seq, ev, engine.AsSpectator())
		if err != nil {
			t.Fatal(err)
		}
		if ev.Type == "flipped" {
			if r.Visibility != engine.Stub || r.Data != nil || r.Type != "" {
				t.Fatalf("flipped rendered for a spectator as %+v, want a bare stub", r)
			}
			if b, _ := json.Marshal(r); string(b) != `{"seq":2,"visibility":"stub"}` {
				t.Fatalf("stub encodes as %s", b)
			}
		}
		if view, err = g.ApplyRendered(view, r); err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(view)
		want, _ := json.Marshal(g.View(full, engine.AsSpectator()))
		if !bytes.Equal(got, want) {
			t.Fatalf("seq %d: fold %s, view %s", seq, got, want)
		}
	}
	r, _ := g.RenderEvent(2, evs[1], engine.AsAuditor())
	if r.Visibility != engine.Full {
		t.Errorf("the auditor gets %s, want full", r.Visibility)
	}
	if _, err := g.ApplyRendered(engine.State{}, engine.Rendered{Seq: 2, Visibility: engine.Stub}); !errors.Is(err, engine.ErrCorruptLog) {
		t.Errorf("a gap: got %v, want ErrCorruptLog", err)
	}
}

func TestUpcastReadsOldVersions(t *testing.T) {
	g := coinGame()
	evs := coinLog(t)
	evs[3] = engine.Event{Type: "called", Version: 1, Actor: "alice", Data: json.RawMessage(`{"guess":"heads","coin":"` + coinOf(t, evs) + `"}`)}
	s, err := g.Fold(evs)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := engine.RulesState[coinState](s); st.Call != "heads" {
		t.Errorf("call %q after upcast, want heads", st.Call)
	}
	if err := g.Verify(evs); err != nil {
		t.Errorf("verify a log with an old version: %v", err)
	}
	evs[3].Version = 3
	if _, err := g.Fold(evs); !errors.Is(err, engine.ErrCorruptLog) {
		t.Errorf("an unknown version: got %v, want ErrCorruptLog", err)
	}
}

func coinOf(t *testing.T, evs []engine.Event) string {
	var f flipped
	if err := json.Unmarshal(evs[1].Data, &f); err != nil {
		t.Fatal(err)
	}
	return f.Coin
}

func TestVerify(t *testing.T) {
	reg, err := engine.NewRegistry(coinGame())
	if err != nil {
		t.Fatal(err)
	}
	other := "tails"
	if coinOf(t, coinLog(t)) == "tails" {
		other = "heads"
	}
	tests := []struct {
		name  string
		forge func([]engine.Event) []engine.Event
		want  error
	}{
		{"an honest game passes", func(e []engine.Event) []engine.Event { return e }, nil},
		{"a game still running cannot be audited", func(e []engine.Event) []engine.Event { return e[:3] }, engine.ErrSeedNotRevealed},
		{"another seed does not match the commitment", func(e []engine.Event) []engine.Event {
			e[5] = enginetest.Ev(engine.System, engine.SeedRevealed{Seed: hex.EncodeToString(make([]byte, 32))})
			return e
		}, engine.ErrCommitmentMismatch},
		{"an altered random outcome", func(e []engine.Event) []engine.Event {
			e[1] = enginetest.Ev(engine.System, flipped{Coin: other})
			return e
		}, engine.ErrEventMismatch},
		{"an action by someone whose turn it was not", func(e []engine.Event) []engine.Event {
			e[2] = enginetest.Ev("bob", engine.ActionTaken{Actor: "bob", Action: json.RawMessage(`{"type":"call","side":"heads"}`)})
			return e
		}, engine.ErrEventMismatch},
		{"a forged outcome", func(e []engine.Event) []engine.Event {
			e[4] = enginetest.Ev("alice", engine.GameEnded{Winners: []string{"bob"}, Reason: engine.ReasonNormal})
			return e
		}, engine.ErrEventMismatch},
		{"an event slipped in", func(e []engine.Event) []engine.Event {
			return slices.Insert(e, 2, enginetest.Ev(engine.System, flipped{Coin: other}))
		}, engine.ErrEventMismatch},
		{"an unknown game", func(e []engine.Event) []engine.Event {
			e[0] = enginetest.Created("chess", "{}", "alice", "bob")
			return e
		}, engine.ErrUnknownGame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := engine.Verify(reg, tt.forge(coinLog(t)))
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCorruptLogsDoNotFold(t *testing.T) {
	g := coinGame()
	log := coinLog(t)
	tests := []struct {
		name   string
		events func([]engine.Event) []engine.Event
	}{
		{"a rules event before game_created", func(e []engine.Event) []engine.Event { return e[1:] }},
		{"game_created twice", func(e []engine.Event) []engine.Event { return slices.Insert(e, 1, e[0]) }},
		{"anything after seed_revealed", func(e []engine.Event) []engine.Event { return append(e, e[1]) }},
		{"seed_revealed before the end", func(e []engine.Event) []engine.Event { return []engine.Event{e[0], e[5]} }},
		{"a revealed seed that does not match", func(e []engine.Event) []engine.Event {
			e[5] = enginetest.Ev(engine.System, engine.SeedRevealed{Seed: hex.EncodeToString(make([]byte, 32))})
			return e
		}},
		{"an unknown event type", func(e []engine.Event) []engine.Event {
			return append(e[:2], engine.Event{Type: "teleported", Version: 1, Data: json.RawMessage(`{}`)})
		}},
		{"data that is not JSON", func(e []engine.Event) []engine.Event {
			e[1].Data = json.RawMessage(`{"coin":`)
			return e
		}},
		{"a game of another kind", func(e []engine.Event) []engine.Event {
			e[0] = enginetest.Created("tictactoe", "{}", "alice", "bob")
			return e
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := g.Fold(tt.events(slices.Clone(log))); !errors.Is(err, engine.ErrCorruptLog) {
				t.Fatalf("got %v, want ErrCorruptLog", err)
			}
		})
	}
}

func TestApplyIsAllOrNothing(t *testing.T) {
	g := coinGame()
	log := coinLog(t)
	s := enginetest.Given(t, g, log[:2]...)
	bad := append(slices.Clone(log[2:4]), engine.Event{Type: "teleported", Version: 1, Data: json.RawMessage(`{}`)})
	got, err := g.Apply(s, bad...)
	if err == nil || got.Seq() != s.Seq() {
		t.Fatalf("a failed Apply returned seq %d, err %v; want the state unchanged", got.Seq(), err)
	}
}

func TestCreateRejectsBadSetups(t *testing.T) {
	g := tictactoe.Game()
	tests := []struct {
		name    string
		config  string
		players []string
		seed    []byte
	}{
		{"a short seed", "", []string{"alice", "bob"}, seed[:16]},
		{"no players", "", nil, seed},
		{"a player twice", "", []string{"alice", "alice"}, seed},
		{"a player named system", "", []string{"alice", engine.System}, seed},
		{"an empty player id", "", []string{"alice", ""}, seed},
		{"a control character in an id", "", []string{"alice", "b\nb"}, seed},
		{"a config that is not an object", "[1]", []string{"alice", "bob"}, seed},
		{"a config that is not JSON", "{", []string{"alice", "bob"}, seed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := g.Create(json.RawMessage(tt.config), tt.players, tt.seed)
			if !errors.Is(err, engine.ErrInvalidSetup) {
				t.Fatalf("got %v, want ErrInvalidSetup", err)
			}
		})
	}
}

func TestDecideNeedsTheCommittedSeed(t *testing.T) {
	g := tictactoe.Game()
	evs, _ := g.Create(nil, []string{"alice", "bob"}, seed)
	s := enginetest.Given(t, g, evs...)
	_, err := g.Decide(s, engine.Command{Actor: "alice", Action: json.RawMessage(`{"type":"place","cell":0}`)}, make([]byte, 32))
	if !errors.Is(err, engine.ErrCommitmentMismatch) {
		t.Fatalf("got %v, want ErrCommitmentMismatch", err)
	}
	if _, err := g.Decide(engine.State{}, engine.Command{Actor: "alice", Action: json.RawMessage(`{"type":"place","cell":0}`)}, seed); !errors.Is(err, engine.ErrActionNotAllowed) {
		t.Fatalf("deciding before creation: got %v, want ErrActionNotAllowed", err)
	}
}

func TestDecodeActionCanonicalises(t *testing.T) {
	g := tictactoe.Game()
	for in, want := range map[string]string{
		` { "cell" : 4 , "type" : "place" } `: `{"type":"place","cell":4}`,
		`{"type":"resign"}`:                   `{"type":"resign"}`,
		`{"player":"bob","type":"timeout"}`:   `{"type":"timeout","player":"bob"}`,
	} {
		got, err := g.DecodeAction([]byte(in))
		if err != nil || string(got) != want {
			t.Errorf("DecodeAction(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
}

func TestRegistry(t *testing.T) {
	reg, err := engine.NewRegistry(tictactoe.Game(), coinGame())
	if err != nil {
		t.Fatal(err)
	}
	if got := reg.Names(); !slices.Equal(got, []string{"coin", "tictactoe"}) {
		t.Errorf("names %v", got)
	}
	if g, err := reg.Lookup("tictactoe"); err != nil || g.Name() != "tictactoe" {
		t.Errorf("lookup tictactoe: %v", err)
	}
	if _, err := reg.Lookup("chess"); !errors.Is(err, engine.ErrUnknownGame) {
		t.Errorf("lookup chess: got %v, want ErrUnknownGame", err)
	}
	if _, err := engine.NewRegistry(tictactoe.Game(), tictactoe.Game()); err == nil {
		t.Error("a game registered twice was accepted")
	}
}

// An auditor holding the seed re-decides a game still running: every
// whole command so far, and nothing cut in the middle of one.
func TestVerifyWithSeed(t *testing.T) {
	g := coinGame()
	other := "tails"
	if coinOf(t, coinLog(t)) == "tails" {
		other = "heads"
	}
	running := func() []engine.Event { return coinLog(t)[:2] } // created and flipped; no call yet
	if err := g.VerifyWithSeed(running(), seed); err != nil {
		t.Fatalf("an honest running game: %v", err)
	}
	if err := g.VerifyWithSeed(coinLog(t), seed); err != nil {
		t.Fatalf("an honest ended game: %v", err)
	}
	forged := running()
	forged[1] = enginetest.Ev(engine.System, flipped{Coin: other})
	if err := g.VerifyWithSeed(forged, seed); !errors.Is(err, engine.ErrEventMismatch) {
		t.Errorf("a forged flip: %v, want ErrEventMismatch", err)
	}
	if err := g.VerifyWithSeed(running(), make([]byte, 32)); !errors.Is(err, engine.ErrCommitmentMismatch) {
		t.Errorf("another seed: %v, want ErrCommitmentMismatch", err)
	}
	if err := g.VerifyWithSeed(coinLog(t)[:4], seed); !errors.Is(err, engine.ErrEventMismatch) {
		t.Errorf("a log cut inside a command: %v, want ErrEventMismatch", err)
	}
}
