package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Settings are the engine's keys in a game's config, beside the rules'
// own: who may read the game's log and how far spectators lag behind it.
// The engine takes them out before the rules see the config; game_created
// records the whole config.
//
//	{"public": true, "spectator_delay": {"events": 4}}
//	{"spectator_delay": {"seconds": 30}}
type Settings struct {
	// Public makes an ended game's full log anyone's to read.
	Public bool `json:"public,omitempty"`
	// SpectatorDelay holds spectators back from the head; zero: none.
	SpectatorDelay Delay `json:"spectator_delay,omitzero"`
	// TurnTimer limits each turn's time; nil: no timer.
	TurnTimer *TurnTimer `json:"turn_timer,omitempty"`
}

// TurnTimer is a game's turn timer (docs/timers.md). Every field is set:
// parsing fills in the defaults.
type TurnTimer struct {
	Seconds        uint64   `json:"seconds"`          // a turn's time
	Warnings       []uint64 `json:"warnings"`         // seconds left at which the player is warned, largest first
	Grace          uint64   `json:"grace"`            // seconds a reconnect may leave the player (0: no grace)
	GracesPerTurn  uint64   `json:"graces_per_turn"`  // how often a turn's deadline may move
	TimeoutsToLose uint64   `json:"timeouts_to_lose"` // the timeout that reaches it loses the game
}

// Duration is a turn's time.
func (t TurnTimer) Duration() time.Duration { return time.Duration(t.Seconds) * time.Second }

// Delay is how far behind the log a spectator is held: by a number of
// events or by time, never both.
type Delay struct {
	Events  uint64 `json:"events,omitempty"`
	Seconds uint64 `json:"seconds,omitempty"`
}

// Bounds of a spectator delay.
const (
	MaxDelayEvents  = 10000
	MaxDelaySeconds = 86400
)

// IsZero reports whether d delays nothing.
func (d Delay) IsZero() bool { return d.Events == 0 && d.Seconds == 0 }

// Duration is a seconds delay as a time.Duration (zero for an events delay).
func (d Delay) Duration() time.Duration { return time.Duration(d.Seconds) * time.Second }

// settingKeys are the config keys the engine owns.
var settingKeys = map[string]bool{"public": true, "spectator_delay": true, "turn_timer": true}

// settingFields are the fields of the engine's settings that are objects.
var settingFields = []struct {
	key    string
	fields []string
}{
	{"spectator_delay", []string{"events", "seconds"}},
	{"turn_timer", []string{"seconds", "warnings", "grace", "graces_per_turn", "timeouts_to_lose"}},
}

// strictConfig refuses, at a game's creation, a config that the settings'
// decoders (encoding/json: keys in any case, the last of two kept) would
// read otherwise than it is written: a key twice, anywhere in the config's
// object or a setting's, or a setting's field spelt in other letters. A
// stored config is read as before, so that games created before this check
// still read.
func strictConfig(config json.RawMessage) error {
	if key, dup := DuplicateKey(config); dup {
		return fmt.Errorf("config: duplicate field %q", key)
	}
	o, err := ParseObject(config)
	if err != nil {
		return fmt.Errorf("config: not a JSON object")
	}
	for _, set := range settingFields {
		raw, ok := o.lookup(set.key)
		if !ok {
			continue
		}
		if key, dup := DuplicateKey(raw); dup {
			return fmt.Errorf("config: %s: duplicate field %q", set.key, key)
		}
		inner, err := ParseObject(raw)
		if err != nil {
			continue // not an object: the setting's parser words it
		}
		for _, k := range inner.keys {
			if !slices.Contains(set.fields, k) {
				return fmt.Errorf("config: %s: unknown field %q", set.key, k)
			}
		}
	}
	return nil
}

// splitConfig takes the engine's settings out of a canonical config and
// returns them and the rules' part, also canonical. Errors name the key.
func splitConfig(config json.RawMessage) (Settings, json.RawMessage, error) {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(config, &all); err != nil {
		return Settings{}, nil, fmt.Errorf("config: %v", err)
	}
	var set Settings
	found := false
	// In a fixed order: of two bad settings, the same one is named each time.
	for _, k := range slices.Sorted(maps.Keys(all)) {
		v := all[k]
		if !settingKeys[k] {
			continue
		}
		found = true
		delete(all, k)
		switch k {
		case "public":
			if err := json.Unmarshal(v, &set.Public); err != nil {
				return Settings{}, nil, fmt.Errorf("config: public must be true or false")
			}
		case "spectator_delay":
			d, err := parseDelay(v)
			if err != nil {
				return Settings{}, nil, fmt.Errorf("config: spectator_delay: %v", err)
			}
			set.SpectatorDelay = d
		case "turn_timer":
			t, err := parseTimer(v)
			if err != nil {
				return Settings{}, nil, fmt.Errorf("config: turn_timer: %v", err)
			}
			set.TurnTimer = t
		}
	}
	if !found {
		return set, config, nil
	}
	rest, err := json.Marshal(all) // sorted keys: canonical again
	if err != nil {
		return Settings{}, nil, fmt.Errorf("config: %v", err)
	}
	return set, rest, nil
}

func parseDelay(v json.RawMessage) (Delay, error) {
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.DisallowUnknownFields()
	var d Delay
	if err := dec.Decode(&d); err != nil {
		return Delay{}, fmt.Errorf(`want {"events": N} or {"seconds": S}: %v`, err)
	}
	switch {
	case d.Events > 0 && d.Seconds > 0:
		return Delay{}, fmt.Errorf("events or seconds, not both")
	case d.IsZero():
		return Delay{}, fmt.Errorf(`want {"events": N} (1 to %d) or {"seconds": S} (1 to %d)`, MaxDelayEvents, MaxDelaySeconds)
	case d.Events > MaxDelayEvents:
		return Delay{}, fmt.Errorf("events is at most %d", MaxDelayEvents)
	case d.Seconds > MaxDelaySeconds:
		return Delay{}, fmt.Errorf("seconds is at most %d", MaxDelaySeconds)
	}
	return d, nil
}

// Bounds of a turn timer.
const (
	MinTurnSeconds  = 5
	MaxTurnSeconds  = 86400
	MaxGraceSeconds = 300
	MaxTimeouts     = 10
	MaxWarnings     = 10
)

func parseTimer(v json.RawMessage) (*TurnTimer, error) {
	var raw struct {
		Seconds        uint64    `json:"seconds"`
		Warnings       *[]uint64 `json:"warnings"`
		Grace          *uint64   `json:"grace"`
		GracesPerTurn  *uint64   `json:"graces_per_turn"`
		TimeoutsToLose *uint64   `json:"timeouts_to_lose"`
	}
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf(`want {"seconds": S, "warnings": [...], "grace": G, "graces_per_turn": N, "timeouts_to_lose": N}: %v`, err)
	}
	if raw.Seconds < MinTurnSeconds || raw.Seconds > MaxTurnSeconds {
		return nil, fmt.Errorf("seconds must be %d to %d", MinTurnSeconds, MaxTurnSeconds)
	}
	t := &TurnTimer{Seconds: raw.Seconds, Grace: 15, GracesPerTurn: 1, TimeoutsToLose: 3, Warnings: []uint64{}}
	if raw.Seconds > 30 {
		t.Warnings = []uint64{30}
	}
	if raw.Warnings != nil {
		if len(*raw.Warnings) > MaxWarnings {
			return nil, fmt.Errorf("at most %d warnings", MaxWarnings)
		}
		t.Warnings = slices.Clone(*raw.Warnings)
		slices.Sort(t.Warnings)
		slices.Reverse(t.Warnings)
		for i, w := range t.Warnings {
			if w < 1 || w >= raw.Seconds || (i > 0 && w == t.Warnings[i-1]) {
				return nil, fmt.Errorf("warnings must be distinct seconds left, 1 to %d", raw.Seconds-1)
			}
		}
	}
	if raw.Grace != nil {
		if t.Grace = *raw.Grace; t.Grace > MaxGraceSeconds {
			return nil, fmt.Errorf("grace is at most %d seconds", MaxGraceSeconds)
		}
	}
	if raw.GracesPerTurn != nil {
		if t.GracesPerTurn = *raw.GracesPerTurn; t.GracesPerTurn > 10 {
			return nil, fmt.Errorf("graces_per_turn is at most 10")
		}
	}
	if raw.TimeoutsToLose != nil {
		if t.TimeoutsToLose = *raw.TimeoutsToLose; t.TimeoutsToLose < 1 || t.TimeoutsToLose > MaxTimeouts {
			return nil, fmt.Errorf("timeouts_to_lose must be 1 to %d", MaxTimeouts)
		}
	}
	return t, nil
}

// SettingsOf reads the engine's settings from a game's config, as
// game_created records it: for readers of the log that fold no state.
func SettingsOf(config json.RawMessage) (Settings, error) {
	set, _, err := splitConfig(config)
	return set, err
}

// Settings returns the game's settings, from game_created's config.
func (s State) Settings() Settings { return s.settings }
