package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
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
}

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
var settingKeys = map[string]bool{"public": true, "spectator_delay": true}

// splitConfig takes the engine's settings out of a canonical config and
// returns them and the rules' part, also canonical. Errors name the key.
func splitConfig(config json.RawMessage) (Settings, json.RawMessage, error) {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(config, &all); err != nil {
		return Settings{}, nil, fmt.Errorf("config: %v", err)
	}
	var set Settings
	found := false
	for k, v := range all {
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

// Settings returns the game's settings, from game_created's config.
func (s State) Settings() Settings { return s.settings }
