package jetstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

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
		if _, err = s.publishAfter(ctx, m, lastSS); err == nil {
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

// SealedWithoutEvents implements eventstore.Sealed: the seal subjects the
// stream holds whose game has no events.
func (s *Store) SealedWithoutEvents(ctx context.Context) ([]uuid.UUID, error) {
	if s.isClosed() {
		return nil, fmt.Errorf("seals without events: %w", eventstore.ErrClosed)
	}
	prefix := s.cfg.SubjectPrefix + ".seal."
	info, err := s.stream.Info(ctx, natsjs.WithSubjectFilter(prefix+"*"))
	if err != nil {
		return nil, fmt.Errorf("jetstream: seals without events: %w", err)
	}
	var out []uuid.UUID
	for subject := range info.State.Subjects {
		id, err := uuid.Parse(strings.TrimPrefix(subject, prefix))
		if err != nil {
			continue // not a game's
		}
		if _, err := s.Head(ctx, id); errors.Is(err, eventstore.ErrGameNotFound) {
			out = append(out, id)
		} else if err != nil {
			return nil, fmt.Errorf("jetstream: seals without events: %w", err)
		}
	}
	slices.SortFunc(out, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	return out, nil
}
