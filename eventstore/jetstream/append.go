package jetstream

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/playlog/playlog/eventstore"
)

// Append implements eventstore.Store. One round trip when this process's
// index of the game is current; a refresh first when it is not.
func (s *Store) Append(ctx context.Context, game uuid.UUID, expected uint64, events ...eventstore.Pending) (eventstore.Appended, error) {
	if s.isClosed() {
		return eventstore.Appended{}, fmt.Errorf("append %s: %w", game, eventstore.ErrClosed)
	}
	if err := eventstore.ValidateAppend(game, events); err != nil {
		return eventstore.Appended{}, fmt.Errorf("append %s: %w", game, err)
	}
	msgID := events[0].MessageID
	g := s.index(game)
	g.mu.Lock()
	defer g.mu.Unlock()

	// The index must cover the log up to expected before a publish can be
	// judged new; when it already stands at expected, the server's
	// expected-last-subject-sequence check confirms nothing came since.
	if g.head != expected {
		if err := s.refresh(ctx, game, g); err != nil {
			return eventstore.Appended{}, s.errStore("append", game, err)
		}
	}
	for attempt := 0; ; attempt++ {
		if res, ok, err := s.duplicate(ctx, game, g, msgID); ok || err != nil {
			if errors.Is(err, errGone) && attempt < 2 {
				// The game was removed since it was indexed: look again.
				if err := s.reindex(ctx, game, g); err != nil {
					return eventstore.Appended{}, s.errStore("append", game, err)
				}
				continue
			}
			return res, err
		}
		if g.head != expected {
			if g.head == 0 {
				return eventstore.Appended{}, fmt.Errorf("append %s after seq %d: %w", game, expected, eventstore.ErrGameNotFound)
			}
			return eventstore.Appended{}, &eventstore.ConflictError{Game: game, Expected: expected, Actual: g.head}
		}
		stored := eventstore.Stamp(game, g.head, g.headHash, s.cfg.Now(), events)
		ack, err := s.publish(ctx, game, g.lastSS, msgID, stored)
		if err == nil {
			last := stored[len(stored)-1]
			g.add(msgRef{first: stored[0].Seq, last: last.Seq, streamSeq: ack.Sequence, lastHash: last.Hash, msgID: msgID})
			s.remember(game, g)
			for i := range stored {
				stored[i].Position = eventstore.Position{Major: ack.Sequence, Minor: uint64(i + 1)}
			}
			return eventstore.Appended{Events: stored}, nil
		}
		if !isWrongLastSequence(err) || attempt >= 2 {
			return eventstore.Appended{}, s.errStore("append", game, err)
		}
		// Someone else wrote to the game: catch up, then it is either a
		// duplicate or a conflict (or, if the index had merely lagged behind a
		// head equal to expected, a retry).
		before := g.lastSS
		if err := s.refresh(ctx, game, g); err != nil {
			return eventstore.Appended{}, s.errStore("append", game, err)
		}
		if g.lastSS == before {
			// Nothing came after the message the index ends with, yet the
			// server's last one differs: a replica answering direct gets
			// lags, or the game was removed (and maybe stored again). The
			// leader tells which; after a removal, index it afresh.
			last, found, err := s.leaderLast(ctx, game)
			if err == nil && (!found || last.streamSeq < g.lastSS) {
				err = s.reindex(ctx, game, g)
			}
			if err != nil {
				return eventstore.Appended{}, s.errStore("append", game, err)
			}
		}
	}
}

// duplicate reports whether the game's log (as far as g covers it) holds
// msgID, and if so returns the events stored for it.
func (s *Store) duplicate(ctx context.Context, game uuid.UUID, g *gameIndex, msgID string) (eventstore.Appended, bool, error) {
	if msgID == "" {
		return eventstore.Appended{}, false, nil
	}
	i, ok := g.ids[msgID]
	if !ok {
		return eventstore.Appended{}, false, nil
	}
	ref := g.msgs[i]
	var events []eventstore.Event
	var at uint64
	err := s.directGet(ctx, game, ref.streamSeq, 1, func(m *nats.Msg, ss uint64) error {
		var err error
		events, err = decodeMessage(game, ss, m.Data)
		at = ss
		return err
	})
	if err == nil && (len(events) == 0 || at != ref.streamSeq || events[0].Seq != ref.first) {
		err = fmt.Errorf("%w: message %d of game %s not found where indexed", errGone, ref.streamSeq, game)
	}
	if err != nil {
		return eventstore.Appended{}, false, s.errStore("append", game, err)
	}
	return eventstore.Appended{Events: events, Duplicate: true}, true, nil
}

func (s *Store) publish(ctx context.Context, game uuid.UUID, lastSS uint64, msgID string, events []eventstore.Event) (*natsjs.PubAck, error) {
	payload, err := encodeMessage(game, events)
	if err != nil {
		return nil, err
	}
	m := nats.NewMsg(s.subject(game))
	m.Data = payload
	// Direct map writes: the keys are already canonical.
	m.Header[hdrIndex] = []string{indexHeader(events, msgID)}
	return s.publishAfter(ctx, m, lastSS)
}

// publishAfter publishes m only if the last message on its subject is at
// stream sequence lastSS (0: none), waiting for the ack at most the smaller
// of the caller's deadline and RequestTimeout: without that, a publish
// whose ack is lost (the server it went to dying between the two) would
// wait for the caller's whole deadline. Whether it was stored is then
// unknown: a retry finds out (an append's by its message id).
func (s *Store) publishAfter(ctx context.Context, m *nats.Msg, lastSS uint64) (*natsjs.PubAck, error) {
	m.Header[natsjs.ExpectedLastSubjSeqHeader] = []string{strconv.FormatUint(lastSS, 10)} // the key is canonical
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	return s.js.PublishMsg(ctx, m)
}

func isWrongLastSequence(err error) bool {
	var apiErr *natsjs.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode == natsjs.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == natsjs.JSErrCodeStreamWrongLastSequenceConstant
	}
	return false
}
