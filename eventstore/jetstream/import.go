package jetstream

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/playlog/playlog/eventstore"
)

// Import implements eventstore.Importer. Each append of the game (a run of
// events with one message id and recorded time) becomes one message, the
// very message Append wrote for it, published in order, each with the
// expected last subject sequence: a concurrent importer or appender makes
// it stop, look at the log again and go on from what is there. A crash
// leaves a prefix of whole appends, which the next Import completes. The
// game's index (and so its message ids) learns each message as it is
// stored.
func (s *Store) Import(ctx context.Context, events []eventstore.Event) (eventstore.ImportResult, error) {
	var res eventstore.ImportResult
	if s.isClosed() {
		return res, fmt.Errorf("import: %w", eventstore.ErrClosed)
	}
	groups, err := eventstore.ImportGroups(events)
	if err != nil {
		return res, err
	}
	game := events[0].GameID
	g := s.index(game)
	g.mu.Lock()
	defer g.mu.Unlock()
	for attempt := 0; ; attempt++ {
		err := s.refresh(ctx, game, g)
		var stored []eventstore.Event
		if err == nil {
			if g.head > uint64(len(events)) {
				return res, eventstore.HoldsMore(game, g.head, len(events))
			}
			stored, err = s.readIndexedAll(ctx, game, g)
		}
		if errors.Is(err, errGone) && attempt < 4 {
			g.reset() // removed since it was indexed: look again
			continue
		}
		if err != nil {
			return res, s.errStore("import", game, err)
		}
		k, err := eventstore.StoredPrefix(stored, events)
		if err != nil {
			return res, err
		}
		for _, group := range eventstore.GroupsFrom(groups, k) {
			if err = s.publishGroup(ctx, game, g, group); err != nil {
				break
			}
			res.Written += len(group)
		}
		if err == nil {
			return res, nil
		}
		if !isWrongLastSequence(err) || attempt >= 4 {
			return res, s.errStore("import", game, err)
		}
		// Someone else wrote to the game meanwhile: compare again.
	}
}

// publishGroup stores one append's events after g's last message, as
// Append does, and adds the message to g. The caller holds g.mu.
func (s *Store) publishGroup(ctx context.Context, game uuid.UUID, g *gameIndex, group []eventstore.Event) error {
	msgID := group[0].MessageID
	ack, err := s.publish(ctx, game, g.lastSS, msgID, group)
	if err != nil {
		return err
	}
	last := group[len(group)-1]
	g.add(msgRef{first: group[0].Seq, last: last.Seq, streamSeq: ack.Sequence, lastHash: last.Hash, msgID: msgID})
	s.remember(game, g)
	return nil
}

// readIndexedAll reads every event g indexes. The caller holds g.mu.
func (s *Store) readIndexedAll(ctx context.Context, game uuid.UUID, g *gameIndex) ([]eventstore.Event, error) {
	if g.head == 0 {
		return nil, nil
	}
	seqs := make([]uint64, len(g.msgs))
	for i, m := range g.msgs {
		seqs[i] = m.streamSeq
	}
	return s.decodeMessages(game, 0, int(g.head), 0, func(fn func(*nats.Msg, uint64) error) error {
		return s.directGetSeqs(ctx, game, seqs, fn)
	})
}
