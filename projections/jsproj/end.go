package jsproj

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/playlog/playlog/eventstore"
)

// FeedEnd returns the position of the last event in the log (the stream
// named stream, over nc) and the log's last stream sequence, the number of
// appends it holds: where a rebuild started now is caught up. It reads
// the last message's game through store, so it depends on no message
// format.
func FeedEnd(ctx context.Context, nc *nats.Conn, stream string, store eventstore.Store) (end eventstore.Position, appends uint64, err error) {
	js, err := natsjs.New(nc)
	if err != nil {
		return end, 0, err
	}
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return end, 0, fmt.Errorf("jsproj: end of the feed: %w", err)
	}
	last := s.CachedInfo().State.LastSeq
	if last == 0 {
		return end, 0, nil
	}
	msg, err := s.GetMsg(ctx, last)
	if err != nil {
		return end, 0, fmt.Errorf("jsproj: end of the feed: %w", err)
	}
	game, err := uuid.Parse(msg.Subject[strings.LastIndexByte(msg.Subject, '.')+1:])
	if err != nil {
		return end, 0, fmt.Errorf("jsproj: end of the feed: subject %q", msg.Subject)
	}
	head, err := store.Head(ctx, game)
	if err != nil {
		return end, 0, fmt.Errorf("jsproj: end of the feed: %w", err)
	}
	events, err := store.Read(ctx, game, head-1, 1)
	if err != nil || len(events) == 0 {
		return end, 0, fmt.Errorf("jsproj: end of the feed: read %s: %v", game, err)
	}
	return events[0].Position, last, nil
}
