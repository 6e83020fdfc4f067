package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxPlayerIDLen bounds a player id, in bytes.
const MaxPlayerIDLen = 64

// Create returns the events that start a new game: game_created (which
// records the game, the players, the config and the commitment to seed, but
// never the seed), then the rules' setup events (a deal, a first roll),
// whose randomness is the Rand for seq 1. seed must be SeedSize secret
// random bytes chosen by the caller; keep it outside the log until the game
// ends. Errors wrap ErrInvalidSetup. A game with a turn timer needs its
// time of creation: CreateAt.
func (g *Game) Create(config json.RawMessage, players []string, seed []byte) ([]Event, error) {
	return g.CreateAt(config, players, seed, time.Time{})
}

// CreateAt is Create for a game that may have a turn timer: at is the
// time of creation, from which the first turn's deadline counts, and which
// game_created records. A game with no timer ignores it.
func (g *Game) CreateAt(config json.RawMessage, players []string, seed []byte, at time.Time) ([]Event, error) {
	if len(seed) != SeedSize {
		return nil, fmt.Errorf("%w: seed is %d bytes, want %d", ErrInvalidSetup, len(seed), SeedSize)
	}
	if err := validPlayers(players); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidSetup, err)
	}
	cfg, err := canonicalConfig(config)
	if err == nil {
		err = strictConfig(cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidSetup, err)
	}
	evs, err := g.k.create(g.name, cfg, slices.Clone(players), seed)
	if err != nil {
		return nil, err
	}
	return g.timedCreate(evs, at)
}

// canonicalConfig compacts config; empty or null means "{}".
func canonicalConfig(config json.RawMessage) (json.RawMessage, error) {
	trimmed := bytes.TrimSpace(config)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return json.RawMessage("{}"), nil
	}
	if trimmed[0] != '{' || !json.Valid(trimmed) {
		return nil, fmt.Errorf("config must be a JSON object")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, trimmed); err != nil {
		return nil, fmt.Errorf("config: %v", err)
	}
	return buf.Bytes(), nil
}

func validPlayers(players []string) error {
	if len(players) == 0 {
		return fmt.Errorf("no players")
	}
	for i, p := range players {
		if p == "" || len(p) > MaxPlayerIDLen || !utf8.ValidString(p) || p == System {
			return fmt.Errorf("bad player id %q", p)
		}
		for _, r := range p {
			if unicode.IsControl(r) {
				return fmt.Errorf("bad player id %q", p)
			}
		}
		if slices.Contains(players[:i], p) {
			return fmt.Errorf("player %q listed twice", p)
		}
	}
	return nil
}
