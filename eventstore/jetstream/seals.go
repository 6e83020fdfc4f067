package jetstream

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/playlog/playlog/eventstore"
)

// Seals live in the stream beside the events: one message per seal, its
// payload the seal as JSON (eventstore.Seal's encoding), on the subject
// "<prefix>.seal.<game-id>". Neither the feed nor the republish (both on
// "<prefix>.*", one token) sees them. A game has few seals, read with the
// same direct gets as its events.

// PutSeal implements eventstore.Sealed. Each publish carries the stream
// sequence of the game's last seal as the expected last subject sequence,
// so two writers of one seal store it once.
func (s *Store) PutSeal(ctx context.Context, seal eventstore.Seal) error {
	if s.isClosed() {
		return fmt.Errorf("put seal %s: %w", seal.GameID, eventstore.ErrClosed)
	}
	if err := eventstore.ValidateSeal(&seal, s.cfg.Now); err != nil {
		return fmt.Errorf("put seal %s: %w", seal.GameID, err)
	}
	game := seal.GameID
	if _, err := s.Head(ctx, game); err != nil {
		return fmt.Errorf("put seal: %w", err)
	}
	payload, err := json.Marshal(seal)
	if err != nil {
		return fmt.Errorf("put seal %s: %w", game, err)
	}
	for attempt := 0; ; attempt++ {
		seals, lastSS, err := s.readSeals(ctx, game)
		if err != nil {
			return s.errStore("put seal", game, err)
		}
		for _, old := range seals {
			if eventstore.SameSeal(old, seal) {
				return nil
			}
		}
		m := nats.NewMsg(s.sealSubject(game))
		m.Data = payload
		m.Header[natsjs.ExpectedLastSubjSeqHeader] = []string{strconv.FormatUint(lastSS, 10)}
		pctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
		_, err = s.js.PublishMsg(pctx, m)
		cancel()
		if err == nil {
			return nil
		}
		if !isWrongLastSequence(err) || attempt >= 4 {
			return s.errStore("put seal", game, err)
		}
		// Another seal of the game landed meanwhile: read them again.
	}
}

// Seals implements eventstore.Sealed.
func (s *Store) Seals(ctx context.Context, game uuid.UUID) ([]eventstore.Seal, error) {
	if err := s.check(game); err != nil {
		return nil, fmt.Errorf("seals %s: %w", game, err)
	}
	if _, err := s.Head(ctx, game); err != nil {
		return nil, fmt.Errorf("seals: %w", err)
	}
	seals, _, err := s.readSeals(ctx, game)
	if err != nil {
		return nil, s.errStore("seals", game, err)
	}
	return seals, nil
}

// readSeals reads the game's seals in the order stored, and the stream
// sequence of the last (0: none).
func (s *Store) readSeals(ctx context.Context, game uuid.UUID) ([]eventstore.Seal, uint64, error) {
	seals := []eventstore.Seal{}
	var last uint64
	err := s.directGetSubject(ctx, s.sealSubject(game), 1, 0, func(m *nats.Msg, ss uint64) error {
		var seal eventstore.Seal
		if err := json.Unmarshal(m.Data, &seal); err != nil {
			return fmt.Errorf("%w: seal at stream seq %d: %v", errFormat, ss, err)
		}
		if seal.GameID != game {
			return fmt.Errorf("%w: seal at stream seq %d is of game %s, on the subject of %s", errFormat, ss, seal.GameID, game)
		}
		seals = append(seals, seal)
		last = ss
		return nil
	})
	return seals, last, err
}
