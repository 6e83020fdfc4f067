package engine_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/engine/enginetest"
	"github.com/playlog/playlog/engine/games/tictactoe"
)

// The engine's settings come out of the config before the rules see it
// (tic-tac-toe takes no config of its own), and the fold reads them back.
func TestSettingsLeaveTheRulesConfig(t *testing.T) {
	g := tictactoe.Game()
	for _, tc := range []struct {
		config string
		want   engine.Settings
	}{
		{`{}`, engine.Settings{}},
		{`{"public":true}`, engine.Settings{Public: true}},
		{`{"spectator_delay":{"events":4}}`, engine.Settings{SpectatorDelay: engine.Delay{Events: 4}}},
		{`{"public":false,"spectator_delay":{"seconds":30}}`, engine.Settings{SpectatorDelay: engine.Delay{Seconds: 30}}},
	} {
		evs, err := g.Create(json.RawMessage(tc.config), []string{"x", "o"}, seed)
		if err != nil {
			t.Fatalf("%s: %v", tc.config, err)
		}
		s := enginetest.Given(t, g, evs...)
		if got := s.Settings(); got != tc.want {
			t.Errorf("%s: settings %+v, want %+v", tc.config, got, tc.want)
		}
		var created engine.GameCreated
		if err := json.Unmarshal(evs[0].Data, &created); err != nil {
			t.Fatal(err)
		}
		if string(created.Config) != tc.config {
			t.Errorf("game_created records config %s, want %s", created.Config, tc.config)
		}
	}
}

// A bad setting is an invalid setup naming the key, and creates nothing;
// a rules key the rules do not know is still theirs to refuse.
func TestBadSettingsAreRefused(t *testing.T) {
	g := tictactoe.Game()
	for _, tc := range []struct{ config, want string }{
		{`{"public":"yes"}`, "public"},
		{`{"spectator_delay":5}`, "spectator_delay"},
		{`{"spectator_delay":{}}`, "spectator_delay"},
		{`{"spectator_delay":{"events":1,"seconds":1}}`, "not both"},
		{`{"spectator_delay":{"events":10001}}`, "at most 10000"},
		{`{"spectator_delay":{"seconds":86401}}`, "at most 86400"},
		{`{"spectator_delay":{"minutes":1}}`, "minutes"},
		{`{"spectator_delay":{"events":-1}}`, "spectator_delay"},
		{`{"size":4}`, "size"},
		{`{"turn_timer":{"seconds":600,"warnings":[1,2,3,4,5,6,7,8,9,10,11]}}`, "at most 10 warnings"},
		// What encoding/json would read otherwise than it is written.
		{`{"spectator_delay":{"EVENTS":4}}`, `unknown field "EVENTS"`},
		{`{"turn_timer":{"Seconds":60}}`, `unknown field "Seconds"`},
		{`{"spectator_delay":{"events":4,"events":1}}`, `duplicate field "events"`},
		{`{"public":true,"public":false}`, `duplicate field "public"`},
	} {
		evs, err := g.Create(json.RawMessage(tc.config), []string{"x", "o"}, seed)
		if !errors.Is(err, engine.ErrInvalidSetup) || !strings.Contains(err.Error(), tc.want) || evs != nil {
			t.Errorf("%s: %v (events %d), want invalid setup naming %q", tc.config, err, len(evs), tc.want)
		}
	}
}

// Of two bad settings, the same one is named every time: the settings are
// checked in a fixed order, not a map's.
func TestBadSettingsRefusedAlike(t *testing.T) {
	cfg := json.RawMessage(`{"public":1,"spectator_delay":{},"turn_timer":{}}`)
	seen := map[string]bool{}
	for range 100 {
		_, err := tictactoe.Game().Create(cfg, []string{"x", "o"}, seed)
		if err == nil {
			t.Fatal("a bad config was taken")
		}
		seen[err.Error()] = true
	}
	if len(seen) != 1 {
		t.Fatalf("one config, %d different refusals: %v", len(seen), seen)
	}
}

// A config stored before creation refused other spellings still reads as
// it did: the check is at creation only.
func TestStoredLenientConfigStillReads(t *testing.T) {
	set, err := engine.SettingsOf(json.RawMessage(`{"spectator_delay":{"EVENTS":4}}`))
	if err != nil || set.SpectatorDelay.Events != 4 {
		t.Fatalf("a stored config: %+v, %v", set, err)
	}
}
