package jsproj

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/playlog/playlog/eventstore"
)

// FeedEnd returns the position of the last event in the log (the stream
// named stream, over nc, whose game subjects are "<prefix>.<game>") and
// the log's last stream sequence, about the number of appends it holds:
// where a rebuild started now is caught up. The last event is the head of
// the game of the last message on the game subjects (the stream also
// holds seals, and purged games leave holes), read through store, so it
// depends on no message format.
func FeedEnd(ctx context.Context, nc *nats.Conn, stream, prefix string, store eventstore.Store) (end eventstore.Position, appends uint64, err error) {
	js, err := natsjs.New(nc)
	if err != nil {
		return end, 0, err
	}
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return end, 0, fmt.Errorf("jsproj: end of the feed: %w", err)
	}
	last := s.CachedInfo().State.LastSeq
	msg, err := s.GetLastMsgForSubject(ctx, prefix+".*")
	if errors.Is(err, natsjs.ErrMsgNotFound) {
		return end, 0, nil
	}
	if err != nil {
		return end, 0, fmt.Errorf("jsproj: end of the feed: %w", err)
	}
	game, err := uuid.Parse(strings.TrimPrefix(msg.Subject, prefix+"."))
	if err != nil {
		return end, 0, fmt.Errorf("jsproj: end of the feed: subject %q", msg.Subject)
	}
	head, err := store.Head(ctx, game)
	if err != nil {
		return end, 0, fmt.Errorf("jsproj: end of the feed: %w", err)
	}
	events, err := store.Read(ctx, game, head-1, 1)
	if err != nil || len(events) == 0 {
		// The message does not read back (its game's log is damaged): the
		// feed ends within it, and whoever reads the game reports why.
		return eventstore.Position{Major: msg.Sequence, Minor: 1}, last, nil
	}
	return events[0].Position, last, nil
}
