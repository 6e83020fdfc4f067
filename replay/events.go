package replay

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore"
)

// EngineEvent is a stored event as the engine folds and renders it.
func EngineEvent(ev eventstore.Event) engine.Event {
	return engine.Event{Type: ev.Type, Version: ev.SchemaVersion, Actor: ev.Actor, Data: ev.Data}
}

// EngineEvents converts a run of stored events, for folding or engine.Verify.
func EngineEvents(events []eventstore.Event) []engine.Event {
	out := make([]engine.Event, len(events))
	for i, ev := range events {
		out[i] = EngineEvent(ev)
	}
	return out
}

// Reader is what reading a game needs of the store.
type Reader interface {
	Read(ctx context.Context, game uuid.UUID, after uint64, limit int) ([]eventstore.Event, error)
}

// ReadGame reads every event of a game, page by page. Errors: the store's
// (eventstore.ErrGameNotFound for a game with no events).
func ReadGame(ctx context.Context, s Reader, id uuid.UUID) ([]eventstore.Event, error) {
	var all []eventstore.Event
	for {
		page, err := s.Read(ctx, id, uint64(len(all)), 0)
		if err != nil {
			return nil, fmt.Errorf("read game %s after %d: %w", id, len(all), err)
		}
		if len(page) == 0 {
			return all, nil
		}
		all = append(all, page...)
	}
}
